/// The header section of an RFC 5322 message: unfolded fields in their original order.
///
/// Parsing is lenient: bare LF line ends, a missing blank line, lines without a colon and 8-bit bytes
/// are all accepted; anything repaired is reported in `warnings`.
public struct HeaderBlock: Sendable {
    /// One header field as it appeared, unfolded, with the raw (undecoded) value.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let rawValue: String
    }

    public private(set) var fields: [Field] = []
    /// Byte offset where the body starts (after the blank line), or the end of the input if there is none.
    public private(set) var bodyOffset: Int = 0
    public private(set) var warnings: [String] = []

    /// Longest header line accepted before it is cut (RFC 5322 allows 998; real mail exceeds that).
    public static let defaultMaxLineLength = 64 * 1024

    public init(parsing bytes: some Collection<UInt8>, maxLineLength: Int = HeaderBlock.defaultMaxLineLength) {
        let buf = Array(bytes)
        var i = 0
        var current: (name: String, value: [UInt8])?
        var sawBlankLine = false
        func flush(_ f: inout (name: String, value: [UInt8])?, into fields: inout [Field]) {
            if let c = f {
                fields.append(Field(name: c.name, rawValue: HeaderBlock.decodeRawBytes(c.value)))
            }
            f = nil
        }
        // A leading mbox "From " line is tolerated and skipped.
        if buf.starts(with: Array("From ".utf8)) {
            while i < buf.count && buf[i] != 0x0A { i += 1 }
            i += 1
            warnings.append("skipped a leading mbox From_ line")
        }
        while i < buf.count {
            var end = i
            while end < buf.count && buf[end] != 0x0A { end += 1 }
            var lineEnd = end
            if lineEnd > i && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let next = min(end + 1, buf.count)
            if lineEnd == i {  // blank line: end of the header section
                i = next
                sawBlankLine = true
                break
            }
            var line = buf[i..<lineEnd]
            if line.count > maxLineLength {
                warnings.append("header line of \(line.count) bytes cut to the limit of \(maxLineLength)")
                line = line.prefix(maxLineLength)
            }
            let first = line.first!
            if first == 0x20 || first == 0x09 {
                if current != nil {
                    current!.value.append(contentsOf: line)
                } else {
                    warnings.append("continuation line without a field was dropped")
                }
                i = next
                continue
            }
            if let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
               line[line.startIndex..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) || HeaderBlock.nameWithTrailingSpace(line[line.startIndex..<colon])
            {
                flush(&current, into: &fields)
                let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
                    .trimmingASCIISpace()
                var value = Array(line[(colon + 1)...])
                while let f = value.first, f == 0x20 || f == 0x09 { value.removeFirst() }
                current = (name, value)
                i = next
            } else {
                // Not a header: the sender forgot the blank line. Treat the rest as body.
                warnings.append("header section ended without a blank line")
                break
            }
        }
        flush(&current, into: &fields)
        if !sawBlankLine && i >= buf.count && !fields.isEmpty {
            warnings.append("message has no body separator")
        }
        bodyOffset = min(i, buf.count)
    }

    private static func nameWithTrailingSpace(_ name: ArraySlice<UInt8>) -> Bool {
        // "Subject : x" is obsolete syntax (RFC 5322 4.5.2) but still seen.
        var trimmed = name
        while let l = trimmed.last, l == 0x20 || l == 0x09 { trimmed.removeLast() }
        return !trimmed.isEmpty && trimmed.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Header bytes are UTF-8 in modern mail; anything else is read as windows-1252 so no byte is lost.
    static func decodeRawBytes(_ bytes: [UInt8]) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return Charset.decodeWindows1252(bytes)
    }

    /// All values of a field, case-insensitively, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.rawValue)
    }

    /// The first value of a field, unfolded and trimmed, not decoded.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }.map { $0.rawValue.trimmingASCIISpace() }
    }

    /// The first value of a field with RFC 2047 encoded words decoded.
    public func decoded(_ name: String) -> String? {
        self[name].map { EncodedWords.decode($0) }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            (x >= 0x41 && x <= 0x5A ? x | 0x20 : x) == (y >= 0x41 && y <= 0x5A ? y | 0x20 : y)
        }
    }

    /// Trims spaces, tabs, CR and LF from both ends.
    public func trimmingASCIISpace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" || f == "\r\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" || l == "\r\n" { s.removeLast() }
        return String(s)
    }
}
