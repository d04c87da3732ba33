/// A mailbox from an address header: display name (decoded) and addr-spec.
public struct MailAddress: Sendable, Equatable, Hashable, Codable {
    public var name: String?
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// The domain part, lowercased, or "" when there is none.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }

    /// Parses an address list leniently: quoted names, comments, groups, bare addresses and
    /// obsolete route syntax. Entries without an "@" are kept when they look like a local mailbox.
    public static func parseList(_ raw: String) -> [MailAddress] {
        var result: [MailAddress] = []
        for item in splitTopLevel(raw) {
            if let a = parseOne(item) { result.append(a) }
        }
        return result
    }

    /// Splits at commas (and group semicolons) that are outside quotes, comments and angle brackets.
    /// Works on the UTF-8 bytes (every delimiter is ASCII) and cuts the items out of `raw`.
    static func splitTopLevel(_ raw: String) -> [Substring] {
        var bounds: [Range<Int>] = []
        var s = raw
        s.withUTF8 { b in
            var start = 0
            var inQuote = false, depth = 0, angle = false, escaped = false
            for i in 0..<b.count {
                if escaped { escaped = false; continue }
                switch b[i] {
                case 0x5C where inQuote || depth > 0: escaped = true  // backslash
                case 0x22 where depth == 0: inQuote.toggle()
                case 0x28 where !inQuote: depth += 1
                case 0x29 where !inQuote && depth > 0: depth -= 1
                case 0x3C where !inQuote && depth == 0: angle = true
                case 0x3E where !inQuote && depth == 0: angle = false
                case 0x2C, 0x3B:  // "," ";"
                    if !(inQuote || depth > 0 || angle) { bounds.append(start..<i); start = i + 1 }
                case 0x3A where !inQuote && depth == 0 && !angle:
                    // "Group name:" starts a group; the name itself is not an address.
                    start = i + 1
                default: break
                }
            }
            bounds.append(start..<b.count)
        }
        let u = s.utf8
        return bounds.compactMap { r in
            let item = s[u.index(u.startIndex, offsetBy: r.lowerBound)..<u.index(u.startIndex, offsetBy: r.upperBound)]
                .trimmingASCIISpace()
            return item.isEmpty ? nil : item
        }
    }

    static func parseOne(_ item: Substring) -> MailAddress? {
        var comments: [String] = []
        let text = item.utf8.contains(0x28) ? Substring(stripComments(item, into: &comments)) : item
        if let lt = text.utf8.lastIndex(of: 0x3C) {  // "<"
            let after = text[text.utf8.index(after: lt)...]
            var addr = after[..<(after.utf8.firstIndex(of: 0x3E) ?? after.endIndex)].trimmingASCIISpace()
            if addr.utf8.first == 0x40, let colon = addr.utf8.lastIndex(of: 0x3A) {  // obsolete route "<@a,@b:x@y>"
                addr = addr[addr.utf8.index(after: colon)...]
            }
            let name = cleanName(String(text[..<lt])) ?? comments.first.flatMap(cleanName)
            guard !addr.isEmpty || name != nil else { return nil }
            return MailAddress(name: name, address: String(addr))
        }
        let addr = String(text).trimmingASCIISpace().replacingOccurrences(of: "\"", with: "")
        guard !addr.isEmpty, !addr.contains(" ") || addr.contains("@") else {
            return addr.isEmpty ? nil : MailAddress(name: cleanName(addr), address: "")
        }
        // The first word (as split(separator: " ").first gives it).
        let u = addr.utf8
        let word = u.firstIndex { $0 != 0x20 }.map { lo in addr[lo..<(u[lo...].firstIndex(of: 0x20) ?? u.endIndex)] }
        return MailAddress(name: comments.first.flatMap(cleanName), address: word.map(String.init) ?? addr)
    }

    /// The text without its (nested) comments, which are collected in order; on the UTF-8 bytes.
    static func stripComments(_ s: Substring, into comments: inout [String]) -> String {
        var out: [UInt8] = []
        var comment: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var depth = 0, inQuote = false, escaped = false
        for c in s.utf8 {
            if escaped { if depth > 0 { comment.append(c) } else { out.append(c) }; escaped = false; continue }
            if c == 0x5C && (inQuote || depth > 0) { escaped = true; if depth == 0 { out.append(c) }; continue }
            if c == 0x22 && depth == 0 { inQuote.toggle(); out.append(c); continue }
            if !inQuote && c == 0x28 { depth += 1; if depth == 1 { comment = [] } else { comment.append(c) }; continue }
            if !inQuote && c == 0x29 && depth > 0 {
                depth -= 1
                if depth == 0 { comments.append(String(decoding: comment, as: UTF8.self)) } else { comment.append(c) }
                continue
            }
            if depth > 0 { comment.append(c) } else { out.append(c) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func cleanName(_ raw: String) -> String? {
        var s = raw.trimmingASCIISpace()
        if s.hasPrefix("\"") && s.hasSuffix("\"") && s.count >= 2 {
            s = String(s.dropFirst().dropLast())
        } else if s.hasPrefix("\"") != s.hasSuffix("\"") {
            s = s.trimmingCharacters(in: "\"")  // an unterminated quote
        }
        s = s.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
        s = EncodedWords.decode(s).trimmingASCIISpace()
        return s.isEmpty ? nil : s
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    /// The first occurrence of `target` (byte for byte): memchr and memcmp over the string's contiguous UTF-8
    /// (a 200 KB Subject is searched in microseconds), a byte loop for a string that is not contiguous.
    func range(of target: String) -> Range<Substring.Index>? {
        var needle = target
        return needle.withUTF8 { range(of: $0) }
    }

    func range(of t: UnsafeBufferPointer<UInt8>) -> Range<Substring.Index>? {
        guard let first = t.first else { return nil }
        let u = self.utf8
        if let found = u.withContiguousStorageIfAvailable({ ByteSearch.offset(of: t, in: $0) }) {
            guard let off = found else { return nil }
            let lo = u.index(u.startIndex, offsetBy: off)
            return lo..<u.index(lo, offsetBy: t.count)
        }
        var i = u.startIndex
        while i != u.endIndex {
            if u[i] == first {
                var j = i, k = 0
                while k < t.count, j != u.endIndex, u[j] == t[k] { j = u.index(after: j); k += 1 }
                if k == t.count { return i..<j }
            }
            i = u.index(after: i)
        }
        return nil
    }
}

extension String {
    func range(of target: String) -> Range<String.Index>? { Substring(self).range(of: target) }
    func contains(_ target: String) -> Bool { range(of: target) != nil }
}
