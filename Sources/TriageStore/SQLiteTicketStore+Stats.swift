import Foundation
import GRDB
import TriageMIME
public import TriageCore

extension SQLiteTicketStore {
    /// Every ticket received since `since` (of `group`), as the figures need it.
    public func statsRows(since: Int64? = nil, group: String? = nil) throws -> [StatsRow] {
        try read("stats") { db in
            func ids(_ kind: EventKind) throws -> Set<Int64> {
                Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT ticket_id FROM event WHERE kind = ? AND ticket_id IS NOT NULL", arguments: [kind.rawValue]))
            }
            let automatic = try ids(.answerQueued), shadow = try ids(.answerShadowed)
            let replied = Set(try Int64.fetchAll(db, sql: SQLiteTicketStore.answeredThenRepliedSQL, arguments: SQLiteTicketStore.answeredThenRepliedArguments))
            var drafts: [Int64: (DraftState, String?, String)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT ticket_id, state, reason, kb_entry FROM draft ORDER BY id") {
                if let st = DraftState(rawValue: r["state"]) { drafts[r["ticket_id"]] = (st, r["reason"], r["kb_entry"]) }
            }
            // The figures need a decision only for its loop-guard refusals and a shadow answer's category: the
            // others are left in the database (searching and copying each one cost most of the time).
            var sql = """
                SELECT id, received_at, category, sla_group, language, answer_entry, first_responded_at, first_response_due,
                  CASE WHEN instr(decision, ?) > 0 OR id IN (SELECT ticket_id FROM outbox WHERE state = ?) THEN decision END FROM ticket
                """
            var clauses: [String] = [], args: [any DatabaseValueConvertible] = [Self.loopGuardReasonMark, OutboxState.shadow.rawValue]
            if let since { clauses.append("received_at >= ?"); args.append(since) }
            if let group { clauses.append("sla_group = ?"); args.append(group) }
            if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
            // Shadow answers and what agents sent (their replies and approved drafts), as text.
            var shadowRaw: [Int64: (raw: [UInt8], entry: String)] = [:], agentRaw: [Int64: (raw: [UInt8], entry: String)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT ticket_id, raw, kb_entry FROM outbox WHERE state = ? ORDER BY id", arguments: [OutboxState.shadow.rawValue]) {
                let raw: Data = r["raw"]
                shadowRaw[r["ticket_id"]] = ([UInt8](raw), r["kb_entry"])
            }
            // Only for the tickets with a shadow answer: every agent's reply of a store of years is gigabytes.
            for r in try Row.fetchAll(db, sql: """
                SELECT o.ticket_id, o.raw, o.kb_entry FROM outbox o WHERE o.ticket_id IN (SELECT ticket_id FROM outbox WHERE state = ?) AND o.message_id IN
                  (SELECT json_extract(detail, '$.message_id') FROM event WHERE kind IN (?, ?) AND ticket_id = o.ticket_id) ORDER BY o.id
                """, arguments: [OutboxState.shadow.rawValue, EventKind.agentReplied.rawValue, EventKind.draftApproved.rawValue]) {
                let raw: Data = r["raw"]
                if agentRaw[r["ticket_id"]] == nil { agentRaw[r["ticket_id"]] = ([UInt8](raw), r["kb_entry"]) }
            }
            let decoder = JSONDecoder()
            // One row at a time: fetching them all first held every stored decision (a kilobyte each) at once.
            var out: [StatsRow] = []
            let rows = try Row.fetchCursor(db, sql: sql + " ORDER BY id", arguments: StatementArguments(args))
            while let r = try rows.next() {
                let id: Int64 = r[0]
                let record = (r[8] as String?).flatMap { text in try? decoder.decode(DecisionRecord.self, from: Data(text.utf8)) }
                let refused = record?.reasons.compactMap { reason -> String? in
                    if case .loopGuard(let l) = reason { return l.kind }
                    return nil
                } ?? []
                let draft = drafts[id]
                var row = StatsRow(id: id, receivedAt: r[1], category: r[2], group: r[3], language: r[4],
                                   answerEntry: (r[5] as String?) ?? draft?.2, automatic: automatic.contains(id), shadow: shadow.contains(id),
                                   draft: draft?.0, rejection: draft?.1, firstResponse: r[6], firstResponseDue: r[7],
                                   repliedAfterAnswer: replied.contains(id), loopRefusals: refused)
                if let shadow = shadowRaw[id] {
                    row.shadowCategory = record?.category
                    row.shadowText = MIMEParser.parse(shadow.raw).text
                    row.shadowEntry = shadow.entry
                    row.agentText = agentRaw[id].map { MIMEParser.parse($0.raw).text }
                    row.agentEntry = agentRaw[id]?.entry
                }
                out.append(row)
            }
            return out
        }
    }

    /// How a loop-guard reason appears in a stored decision (`StatsTests` counts refusals through it).
    static let loopGuardReasonMark = #"{"loopGuard":{"#

    /// Tickets waiting for a first answer, and of those overdue at `now`, by group.
    public func queueGauges(now: Int64) throws -> (waiting: [String: Int], overdue: [String: Int]) {
        try read("queue gauges") { db in
            let states = TicketState.awaitingResponse.map(\.rawValue)
            let marks = states.map { _ in "?" }.joined(separator: ",")
            var waiting: [String: Int] = [:], overdue: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT coalesce(sla_group, '-') AS g, count(*) AS n, sum(CASE WHEN first_response_due < ? THEN 1 ELSE 0 END) AS late
                FROM ticket WHERE state IN (\(marks)) GROUP BY g
                """, arguments: [now] + StatementArguments(states))
            {
                waiting[r["g"]] = r["n"]
                overdue[r["g"]] = r["late"]
            }
            return (waiting, overdue)
        }
    }

    public func groupBacklog(now: Int64) throws -> [String: GroupBacklog] {
        try read("backlog") { db in
            let states = TicketState.awaitingResponse.map(\.rawValue)
            let marks = states.map { _ in "?" }.joined(separator: ",")
            var out: [String: GroupBacklog] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT sla_group AS g, count(*) AS n FROM ticket WHERE sla_group IS NOT NULL AND state IN (\(marks)) GROUP BY g",
                                      arguments: StatementArguments(states)) {
                out[r["g"], default: GroupBacklog(waiting: 0, answeredLastWeek: 0)].waiting = r["n"]
            }
            for r in try Row.fetchAll(db, sql: Self.answeredLastWeekSQL, arguments: [now - 7 * 86_400, EventKind.answerQueued.rawValue]) {
                out[r["g"], default: GroupBacklog(waiting: 0, answeredLastWeek: 0)].answeredLastWeek = r["n"]
            }
            return out
        }
    }

    /// First answers by people since a time: not the tickets answered automatically. Runs for every batch
    /// the processor decides, so it reads only the tickets answered since then.
    static let answeredLastWeekSQL = """
        SELECT sla_group AS g, count(*) AS n FROM ticket WHERE sla_group IS NOT NULL AND first_responded_at >= ?
          AND NOT EXISTS (SELECT 1 FROM event e WHERE e.kind = ? AND e.ticket_id = ticket.id) GROUP BY g
        """

    /// Acknowledgements that promised a later time than the service level (the backlog), for the metrics.
    public func acknowledgementsBeyondServiceLevel() throws -> Int {
        try read("acknowledgements") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE kind = ? AND detail LIKE ?",
                             arguments: [EventKind.ticketAcknowledged.rawValue, "%\"beyond_sla\":\"true\"%"]) ?? 0
        }
    }
}

extension SQLiteTicketStore {
    /// The message each ticket was created from, with the stored decision, newest first: what `replay`
    /// decides again. Only tickets received on or after `since`, at most `limit` (the most recent). Read
    /// `pageSize` tickets at a time, each page in its own short read (keyset paging on the ticket number), so
    /// memory holds one page whatever the size of the store and the daemon's writes are not held up. Reads only.
    public func forEachTicketMessage(since: Int64? = nil, limit: Int? = nil, pageSize: Int = 100,
                                     _ body: (_ message: StoredMessage, _ decision: DecisionRecord?) throws -> Void) throws
    {
        var below = Int64.max
        var left = limit.map { max(0, $0) } ?? Int.max
        let decoder = JSONDecoder()
        while left > 0 {
            let page = try read("ticket messages") { db in
                var sql = """
                    SELECT t.id, t.decision, m.mailbox, r.raw, m.size, m.truncated, m.fetch_error, m.pre_baseline, m.received_at
                    FROM ticket t JOIN message m ON m.id = t.message_row JOIN message_raw r ON r.message_row = m.id
                    WHERE t.id < ?
                    """
                var args: [any DatabaseValueConvertible] = [below]
                if let since { sql += " AND t.received_at >= ?"; args.append(since) }
                sql += " ORDER BY t.id DESC LIMIT \(min(max(1, pageSize), left))"
                return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { r -> (StoredMessage, DecisionRecord?) in
                    let raw: Data = r["raw"]
                    let m = StoredMessage(id: r["id"], mailbox: r["mailbox"], raw: [UInt8](raw), size: r["size"], truncated: r["truncated"],
                                          fetchError: r["fetch_error"], preBaseline: r["pre_baseline"], attempts: 1, receivedAt: r["received_at"])
                    return (m, (r["decision"] as String?).flatMap { try? decoder.decode(DecisionRecord.self, from: Data($0.utf8)) })
                }
            }
            guard let last = page.last else { return }
            for (m, d) in page { try body(m, d) }
            below = last.0.id
            left -= page.count
        }
    }
}

extension SQLiteTicketStore {
    /// Tickets whose customer wrote again within 7 days of an automatic answer (a measure of unhelpful
    /// answers, for `stats` and for retraining).
    static let answeredThenRepliedSQL = """
        SELECT DISTINCT r.ticket_id FROM event r JOIN event q ON q.ticket_id = r.ticket_id AND q.kind = ?
        WHERE r.kind = ? AND r.at >= q.at AND r.at <= q.at + 7 * 86400
        """
    static let answeredThenRepliedArguments: StatementArguments = [EventKind.answerQueued.rawValue, EventKind.ticketReplyReceived.rawValue]

    /// Everything agents and customers taught us, with the raw messages, for retraining: the latest
    /// category of every recategorised ticket, drafts approved unchanged and rejected, and automatic
    /// answers the customer wrote back about within 7 days.
    public func trainingFeedback() throws -> [TrainingFeedback] {
        try read("training feedback") { db in
            var out: [TrainingFeedback] = []
            func raw(_ r: Row) -> [UInt8] { [UInt8](r["raw"] as Data) }
            for r in try Row.fetchAll(db, sql: """
                SELECT t.category AS category, m.raw AS raw FROM ticket t JOIN message_raw m ON m.message_row = t.message_row
                WHERE t.id IN (SELECT ticket_id FROM event WHERE kind = ?) AND t.category IS NOT NULL ORDER BY t.id
                """, arguments: [EventKind.ticketRecategorized.rawValue]) {
                out.append(TrainingFeedback(kind: .recategorized(r["category"]), raw: raw(r)))
            }
            for r in try Row.fetchAll(db, sql: """
                SELECT d.kb_entry AS entry, d.state AS state, m.raw AS raw FROM draft d JOIN ticket t ON t.id = d.ticket_id
                JOIN message_raw m ON m.message_row = t.message_row WHERE d.state IN (?, ?) ORDER BY d.id
                """, arguments: [DraftState.approved.rawValue, DraftState.rejected.rawValue]) {
                let entry: String = r["entry"]
                out.append(TrainingFeedback(kind: r["state"] == DraftState.approved.rawValue ? .approved(entry: entry) : .rejected(entry: entry),
                                            raw: raw(r)))
            }
            for r in try Row.fetchAll(db, sql: """
                SELECT t.answer_entry AS entry, m.raw AS raw FROM ticket t JOIN message_raw m ON m.message_row = t.message_row
                WHERE t.answer_entry IS NOT NULL AND t.id IN (\(SQLiteTicketStore.answeredThenRepliedSQL))
                ORDER BY t.id
                """, arguments: SQLiteTicketStore.answeredThenRepliedArguments) {
                out.append(TrainingFeedback(kind: .unhelpful(entry: r["entry"]), raw: raw(r)))
            }
            return out
        }
    }
}
