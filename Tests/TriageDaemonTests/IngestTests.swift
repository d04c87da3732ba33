import Foundation
import Logging
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriageDaemon

@Suite struct IngestTests {
    let store: SQLiteTicketStore
    let box: InMemoryMailbox

    init() throws {
        store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-ingest-\(UUID().uuidString)/db.sqlite")
        box = InMemoryMailbox()
    }

    func ingestor(after: AfterProcessing = .flag("\\Seen"), maxBytes: Int = 1 << 20, batch: Int = 10) -> MailboxIngestor {
        var cfg = MailboxConfig(name: "support", url: IMAPURL("imaps://h")!, username: "u", password: .file("/x"))
        cfg.afterProcessing = after
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return MailboxIngestor(mailbox: cfg, source: box, store: store, maxMessageBytes: maxBytes, batchSize: batch, logger: logger)
    }

    /// One fetch cycle, then the processor turns what was recorded into tickets, as in `serve --once`.
    func cycle(_ ing: MailboxIngestor) async throws -> IngestReport {
        let r = try await ing.runCycle()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        _ = try MessageProcessor(store: store, snapshots: SnapshotStore(Fixtures.plainSnapshot()), batchSize: 7, logger: logger).drain()
        return r
    }

    func deliver(_ range: Range<Int>) async {
        for i in range { await box.deliver(Fixtures.message(i)) }
    }

    @Test func firstConnectionImportsButMarksExistingMailAsPreBaseline() async throws {
        await deliver(0..<3)
        let r1 = try await cycle(ingestor())
        #expect(r1.stored == 3 && r1.serverActions == 3)
        #expect(try store.counts().tickets == 3)
        await deliver(3..<5)
        let r2 = try await cycle(ingestor())
        #expect(r2.stored == 2 && r2.newMessages == 2)
        let tickets = try store.tickets(TicketQuery())
        #expect(tickets.filter(\.autoEligible).count == 2)
        #expect(try store.cursor(mailbox: "support")?.baselineUID == 3)
        #expect(await box.flags.values.allSatisfy { $0.contains("\\Seen") })
    }

    @Test func secondCycleAddsNothing() async throws {
        await deliver(0..<25)
        _ = try await cycle(ingestor())
        let r = try await cycle(ingestor())
        #expect(r == IngestReport())
        #expect(try store.counts().tickets == 25)
    }

    @Test func connectionDropMidFetchLosesAndDuplicatesNothing() async throws {
        await deliver(0..<30)
        await box.setFailAfterFetches(13)
        await #expect(throws: TriageError.self) { try await ingestor(batch: 5).runCycle() }
        // What was fetched before the drop is committed (13 messages), the rest comes next time.
        #expect(try store.counts().messages == 13)
        await box.setFailAfterFetches(nil)
        _ = try await cycle(ingestor(batch: 5))
        let c = try store.counts()
        #expect(c.messages == 30 && c.tickets == 30 && c.locations == 30)
        #expect(try store.pendingServerActions(mailbox: "support", uidValidity: 1000).isEmpty)
    }

    @Test func flagFailureAfterCommitIsRepairedNextCycle() async throws {
        await deliver(0..<4)
        // The server goes away between commit and flag: simulate by an outage right after status.
        let ing = ingestor()
        let status = try await box.status()
        let cursor = try ing.establishCursor(status)
        var batch: [FetchedMessage] = []
        for uid in try await box.searchUIDs(after: 0) {
            batch.append(FetchedMessage(mailbox: "support", uidValidity: cursor.uidValidity, uid: uid,
                                        raw: try await box.fetchMessage(uid: uid, limit: 1 << 20), size: 1, preBaseline: true))
        }
        var c = cursor
        c.lastUID = 4
        _ = try store.record(batch, cursor: c)  // committed; "crash" before the move
        #expect(try store.pendingServerActions(mailbox: "support", uidValidity: 1000).count == 4)
        let r = try await cycle(ingestor(after: .move("Processed")))
        #expect(r.serverActions == 4 && r.stored == 0)
        #expect(try store.counts().tickets == 4)
        #expect(await box.moved["Processed"]?.count == 4)
    }

    @Test func uidValidityChangeDoesNotReimport() async throws {
        await deliver(0..<5)
        _ = try await cycle(ingestor())
        await box.resetUIDValidity(2000)
        await box.deliver(Fixtures.message(99))
        let r = try await cycle(ingestor())
        #expect(r.duplicates == 5 && r.stored == 1)
        #expect(try store.counts().tickets == 6)
        #expect(try store.cursor(mailbox: "support")?.uidValidity == 2000)
        // Mail present at the UIDVALIDITY change is not answered automatically, even if it is new to us.
        #expect(try store.tickets(TicketQuery()).last?.autoEligible == false)
    }

    @Test func aBrokenMessageDoesNotBlockTheRest() async throws {
        await deliver(0..<5)
        await box.setRefused([2])
        let ing = ingestor()
        let r1 = try await cycle(ing)
        #expect(r1.stored == 4)
        #expect(try store.cursor(mailbox: "support")?.lastUID == 1)  // held before the failing UID
        _ = try await cycle(ing)
        let r3 = try await cycle(ing)
        #expect(r3.skippedUnfetchable == 1)
        #expect(try store.cursor(mailbox: "support")?.lastUID == 5)
        let tickets = try store.tickets(TicketQuery())
        #expect(tickets.count == 5)
        #expect(tickets.contains { $0.subject == "(message not downloaded)" && !$0.autoEligible })
    }

    /// A TLS reset or a timeout while one message downloads is the connection's failure, not the message's:
    /// however often it happens, the message is never given up as "not downloaded".
    @Test func aConnectionFailureDuringADownloadDoesNotCountAgainstTheMessage() async throws {
        await deliver(0..<5)
        await box.setRefused([2], with: TriageError(.tls, "TLS failed: Recv failure: Connection reset by peer (injected)"))
        let ing = ingestor()
        for _ in 0..<5 {
            await #expect(throws: TriageError.self) { try await self.cycle(ing) }
        }
        #expect(try store.cursor(mailbox: "support")?.lastUID == 1)
        await box.setRefused([])
        let r = try await cycle(ing)
        #expect(r.skippedUnfetchable == 0)
        let tickets = try store.tickets(TicketQuery())
        #expect(tickets.count == 5 && !tickets.contains { $0.subject == "(message not downloaded)" })
    }

    @Test func oversizedMessagesKeepTheirHeaderOnly() async throws {
        await box.deliver(Fixtures.message(1, body: String(repeating: "x", count: 5000)))
        _ = try await cycle(ingestor(maxBytes: 2000))
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.subject == "Question 1" && !t.autoEligible)
        #expect(t.warnings.contains { $0.contains("over the size limit") })
    }

    /// The server announces a small size but sends more: the download stops at the limit and the message
    /// keeps its header only, like any message over the limit; a small miscount within the slack is fetched whole.
    @Test func aMessageLargerThanAnnouncedStopsAtTheLimit() async throws {
        let baseline = try await cycle(ingestor(maxBytes: 2000))  // first contact: nothing there yet
        #expect(baseline.newMessages == 0)
        let big = await box.deliver(Fixtures.message(1, body: String(repeating: "x", count: 50_000)))
        let small = await box.deliver(Fixtures.message(2, body: String(repeating: "y", count: 2_500)))
        await box.announce(size: 500, for: big)
        await box.announce(size: 500, for: small)
        let r = try await cycle(ingestor(maxBytes: 2000))
        #expect(r.stored == 2)
        let tickets = try store.tickets(TicketQuery())
        let t1 = try #require(tickets.first { $0.subject == "Question 1" })
        #expect(!t1.autoEligible && t1.warnings.contains { $0.contains("over the size limit") }, "\(t1.warnings)")
        let raw = try #require(try store.firstMessage(ticket: t1.id))
        #expect(raw.count < 1_000, "only the header was kept (\(raw.count) bytes)")
        let t2 = try #require(tickets.first { $0.subject == "Question 2" })
        let whole = try store.firstMessage(ticket: t2.id)?.count ?? 0
        #expect(t2.autoEligible && whole > 2_500)
    }

    @Test func outageIsReportedAsAnError() async throws {
        await box.setOutage(TriageError(.connection, "refused", transient: true))
        await #expect(throws: TriageError.self) { try await ingestor().runCycle() }
    }

    @Test func batchesAreBoundedInBytesDownloadingAndProcessing() async throws {
        let body = String(repeating: "x", count: 1000)
        for i in 0..<6 { await box.deliver(Fixtures.message(i, body: body)) }
        let big = await box.deliver(Fixtures.message(6, body: String(repeating: "y", count: 5000)))
        await box.deliver(Fixtures.message(7, body: body))
        let batches = Counter()
        var ing = ingestor(batch: 10)
        ing.maxBatchBytes = 3000  // two of the small messages (about 1.2 KB each), or the big one alone
        ing.onRecorded = { batches.add() }
        let r = try await ing.runCycle()
        #expect(r.stored == 8)
        #expect(batches.value == 5, "batches of 2, 2, 2, the big one, 1")
        // The processor claims by bytes as well, and always at least one message.
        // (A worker takes its own unfinished claims again: each claim here is another worker's.)
        #expect(try store.claimUnprocessed(limit: 10, maxBytes: 3000, worker: "a", lease: 60).count == 2)
        #expect(try store.claimUnprocessed(limit: 10, maxBytes: 100, worker: "b", lease: 60).count == 1)
        let claims = try (0..<5).map { i in try store.claimUnprocessed(limit: 10, maxBytes: 3000, worker: "w\(i)", lease: 60).map(\.raw.count) }
        // The fourth and fifth, the sixth alone (the big one would not fit beside it), the big one, the last.
        #expect(claims.map(\.count) == [2, 1, 1, 1, 0], "\(claims)")
        #expect(claims[2].first ?? 0 > 5000, "UID \(big): the big message fills a batch of its own")
    }
}

@Suite struct FailureTrackerTests {
    @Test func logsOncePerDistinctError() {
        var t = FailureTracker()
        var logged: [Bool] = []
        for e in ["down", "down", "down", "login denied"] { logged.append(t.failed(e)) }
        #expect(logged == [true, false, false, true])
        #expect(t.failures == 4)
        let down = t.recovered()
        #expect(down == 4)
        let again = t.recovered()
        #expect(again == nil)
        let first = t.failed("down")
        #expect(first)
    }

    @Test func theSameKindOfErrorWithAnotherTextIsNotLoggedAgain() {
        // What libcurl says varies between attempts while the cause stays; a login refusal is another error.
        let errors = [
            TriageError(.connection, "imaps://h FETCH UID 102: Failed to connect to h port 993 after 3 ms: Couldn't connect to server", transient: true),
            TriageError(.connection, "imaps://h NOOP: Failed to connect to h port 993 after 4 ms: Couldn't connect to server", transient: true),
            TriageError(.timeout, "imaps://h NOOP: Connection timed out after 3001 milliseconds", transient: true),
            TriageError(.timeout, "imaps://h NOOP: Connection timed out after 3002 milliseconds", transient: true),
            TriageError(.authentication, "imaps://h: login denied"),
        ]
        var t = FailureTracker()
        #expect(errors.map { t.failed(FailureTracker.kind(of: $0)) } == [true, false, true, false, true])
    }
}

/// Counts calls from any thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
