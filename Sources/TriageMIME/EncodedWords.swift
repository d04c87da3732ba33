/// RFC 2047 encoded words ("=?charset?B|Q?text?=") in unstructured header text.
public enum EncodedWords {
    /// Decodes every encoded word in `value`; whitespace between two adjacent encoded words is dropped,
    /// as RFC 2047 section 6.2 requires. Malformed words are left as they are.
    public static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        var pendingSpace = ""
        var lastWasEncoded = false
        while !rest.isEmpty {
            guard let start = rest.range(of: "=?") else {
                out += pendingSpace + rest
                return out
            }
            let before = rest[rest.startIndex..<start.lowerBound]
            if let (decoded, after) = decodeWord(rest[start.lowerBound...]) {
                let onlySpace = before.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
                if !(lastWasEncoded && onlySpace) { out += pendingSpace + before }
                out += decoded
                pendingSpace = ""
                lastWasEncoded = true
                rest = after
            } else {
                out += pendingSpace + before + "=?"
                pendingSpace = ""
                lastWasEncoded = false
                rest = rest[start.upperBound...]
            }
        }
        return out
    }

    /// Decodes one word at the start of `s`; returns the text and what follows it.
    static func decodeWord(_ s: Substring) -> (String, Substring)? {
        let parts = s.dropFirst(2)
        guard let q1 = parts.firstIndex(of: "?") else { return nil }
        var charset = String(parts[parts.startIndex..<q1])
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        let afterCharset = parts[parts.index(after: q1)...]
        guard let q2 = afterCharset.firstIndex(of: "?") else { return nil }
        let encoding = afterCharset[afterCharset.startIndex..<q2].uppercased()
        let text = afterCharset[afterCharset.index(after: q2)...]
        guard let end = text.range(of: "?=") else { return nil }
        let payload = text[text.startIndex..<end.lowerBound]
        guard !payload.contains(" ") else { return nil }
        let bytes: [UInt8]
        switch encoding {
        case "B": bytes = Base64.decodeLenient(Array(payload.utf8))
        case "Q": bytes = QuotedPrintable.decode(Array(payload.utf8), underscoreIsSpace: true)
        default: return nil
        }
        return (Charset.decode(bytes, label: charset), text[end.upperBound...])
    }
}
