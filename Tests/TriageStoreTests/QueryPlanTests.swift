import Foundation
import GRDB
import Testing
import TriageCore
@testable import TriageStore

/// The queries that run per command, per message or per watch interval read through an index: with years of
/// tickets a scan of the ticket, event or outbox table costs seconds (BENCHMARKS.md, the store at scale).
/// SQLite's plan does not depend on the number of rows here (no ANALYZE statistics), so an empty store shows
/// the plan a full one gets.
@Suite struct QueryPlanTests {
    let store: SQLiteTicketStore

    init() throws {
        store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-plan-\(UUID().uuidString)/db.sqlite")
    }

    /// The plan's steps ("SEARCH ticket USING INDEX ticket_state (state=?)", "SCAN event", ...).
    func plan(_ sql: String, _ arguments: StatementArguments) throws -> [String] {
        try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    /// Fails on a step that reads a whole table or index; `uses` must be among the steps.
    func expectIndexed(_ sql: String, _ arguments: StatementArguments, uses: [String], _ name: String) throws {
        let steps = try plan(sql, arguments)
        let scans = steps.filter { $0.hasPrefix("SCAN ") }
        #expect(scans.isEmpty, "\(name) reads a whole table: \(steps)")
        for index in uses {
            #expect(steps.contains { $0.contains("USING INDEX \(index) ") || $0.contains("USING COVERING INDEX \(index) ") || $0.hasSuffix(index) },
                    "\(name) does not use \(index): \(steps)")
        }
    }

    static let queue = TicketState.awaitingResponse + [.waiting]

    @Test func queueListReadsTheOpenTicketsOnly() throws {
        let query = TicketQuery(states: Self.queue, limit: 100, order: .due)
        let (sql, args) = SQLiteTicketStore.listSQL(query)
        try expectIndexed(sql, args, uses: ["ticket_state", "outbox_ticket"], "queue list")
        let count = SQLiteTicketStore.conditions(query)
        try expectIndexed("SELECT count(*) FROM ticket" + count.sql, count.arguments, uses: ["ticket_state"], "the queue's count")
        let (filtered, fargs) = SQLiteTicketStore.listSQL(TicketQuery(states: Self.queue, limit: 100, categories: ["orders"], order: .due))
        try expectIndexed(filtered, fargs, uses: [], "queue list --category")
    }

    @Test func queueShowReadsOneTicket() throws {
        let (sql, args) = SQLiteTicketStore.listSQL(TicketQuery(ids: [7]))
        try expectIndexed(sql, args, uses: ["outbox_ticket"], "the ticket")
        let d = SQLiteTicketStore.detailSQL
        try expectIndexed(d.messages, [7, 7], uses: ["ticket_message_ticket"], "its messages")
        try expectIndexed(d.outbox, [7], uses: ["outbox_ticket"], "its answers")
        try expectIndexed(d.drafts, [7], uses: ["draft_ticket"], "its drafts")
        try expectIndexed(d.events, [7], uses: ["event_ticket"], "its events")
    }

    @Test func theProcessorsLookupsUseIndexes() throws {
        try expectIndexed(SQLiteTicketStore.answersSentSQL, ["a@example.com", 0, "failed", "shadow"], uses: ["outbox_recipient_lower"],
                          "answers to a sender")
        try expectIndexed(SQLiteTicketStore.answeredLastWeekSQL, [0, EventKind.answerQueued.rawValue],
                          uses: ["ticket_first_response", "event_kind"], "the backlog")
        try expectIndexed(SQLiteTicketStore.slaAlarmsSQL,
                          StatementArguments(TicketState.awaitingResponse.map(\.rawValue)) + [0, 0, 200], uses: ["ticket_state"], "SLA alarms")
    }
}
