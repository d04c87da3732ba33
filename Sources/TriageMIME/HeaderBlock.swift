/// The header section of an RFC 5322 message: unfolded fields in their original order.
///
/// Parsing is lenient: bare LF line ends, a missing blank line, lines without a colon and 8-bit bytes
/// are all accepted; anything repaired is reported in `warnings`.
public struct HeaderBlock: Sendable {
    /// One header field as it appeared, unfolded, with the raw (undecoded) value.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let rawValue: String
        /// `rawValue` without surrounding white space, trimmed once when the header is read.
        let value: String

        init(name: String, rawValue: String) {
            self.name = name
            self.rawValue = rawValue
            value = rawValue.trimmingASCIISpace()
        }

        /// Whether the name is `key` (UTF-8 bytes), ASCII case-insensitively.
        @inline(__always)
        func named(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
            guard name.utf8.count == key.count, let k = key.first, let f = name.utf8.first, ASCII.lower(f) == ASCII.lower(k)
            else { return false }
            var n = name
            return n.withUTF8 { ASCII.equalsIgnoringCase($0, key) }
        }
    }

    public private(set) var fields: [Field] = []
    /// Byte offset where the body starts (after the blank line), or the end of the input if there is none.
    public private(set) var bodyOffset: Int = 0
    public private(set) var warnings: [String] = []

    /// Longest header line accepted before it is cut (RFC 5322 allows 998; real mail exceeds that).
    public static let defaultMaxLineLength = 64 * 1024

    /// Most fields kept per header section; the rest are dropped with a warning.
    public static let defaultMaxFields = 10_000

    public init(parsing bytes: some Collection<UInt8>, maxLineLength: Int = HeaderBlock.defaultMaxLineLength) {
        let buf = Array(bytes)
        self.init(buffer: buf, from: 0, to: buf.count, maxLineLength: maxLineLength)
    }

    /// Parses the header section of `buf[from..<to]`; `bodyOffset` is an index into `buf`.
    public init(buffer buf: [UInt8], from: Int, to: Int, maxLineLength: Int = HeaderBlock.defaultMaxLineLength,
                maxFields: Int = HeaderBlock.defaultMaxFields)
    {
        var i = from
        let endAll = to
        // The field being read: its value is `buf[start..<end]` until a continuation line makes it `folded`.
        var current: (name: String, start: Int, end: Int, folded: [UInt8]?)?
        var sawBlankLine = false
        var droppedFields = 0
        func flush(_ f: inout (name: String, start: Int, end: Int, folded: [UInt8]?)?, into fields: inout [Field]) {
            if let c = f {
                if fields.count < maxFields {
                    let value = c.folded.map(HeaderBlock.decodeRawBytes)
                        ?? buf.withUnsafeBufferPointer { Charset.decodeUTF8Lenient(buffer: UnsafeBufferPointer(rebasing: $0[c.start..<c.end])) }
                    fields.append(Field(name: c.name, rawValue: value))
                } else {
                    droppedFields += 1
                }
            }
            f = nil
        }
        // A leading mbox "From " line is tolerated and skipped.
        if endAll - i >= 5 && buf[i] == 0x46 && buf[i + 1] == 0x72 && buf[i + 2] == 0x6F && buf[i + 3] == 0x6D && buf[i + 4] == 0x20 {
            while i < endAll && buf[i] != 0x0A { i += 1 }
            i += 1
            warnings.append("skipped a leading mbox From_ line")
        }
        while i < endAll {
            let end = buf.withUnsafeBufferPointer { ByteSearch.index(of: 0x0A, in: $0, from: i, to: endAll) } ?? endAll
            var lineEnd = end
            if lineEnd > i && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let next = min(end + 1, endAll)
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
                    if current!.folded == nil { current!.folded = Array(buf[current!.start..<current!.end]) }
                    if current!.folded!.count < maxLineLength * 4 {
                        current!.folded!.append(contentsOf: line)
                    }
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
                var v = colon + 1
                while v < line.endIndex && (line[v] == 0x20 || line[v] == 0x09) { v += 1 }
                current = (name, v, line.endIndex, nil)
                i = next
            } else {
                // Not a header: the sender forgot the blank line. Treat the rest as body.
                warnings.append("header section ended without a blank line")
                break
            }
        }
        flush(&current, into: &fields)
        if droppedFields > 0 {
            warnings.append("\(fields.count + droppedFields) header fields, over the limit of \(maxFields); \(droppedFields) dropped")
        }
        if !sawBlankLine && i >= endAll && !fields.isEmpty {
            warnings.append("message has no body separator")
        }
        bodyOffset = min(i, endAll)
    }

    private static func nameWithTrailingSpace(_ name: ArraySlice<UInt8>) -> Bool {
        // "Subject : x" is obsolete syntax (RFC 5322 4.5.2) but still seen.
        var trimmed = name
        while let l = trimmed.last, l == 0x20 || l == 0x09 { trimmed.removeLast() }
        return !trimmed.isEmpty && trimmed.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Header bytes are UTF-8 in modern mail; anything else is read as windows-1252 so no byte is lost.
    static func decodeRawBytes(_ bytes: [UInt8]) -> String {
        Charset.decodeUTF8Lenient(bytes)
    }

    /// All values of a field, case-insensitively, in order.
    public func values(_ name: String) -> [String] {
        var key = name
        return key.withUTF8 { k in fields.filter { $0.named(k) }.map(\.rawValue) }
    }

    /// The first value of a field, unfolded and trimmed, not decoded.
    public subscript(_ name: String) -> String? {
        var key = name
        return key.withUTF8 { k in
            for f in fields where f.named(k) { return f.value }
            return nil
        }
    }

    /// The first value of a field with RFC 2047 encoded words decoded.
    public func decoded(_ name: String) -> String? {
        self[name].map { EncodedWords.decode($0) }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        var a = self, b = other
        guard a.utf8.count == b.utf8.count else { return false }
        return a.withUTF8 { x in b.withUTF8 { y in ASCII.equalsIgnoringCase(x, y) } }
    }

    /// Trims spaces, tabs, CR and LF from both ends.
    public func trimmingASCIISpace() -> String {
        var s = self
        if s.withUTF8({ $0.isEmpty || (!$0[0].isASCIISpace && !$0[$0.count - 1].isASCIISpace) }) { return self }
        let t = Substring(self).trimmingASCIISpace()
        return t.utf8.count == utf8.count ? self : String(t)
    }
}

extension Substring {
    /// Trims spaces, tabs, CR and LF from both ends, on the UTF-8 bytes. Next to an ASCII byte a cut is a
    /// character boundary; when a trimmed space borders a non-ASCII byte (a combining mark after a space)
    /// the trimming is done by `Character`, as before.
    func trimmingASCIISpace() -> Substring {
        let u = utf8
        var lo = u.startIndex, hi = u.endIndex
        while lo < hi && u[lo].isASCIISpace { lo = u.index(after: lo) }
        while hi > lo && u[u.index(before: hi)].isASCIISpace { hi = u.index(before: hi) }
        if lo == u.startIndex && hi == u.endIndex { return self }
        if (lo != u.startIndex && lo < hi && u[lo] >= 0x80) || (hi != u.endIndex && hi > lo && u[u.index(before: hi)] >= 0x80) {
            var s = self
            while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" || f == "\r\n" { s.removeFirst() }
            while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" || l == "\r\n" { s.removeLast() }
            return s
        }
        return self[lo..<hi]
    }
}

/// ASCII helpers on bytes.
enum ASCII {
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func equalsIgnoringCase(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        guard x.count == y.count else { return false }
        for k in 0..<x.count where x[k] != y[k] && lower(x[k]) != lower(y[k]) { return false }
        return true
    }
}
