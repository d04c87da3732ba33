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
        subject = headers.decoded("Subject").map(MessageEnvelope.singleLine) ?? ""
        date = headers["Date"].flatMap(MailDate.parse)
        inReplyTo = headers["In-Reply-To"].map(MessageEnvelope.messageIDs) ?? []
        references = headers["References"].map(MessageEnvelope.messageIDs) ?? []
        if headers["Message-ID"] == nil { warnings.append("message has no Message-ID") }
        if from == nil { warnings.append("message has no readable From address") }
        if headers["Date"] != nil && date == nil { warnings.append("Date field could not be read") }
    }

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
