/// Everything the rest of mailtriage needs from one raw message.
public struct ParsedMessage: Sendable {
    /// Where the body text came from.
    public enum TextSource: String, Sendable, Codable {
        case plain
        case html
        /// An embedded (forwarded) message supplied the text.
        case embedded
        case none
    }

    /// A part that is not body text: a file, an embedded message, a report part.
    public struct Attachment: Sendable, Equatable, Codable {
        public var name: String?
        public var mimeType: String
        /// Decoded size in bytes.
        public var size: Int
        public var disposition: String?
        /// A Microsoft TNEF container (winmail.dat): its files are not visible to other mail readers.
        public var isTNEF: Bool
        /// IMAP part number ("2", "1.3").
        public var part: String
    }

    public var envelope: MessageEnvelope
    public var root: MIMEPart
    /// The best body text with LF line ends: text/plain preferred, else HTML turned into readable text.
    public var text: String
    public var textSource: TextSource
    /// The text the sender wrote in this message: quoted history, reply headers and signatures removed.
    public var newText: String
    public var attachments: [Attachment]
    public var report: MessageReport
    /// What was repaired, skipped or cut, in the order found.
    public var warnings: [String]
    public var partCount: Int
    public var depth: Int

    public var headers: HeaderBlock { root.headers }

    /// Convenience: parse `raw` with the default limits.
    public init(raw: [UInt8], limits: ParseLimits = .default) {
        self = MIMEParser.parse(raw, limits: limits)
    }

    init(raw: [UInt8], root: MIMEPart, state: inout MIMEParser.State) {
        self.root = root
        envelope = MessageEnvelope(headers: root.headers)
        var extractor = TextExtractor(raw: raw, limits: state.limits)
        var chosen = extractor.select(root, preferHTML: false)
        var pieces = extractor.decode(chosen)
        var source: TextSource = chosen.contains { $0.isHTML } ? .html : .plain
        if pieces.allSatisfy(TextExtractor.isBlank) {
            let html = extractor.select(root, preferHTML: true)
            if html.map(\.part.path) != chosen.map(\.part.path) {
                chosen = html
                pieces = extractor.decode(html)
                source = .html
            }
        }
        if pieces.allSatisfy(TextExtractor.isBlank), let embedded = TextExtractor.firstEmbedded(root) {
            chosen = extractor.select(embedded, preferHTML: false)
            pieces = extractor.decode(chosen)
            source = .embedded
        }
        if chosen.isEmpty { source = .none }
        text = TextExtractor.join(pieces)
        if text.isEmpty && source != .none && chosen.isEmpty { source = .none }
        textSource = source
        newText = QuoteStripper.newText(text)
        attachments = TextExtractor.attachments(root, raw: raw, chosen: Set(chosen.map(\.part.path)))
        state.warnings += extractor.warnings
        report = ReportClassifier.classify(root: root, envelope: envelope, text: text)
        warnings = envelope.warnings.filter { !state.warnings.contains($0) } + state.warnings
        partCount = state.partCount
        depth = state.maxDepthSeen
    }

    /// The transfer-decoded bytes of a part (for showing or saving an attachment).
    public static func decodedBody(of part: MIMEPart, in raw: [UInt8]) -> [UInt8] {
        TextExtractor.transferDecode(part, raw: raw)
    }
}

/// Chooses and decodes body parts.
struct TextExtractor {
    struct Choice {
        var part: MIMEPart
        var isHTML: Bool
    }

    let raw: [UInt8]
    let limits: ParseLimits
    var decoded = 0
    var warnings: [String] = []
    var limitWarned = false

    init(raw: [UInt8], limits: ParseLimits) {
        self.raw = raw
        self.limits = limits
    }

    /// The leaf parts that make up the body, chosen by structure (nothing is decoded here).
    func select(_ part: MIMEPart, preferHTML: Bool) -> [Choice] {
        let ct = part.contentType
        if !part.children.isEmpty {
            if ct.type == "message" { return [] }
            switch ct.subtype {
            case "alternative":
                var plain: [Choice]?
                var html: [Choice]?
                for child in part.children where !child.isAttachment {
                    let c = select(child, preferHTML: preferHTML)
                    if c.isEmpty { continue }
                    if c.allSatisfy({ !$0.isHTML }) { plain = c } else { html = c }
                }
                return (preferHTML ? html ?? plain : plain ?? html) ?? []
            case "related", "report", "signed":
                return part.children.first.map { select($0, preferHTML: preferHTML) } ?? []
            case "encrypted":
                return []
            default:
                return part.children.filter { !$0.isAttachment && $0.contentType.type != "message" }
                    .flatMap { select($0, preferHTML: preferHTML) }
            }
        }
        // A multipart whose boundary never appears is read as text (the parser warned about it).
        if ct.isMultipart { return [Choice(part: part, isHTML: false)] }
        if part.isAttachment || ct.type != "text" { return [] }
        switch ct.subtype {
        case "html", "xhtml": return [Choice(part: part, isHTML: true)]
        case "plain", "enriched", "richtext", "markdown", "x-markdown", "rfc822-headers", "csv": return [Choice(part: part, isHTML: false)]
        default:
            // Unknown text subtypes (text/x-something) are still text; calendar and vcard data are not prose.
            if ct.subtype == "calendar" || ct.subtype.hasSuffix("vcard") || ct.subtype.hasSuffix("directory") { return [] }
            return [Choice(part: part, isHTML: false)]
        }
    }

    static func firstEmbedded(_ part: MIMEPart) -> MIMEPart? {
        if part.contentType.type == "message", let child = part.children.first { return child }
        for c in part.children {
            if let e = firstEmbedded(c) { return e }
        }
        return nil
    }

    mutating func decode(_ choices: [Choice]) -> [String] {
        var out: [String] = []
        for c in choices {
            var bytes = TextExtractor.transferDecode(c.part, raw: raw)
            if decoded + bytes.count > limits.maxDecodedBytes {
                let keep = max(0, limits.maxDecodedBytes - decoded)
                if !limitWarned {
                    warnings.append("decoded text of more than \(limits.maxDecodedBytes) bytes (the limit); part \(c.part.path.isEmpty ? "1" : c.part.path) was cut to \(keep) bytes")
                }
                limitWarned = true
                bytes = Array(bytes.prefix(keep))
            }
            decoded += bytes.count
            if bytes.isEmpty { continue }
            var label = c.part.contentType.charset ?? ""
            if label.isEmpty && c.isHTML { label = HTMLText.sniffCharset(bytes) ?? "" }
            // CR and LF are bytes of their own in the built-in charsets: there line ends are made LF before decoding.
            let early = !c.isHTML && Charset.keepsLineEnds(label)
            let (text, known) = Charset.decodeReporting(early ? bytes.withUnsafeBufferPointer(TextExtractor.normalizeLineEnds) ?? bytes : bytes,
                                                        label: label)
            if !label.isEmpty && !known {
                warnings.append("unknown charset \"\(label.prefix(40))\" in part \(c.part.path.isEmpty ? "1" : c.part.path); read as UTF-8/windows-1252")
            }
            out.append(c.isHTML ? HTMLText.toText(text) : early ? text : TextExtractor.normalizeLineEnds(text))
        }
        return out
    }

    static func isBlank(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }

    static func join(_ pieces: [String]) -> String {
        let trimmed = pieces.map { trimBlankLines($0) }.filter { !$0.isEmpty }
        return trimmed.joined(separator: "\n\n")
    }

    static func trimBlankLines(_ s: String) -> String {
        var str = s
        // Leading blank lines go (indentation of the first line stays), trailing whitespace goes.
        let cut = str.withUTF8 { u -> Range<Int>? in
            var lo = 0, hi = u.count
            var k = 0
            while k < hi && (u[k] == 0x20 || u[k] == 0x09 || u[k] == 0x0A || u[k] == 0x0D) {
                if u[k] == 0x0A { lo = k + 1 }
                k += 1
            }
            if k == hi { return nil }
            while hi > lo && (u[hi - 1] == 0x20 || u[hi - 1] == 0x09 || u[hi - 1] == 0x0A || u[hi - 1] == 0x0D) { hi -= 1 }
            return lo..<hi
        }
        guard let cut else { return "" }
        if cut.lowerBound == 0 && cut.upperBound == s.utf8.count { return s }
        // Cut at ASCII bytes: a piece of the string, not bytes to validate again.
        let u = s.utf8
        let a = u.index(u.startIndex, offsetBy: cut.lowerBound)
        return String(s[a..<u.index(a, offsetBy: cut.count)])
    }

    /// CR and CRLF made LF.
    static func normalizeLineEnds(_ s: String) -> String {
        var str = s
        return str.withUTF8(normalizeLineEnds).map { String(decoding: $0, as: UTF8.self) } ?? s
    }

    /// The bytes with CR and CRLF made LF (memchr finds each CR, the runs between are copied whole), or nil
    /// when there is no CR.
    static func normalizeLineEnds(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard var cr = ByteSearch.index(of: 0x0D, in: b, from: 0, to: b.count) else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(b.count)
        var i = 0
        while true {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<cr]))
            out.append(0x0A)
            i = cr + 1
            if i < b.count && b[i] == 0x0A { i += 1 }
            guard let next = ByteSearch.index(of: 0x0D, in: b, from: i, to: b.count) else { break }
            cr = next
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<b.count]))
        return out
    }

    static func transferDecode(_ part: MIMEPart, raw: [UInt8]) -> [UInt8] {
        let r = part.bodyRange.clamped(to: 0..<raw.count)
        let slice = raw[r]
        switch part.transferEncoding {
        case "base64": return Base64.decodeLenient(slice)
        case "quoted-printable": return QuotedPrintable.decode(slice)
        default: return Array(slice)
        }
    }

    static func decodedSize(_ part: MIMEPart, raw: [UInt8]) -> Int {
        let r = part.bodyRange.clamped(to: 0..<raw.count)
        switch part.transferEncoding {
        case "base64":
            return Base64.table.withUnsafeBufferPointer { table in
                raw.withUnsafeBufferPointer { buf in
                    // Up to the first "=", the bytes of the alphabet counted.
                    let end = ByteSearch.index(of: 0x3D, in: buf, from: r.lowerBound, to: r.upperBound) ?? r.upperBound
                    guard let base = buf.baseAddress, let t = table.baseAddress, r.lowerBound < end else { return 0 }
                    return Base64.alphabetCount(base + r.lowerBound, end - r.lowerBound, table: t) * 3 / 4
                }
            }
        case "quoted-printable": return QuotedPrintable.decode(raw[r]).count
        default: return r.count
        }
    }

    static func attachments(_ part: MIMEPart, raw: [UInt8], chosen: Set<String>) -> [ParsedMessage.Attachment] {
        var out: [ParsedMessage.Attachment] = []
        func visit(_ p: MIMEPart) {
            let ct = p.contentType
            if ct.type == "message" && !p.children.isEmpty {
                var name = p.filename
                if name == nil, let s = p.children.first?.headers.decoded("Subject"), !s.isEmpty {
                    name = MessageEnvelope.singleLine(s)
                }
                out.append(.init(name: name, mimeType: ct.mimeType, size: p.bodyRange.count, disposition: p.disposition,
                                 isTNEF: false, part: p.path))
                return
            }
            if !p.children.isEmpty {
                p.children.forEach(visit)
                return
            }
            if chosen.contains(p.path) || ct.isMultipart { return }
            // Text parts that are not body text: the unchosen alternative is not listed, a calendar or a
            // returned message's headers are.
            let bodyAlternative = ct.type == "text" && (ct.subtype == "plain" || ct.subtype == "html")
            guard p.isAttachment || !bodyAlternative else { return }
            let lowerName = p.filename?.lowercased()
            let tnef = ct.subtype == "ms-tnef" || ct.subtype == "vnd.ms-tnef" || lowerName == "winmail.dat"
            out.append(.init(name: p.filename, mimeType: ct.mimeType, size: decodedSize(p, raw: raw), disposition: p.disposition,
                             isTNEF: tnef, part: p.path.isEmpty ? "1" : p.path))
        }
        visit(part)
        return out
    }
}
