import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import Testing
import TriageCore
import TriageTesting
@testable import TriageStore

@Suite struct StoreTests {
    let dir: String
    let store: SQLiteTicketStore

    init() throws {
        dir = NSTemporaryDirectory() + "mt-store-\(UUID().uuidString)"
        store = try SQLiteTicketStore(path: dir + "/db.sqlite", now: { 1_795_341_600 })
    }

    func fetched(_ n: Int, uid: UInt32, uv: UInt32 = 1, mailbox: String = "support", messageID: String? = nil) -> FetchedMessage {
        FetchedMessage(mailbox: mailbox, uidValidity: uv, uid: uid, raw: Fixtures.message(n, messageID: messageID),
                       size: 100, preBaseline: false)
    }

    @Test func usesWAL() throws {
        let mode = try store.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func recordsWithCursorAtomically() throws {
        let cursor = MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 2, baselineUID: 0)
        let out = try store.record([fetched(1, uid: 1), fetched(2, uid: 2)], cursor: cursor)
        #expect(out.count == 2 && out.allSatisfy { if case .stored = $0 { true } else { false } })
        #expect(try store.cursor(mailbox: "support") == cursor)
        #expect(try store.recordedUIDs(mailbox: "support", uidValidity: 1, among: [1, 2, 3]) == [1, 2])
        #expect(try store.pendingServerActions(mailbox: "support", uidValidity: 1) == [1, 2])
        try store.markServerActionsDone(mailbox: "support", uidValidity: 1, uids: [1])
        #expect(try store.pendingServerActions(mailbox: "support", uidValidity: 1) == [2])
    }

    @Test func recordingTwiceAndDuplicatesAddNothing() throws {
        let c = MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0)
        _ = try store.record([fetched(1, uid: 1)], cursor: c)
        #expect(try store.record([fetched(1, uid: 1)], cursor: c) == [.alreadyRecorded])
        // The same message under a new UIDVALIDITY (or in a second folder) is a duplicate, not a new message.
        let again = try store.record([fetched(1, uid: 1, uv: 2)], cursor: MailboxCursor(mailbox: "support", uidValidity: 2, lastUID: 1, baselineUID: 1))
        guard case .duplicate = again.first else { Issue.record("expected a duplicate, got \(again)"); return }
        let counts = try store.counts()
        #expect(counts.messages == 1 && counts.locations == 2)
    }

    @Test func claimsAreExclusiveAndTicketsAreCreatedOnce() throws {
        let c = MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 3, baselineUID: 0)
        _ = try store.record([fetched(1, uid: 1), fetched(2, uid: 2), fetched(3, uid: 3)], cursor: c)
        let claimed = try store.claimUnprocessed(limit: 2, worker: "a", lease: 60)
        #expect(claimed.map(\.attempts) == [1, 1])
        // A second worker does not get what the first one holds.
        let other = try store.claimUnprocessed(limit: 10, worker: "b", lease: 60)
        #expect(other.map(\.id) == [3])
        try store.apply(Fixtures.decisions(claimed))
        try store.apply(Fixtures.decisions(claimed))  // a retry after a crash adds nothing
        try store.apply(Fixtures.decisions(other))
        #expect(try store.claimUnprocessed(limit: 10, worker: "c", lease: 60).isEmpty)
        let tickets = try store.tickets(TicketQuery())
        #expect(tickets.count == 3 && tickets.allSatisfy { $0.state == .open })
        // A new ticket takes its message's row id.
        #expect(tickets.map(\.id) == (claimed + other).map(\.id))
        #expect(try store.tickets(TicketQuery(states: [.resolved])).isEmpty)
        #expect(try store.tickets(TicketQuery(limit: 1)).count == 1)
        let created = try store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM event WHERE kind = ?", arguments: [EventKind.ticketCreated.rawValue]) }
        #expect(created == 3)
    }

    @Test func claimsOfAGoneWorkerAreReleased() throws {
        _ = try store.record([fetched(1, uid: 1)], cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        #expect(try store.claimUnprocessed(limit: 5, worker: "host/1", lease: 600).count == 1)
        #expect(try store.claimUnprocessed(limit: 5, worker: "host/2", lease: 600).isEmpty)
        #expect(try store.releaseClaims(isAlive: { $0 == "host/1" }) == 0)
        #expect(try store.releaseClaims(isAlive: { _ in false }) == 1)
        let again = try store.claimUnprocessed(limit: 5, worker: "host/2", lease: 600)
        #expect(again.map(\.attempts) == [2])
    }

    @Test func threadCandidatesCarryTheirCustomers() throws {
        _ = try store.record([fetched(1, uid: 1, messageID: "first@example.org")],
                             cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        let msgs = try store.claimUnprocessed(limit: 5, worker: "w", lease: 60)
        try store.apply(Fixtures.decisions(msgs))
        let id = msgs[0].id
        let byRef = try store.threadCandidates(ThreadQuery(references: ["first@example.org"], taggedTicket: nil, recipient: ""))
        #expect(byRef == [ThreadCandidate(ticketID: id, link: .storedMessage, customers: ["customer@example.org"])])
        let byTag = try store.threadCandidates(ThreadQuery(references: [], taggedTicket: id, recipient: ""))
        #expect(byTag.map(\.link) == [.subjectTag])
        #expect(try store.threadCandidates(ThreadQuery(references: ["nothing@x"], taggedTicket: 999, recipient: "")).isEmpty)
    }

    @Test func aCustomersReplyReopensAnAnsweredTicket() throws {
        _ = try store.record([fetched(1, uid: 1), fetched(2, uid: 2)],
                             cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 2, baselineUID: 0))
        let msgs = try store.claimUnprocessed(limit: 5, worker: "w", lease: 60)
        var first = Fixtures.decisions([msgs[0]])[0]
        first.ticket.state = .answered
        try store.apply([first])
        var reply = Fixtures.decisions([msgs[1]])[0]
        reply.action = .joinThread(ticket: msgs[0].id, informational: false)
        try store.apply([reply])
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.state == .open && t.degree == .manual)
        let kinds = try store.pool.read { try String.fetchAll($0, sql: "SELECT kind FROM event WHERE ticket_id = ? ORDER BY id", arguments: [msgs[0].id]) }
        #expect(kinds.compactMap(EventKind.init(rawValue:)) == [.ticketCreated, .ticketReplyReceived, .ticketReopened])
    }

    @Test func eventLogIsAppendOnly() throws {
        try store.saveCursor(MailboxCursor(mailbox: "m", uidValidity: 1, lastUID: 0, baselineUID: 5), reason: "test")
        #expect(throws: (any Error).self) { try store.pool.write { try $0.execute(sql: "UPDATE event SET kind = 'x'") } }
        #expect(throws: (any Error).self) { try store.pool.write { try $0.execute(sql: "DELETE FROM event") } }
        #expect(try store.counts().events == 1)
    }

    @Test func fetchFailuresAreCounted() throws {
        #expect(try store.noteFetchFailure(mailbox: "m", uidValidity: 1, uid: 9, error: "NO") == 1)
        #expect(try store.noteFetchFailure(mailbox: "m", uidValidity: 1, uid: 9, error: "NO") == 2)
    }

    @Test func reopeningKeepsTheData() throws {
        _ = try store.record([fetched(1, uid: 1)], cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        let again = try SQLiteTicketStore(path: dir + "/db.sqlite")
        #expect(try again.counts().messages == 1)
    }
}

@Suite struct StorageErrorTests {
    @Test func aFullDatabaseIsADiskFullError() throws {
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-full-\(UUID().uuidString)/db.sqlite")
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 1, raw: Fixtures.message(1), size: 100, preBaseline: false)],
                             cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        // The writer may not grow the file any more: SQLite answers SQLITE_FULL, as on a full disk.
        try store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let big = FetchedMessage(mailbox: "support", uidValidity: 1, uid: 2, raw: Fixtures.message(2) + [UInt8](repeating: 0x41, count: 1 << 20), size: 1 << 20,
                                 preBaseline: false)
        do {
            _ = try store.record([big], cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 2, baselineUID: 0))
            Issue.record("recorded beyond the database's limit")
        } catch let e as TriageError {
            #expect(e.code == .diskFull && e.isTransient, "\(e)")
        }
        #expect(try store.counts().messages == 1 && store.cursor(mailbox: "support")?.lastUID == 1, "nothing of the failed batch is kept")
    }

    @Test func sqliteResultsAndSystemErrors() {
        #expect(SQLiteTicketStore.errorCode(primary: ResultCode.SQLITE_FULL.rawValue, systemErrno: 0) == .diskFull)
        #expect(SQLiteTicketStore.errorCode(primary: ResultCode.SQLITE_IOERR.rawValue, systemErrno: EDQUOT) == .diskFull)
        #expect(SQLiteTicketStore.errorCode(primary: ResultCode.SQLITE_IOERR.rawValue, systemErrno: ENOSPC) == .diskFull)
        #expect(SQLiteTicketStore.errorCode(primary: ResultCode.SQLITE_IOERR.rawValue, systemErrno: EIO) == .storage)
        #expect(SQLiteTicketStore.errorCode(primary: ResultCode.SQLITE_BUSY.rawValue, systemErrno: 0) == .storage)
        #expect(SQLiteTicketStore.errorCode(primary: ResultCode.SQLITE_CORRUPT.rawValue, systemErrno: ENOSPC) == .storage)
    }
}
