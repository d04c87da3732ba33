import Foundation
import GRDB
public import TriageCore

/// What `queue show` displays of a ticket.
public struct TicketDetail: Sendable {
    public struct Message: Sendable {
        public var rowID: Int64
        public var receivedAt: Int64
        public var raw: [UInt8]
        /// An auto-reply kept for information.
        public var informational: Bool
    }

    public struct Sent: Sendable {
        public var at: Int64
        public var state: OutboxState
        public var recipient: String
        public var entry: String
        public var raw: [UInt8]
        public var error: String?
    }

    public struct DraftRow: Sendable {
        public var entry: String
        public var body: String
        public var state: DraftState
        public var agent: String?
        public var reason: String?
    }

    public struct Event: Sendable {
        public var at: Int64
        public var kind: String
        public var actor: String
        public var detail: [String: String]
    }

    public var summary: TicketSummary
    public var assignee: String?
    public var decision: DecisionRecord?
    /// The first message and every message that joined the ticket, oldest first.
    public var messages: [Message]
    public var outbox: [Sent]
    public var drafts: [DraftRow]
    public var events: [Event]
}

extension SQLiteTicketStore {
    /// The state, assignee and first message of a ticket, for an agent's action. Throws `notFound`.
    func agentTicket(_ db: Database, _ id: Int64) throws -> (state: TicketState, assignee: String?, mailbox: String) {
        guard let r = try Row.fetchOne(db, sql: "SELECT state, assignee, mailbox FROM ticket WHERE id = ?", arguments: [id]),
              let state = TicketState(rawValue: r["state"])
        else { throw TriageError(.notFound, "no ticket \(id)") }
        return (state, r["assignee"], r["mailbox"])
    }

    /// Applies an agent's action: refused (`conflict`) when the state does not allow it or another agent holds
    /// the ticket. Returns the state before and after.
    func transition(_ db: Database, _ id: Int64, _ action: AgentAction, agent: String, steal: Bool = false) throws
        -> (from: TicketState, to: TicketState, assignee: String?)
    {
        let t = try agentTicket(db, id)
        if let holder = t.assignee, holder != agent, action != .note, !(action == .claim && steal) {
            throw TriageError(.conflict, "ticket \(id) is held by \(holder)" + (action == .claim ? "; --steal takes it over" : ""))
        }
        guard let next = t.state.after(action) else {
            throw TriageError(.conflict, "ticket \(id) is \(t.state.rawValue): cannot \(action.rawValue) it")
        }
        if next != t.state {
            try db.execute(sql: "UPDATE ticket SET state = ?, updated_at = ? WHERE id = ?", arguments: [next.rawValue, now(), id])
        }
        return (t.state, next, t.assignee)
    }

    /// Claims a ticket for `agent`; `steal` takes it over from another agent (recorded).
    @discardableResult
    public func claim(ticket id: Int64, agent: String, steal: Bool = false) throws -> TicketState {
        try writeAction("claim") { db in
            let r = try transition(db, id, .claim, agent: agent, steal: steal)
            if r.assignee == agent { return r.to }
            try db.execute(sql: "UPDATE ticket SET assignee = ? WHERE id = ?", arguments: [agent, id])
            if let previous = r.assignee {
                try appendEvent(db, kind: .ticketClaimStolen, ticket: id, actor: agent, detail: ["from": previous])
            } else {
                try appendEvent(db, kind: .ticketClaimed, ticket: id, actor: agent)
            }
            return r.to
        }
    }

    public func unclaim(ticket id: Int64, agent: String) throws {
        try writeAction("unclaim") { db in
            guard try agentTicket(db, id).assignee != nil else { throw TriageError(.conflict, "ticket \(id) is not claimed") }
            _ = try transition(db, id, .unclaim, agent: agent)
            try db.execute(sql: "UPDATE ticket SET assignee = NULL WHERE id = ?", arguments: [id])
            try appendEvent(db, kind: .ticketUnclaimed, ticket: id, actor: agent)
        }
    }

    /// An agent's reply (or an approved draft) into the outbox; the first response counts for the service level.
    public func reply(ticket id: Int64, agent: String, answer: OutgoingAnswer) throws {
        try writeAction("reply") { db in
            _ = try transition(db, id, .reply, agent: agent)
            try queueAgentAnswer(db, id, agent: agent, answer)
            try appendEvent(db, kind: .agentReplied, ticket: id, actor: agent, detail: ["to": answer.recipient, "message_id": answer.messageID])
        }
    }

    /// Sends the pending draft (as it was, or `edited`); refused when there is none (approved twice).
    public func approveDraft(ticket id: Int64, agent: String, answer: OutgoingAnswer, edited: Bool) throws {
        try writeAction("approve") { db in
            _ = try transition(db, id, .approve, agent: agent)
            guard let draft = try Int64.fetchOne(db, sql: "SELECT id FROM draft WHERE ticket_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
                                                 arguments: [id, DraftState.pending.rawValue])
            else { throw TriageError(.conflict, "ticket \(id) has no draft waiting for approval") }
            try db.execute(sql: "UPDATE draft SET state = ?, agent = ?, decided_at = ? WHERE id = ?",
                           arguments: [(edited ? DraftState.edited : .approved).rawValue, agent, now(), draft])
            try queueAgentAnswer(db, id, agent: agent, answer)
            try db.execute(sql: "UPDATE ticket SET answer_entry = ? WHERE id = ?", arguments: [answer.knowledgeEntry, id])
            try appendEvent(db, kind: .draftApproved, ticket: id, actor: agent,
                            detail: ["entry": answer.knowledgeEntry, "edited": "\(edited)", "message_id": answer.messageID])
        }
    }

    /// Rejects the pending draft with the reason (kept for the knowledge base); the ticket goes to a human.
    public func rejectDraft(ticket id: Int64, agent: String, reason: String) throws {
        try writeAction("reject") { db in
            _ = try transition(db, id, .reject, agent: agent)
            guard let draft = try Row.fetchOne(db, sql: "SELECT id, kb_entry FROM draft WHERE ticket_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
                                               arguments: [id, DraftState.pending.rawValue])
            else { throw TriageError(.conflict, "ticket \(id) has no draft waiting for approval") }
            try db.execute(sql: "UPDATE draft SET state = ?, agent = ?, reason = ?, decided_at = ? WHERE id = ?",
                           arguments: [DraftState.rejected.rawValue, agent, reason, now(), draft["id"] as Int64])
            try db.execute(sql: "UPDATE ticket SET degree = ? WHERE id = ?", arguments: [AutomationDegree.manual.rawValue, id])
            try appendEvent(db, kind: .draftRejected, ticket: id, actor: agent, detail: ["entry": draft["kb_entry"] as String, "reason": reason])
        }
    }

    /// Waiting on the customer: the first-response clock pauses until the customer writes again.
    public func wait(ticket id: Int64, agent: String) throws {
        try writeAction("wait") { db in
            _ = try transition(db, id, .wait, agent: agent)
            try db.execute(sql: "UPDATE ticket SET paused_at = ? WHERE id = ?", arguments: [now(), id])
            try appendEvent(db, kind: .ticketWaiting, ticket: id, actor: agent)
        }
    }

    public func resolve(ticket id: Int64, agent: String, note: String?) throws {
        try writeAction("resolve") { db in
            let r = try transition(db, id, .resolve, agent: agent)
            try db.execute(sql: "UPDATE ticket SET paused_at = NULL WHERE id = ?", arguments: [id])
            try appendEvent(db, kind: .ticketResolved, ticket: id, actor: agent, detail: ["from": r.from.rawValue, "note": note ?? ""])
        }
    }

    public func reopen(ticket id: Int64, agent: String) throws {
        try writeAction("reopen") { db in
            let r = try transition(db, id, .reopen, agent: agent)
            try db.execute(sql: "UPDATE ticket SET paused_at = NULL WHERE id = ?", arguments: [id])
            try appendEvent(db, kind: .ticketReopened, ticket: id, actor: agent, detail: ["from": r.from.rawValue, "to": r.to.rawValue,
                                                                                          "reason": AgentAction.reopen.rawValue])
        }
    }

    /// An internal note: in the event log, never sent.
    public func note(ticket id: Int64, agent: String, text: String) throws {
        try writeAction("note") { db in
            _ = try transition(db, id, .note, agent: agent)
            try appendEvent(db, kind: .ticketNote, ticket: id, actor: agent, detail: ["text": text])
        }
    }

    /// Moves a ticket to another target group, with its recomputed service level.
    public func reassign(ticket id: Int64, agent: String, group: String, service: ServiceDecision?) throws {
        try writeAction("reassign") { db in
            _ = try transition(db, id, .reassign, agent: agent)
            let old = try String.fetchOne(db, sql: "SELECT sla_group FROM ticket WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE ticket SET sla_group = ?, updated_at = ? WHERE id = ?", arguments: [group, now(), id])
            if let sd = service { try updateService(db, id, sd) }
            try appendEvent(db, kind: .ticketReassigned, ticket: id, actor: agent, detail: [
                "from": old ?? "", "to": group, "policy": service?.policy ?? "",
                "due": service?.firstResponse.map { "\(Int64($0.due.timeIntervalSince1970))" } ?? "",
            ])
        }
    }

    /// The new service level of a ticket whose group or category changed; a due time that moves into the
    /// future is a new promise, so its warning and escalation may fire again.
    func updateService(_ db: Database, _ id: Int64, _ sd: ServiceDecision) throws {
        func epoch(_ date: Date?) -> Int64? { date.map { Int64($0.timeIntervalSince1970.rounded()) } }
        let due = epoch(sd.firstResponse?.due), t = now()
        try db.execute(sql: """
            UPDATE ticket SET sla_group = ?, sla_policy = ?, priority = ?, first_response_due = ?, resolution_due = ?, sla_warn_at = ?,
                              sla_escalate_to = ?, sla_calendar = ?,
                              sla_warned_at = CASE WHEN ? > ? THEN NULL ELSE sla_warned_at END,
                              sla_escalated_at = CASE WHEN ? > ? THEN NULL ELSE sla_escalated_at END
            WHERE id = ?
            """, arguments: [sd.group, sd.policy, sd.priority, due, epoch(sd.resolutionDue), epoch(sd.warnAt), sd.escalateTo, sd.calendar,
                             due ?? 0, t, due ?? 0, t, id])
    }

    func queueAgentAnswer(_ db: Database, _ id: Int64, agent: String, _ a: OutgoingAnswer) throws {
        try insertOutbox(db, ticket: id, a, state: .pending, at: now())
        try db.execute(sql: "UPDATE ticket SET first_responded_at = coalesce(first_responded_at, ?), paused_at = NULL WHERE id = ?",
                       arguments: [now(), id])
    }

    /// A write for an agent's action: `conflict` and `notFound` come through as they are.
    func writeAction<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as TriageError { throw e } catch {
            throw storageError(what, error)
        }
    }

    /// The raw first message of a ticket (to reply to it).
    public func firstMessage(ticket id: Int64) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: """
                SELECT r.raw FROM ticket t JOIN message_raw r ON r.message_row = t.message_row WHERE t.id = ?
                """, arguments: [id]).map { [UInt8]($0) }
        }
    }

    /// The pending draft of a ticket, if any.
    public func pendingDraft(ticket id: Int64) throws -> Draft? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT kb_entry, body FROM draft WHERE ticket_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
                             arguments: [id, DraftState.pending.rawValue]).map { Draft(entry: $0["kb_entry"], body: $0["body"]) }
        }
    }

    /// What `queue show` reads besides the ticket: its messages (the first one's row, the ticket), answers,
    /// drafts and events (the ticket).
    static let detailSQL = (
        messages: """
            SELECT m.id, m.received_at, r.raw, 0 AS informational FROM message m JOIN message_raw r ON r.message_row = m.id WHERE m.id = ?
            UNION ALL
            SELECT m.id, m.received_at, r.raw, tm.informational FROM ticket_message tm JOIN message m ON m.id = tm.message_row
                JOIN message_raw r ON r.message_row = m.id WHERE tm.ticket_id = ?
            ORDER BY 2, 1
            """,
        outbox: "SELECT created_at, state, recipient, kb_entry, raw, last_error FROM outbox WHERE ticket_id = ? ORDER BY id",
        drafts: "SELECT kb_entry, body, state, agent, reason FROM draft WHERE ticket_id = ? ORDER BY id",
        events: "SELECT at, kind, actor, detail FROM event WHERE ticket_id = ? ORDER BY id")

    /// Everything `queue show` displays.
    public func detail(ticket id: Int64) throws -> TicketDetail? {
        guard let summary = try tickets(TicketQuery(ids: [id])).first else { return nil }
        return try pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT assignee, decision, message_row FROM ticket WHERE id = ?", arguments: [id])
            let decision = (row?["decision"] as String?).flatMap { try? JSONDecoder().decode(DecisionRecord.self, from: Data($0.utf8)) }
            var messages: [TicketDetail.Message] = []
            for r in try Row.fetchAll(db, sql: Self.detailSQL.messages, arguments: [row?["message_row"] as Int64? ?? -1, id])
            {
                let raw: Data = r["raw"]
                messages.append(.init(rowID: r["id"], receivedAt: r["received_at"], raw: [UInt8](raw), informational: r["informational"]))
            }
            let outbox = try Row.fetchAll(db, sql: Self.detailSQL.outbox, arguments: [id]).map { r -> TicketDetail.Sent in
                let raw: Data = r["raw"]
                return .init(at: r["created_at"], state: OutboxState(rawValue: r["state"]) ?? .pending, recipient: r["recipient"],
                             entry: r["kb_entry"], raw: [UInt8](raw), error: r["last_error"])
            }
            let drafts = try Row.fetchAll(db, sql: Self.detailSQL.drafts, arguments: [id]).map { r in
                TicketDetail.DraftRow(entry: r["kb_entry"], body: r["body"], state: DraftState(rawValue: r["state"]) ?? .pending,
                                      agent: r["agent"], reason: r["reason"])
            }
            let events = try Row.fetchAll(db, sql: Self.detailSQL.events, arguments: [id])
                .map { r in
                    let d: String = r["detail"]
                    return TicketDetail.Event(at: r["at"], kind: r["kind"], actor: r["actor"],
                                              detail: (try? JSONDecoder().decode([String: String].self, from: Data(d.utf8))) ?? [:])
                }
            return TicketDetail(summary: summary, assignee: row?["assignee"], decision: decision, messages: messages, outbox: outbox,
                                drafts: drafts, events: events)
        }
    }
}
