public import TriageMIME

/// A stored message read for deciding: its store metadata and its parse (none when it was not
/// downloaded or processing failed before), or plain text for `classify --text` and `eval`.
public struct IncomingMessage: Sendable {
    public var stored: StoredMessage
    public var parsed: ParsedMessage?
    /// Text without headers (`classify --text`, `eval`): the loop guard and threading do not apply.
    public var textOnly: ClassifierInput?
    /// The classifier input, worked out once by a caller that needs it too (`analyze`).
    public var prepared: ClassifierInput?

    /// Parses the stored bytes unless the message was not downloaded or has failed processing before.
    public init(stored: StoredMessage) {
        self.stored = stored
        let usable = stored.attempts <= TriageEngine.maxAttempts && stored.fetchError == nil && !stored.raw.isEmpty
        parsed = usable ? MIMEParser.parse(stored.raw) : nil
    }

    public init(stored: StoredMessage, parsed: ParsedMessage?) {
        self.stored = stored
        self.parsed = parsed
    }

    /// Text only, for measuring the classifier and the knowledge base without mail headers.
    public static func text(subject: String, body: String, sender: String = "", mailbox: String = "") -> IncomingMessage {
        var m = IncomingMessage(stored: StoredMessage(id: 0, mailbox: mailbox, raw: [], size: 0, truncated: false, fetchError: nil,
                                                      preBaseline: false, attempts: 1, receivedAt: 0), parsed: nil)
        m.textOnly = ClassifierInput(subject: subject, body: RequestText.of(QuoteStripper.newText(body)), sender: sender, mailbox: mailbox)
        return m
    }

    /// What the classifier reads: subject and the request (the new text without quotes, signatures,
    /// greeting and sign-off).
    public var classifierInput: ClassifierInput? {
        if let textOnly { return textOnly }
        if let prepared { return prepared }
        guard let p = parsed else { return nil }
        return ClassifierInput(subject: p.envelope.subject, body: RequestText.of(p.newText.isEmpty ? p.text : p.newText),
                               sender: p.envelope.from?.address ?? "", mailbox: stored.mailbox)
    }

    /// The addresses the message comes from (From and Reply-To), lowercased.
    public var senders: Set<String> {
        guard let env = parsed?.envelope else { return [] }
        return Set(([env.from].compactMap { $0 } + env.replyTo).map { $0.address.lowercased() }.filter { !$0.isEmpty })
    }

    /// What the store is asked for threading: the Message-IDs the message refers to and its subject tag.
    public var threadQuery: ThreadQuery? {
        guard let env = parsed?.envelope else { return nil }
        return ThreadQuery(references: Array((env.inReplyTo + env.references).filter { !$0.isEmpty }.suffix(100)),
                           taggedTicket: TriageEngine.ticketTag(env.subject),
                           recipient: ((env.replyTo.first ?? env.from)?.address ?? "").lowercased())
    }
}

/// The store lookups a decision needs.
public struct ThreadQuery: Sendable, Equatable {
    public var references: [String]
    public var taggedTicket: Int64?
    /// Where an answer would go (Reply-To, else From): for the per-sender rate limit.
    public var recipient: String

    public init(references: [String], taggedTicket: Int64?, recipient: String) {
        self.references = references
        self.taggedTicket = taggedTicket
        self.recipient = recipient
    }
}
