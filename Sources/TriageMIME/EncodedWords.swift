/// RFC 2047 encoded words ("=?charset?B|Q?text?=") in unstructured header text.
///
/// Works on the UTF-8 bytes (every delimiter is ASCII) in one pass: searches start where the previous one
/// ended, so a long value of malformed words is not rescanned.
public enum EncodedWords {
    /// Decodes every encoded word in `value`; whitespace between two adjacent encoded words is dropped,
    /// as RFC 2047 section 6.2 requires. Malformed words are left as they are.
    public static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var v = value
        return v.withUTF8 { decode(bytes: $0) }
    }

    static func decode(bytes b: UnsafeBufferPointer<UInt8>) -> String {
        let n = b.count
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var scan = Scan(b)
        var pos = 0
        var lastWasEncoded = false
        while pos < n {
            guard let start = scan.next(openDelimiter: true, from: pos) else { break }  // "=?"
            switch decodeWord(b, at: start, &scan) {
            case .word(let decoded, let after):
                var onlySpace = true
                for k in pos..<start where !b[k].isASCIISpace { onlySpace = false; break }
                if !(lastWasEncoded && onlySpace) { out.append(contentsOf: b[pos..<start]) }
                out.append(contentsOf: decoded.utf8)
                lastWasEncoded = true
                pos = after
            case .malformed:
                out.append(contentsOf: b[pos..<(start + 2)])
                lastWasEncoded = false
                pos = start + 2
            case .noMoreWords:
                out.append(contentsOf: b[pos..<n])
                return String(decoding: out, as: UTF8.self)
            }
        }
        out.append(contentsOf: b[pos..<n])
        return String(decoding: out, as: UTF8.self)
    }

    enum Word {
        case word(String, after: Int)
        case malformed
        /// No word can start here or later (a delimiter is missing from the rest of the text).
        case noMoreWords
    }

    /// Decodes one word starting at `s` (at "=?").
    static func decodeWord(_ b: UnsafeBufferPointer<UInt8>, at s: Int, _ scan: inout Scan) -> Word {
        let n = b.count
        guard let q1 = ByteSearch.index(of: 0x3F, in: b, from: s + 2, to: n),
              let q2 = ByteSearch.index(of: 0x3F, in: b, from: q1 + 1, to: n),
              let end = scan.next(openDelimiter: false, from: q2 + 1)  // "?="
        else { return .noMoreWords }
        guard q2 == q1 + 2, scan.nextSpace(from: q2 + 1) >= end else { return .malformed }
        let charsetEnd = ByteSearch.index(of: 0x2A, in: b, from: s + 2, to: q1) ?? q1  // RFC 2231 language after "*"
        let charset = String(decoding: b[(s + 2)..<charsetEnd], as: UTF8.self)
        let payload = UnsafeBufferPointer(rebasing: b[(q2 + 1)..<end])
        let bytes: [UInt8]
        switch b[q1 + 1] {
        case 0x42, 0x62: bytes = Base64.decodeLenient(payload)  // B
        case 0x51, 0x71: bytes = QuotedPrintable.decode(payload, underscoreIsSpace: true)  // Q
        default: return .malformed
        }
        return .word(Charset.decode(bytes, label: charset), after: end + 2)
    }

    /// Forward searches whose start never moves back, remembering their last answer: a search that starts
    /// between the previous start and the match it found returns that match without scanning again.
    struct Scan {
        let b: UnsafeBufferPointer<UInt8>
        var open = Pair(x: 0x3D, y: 0x3F)  // "=?"
        var close = Pair(x: 0x3F, y: 0x3D)  // "?="
        var spaceFrom = -1, spaceAt = 0

        struct Pair {
            let x: UInt8, y: UInt8
            var from = -1
            var at: Int?
        }

        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

        /// The first position at or after `from` where "=?" (`openDelimiter`) or "?=" starts.
        mutating func next(openDelimiter: Bool, from: Int) -> Int? {
            let b = self.b
            if openDelimiter { return Scan.find(&open, in: b, from: from) }
            return Scan.find(&close, in: b, from: from)
        }

        private static func find(_ p: inout Pair, in b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
            if p.from >= 0, from >= p.from, p.at.map({ from <= $0 }) ?? true { return p.at }
            var i = from
            var found: Int?
            while let k = ByteSearch.index(of: p.x, in: b, from: i, to: b.count - 1) {
                if b[k + 1] == p.y { found = k; break }
                i = k + 1
            }
            p.from = from
            p.at = found
            return found
        }

        /// The first space at or after `from`, or the end.
        mutating func nextSpace(from: Int) -> Int {
            if spaceFrom >= 0 && from >= spaceFrom && from <= spaceAt { return spaceAt }
            spaceFrom = from
            spaceAt = ByteSearch.index(of: 0x20, in: b, from: from, to: b.count) ?? b.count
            return spaceAt
        }
    }
}
