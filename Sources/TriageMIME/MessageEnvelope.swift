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
        from = headers["From"].flatMap { MailAddress.parseList($0).first }
        replyTo = headers["Reply-To"].map(MailAddress.parseList) ?? []
        to = headers.values("To").flatMap(MailAddress.parseList)
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

    /// The "<...>" message ids in a field, without the angle brackets.
    public static func messageIDs(in value: String) -> [String] {
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

    /// Folds any control characters and line breaks into single spaces.
    static func singleLine(_ s: String) -> String {
        var out = ""
        var lastSpace = false
        for ch in s {
            if ch.isNewline || ch == "\t" || (ch.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.append(ch)
                lastSpace = ch == " "
            }
        }
        return out.trimmingASCIISpace()
    }
}

extension UInt8 {
    var isASCIISpace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
