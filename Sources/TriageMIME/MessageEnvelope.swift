/// What the ingest path needs from a raw message without a full MIME parse: identity and summary
/// headers, decoded. The full body model comes from the MIME parser.
public struct MessageEnvelope: Sendable, Equatable {
    public var messageID: String?
    public var from: MailAddress?
    public var replyTo: [MailAddress]
    public var to: [MailAddress]
    public var subject: String
    /// Seconds since 1970 (UTC) from the Date field, if it could be read.
    public var date: Int64?
    public var inReplyTo: [String]
    public var references: [String]
    public var warnings: [String]

    public init(raw: some Collection<UInt8>) {
        let headers = HeaderBlock(parsing: raw)
        self.init(headers: headers)
    }

    public init(headers: HeaderBlock) {
        warnings = headers.warnings
        messageID = headers["Message-ID"].flatMap { MessageEnvelope.messageIDs(in: $0).first ?? MessageEnvelope.bareID($0) }
        var w: [String] = []
        from = headers["From"].flatMap { MessageEnvelope.addressList($0, field: "From", warnings: &w).first }
        replyTo = headers["Reply-To"].map { MessageEnvelope.addressList($0, field: "Reply-To", warnings: &w) } ?? []
        to = headers.values("To").flatMap { MessageEnvelope.addressList($0, field: "To", warnings: &w) }
        warnings += w
        subject = ""
        if let raw = headers["Subject"] {
            // Bounded: a Subject of hundreds of kilobytes (a broken or hostile message) is decoded from its first
            // 16 KB only and kept to 2,000 characters, so nothing after this pays for its length.
            var r = Substring(raw)
            if r.utf8.count > MessageEnvelope.maxRawSubject {
                var cut = r.utf8.index(r.utf8.startIndex, offsetBy: MessageEnvelope.maxRawSubject)
                while cut > r.startIndex && !r.utf8[r.utf8.index(before: cut)].isASCIISpace { cut = r.utf8.index(before: cut) }
                r = r[..<(cut > r.startIndex ? cut : r.utf8.index(r.utf8.startIndex, offsetBy: MessageEnvelope.maxRawSubject))]
            }
            subject = MessageEnvelope.singleLine(EncodedWords.decode(String(r)))
            if subject.count > MessageEnvelope.maxSubject || r.endIndex != raw.endIndex {
                subject = String(subject.prefix(MessageEnvelope.maxSubject))
                warnings.append("Subject of \(raw.utf8.count) bytes: kept its first \(MessageEnvelope.maxSubject) characters")
            }
        }
        date = headers["Date"].flatMap(MailDate.parse)
        inReplyTo = headers["In-Reply-To"].map(MessageEnvelope.messageIDs) ?? []
        references = headers["References"].map(MessageEnvelope.messageIDs) ?? []
        if headers["Message-ID"] == nil { warnings.append("message has no Message-ID") }
        if from == nil { warnings.append("message has no readable From address") }
        if headers["Date"] != nil && date == nil { warnings.append("Date field could not be read") }
    }

    /// Longest Subject kept (characters), and how much of a raw Subject field is decoded (bytes).
    public static let maxSubject = 2_000
    static let maxRawSubject = 16 * 1024

    /// Most of an address field read (bytes): a To field of hundreds of kilobytes is read from its first 64 KB.
    static let maxAddressField = 64 * 1024

    /// The addresses of a field, from its first `maxAddressField` bytes (cut at the last comma or white space
    /// before the limit), with a warning when the field is longer.
    static func addressList(_ raw: String, field: String, warnings: inout [String]) -> [MailAddress] {
        let u = raw.utf8
        guard u.count > maxAddressField else { return MailAddress.parseList(raw) }
        let limit = u.index(u.startIndex, offsetBy: maxAddressField)
        var cut = u[..<limit].lastIndex { $0 == 0x2C || $0.isASCIISpace } ?? limit
        if cut == u.startIndex { cut = limit }
        let kept = raw[..<cut]
        warnings.append("\(field) field of \(u.count) bytes: read its first \(kept.utf8.count) bytes")
        return MailAddress.parseList(String(kept))
    }

    /// The "<...>" message ids in a field, without the angle brackets. ASCII fields (all real ones) are read
    /// on their bytes.
    public static func messageIDs(in value: String) -> [String] {
        var v = value
        if let ids = v.withUTF8({ b -> [String]? in
            var ids: [String] = []
            var i = 0
            while let lt = ByteSearch.index(of: 0x3C, in: b, from: i, to: b.count) {
                guard let gt = ByteSearch.index(of: 0x3E, in: b, from: lt + 1, to: b.count) else { break }
                var id: [UInt8] = []
                for k in (lt + 1)..<gt {
                    let c = b[k]
                    if c >= 0x80 { return nil }
                    if c != 0x20 && !(c >= 0x09 && c <= 0x0D) { id.append(c) }
                }
                if !id.isEmpty { ids.append(String(decoding: id, as: UTF8.self)) }
                i = gt + 1
            }
            return ids
        }) {
            return ids
        }
        var ids: [String] = []
        var rest = Substring(value)
        while let lt = rest.firstIndex(of: "<") {
            let after = rest[rest.index(after: lt)...]
            guard let gt = after.firstIndex(of: ">") else { break }
            let id = after[after.startIndex..<gt].filter { !$0.isWhitespace }
            if !id.isEmpty { ids.append(String(id)) }
            rest = after[after.index(after: gt)...]
        }
        return ids
    }

    static func bareID(_ value: String) -> String? {
        let v = value.trimmingASCIISpace()
        return v.isEmpty || v.contains(" ") ? nil : v
    }

    /// Folds any control characters and line breaks (U+0085, U+2028 and U+2029 too) into single spaces; on
    /// the UTF-8 bytes (each of these is a character of its own).
    static func singleLine(_ s: String) -> String {
        var str = s
        let folded = str.withUTF8 { b -> String? in
            let n = b.count
            var i = 0
            var out: [UInt8] = []
            var copying = false  // from the first control character on
            var lastSpace = false
            while i < n {
                let c = b[i]
                var len = 0  // bytes of a control character or line break here
                if c < 0x20 || c == 0x7F {
                    len = 1
                } else if c == 0xC2 && i + 1 < n && b[i + 1] == 0x85 {
                    len = 2
                } else if c == 0xE2 && i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9) {
                    len = 3
                }
                if len == 0 {
                    if copying { out.append(c) }
                    lastSpace = c == 0x20
                    i += 1
                    continue
                }
                if !copying { copying = true; out.reserveCapacity(n); out.append(contentsOf: b[0..<i]) }
                if !lastSpace { out.append(0x20) }
                lastSpace = true
                i += len
            }
            return copying ? String(decoding: out, as: UTF8.self) : nil
        }
        return (folded ?? s).trimmingASCIISpace()
    }
}

extension UInt8 {
    var isASCIISpace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
