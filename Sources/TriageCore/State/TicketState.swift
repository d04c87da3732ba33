/// The life of a ticket. Changes go through `applying(_:)`, never through literals in the store.
public enum TicketState: String, Sendable, Codable, CaseIterable {
    /// Waiting for a human.
    case open
    /// Answered automatically; reopens if the customer writes back.
    case answered
    /// A drafted answer waits for an agent's approval (reached with the agents' queue).
    case awaitingApproval = "awaiting_approval"
    /// An agent has claimed it (reached with the agents' queue).
    case claimed
    case resolved

    /// States something can reach today; `queue list --state` offers these.
    public static let reachable: [TicketState] = [.open, .answered]

    /// States in which the customer still waits for a first answer from a human: the SLA clock runs.
    public static let awaitingResponse: [TicketState] = [.open, .claimed, .awaitingApproval]

    /// The state after `transition`; the same state when the transition does not apply to it.
    public func applying(_ transition: TicketTransition) -> TicketState {
        switch (self, transition) {
        case (.answered, .customerReplied), (.resolved, .customerReplied): return .open
        case (.answered, .answerRefused): return .open
        default: return self
        }
    }
}

/// What can happen to an existing ticket.
public enum TicketTransition: String, Sendable, Codable {
    /// The customer wrote again (not an auto-reply): an answered or resolved ticket goes back to a human.
    case customerReplied = "customer_replied"
    /// The mail server refused our automatic answer for good: the ticket goes back to a human.
    case answerRefused = "answer_refused"
}

/// An automatic or agent's answer in the outbox.
public enum OutboxState: String, Sendable, Codable, CaseIterable {
    case pending, sent, failed
    /// Shadow mode: recorded what would have been sent; never sent.
    case shadow

    /// The state after one send attempt.
    public func applying(_ outcome: SendOutcome) -> OutboxState {
        guard self == .pending else { return self }
        switch outcome {
        case .accepted: return .sent
        case .transientFailure: return .pending
        case .permanentFailure: return .failed
        }
    }
}

/// What one send attempt gave.
public enum SendOutcome: Sendable, Equatable {
    case accepted
    case transientFailure(retryAt: Int64)
    case permanentFailure
}

/// What is still to be done on the IMAP server for a recorded message (flag or move).
public enum ServerAction: String, Sendable, Codable {
    case pending, done
}

/// The kinds of entries in the append-only event log.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    case mailboxCursor = "mailbox.cursor"
    case messageRecorded = "message.recorded"
    case messageDuplicate = "message.duplicate"
    case ticketCreated = "ticket.created"
    case ticketClassified = "ticket.classified"
    case ticketReplyReceived = "ticket.reply_received"
    case ticketAutoReplyAttached = "ticket.auto_reply_attached"
    case ticketReopened = "ticket.reopened"
    case ticketRecategorized = "ticket.recategorized"
    /// A new ticket that cites another customer's ticket (it did not join it).
    case ticketLinked = "ticket.linked"
    case answerQueued = "answer.queued"
    case answerRefused = "answer.refused"
    case answerSent = "answer.sent"
    case answerRetry = "answer.retry"
    case answerFailed = "answer.failed"
    /// Shadow mode recorded the answer that would have been sent.
    case answerShadowed = "answer.shadowed"
    /// The customer was told when to expect an answer.
    case ticketAcknowledged = "ticket.acknowledged"
    /// The first response is close to its due time (the policy's warning share).
    case slaWarning = "sla.warning"
    /// The first response is overdue: escalated to the policy's address.
    case slaEscalated = "sla.escalated"
}
