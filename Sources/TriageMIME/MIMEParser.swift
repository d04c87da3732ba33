#if canImport(Glibc)
import Glibc
#endif

/// Bounds on the work one message may cause. A limit hit is a warning, never an error: the parser
/// returns what it has and the message still reaches a human.
public struct ParseLimits: Sendable, Equatable {
    /// Bytes of the raw message looked at; the rest is ignored.
    public var maxMessageBytes: Int
    /// Nesting of multiparts and embedded messages.
    public var maxDepth: Int
    /// MIME parts in the whole tree.
    public var maxParts: Int
    /// One header line (before unfolding).
    public var maxHeaderLineLength: Int
    /// Header fields per header section.
    public var maxHeaderFields: Int
    /// Decoded text (body parts turned into text) over the whole message.
    public var maxDecodedBytes: Int

    public init(maxMessageBytes: Int = 64 << 20, maxDepth: Int = 24, maxParts: Int = 1_000,
                maxHeaderLineLength: Int = HeaderBlock.defaultMaxLineLength, maxHeaderFields: Int = 5_000,
                maxDecodedBytes: Int = 16 << 20)
    {
        self.maxMessageBytes = maxMessageBytes
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderLineLength = maxHeaderLineLength
        self.maxHeaderFields = maxHeaderFields
        self.maxDecodedBytes = maxDecodedBytes
    }

    public static let `default` = ParseLimits()
}

/// One node of the MIME tree. `bodyRange` indexes the raw message bytes and is still transfer-encoded.
public struct MIMEPart: Sendable {
    public var headers: HeaderBlock
    public var contentType: ContentType
    /// Lowercased Content-Transfer-Encoding ("7bit" when absent).
    public var transferEncoding: String
    /// Lowercased disposition ("inline", "attachment"), nil when absent.
    public var disposition: String?
    /// File name from Content-Disposition `filename` or Content-Type `name` (RFC 2231/2047 decoded).
    public var filename: String?
    public var bodyRange: Range<Int>
    public var children: [MIMEPart]
    public var depth: Int
    /// Dotted part number as IMAP numbers parts ("1", "1.2"); "" for the message itself.
    public var path: String

    public var isAttachment: Bool {
        if disposition == "attachment" { return true }
        if filename != nil && !(contentType.type == "text" && disposition == "inline") { return true }
        return false
    }
}

/// Turns raw message bytes into a `ParsedMessage`. Never fails and never traps: every repair and every
/// limit hit is a warning in the result.
public enum MIMEParser {
    public static func parse(_ raw: [UInt8], limits: ParseLimits = .default) -> ParsedMessage {
        var state = State(limits: limits)
        var bytes = raw
        if bytes.count > limits.maxMessageBytes {
            state.warn("message of \(bytes.count) bytes is over the limit of \(limits.maxMessageBytes); only the first \(limits.maxMessageBytes) bytes were read")
            bytes = Array(bytes[0..<limits.maxMessageBytes])
        }
        if ByteSearch.contains(bytes, byte: 0) {
            state.warn("message contains NUL bytes")
        }
        let root = bytes.withUnsafeBufferPointer { buf in
            state.parsePart(buf, bytes, start: 0, end: buf.count, depth: 0, path: "", defaultType: .textPlain)
        }
        return ParsedMessage(raw: bytes, root: root, state: &state)
    }

    public static func parse(_ raw: some Collection<UInt8>, limits: ParseLimits = .default) -> ParsedMessage {
        parse(Array(raw), limits: limits)
    }

    struct State {
        let limits: ParseLimits
        var warnings: [String] = []
        var partCount = 0
        var maxDepthSeen = 0
        var decodedBytes = 0
        var depthWarned = false
        var partsWarned = false
        var decodedWarned = false

        init(limits: ParseLimits) { self.limits = limits }

        mutating func warn(_ w: String) {
            if warnings.count < 100 { warnings.append(w) }
        }

        /// False (with one warning per message) when going one level deeper would pass the depth limit.
        mutating func mayDescend(from depth: Int) -> Bool {
            if depth < limits.maxDepth { return true }
            if !depthWarned { warn("MIME nesting deeper than the limit of \(limits.maxDepth); inner parts were not read") }
            depthWarned = true
            return false
        }

        /// False (with one warning per message) when the part limit is reached.
        mutating func mayAddPart(notRead: String) -> Bool {
            if partCount < limits.maxParts { return true }
            if !partsWarned { warn("more than \(limits.maxParts) MIME parts (the limit); \(notRead) not read") }
            partsWarned = true
            return false
        }

        mutating func parsePart(_ buf: UnsafeBufferPointer<UInt8>, _ bytes: [UInt8], start: Int, end: Int, depth: Int,
                                path: String, defaultType: ContentType) -> MIMEPart
        {
            partCount += 1
            maxDepthSeen = max(maxDepthSeen, depth)
            let headers = HeaderBlock(buffer: bytes, from: start, to: end, maxLineLength: limits.maxHeaderLineLength,
                                      maxFields: limits.maxHeaderFields)
            let label = path.isEmpty ? "" : "part \(path): "
            for w in headers.warnings where !(depth > 0 && w == "message has no body separator") {
                warn(label + w)
            }
            var contentType = defaultType
            if let rawType = headers["Content-Type"] {
                if let ct = ContentType(parsing: rawType) {
                    contentType = ct
                } else {
                    warn("\(label)unreadable Content-Type \"\(rawType.prefix(60))\"; read as \(defaultType.mimeType)")
                }
            }
            var cte = headers["Content-Transfer-Encoding"].map { HeaderParameters(parsing: $0).value } ?? "7bit"
            if cte.isEmpty { cte = "7bit" }
            let dispositionHeader = headers["Content-Disposition"].map { HeaderParameters(parsing: $0) }
            var disposition = dispositionHeader?.value
            if disposition?.isEmpty == true { disposition = nil }
            var filename = dispositionHeader?["filename"] ?? contentType.parameters["name"]
            if let f = filename {
                let clean = EncodedWords.decode(f).trimmingASCIISpace()
                filename = clean.isEmpty ? nil : clean
            }
            let bodyStart = headers.bodyOffset
            var part = MIMEPart(headers: headers, contentType: contentType, transferEncoding: cte, disposition: disposition,
                                filename: filename, bodyRange: bodyStart..<end, children: [], depth: depth, path: path)

            if contentType.isMultipart {
                guard mayDescend(from: depth) else { return part }
                var boundary = contentType.boundary.map { Array($0.utf8) } ?? []
                if boundary.isEmpty {
                    if let sniffed = MIMEParser.sniffBoundary(buf, start: bodyStart, end: end) {
                        boundary = sniffed
                        warn("\(label)multipart without a boundary parameter; the boundary was guessed from the body")
                    } else {
                        warn("\(label)multipart without a boundary; the body was read as text")
                        return part
                    }
                }
                let split = MIMEParser.split(buf, start: bodyStart, end: end, boundary: boundary)
                if split.parts.isEmpty {
                    warn("\(label)multipart/\(contentType.subtype) body has no boundary lines; the body was read as text")
                    return part
                }
                if !split.closed {
                    warn("\(label)multipart/\(contentType.subtype) has no closing boundary")
                }
                let childDefault: ContentType = contentType.subtype == "digest" ? .messageRFC822 : .textPlain
                for (k, range) in split.parts.enumerated() {
                    guard mayAddPart(notRead: "\(split.parts.count - k) or more parts were") else { break }
                    let childPath = path.isEmpty ? "\(k + 1)" : "\(path).\(k + 1)"
                    part.children.append(parsePart(buf, bytes, start: range.lowerBound, end: range.upperBound, depth: depth + 1,
                                                   path: childPath, defaultType: childDefault))
                }
            } else if contentType.type == "message" && (contentType.subtype == "rfc822" || contentType.subtype == "global"),
                      cte != "base64" && cte != "quoted-printable"
            {
                guard mayDescend(from: depth) else { return part }
                guard mayAddPart(notRead: "the rest were") else { return part }
                // IMAP numbering: the parts of an embedded multipart are "N.1", "N.2"; a single-part body is "N.1".
                var child = parsePart(buf, bytes, start: bodyStart, end: end, depth: depth + 1, path: path,
                                      defaultType: .textPlain)
                if !child.contentType.isMultipart || path.isEmpty { child.path = path.isEmpty ? "1" : "\(path).1" }
                part.children.append(child)
            }
            return part
        }
    }

    /// Index of the next LF at or after `from`, or `end`.
    @inline(__always)
    static func nextLF(_ buf: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> Int {
        guard from < end, let base = buf.baseAddress else { return end }
        #if canImport(Glibc)
        if let p = memchr(base + from, 0x0A, end - from) {
            return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
        return end
        #else
        var i = from
        while i < end && base[i] != 0x0A { i += 1 }
        return i
        #endif
    }

    /// The parts between `--boundary` lines, without the line break that belongs to the next delimiter.
    static func split(_ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int, boundary: [UInt8]) -> (parts: [Range<Int>], closed: Bool) {
        var parts: [Range<Int>] = []
        var partStart: Int?
        var lineStart = start
        let bl = boundary.count
        while lineStart < end {
            let lf = nextLF(buf, from: lineStart, end: end)
            let lineEnd = lf
            // Is this line a delimiter?
            if lineEnd - lineStart >= bl + 2 && buf[lineStart] == 0x2D && buf[lineStart + 1] == 0x2D {
                var match = true
                var k = 0
                while k < bl {
                    if buf[lineStart + 2 + k] != boundary[k] { match = false; break }
                    k += 1
                }
                if match {
                    var j = lineStart + 2 + bl
                    var closing = false
                    if j + 2 <= lineEnd && buf[j] == 0x2D && buf[j + 1] == 0x2D {
                        closing = true
                        j += 2
                    }
                    // Only whitespace may follow (a longer boundary sharing this prefix is another delimiter).
                    var rest = true
                    while j < lineEnd {
                        let c = buf[j]
                        if c != 0x20 && c != 0x09 && c != 0x0D { rest = false; break }
                        j += 1
                    }
                    if rest {
                        if let s = partStart {
                            var e = lineStart
                            if e > s && buf[e - 1] == 0x0A { e -= 1 }
                            if e > s && buf[e - 1] == 0x0D { e -= 1 }
                            parts.append(s..<max(s, e))
                        }
                        if closing { return (parts, true) }
                        partStart = min(lf + 1, end)
                    }
                }
            }
            lineStart = lf + 1
        }
        if let s = partStart { parts.append(s..<end) }
        return (parts, false)
    }

    /// The first line that looks like a delimiter ("--" and at least one more character, no spaces).
    static func sniffBoundary(_ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> [UInt8]? {
        var lineStart = start
        var lines = 0
        while lineStart < end && lines < 200 {
            let lf = nextLF(buf, from: lineStart, end: end)
            var lineEnd = lf
            if lineEnd > lineStart && buf[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd - lineStart > 3 && buf[lineStart] == 0x2D && buf[lineStart + 1] == 0x2D {
                let cand = Array(buf[(lineStart + 2)..<lineEnd])
                if !cand.contains(0x20) && !cand.allSatisfy({ $0 == 0x2D }) { return cand }
            }
            lineStart = lf + 1
            lines += 1
        }
        return nil
    }
}
