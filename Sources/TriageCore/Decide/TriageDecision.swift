/// Everything decided about one message: what happens to it, and why. Data only; the store applies it
/// in one transaction, `classify` prints it.
public struct TriageDecision: Sendable, Equatable, Codable {
    public enum Action: Sendable, Equatable, Codable {
        /// A new ticket whose id is the message's row id.
        case newTicket
        /// The message joins an existing ticket; `informational` (an auto-reply) changes nothing there.
        case joinThread(ticket: Int64, informational: Bool)
    }

    public var messageRowID: Int64
    public var mailbox: String
    public var action: Action
    /// The ticket to create (for `.newTicket`); for a joined message, what it would have been.
    public var ticket: NewTicket
    public var classification: Classification?
    /// The final degree of automation (the classifier's, lowered by eligibility, loop guard and match).
    public var degree: AutomationDegree?
    /// The knowledge-base entry that answers it (automatic) or was matched clearly.
    public var knowledgeEntry: String?
    /// The best knowledge-base candidates, best first.
    public var candidates: [KnowledgeMatcher.Candidate]
    /// Another customer's ticket the message cites (it did not join it).
    public var linkedTicket: Int64?
    /// What the loop guard says about the message (empty: an automatic answer would be allowed).
    public var loopGuard: [LoopRefusal]
    /// The answer to queue in the same transaction as the ticket.
    public var reply: OutgoingAnswer?
    /// Shadow mode: the answer that would have been sent, recorded and never sent.
    public var shadowReply: OutgoingAnswer?
    /// The acknowledgement that tells the customer when to expect an answer.
    public var acknowledgement: OutgoingAnswer?
    /// The time the acknowledgement promises, when the backlog makes it later than the service level's due time.
    public var promisedLater: DueTime?
    /// Semi-automatic: the drafted answer an agent approves, edits or rejects.
    public var draft: Draft?
    /// A customer's reply to a ticket waiting on them resumes its clock: the new first-response due time.
    public var resumedDue: Int64?
    /// Target group, policy and due times.
    public var service: ServiceDecision?
    public var reasons: [DecisionReason]

    public init(messageRowID: Int64, mailbox: String, action: Action, ticket: NewTicket) {
        self.messageRowID = messageRowID
        self.mailbox = mailbox
        self.action = action
        self.ticket = ticket
        candidates = []
        loopGuard = []
        reasons = []
    }

    /// The ticket this decision creates or touches.
    public var ticketID: Int64 {
        switch action {
        case .newTicket: return messageRowID
        case .joinThread(let t, _): return t
        }
    }
}

/// What the store knows that a decision needs: possible threads and recent answers to the sender.
public struct DecisionContext: Sendable, Equatable {
    /// Tickets the message refers to (References/In-Reply-To, subject tag), most specific first.
    public var threadCandidates: [ThreadCandidate]
    /// Automatic answers to this sender within the loop guard's window.
    public var recentAnswersToSender: Int
    /// True: render the reply (the daemon); false: decide only (`classify`, `eval`).
    public var renderReply: Bool
    /// A random token for our answer's Message-ID.
    public var token: String
    /// Per target group: tickets waiting for a first answer and first answers given by people last week.
    public var backlog: [String: GroupBacklog] = [:]
    /// The classification names the words that decided it (a reason). Off where nobody reads the reasons
    /// (`analyze` over an archive): it costs a pass over the words per category.
    public var explain = true

    public init(threadCandidates: [ThreadCandidate] = [], recentAnswersToSender: Int = 0, renderReply: Bool = false,
                token: String = "preview")
    {
        self.threadCandidates = threadCandidates
        self.recentAnswersToSender = recentAnswersToSender
        self.renderReply = renderReply
        self.token = token
    }
}

/// A ticket a message may belong to.
public struct ThreadCandidate: Sendable, Equatable, Codable {
    public var ticketID: Int64
    public var link: ThreadLink
    /// The addresses the ticket belongs to (its sender, where our answers went), lowercased.
    public var customers: Set<String>
    /// Set while the ticket waits on the customer: the paused service-level clock.
    public var paused: PausedClock?

    public init(ticketID: Int64, link: ThreadLink, customers: Set<String>, paused: PausedClock? = nil) {
        self.ticketID = ticketID
        self.link = link
        self.customers = Set(customers.map { $0.lowercased() })
        self.paused = paused
    }
}

/// A first-response clock paused while waiting on the customer (seconds since 1970).
public struct PausedClock: Sendable, Equatable, Codable {
    public var pausedAt: Int64
    public var due: Int64
    public var calendar: String

    public init(pausedAt: Int64, due: Int64, calendar: String) {
        self.pausedAt = pausedAt
        self.due = due
        self.calendar = calendar
    }
}

/// The part of a decision that is kept with the ticket and printed by `classify --json`: the same record
/// in both places, so that what `classify` says can be compared with what the daemon did.
public struct DecisionRecord: Sendable, Equatable, Codable {
    public var language: String?
    public var category: String?
    public var confidence: Double?
    public var degree: AutomationDegree?
    public var state: TicketState
    public var knowledgeEntry: String?
    public var candidates: [KnowledgeMatcher.Candidate]
    public var linkedTicket: Int64?
    public var loopGuard: [LoopRefusal]
    public var service: ServiceDecision?
    public var reasons: [DecisionReason]
}

extension DecisionRecord {
    /// The knowledge-base entry the decision puts before the customer or an agent: the automatic answer's,
    /// the shadow answer's (also the agent's draft), or the draft's (the clear entry, else the best candidate).
    public var offeredEntry: String? {
        switch degree {
        case .automatic?, .shadow?: knowledgeEntry
        case .semiAutomatic?: state == .awaitingApproval ? knowledgeEntry ?? candidates.first?.id : nil
        default: nil
        }
    }
}

extension TriageDecision {
    public var record: DecisionRecord {
        DecisionRecord(language: classification?.language, category: classification?.category, confidence: classification?.confidence,
                       degree: degree, state: ticket.state, knowledgeEntry: knowledgeEntry, candidates: candidates,
                       linkedTicket: linkedTicket, loopGuard: loopGuard, service: service, reasons: reasons)
    }
}

/// A drafted answer waiting for an agent: the knowledge-base entry and its text with the placeholders filled.
public struct Draft: Sendable, Equatable, Codable {
    public var entry: String
    public var body: String

    public init(entry: String, body: String) {
        self.entry = entry
        self.body = body
    }
}

/// How far behind a target group is: tickets waiting for a first answer, and first answers people gave in the
/// last seven days (the group's pace).
public struct GroupBacklog: Sendable, Equatable, Codable {
    public var waiting: Int
    public var answeredLastWeek: Int

    public init(waiting: Int, answeredLastWeek: Int) {
        self.waiting = waiting
        self.answeredLastWeek = answeredLastWeek
    }
}
