import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriageDaemon

/// The real store, whose writes fail as on a full disk while `full` is set.
final class FillableStore: TicketRepository, OutboxRepository, Sendable {
    let store: SQLiteTicketStore
    let full = Atomic<Bool>(false)
    /// Outcomes of accepted sends that fail once each, as when the disk fills between the server's reply and the commit.
    let failAcceptedOutcomes = Atomic<Int>(0)

    init(_ store: SQLiteTicketStore) { self.store = store }

    func check() throws {
        if full.load(ordering: .relaxed) { throw TriageError(.diskFull, "database record failed: the disk is full", transient: true) }
    }

    func cursor(mailbox: String) throws -> MailboxCursor? { try store.cursor(mailbox: mailbox) }
    func saveCursor(_ cursor: MailboxCursor, reason: String) throws { try check(); try store.saveCursor(cursor, reason: reason) }
    func recordedUIDs(mailbox: String, uidValidity: UInt32, among uids: [UInt32]) throws -> Set<UInt32> {
        try store.recordedUIDs(mailbox: mailbox, uidValidity: uidValidity, among: uids)
    }
    func record(_ batch: [FetchedMessage], cursor: MailboxCursor) throws -> [RecordOutcome] { try check(); return try store.record(batch, cursor: cursor) }
    func noteFetchFailure(mailbox: String, uidValidity: UInt32, uid: UInt32, error: String) throws -> Int {
        try check()
        return try store.noteFetchFailure(mailbox: mailbox, uidValidity: uidValidity, uid: uid, error: error)
    }
    func pendingServerActions(mailbox: String, uidValidity: UInt32) throws -> [UInt32] { try store.pendingServerActions(mailbox: mailbox, uidValidity: uidValidity) }
    func markServerActionsDone(mailbox: String, uidValidity: UInt32, uids: [UInt32]) throws {
        try check()
        try store.markServerActionsDone(mailbox: mailbox, uidValidity: uidValidity, uids: uids)
    }
    func tickets(_ query: TicketQuery) throws -> [TicketSummary] { try store.tickets(query) }
    func dueAnswers(now: Int64?, limit: Int) throws -> [OutboxItem] { try store.dueAnswers(now: now, limit: limit) }
    func answerSendStarting(_ item: OutboxItem) throws { try check(); try store.answerSendStarting(item) }
    func answerSendNotStarted(_ item: OutboxItem) throws { try check(); try store.answerSendNotStarted(item) }
    func answerOutcome(_ item: OutboxItem, _ outcome: SendOutcome, error: String?) throws {
        try check()
        if outcome == .accepted, failAcceptedOutcomes.load(ordering: .relaxed) > 0 {
            failAcceptedOutcomes.subtract(1, ordering: .relaxed)
            throw TriageError(.diskFull, "database outbox outcome failed: the disk is full", transient: true)
        }
        try store.answerOutcome(item, outcome, error: error)
    }
}

@Suite struct DiskFullTests {
    static var mailbox: MailboxConfig {
        var m = MailboxConfig(name: "support", url: IMAPURL("imaps://h")!, username: "u", password: .file("/x"))
        m.afterProcessing = .flag("$Triaged")
        return m
    }

    /// A poll service (10 s interval, backoff up to 80 s) over an in-memory mailbox and a store that can be made full,
    /// watching a disk whose free space `freeBytes` tells, on a mock clock; its cycles' reports come through the stream.
    static func pollService(freeBytes: @escaping @Sendable () -> Int64?) throws
        -> (MailboxPollService, AsyncStream<IngestReport?>, InMemoryMailbox, FillableStore, DiskSpaceWatch, RecordingLog, MockClock)
    {
        let box = InMemoryMailbox()
        let store = FillableStore(try ServiceTests.store())
        let log = RecordingLog()
        let disk = DiskSpaceWatch(directory: "/state", logger: log.logger, reserve: 1 << 20, freeBytes: freeBytes)
        let clock = MockClock()
        let ingestor = MailboxIngestor(mailbox: mailbox, source: box, store: store, maxMessageBytes: 1 << 20, batchSize: 10, logger: log.logger)
        var service = MailboxPollService(ingestor: ingestor, interval: .seconds(10), maxBackoff: .seconds(80), clock: clock, logger: log.logger)
        service.disk = disk
        let (events, cont) = AsyncStream.makeStream(of: IngestReport?.self)
        service.onCycle = { cont.yield($0) }
        return (service, events, box, store, disk, log, clock)
    }

    static func triaged(_ box: InMemoryMailbox) async -> Int { await box.flags.values.filter { $0.contains("$Triaged") }.count }

    @Test func aFullDiskStopsThePollsIsLoggedOnceAndRecordingResumes() async throws {
        let free = Atomic<Int64>(0)
        let (running, events, box, store, disk, log, clock) = try Self.pollService { free.load(ordering: .relaxed) }
        await box.deliver(Fixtures.message(1))
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await running.run() }
                var it = events.makeAsyncIterator()
                #expect(await it.next()??.stored == 1)
                await clock.waitForSleepers(1)

                // The disk fills; three messages arrive. One cycle downloads them and cannot record them.
                store.full.store(true, ordering: .relaxed)
                for n in 2...4 { await box.deliver(Fixtures.message(n)) }
                let fetchedBefore = await box.fetchCount
                clock.advance(by: .seconds(10))
                #expect(await it.next() == .some(nil))
                let fetchedOnce = await box.fetchCount
                #expect(fetchedOnce == fetchedBefore + 3)
                #expect(disk.isFull)
                // While the free space stays short of the reserve: no cycle, no download, no new line, for many polls.
                free.store((1 << 20) - 1, ordering: .relaxed)
                for _ in 0..<20 {
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(80))
                }
                await clock.waitForSleepers(1)
                #expect(await box.fetchCount == fetchedOnce)
                #expect(await Self.triaged(box) == 1, "nothing unrecorded is flagged")
                #expect(log.count(.critical, containing: "disk full") == 1)
                #expect(log.count(.error, containing: "poll failed") == 0, "a full disk is not logged as a failed poll")

                // Room again: the next cycle records the three once and logs the end of the outage once.
                store.full.store(false, ordering: .relaxed)
                free.store(1 << 30, ordering: .relaxed)
                clock.advance(by: .seconds(80))
                #expect(await it.next()??.stored == 3)
                #expect((try? store.store.counts().messages) == 4)
                #expect(await Self.triaged(box) == 4)
                #expect(log.count(.notice, containing: "disk space available again") == 1)
                #expect(log.count(.critical, containing: "disk full") == 1)
                #expect(!disk.isFull)
                trigger.triggerGracefulShutdown()
            }
        }
    }

    @Test func theWaitBetweenTriesOnAFullDiskDoubles() async throws {
        // The free space looks sufficient but every write still fails (a file system that lies, or a batch larger than the reserve).
        let (running, events, box, store, _, log, clock) = try Self.pollService { 1 << 30 }
        let b = Backoff(base: .seconds(10), cap: .seconds(80))
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await running.run() }
                var it = events.makeAsyncIterator()
                #expect(await it.next()??.stored == 0)  // the first contact
                await clock.waitForSleepers(1)
                store.full.store(true, ordering: .relaxed)
                await box.deliver(Fixtures.message(1))
                clock.advance(by: .seconds(10))
                var at = Duration.seconds(10)
                for failures in 1...5 {
                    #expect(await it.next() == .some(nil))
                    await clock.waitForSleepers(1)
                    at += b.delay(afterFailures: failures)
                    #expect(clock.deadlines == [at])
                    clock.advance(by: b.delay(afterFailures: failures))
                }
                #expect(await it.next() == .some(nil))
                #expect(log.count(.critical, containing: "disk full") == 1)
                #expect(await box.fetchCount == 6, "one download per try, not one per poll interval")
                trigger.triggerGracefulShutdown()
            }
        }
    }

    @Test func anAcceptedAnswerWhoseCommitFailsIsNotSentAgain() async throws {
        let (sqlite, dir) = try OutboxTests.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = FillableStore(sqlite)
        store.failAcceptedOutcomes.store(1, ordering: .relaxed)
        let sender = ScriptedSender([])
        let outbox = OutboxSender(store: store, sender: sender, maxRetryDelay: .seconds(60), logger: Logger(label: "test"))
        await #expect(throws: TriageError.self) { try await outbox.runOnce(all: true) }
        #expect(await sender.count() == 1)
        #expect(try sqlite.outboxCounts() == [.pending: 1])
        // The disk is full now: nothing is recorded, nothing sent.
        store.full.store(true, ordering: .relaxed)
        await #expect(throws: TriageError.self) { try await outbox.runOnce(all: true) }
        store.full.store(false, ordering: .relaxed)
        // The held acceptance is committed first; the answer is not sent a second time.
        let r = try await outbox.runOnce(all: true)
        #expect(r == OutboxReport())
        #expect(await sender.count() == 1)
        #expect(try sqlite.outboxCounts() == [.sent: 1])
        #expect(try sqlite.dueAnswers(now: nil, limit: 10).isEmpty)
    }

    @Test func aSendCutOffAfterItBeganShowsAsInterrupted() async throws {
        let (store, dir) = try OutboxTests.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let item = try #require(try store.dueAnswers(now: nil, limit: 10).first)
        #expect(item.interruptedAttempts == 0)
        // A daemon began the send and was killed before the outcome was committed.
        try store.answerSendStarting(item)
        let again = try #require(try store.dueAnswers(now: nil, limit: 10).first)
        #expect(again.interruptedAttempts == 1)
        let sender = ScriptedSender([])
        let r = try await OutboxSender(store: store, sender: sender, maxRetryDelay: .seconds(60), logger: Logger(label: "test")).runOnce(all: true)
        let delivered = await sender.count()
        #expect(r.sent == 1 && delivered == 1)
        #expect(try store.outboxCounts() == [.sent: 1])
    }
}
