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
    /// The agent holding the ticket.
    public var assignee: String?
    /// The calendar's time zone of the service level (for showing due times), when known.
    public var calendar: String?

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

/// Which tickets to list, and in which order.
public struct TicketQuery: Sendable {
    public enum Order: Sendable {
        /// Oldest first.
        case received
        /// The agents' queue: drafts waiting for approval first, then by first-response due time (none last),
        /// then priority (high first), then age.
        case due
    }

    public var states: [TicketState]?
    public var mailbox: String?
    public var limit: Int?
    public var ids: [Int64]?
    public var groups: [String]?
    public var categories: [String]?
    public var assignee: String?
    /// Only tickets whose first answer was due before this time (seconds since 1970) and is still awaited.
    public var overdueAt: Int64?
    public var order: Order

    public init(states: [TicketState]? = nil, mailbox: String? = nil, limit: Int? = nil, ids: [Int64]? = nil, groups: [String]? = nil,
                categories: [String]? = nil, assignee: String? = nil, overdueAt: Int64? = nil, order: Order = .received)
    {
        self.states = states
        self.mailbox = mailbox
        self.limit = limit
        self.ids = ids
        self.groups = groups
        self.categories = categories
        self.assignee = assignee
        self.overdueAt = overdueAt
        self.order = order
    }
}

/// An automatic answer waiting in the outbox.
public struct OutgoingAnswer: Sendable, Equatable, Codable {
    /// The `knowledgeEntry` of an acknowledgement (no knowledge-base entry: a template).
    public static let acknowledgementEntry = "acknowledgement"
    /// The `knowledgeEntry` of an SLA escalation mail to the team.
    public static let escalationEntry = "escalation"
    /// The `knowledgeEntry` of an agent's own reply (no knowledge-base entry).
    public static let agentEntry = "agent"

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
    /// Sends begun whose outcome was never recorded (the daemon stopped in between): the server may have
    /// accepted such an attempt, so sending again may deliver the answer a second time.
    public var interruptedAttempts = 0

    public init(id: Int64, ticketID: Int64, recipient: String, envelopeFrom: String, raw: [UInt8], attempts: Int) {
        self.id = id
        self.ticketID = ticketID
        self.recipient = recipient
        self.envelopeFrom = envelopeFrom
        self.raw = raw
        self.attempts = attempts
    }
}
