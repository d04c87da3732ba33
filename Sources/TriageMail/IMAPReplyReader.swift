import Glibc
public import TriageCore

/// Reads IMAP responses from a byte stream that arrives in arbitrary pieces (a TLS record may end anywhere:
/// inside a line, inside a literal, inside its `{n}`). Pure: `feed` bytes, then take `next()` until it gives nil.
/// Every response is bounded: its text by `maxTextBytes` (a longer one is a protocol error, the stream is
/// unusable after it), each literal by `maxLiteralBytes` (a larger one is read past and kept only as its size).
public struct IMAPReplyReader: Sendable {
    public var maxTextBytes: Int
    public var maxLiteralBytes: Int

    private var buffer: [UInt8] = []
    private var start = 0
    // The response being read.
    private var text: [UInt8] = []
    private var literals: [IMAPReply.Literal] = []
    /// Bytes of the current literal still to come, or nil while reading a line.
    private var literalLeft: Int?
    private var keepingLiteral = true

    public init(maxTextBytes: Int = 8 << 20, maxLiteralBytes: Int = 64 << 20) {
        self.maxTextBytes = maxTextBytes
        self.maxLiteralBytes = maxLiteralBytes
    }

    /// Bytes received and not yet returned as part of a response.
    public var buffered: Int { buffer.count - start }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && (start >= buffer.count || start > 1 << 16) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete response, or nil when more bytes are needed.
    public mutating func next() throws(TriageError) -> IMAPReply? {
        while true {
            if let left = literalLeft {
                let n = min(left, buffer.count - start)
                if keepingLiteral { literals[literals.count - 1].bytes.append(contentsOf: buffer[start..<start + n]) }
                start += n
                if left - n > 0 {
                    literalLeft = left - n
                    return nil
                }
                literalLeft = nil
                continue
            }
            let available = buffer.count - start
            let lf: Int? = buffer.withUnsafeBytes { raw in
                guard available > 0, let p = memchr(raw.baseAddress! + start, 0x0A, available) else { return nil }
                return raw.baseAddress!.distance(to: UnsafeRawPointer(p))
            }
            guard let lf else {
                if text.count + available > maxTextBytes { throw tooLong(text.count + available) }
                return nil
            }
            var end = lf
            if end > start && buffer[end - 1] == 0x0D { end -= 1 }
            if text.count + (end - start) > maxTextBytes { throw tooLong(text.count + end - start) }
            text.append(contentsOf: buffer[start..<end])
            start = lf + 1
            if let n = IMAPReplyReader.literalSize(atEndOf: text) {
                var literal = IMAPReply.Literal(bytes: [], announced: n)
                keepingLiteral = n <= maxLiteralBytes
                if keepingLiteral { literal.bytes.reserveCapacity(n) }
                literals.append(literal)
                literalLeft = n
                continue
            }
            return finish()
        }
    }

    private func tooLong(_ n: Int) -> TriageError {
        TriageError(.protocolError, "IMAP response text is \(n) bytes, over the limit of \(maxTextBytes)", transient: true)
    }

    private mutating func finish() -> IMAPReply {
        var body = Substring(String(decoding: text, as: UTF8.self))
        let kind: IMAPReply.Kind
        let tag = body.prefix(while: { $0 != " " })
        body = body.dropFirst(tag.count).drop(while: { $0 == " " })
        switch tag {
        case "*": kind = .untagged
        case "+": kind = .continuation
        default: kind = .tagged(String(tag))
        }
        let reply = IMAPReply(kind: kind, text: String(body), literals: literals)
        text.removeAll(keepingCapacity: true)
        literals = []
        return reply
    }

    /// `... {123}` or `... {123+}` (LITERAL+) or `~{123}` (BINARY) at the end of a line: the literal's size.
    static func literalSize(atEndOf line: [UInt8]) -> Int? {
        guard line.last == UInt8(ascii: "}") else { return nil }
        var i = line.count - 2
        if i >= 0 && line[i] == UInt8(ascii: "+") { i -= 1 }
        var value = 0, digits = 0
        var scale = 1
        while i >= 0, line[i] >= UInt8(ascii: "0"), line[i] <= UInt8(ascii: "9") {
            guard digits < 18 else { return nil }
            value += Int(line[i] - UInt8(ascii: "0")) * scale
            scale *= 10
            digits += 1
            i -= 1
        }
        guard digits > 0, i >= 0, line[i] == UInt8(ascii: "{") else { return nil }
        return value
    }
}
