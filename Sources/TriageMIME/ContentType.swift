/// A structured MIME header value: `type/subtype; name=value; ...` (Content-Type) or
/// `disposition; name=value` (Content-Disposition), with RFC 2231 parameters (continuations,
/// charset and language) and RFC 2047 words in parameters decoded.
public struct HeaderParameters: Sendable, Equatable {
    /// The part before the first ";", lowercased and trimmed.
    public var value: String
    /// Parameter names lowercased; values decoded.
    public var parameters: [String: String]

    public init(value: String, parameters: [String: String] = [:]) {
        self.value = value
        self.parameters = parameters
    }

    public subscript(_ name: String) -> String? { parameters[name.lowercased()] }

    /// Parses leniently: missing ";" between parameters, unquoted values with spaces, unbalanced quotes
    /// and comments are all accepted.
    public init(parsing raw: String) {
        let bytes = Array(raw.utf8)
        var i = 0
        func skipSpaceAndComments() {
            while i < bytes.count {
                let c = bytes[i]
                if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A {
                    i += 1
                } else if c == 0x28 {  // "(" comment, nested
                    var depth = 0
                    while i < bytes.count {
                        if bytes[i] == 0x5C { i += 2; continue }
                        if bytes[i] == 0x28 { depth += 1 }
                        if bytes[i] == 0x29 { depth -= 1; if depth == 0 { i += 1; break } }
                        i += 1
                    }
                } else {
                    break
                }
            }
        }
        skipSpaceAndComments()
        var start = i
        while i < bytes.count && bytes[i] != 0x3B && bytes[i] != 0x28 { i += 1 }
        var main = Array(bytes[start..<i])
        while let l = main.last, l == 0x20 || l == 0x09 || l == 0x0D || l == 0x0A { main.removeLast() }
        value = String(decoding: main, as: UTF8.self).lowercased()
        // (name, section, extended, value)
        var raw: [(String, Int?, Bool, String)] = []
        while i < bytes.count {
            skipSpaceAndComments()
            while i < bytes.count && (bytes[i] == 0x3B || bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            skipSpaceAndComments()
            start = i
            while i < bytes.count && bytes[i] != 0x3D && bytes[i] != 0x3B { i += 1 }
            guard i < bytes.count, bytes[i] == 0x3D else { break }
            var nameBytes = Array(bytes[start..<i])
            while let l = nameBytes.last, l == 0x20 || l == 0x09 { nameBytes.removeLast() }
            i += 1
            while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            var valueBytes: [UInt8] = []
            if i < bytes.count && bytes[i] == 0x22 {
                i += 1
                while i < bytes.count && bytes[i] != 0x22 {
                    if bytes[i] == 0x5C && i + 1 < bytes.count { i += 1 }
                    if bytes[i] != 0x0D && bytes[i] != 0x0A { valueBytes.append(bytes[i]) }
                    i += 1
                }
                i += 1
            } else {
                // Token; a value with spaces but no quotes ends at ";" (seen in the wild).
                while i < bytes.count && bytes[i] != 0x3B {
                    valueBytes.append(bytes[i])
                    i += 1
                }
                while let l = valueBytes.last, l == 0x20 || l == 0x09 || l == 0x0D || l == 0x0A { valueBytes.removeLast() }
                // A trailing "(comment)" after a token value.
                if valueBytes.last == 0x29, let open = valueBytes.lastIndex(of: 0x28), open > 0, valueBytes[open - 1] == 0x20 {
                    valueBytes.removeSubrange((open - 1)...)
                }
            }
            var name = String(decoding: nameBytes, as: UTF8.self).lowercased()
            var extended = false
            var section: Int?
            if name.hasSuffix("*") { extended = true; name.removeLast() }
            if let star = name.utf8.lastIndex(of: 0x2A), let n = Int(name[name.utf8.index(after: star)...]) {
                section = n
                name = String(name[..<star])
            }
            guard !name.isEmpty else { continue }
            raw.append((name, section, extended, String(decoding: valueBytes, as: UTF8.self)))
        }
        parameters = HeaderParameters.assemble(raw)
    }

    /// Joins RFC 2231 sections in order and decodes extended values (`charset'lang'%XX`).
    static func assemble(_ raw: [(String, Int?, Bool, String)]) -> [String: String] {
        var result: [String: String] = [:]
        var sections: [String: [(Int, Bool, String)]] = [:]
        for (name, section, extended, value) in raw {
            if let section {
                sections[name, default: []].append((section, extended, value))
            } else if extended {
                result[name] = decodeExtended(value, charset: nil).text
            } else if result[name] == nil {
                // A boundary is matched byte for byte against the delimiter lines: never decoded.
                result[name] = name == "boundary" ? value : EncodedWords.decode(value)
            }
        }
        for (name, parts) in sections {  // RFC 2231 sections win over a plain value of the same name
            let sorted = parts.sorted { $0.0 < $1.0 }
            var bytes: [UInt8] = []
            var charset: String?
            for (k, (_, extended, value)) in sorted.enumerated() {
                if extended {
                    let d = decodeExtended(value, charset: k == 0 ? nil : charset ?? "")
                    if k == 0 { charset = d.charset }
                    bytes += d.bytes
                } else {
                    bytes += Array(value.utf8)
                }
            }
            result[name] = Charset.decode(bytes, label: charset ?? "utf-8")
        }
        return result
    }

    /// `charset'language'percent-encoded` (the first section) or `percent-encoded` (later ones).
    static func decodeExtended(_ value: String, charset known: String?) -> (charset: String, bytes: [UInt8], text: String) {
        var charset = known ?? "utf-8"
        var payload = Substring(value)
        if known == nil {
            let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
            if pieces.count == 3 {
                charset = pieces[0].isEmpty ? "utf-8" : String(pieces[0])
                payload = pieces[2]
            }
        }
        var bytes: [UInt8] = []
        let u = Array(payload.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 0x25, i + 2 < u.count, let h = QuotedPrintable.hex(u[i + 1]), let l = QuotedPrintable.hex(u[i + 2]) {
                bytes.append(h << 4 | l)
                i += 3
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return (charset, bytes, Charset.decode(bytes, label: charset))
    }
}

/// The parsed Content-Type of a part.
public struct ContentType: Sendable, Equatable {
    public var type: String
    public var subtype: String
    public var parameters: [String: String]

    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public static let textPlain = ContentType(type: "text", subtype: "plain")
    public static let messageRFC822 = ContentType(type: "message", subtype: "rfc822")

    public var mimeType: String { type + "/" + subtype }
    public var isMultipart: Bool { type == "multipart" }
    public var charset: String? { parameters["charset"] }
    public var boundary: String? { parameters["boundary"] }

    /// Parses a Content-Type value; nil when it has no readable `type/subtype`.
    public init?(parsing raw: String) {
        let p = HeaderParameters(parsing: raw)
        // "type/subtype", cut at the first "/" after any leading ones (as split(separator: "/", maxSplits: 1) did).
        var v = Substring(p.value)
        while v.utf8.first == 0x2F { v = v[v.utf8.index(after: v.startIndex)...] }
        guard let slash = v.utf8.firstIndex(of: 0x2F) else { return nil }
        let rest = v[v.utf8.index(after: slash)...]
        guard !rest.isEmpty else { return nil }
        let t = String(v[..<slash].trimmingASCIISpace())
        let s = String(rest.trimmingASCIISpace())
        guard !t.isEmpty, !s.isEmpty, !t.contains(" "), !s.contains(" ") else { return nil }
        type = t
        subtype = s
        parameters = p.parameters
    }
}
