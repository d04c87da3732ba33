/// A ticket to be created from one processed message.
public struct NewTicket: Sendable, Equatable, Codable {
    public var messageRowID: Int64
    public var mailbox: String
    public var receivedAt: Int64
    public var fromAddress: String
    public var fromName: String?
    public var subject: String
    public var state: TicketState
    /// Whether later stages may answer this ticket without a human.
    public var autoEligible: Bool
    public var warnings: [String]
    /// Machine-generated mail (bounce, auto-reply, list): "delivery_status", "auto_reply", "list", ...
    public var report: String?

    public init(messageRowID: Int64, mailbox: String, receivedAt: Int64, fromAddress: String, fromName: String?,
                subject: String, state: TicketState, autoEligible: Bool, warnings: [String])
    {
        self.messageRowID = messageRowID
        self.mailbox = mailbox
        self.receivedAt = receivedAt
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.subject = subject
        self.state = state
        self.autoEligible = autoEligible
        self.warnings = warnings
    }
}

/// A ticket as the queue shows it.
public struct TicketSummary: Sendable, Codable, Equatable {
    public var id: Int64
    public var mailbox: String
    public var receivedAt: Int64
    public var from: String
    public var fromName: String?
    public var subject: String
    public var state: TicketState
    public var autoEligible: Bool
    public var warnings: [String]
    public var category: String?
    public var confidence: Double?
    public var degree: AutomationDegree?
    public var language: String?
    public var report: String?
    /// The automatic answer's outbox state and the server's last error.
    public var answerState: OutboxState?
    public var answerError: String?
    /// The service level: target group, priority, first-response due time (seconds since 1970).
    public var group: String?
    public var priority: String?
    public var firstResponseDue: Int64?

    public init(id: Int64, mailbox: String, receivedAt: Int64, from: String, fromName: String?, subject: String,
                state: TicketState, autoEligible: Bool, warnings: [String])
    {
        self.id = id
        self.mailbox = mailbox
        self.receivedAt = receivedAt
        self.from = from
        self.fromName = fromName
        self.subject = subject
        self.state = state
        self.autoEligible = autoEligible
        self.warnings = warnings
    }
}

/// Which tickets to list.
public struct TicketQuery: Sendable {
    public var states: [TicketState]?
    public var mailbox: String?
    public var limit: Int?

    public init(states: [TicketState]? = nil, mailbox: String? = nil, limit: Int? = nil) {
        self.states = states
        self.mailbox = mailbox
        self.limit = limit
    }
}

/// An automatic answer waiting in the outbox.
public struct OutgoingAnswer: Sendable, Equatable, Codable {
    /// The `knowledgeEntry` of an acknowledgement (no knowledge-base entry: a template).
    public static let acknowledgementEntry = "acknowledgement"

    public var recipient: String
    /// Envelope sender; "" is the null sender.
    public var envelopeFrom: String
    public var messageID: String
    public var knowledgeEntry: String
    public var raw: [UInt8]

    public init(recipient: String, envelopeFrom: String, messageID: String, knowledgeEntry: String, raw: [UInt8]) {
        self.recipient = recipient
        self.envelopeFrom = envelopeFrom
        self.messageID = messageID
        self.knowledgeEntry = knowledgeEntry
        self.raw = raw
    }
}

/// One outbox row due for sending.
public struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var ticketID: Int64
    public var recipient: String
    public var envelopeFrom: String
    public var raw: [UInt8]
    public var attempts: Int

    public init(id: Int64, ticketID: Int64, recipient: String, envelopeFrom: String, raw: [UInt8], attempts: Int) {
        self.id = id
        self.ticketID = ticketID
        self.recipient = recipient
        self.envelopeFrom = envelopeFrom
        self.raw = raw
        self.attempts = attempts
    }
}
