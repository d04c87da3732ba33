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
    static func splitTopLevel(_ raw: String) -> [String] {
        var items: [String] = []
        var cur = ""
        var inQuote = false, depth = 0, angle = false, escaped = false
        for ch in raw {
            if escaped { cur.append(ch); escaped = false; continue }
            switch ch {
            case "\\" where inQuote || depth > 0: escaped = true; cur.append(ch)
            case "\"" where depth == 0: inQuote.toggle(); cur.append(ch)
            case "(" where !inQuote: depth += 1; cur.append(ch)
            case ")" where !inQuote && depth > 0: depth -= 1; cur.append(ch)
            case "<" where !inQuote && depth == 0: angle = true; cur.append(ch)
            case ">" where !inQuote && depth == 0: angle = false; cur.append(ch)
            case ",", ";":
                if inQuote || depth > 0 || angle { cur.append(ch) } else { items.append(cur); cur = "" }
            case ":" where !inQuote && depth == 0 && !angle:
                // "Group name:" starts a group; the name itself is not an address.
                cur = ""
            default: cur.append(ch)
            }
        }
        items.append(cur)
        return items.map { $0.trimmingASCIISpace() }.filter { !$0.isEmpty }
    }

    static func parseOne(_ item: String) -> MailAddress? {
        var comments: [String] = []
        let text = stripComments(item, into: &comments)
        if let lt = text.lastIndex(of: "<") {
            let after = text[text.index(after: lt)...]
            let inner = after.split(separator: ">", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            var addr = inner.trimmingASCIISpace()
            if let colon = addr.lastIndex(of: ":"), addr.hasPrefix("@") {  // obsolete route "<@a,@b:x@y>"
                addr = String(addr[addr.index(after: colon)...])
            }
            let rawName = String(text[..<lt]).trimmingASCIISpace()
            let name = cleanName(rawName) ?? comments.first.flatMap(cleanName)
            guard !addr.isEmpty || name != nil else { return nil }
            return MailAddress(name: name, address: addr)
        }
        let addr = text.trimmingASCIISpace().replacingOccurrences(of: "\"", with: "")
        guard !addr.isEmpty, !addr.contains(" ") || addr.contains("@") else {
            return addr.isEmpty ? nil : MailAddress(name: cleanName(addr), address: "")
        }
        return MailAddress(name: comments.first.flatMap(cleanName), address: addr.split(separator: " ").first.map(String.init) ?? addr)
    }

    static func stripComments(_ s: String, into comments: inout [String]) -> String {
        var out = ""
        var depth = 0, inQuote = false, escaped = false
        var comment = ""
        for ch in s {
            if escaped { if depth > 0 { comment.append(ch) } else { out.append(ch) }; escaped = false; continue }
            if ch == "\\" && (inQuote || depth > 0) { escaped = true; if depth == 0 { out.append(ch) }; continue }
            if ch == "\"" && depth == 0 { inQuote.toggle(); out.append(ch); continue }
            if !inQuote && ch == "(" { depth += 1; if depth == 1 { comment = "" } else { comment.append(ch) }; continue }
            if !inQuote && ch == ")" && depth > 0 {
                depth -= 1
                if depth == 0 { comments.append(comment) } else { comment.append(ch) }
                continue
            }
            if depth > 0 { comment.append(ch) } else { out.append(ch) }
        }
        return out
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
        let t = Array(target.utf8)
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
