import Foundation
import GRDB
public import TriageCore

/// A ticket's first message as `mailtriage reprocess` needs it: the stored bytes, where it lies on the
/// server (to fetch it again), and whether the customer has been answered already.
public struct ReprocessInput: Sendable {
    public var ticket: Int64
    public var message: StoredMessage
    public var uidValidity: UInt32?
    public var uid: UInt32?
    public var state: TicketState
    /// An answer (automatic or an agent's) was queued or sent, or an agent has the ticket.
    public var answered: Bool
    public var category: String?
    public var degree: AutomationDegree?
}

/// What reprocessing did to one ticket.
public struct ReprocessOutcome: Sendable, Equatable {
    public var ticket: Int64
    public var answerQueued: String?
    public var draftPrepared: String?
    /// Shadow mode: the answer that would have been sent, recorded.
    public var shadowed: String?
    /// Why an automatic answer was not queued (already answered, in an agent's hands).
    public var answerWithheld: String?
}

extension SQLiteTicketStore {
    /// Answers to a ticket in the outbox (automatic or an agent's; not shadow records, acknowledgements or escalations).
    static func answersSQL(_ ticket: String) -> String {
        "SELECT count(*) FROM outbox o WHERE o.ticket_id = \(ticket) AND o.state != ? AND o.kb_entry NOT IN (?, ?)"
    }

    static var answersArguments: [any DatabaseValueConvertible] { [OutboxState.shadow.rawValue, OutgoingAnswer.acknowledgementEntry, OutgoingAnswer.escalationEntry] }

    /// Tickets whose first message failed: not downloaded (a placeholder) or processing failed repeatedly.
    public func failedTickets(maxAttempts: Int) throws -> [Int64] {
        try read("failed tickets") { db in
            try Int64.fetchAll(db, sql: """
                SELECT t.id FROM ticket t JOIN message m ON m.id = t.message_row
                WHERE m.fetch_error IS NOT NULL OR m.attempts > ? ORDER BY t.id
                """, arguments: [maxAttempts])
        }
    }

    public func reprocessInput(ticket id: Int64) throws -> ReprocessInput? {
        try read("reprocess input") { db in
            guard let r = try Row.fetchOne(db, sql: """
                SELECT t.id, t.state, t.category, t.degree, t.first_responded_at, t.answer_entry, t.assignee,
                       m.id AS mid, m.mailbox, r.raw, m.size, m.truncated, m.fetch_error, m.pre_baseline, m.received_at,
                       (SELECT uid_validity FROM message_location l WHERE l.message_row = m.id ORDER BY l.recorded_at DESC LIMIT 1) AS uv,
                       (SELECT uid FROM message_location l WHERE l.message_row = m.id ORDER BY l.recorded_at DESC LIMIT 1) AS uid,
                       (\(Self.answersSQL("t.id"))) AS answers
                FROM ticket t JOIN message m ON m.id = t.message_row JOIN message_raw r ON r.message_row = m.id
                WHERE t.id = ?
                """, arguments: StatementArguments(Self.answersArguments + [id])),
                let state = TicketState(rawValue: r["state"])
            else { return nil }
            let raw: Data = r["raw"]
            let message = StoredMessage(id: r["mid"], mailbox: r["mailbox"], raw: [UInt8](raw), size: r["size"], truncated: r["truncated"],
                                        fetchError: r["fetch_error"], preBaseline: r["pre_baseline"], attempts: 1, receivedAt: r["received_at"])
            let answered = (r["first_responded_at"] as Int64?) != nil || (r["answer_entry"] as String?) != nil || (r["answers"] as Int) > 0
                || (r["assignee"] as String?) != nil || state != .open
            return ReprocessInput(ticket: r["id"], message: message, uidValidity: (r["uv"] as Int64?).map { UInt32($0) },
                                  uid: (r["uid"] as Int64?).map { UInt32($0) }, state: state, answered: answered,
                                  category: r["category"], degree: (r["degree"] as String?).flatMap(AutomationDegree.init(rawValue:)))
        }
    }

    /// Writes a ticket's new decision in place, in one transaction: the bytes fetched again (if any), the
    /// ticket's fields and its service level; and, only while the ticket is open, has no answer, no draft and no
    /// agent (checked again inside the transaction, so two runs never answer twice), what the daemon writes for
    /// a new ticket with this decision (`recordAnswer`, `queueAnswer`): the draft, the shadow answer, the
    /// automatic answer, and the decision's state. Acknowledgements are not sent again. Event
    /// `ticket.reprocessed` records before and after.
    public func applyReprocessed(_ d: TriageDecision, ticket id: Int64, refetched: (raw: [UInt8], size: Int, truncated: Bool)?) throws -> ReprocessOutcome {
        try write("reprocess") { db in
            let t = now()
            guard let before = try Row.fetchOne(db, sql: """
                SELECT state, category, degree, first_responded_at, answer_entry, assignee,
                       (\(Self.answersSQL("ticket.id"))) AS answers,
                       (SELECT count(*) FROM draft WHERE ticket_id = ticket.id AND state = ?) +
                       (SELECT count(*) FROM outbox WHERE ticket_id = ticket.id AND state = ?) AS drafted
                FROM ticket WHERE id = ?
                """, arguments: StatementArguments(Self.answersArguments + [DraftState.pending.rawValue, OutboxState.shadow.rawValue, id])),
                let state = TicketState(rawValue: before["state"])
            else { throw TriageError(.notFound, "no ticket #\(id)") }
            if let f = refetched {
                try db.execute(sql: "UPDATE message_raw SET raw = ? WHERE message_row = ?", arguments: [Data(f.raw), d.messageRowID])
                try db.execute(sql: "UPDATE message SET size = ?, truncated = ?, fetch_error = NULL WHERE id = ?",
                               arguments: [f.size, f.truncated, d.messageRowID])
            }
            let untouched = state == .open && (before["first_responded_at"] as Int64?) == nil && (before["answer_entry"] as String?) == nil
                && (before["answers"] as Int) == 0 && (before["assignee"] as String?) == nil && (before["drafted"] as Int) == 0
            var outcome = ReprocessOutcome(ticket: id)
            var newState = state
            let json = JSONEncoder()
            let nt = d.ticket, c = d.classification
            if untouched {
                // What the daemon writes for a new ticket: the draft and the shadow answer, the automatic answer,
                // and the state the decision gives the ticket (awaiting approval for a draft, answered).
                try recordAnswer(db, d, ticket: id, at: t)
                if let reply = d.reply {
                    try queueAnswer(db, reply, ticket: id, mailbox: nt.mailbox, at: t, detail: ["reprocessed": "true"])
                    outcome.answerQueued = reply.knowledgeEntry
                }
                outcome.shadowed = d.shadowReply?.knowledgeEntry
                outcome.draftPrepared = d.draft?.entry
                newState = nt.state
            } else if d.reply != nil || d.draft != nil || d.shadowReply != nil {
                outcome.answerWithheld = state == .awaitingApproval || (before["drafted"] as Int) > 0 ? "a draft was prepared before"
                    : "the ticket was answered or taken by an agent before"
                if d.reply != nil {
                    try appendEvent(db, kind: .answerRefused, ticket: id, mailbox: nt.mailbox,
                                    detail: ["reasons": "reprocessed: " + outcome.answerWithheld!])
                }
            }
            try db.execute(sql: """
                UPDATE ticket SET subject = ?, from_address = ?, from_name = ?, warnings = ?, category = ?, confidence = ?, degree = ?,
                                  language = ?, reasons = ?, report = ?, decision = ?, auto_eligible = ?, linked_ticket = coalesce(linked_ticket, ?),
                                  state = ?, updated_at = ?
                WHERE id = ?
                """, arguments: [nt.subject, nt.fromAddress, nt.fromName, Self.jsonText(nt.warnings, json), c?.category, c?.confidence,
                                 d.degree?.rawValue, c?.language, Self.jsonText(d.reasons.map(\.description), json), nt.report,
                                 Self.jsonText(d.record, json), nt.autoEligible, d.linkedTicket, newState.rawValue, t, id])
            if let sd = d.service { try updateService(db, id, sd) }
            try appendEvent(db, kind: .ticketReprocessed, ticket: id, message: d.messageRowID, mailbox: nt.mailbox, detail: [
                "refetched": "\(refetched != nil)", "category_before": before["category"] ?? "", "category": c?.category ?? "",
                "degree_before": before["degree"] ?? "", "degree": d.degree?.rawValue ?? "", "state_before": state.rawValue, "state": newState.rawValue,
            ])
            return outcome
        }
    }
}
