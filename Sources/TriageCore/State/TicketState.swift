/// The life of a ticket. Changes go through `applying(_:)` (the daemon) and `after(_:)` (agents), never
/// through literals in the store.
public enum TicketState: String, Sendable, Codable, CaseIterable {
    /// Waiting for a human.
    case open
    /// A drafted answer waits for an agent's approval.
    case awaitingApproval = "awaiting_approval"
    /// An agent has claimed it.
    case claimed
    /// Waiting on the customer: the service-level clock is paused.
    case waiting
    /// Answered (automatically, or by an agent); reopens if the customer writes back.
    case answered
    case resolved

    /// States `queue list --state` offers.
    public static let reachable: [TicketState] = allCases

    /// States in which the customer still waits for a first answer from a human: the SLA clock runs.
    public static let awaitingResponse: [TicketState] = [.open, .claimed, .awaitingApproval]

    /// The state after `transition` (the daemon's); the same state when the transition does not apply.
    public func applying(_ transition: TicketTransition) -> TicketState {
        switch (self, transition) {
        case (.answered, .customerReplied), (.resolved, .customerReplied), (.waiting, .customerReplied): return .open
        case (.answered, .answerRefused): return .open
        default: return self
        }
    }

    /// The state after an agent's action, or nil when the action is not possible in this state.
    public func after(_ action: AgentAction) -> TicketState? {
        switch (action, self) {
        case (.claim, .open): return .claimed
        case (.claim, .resolved): return nil
        case (.claim, _): return self
        case (.unclaim, .claimed): return .open
        case (.unclaim, _): return self
        case (.reply, .resolved): return nil
        case (.reply, _): return .answered
        case (.approve, .awaitingApproval): return .answered
        case (.approve, _): return nil
        case (.reject, .awaitingApproval): return .open
        case (.reject, _): return nil
        case (.wait, .open), (.wait, .claimed), (.wait, .answered), (.wait, .awaitingApproval): return .waiting
        case (.wait, _): return nil
        case (.resolve, .resolved): return nil
        case (.resolve, _): return .resolved
        case (.reopen, .resolved), (.reopen, .answered), (.reopen, .waiting): return .open
        case (.reopen, _): return nil
        case (.note, _), (.reassign, _): return self
        }
    }
}

/// What an agent does to a ticket (`mailtriage queue ...`).
public enum AgentAction: String, Sendable, Codable, CaseIterable {
    case claim, unclaim, reply, approve, reject, wait, resolve, reopen, note, reassign
}

/// What can happen to an existing ticket without an agent.
public enum TicketTransition: String, Sendable, Codable {
    /// The customer wrote again (not an auto-reply): an answered, resolved or waiting ticket goes back to a human.
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

/// A draft's life: waiting, then approved as it was, approved after editing, or rejected with a reason.
public enum DraftState: String, Sendable, Codable, CaseIterable {
    case pending, approved, edited, rejected
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
    /// Parsed and decided again (`mailtriage reprocess`), after a fix or with bytes fetched again.
    case ticketReprocessed = "ticket.reprocessed"
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
    /// A semi-automatic ticket got a draft for an agent to approve.
    case draftPrepared = "draft.prepared"
    case draftApproved = "draft.approved"
    case draftRejected = "draft.rejected"
    case ticketClaimed = "ticket.claimed"
    /// A claim taken over from another agent (`--steal`).
    case ticketClaimStolen = "ticket.claim_stolen"
    case ticketUnclaimed = "ticket.unclaimed"
    /// An agent's reply went into the outbox.
    case agentReplied = "agent.replied"
    case ticketWaiting = "ticket.waiting"
    case ticketResolved = "ticket.resolved"
    case ticketNote = "ticket.note"
    case ticketReassigned = "ticket.reassigned"
}
