import Foundation
import Logging
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriageDaemon
import TriageFiles

/// `reprocess`: placeholders fetched again and decided, tickets updated in place, never answered twice, never
/// an answer to mail from before the first poll.
@Suite struct ReprocessTests {
    /// With the shipped service levels (password mail in shadow mode) and without them (answered).
    static let withLevels: TriageSnapshot = try! ServiceLevelTests.snapshot()
    static let snapshot: TriageSnapshot = try! TriageSnapshot(
        config: withLevels.config, classifier: withLevels.classifier,
        knowledgeBase: TrainingData.knowledgeBase(at: ServiceLevelTests.repo + "/knowledge-base").entries)

    static func mail(_ n: Int) -> [UInt8] {
        Array(("Return-Path: <kim\(n)@kunde.example>\r\nFrom: Kim <kim\(n)@kunde.example>\r\nTo: support@example.com\r\nSubject: Password\r\n"
            + "Message-ID: <re-\(n)-\(UUID().uuidString)@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + "Hello,\r\n\r\nI forgot my password and cannot log in to my account. How can I reset my password?\r\n\r\nThanks\r\nKim\r\n").utf8)
    }

    /// A store with placeholders (downloads that failed) for the box's UIDs, processed into tickets.
    static func setup(preBaseline: Set<UInt32> = []) async throws -> (SQLiteTicketStore, InMemoryMailbox, [Int64]) {
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-reprocess-\(UUID().uuidString)/db.sqlite")
        let box = InMemoryMailbox(uidValidity: 1000)
        var placeholders: [FetchedMessage] = []
        for n in 1...2 {
            let uid = await box.deliver(mail(n))
            placeholders.append(FetchedMessage(mailbox: "support", uidValidity: 1000, uid: uid, raw: [], size: 400, fetchError: "NO [UNAVAILABLE] try later",
                                               preBaseline: preBaseline.contains(uid), internalDate: 1_795_500_000))
        }
        _ = try store.record(placeholders, cursor: MailboxCursor(mailbox: "support", uidValidity: 1000, lastUID: 2, baselineUID: 0))
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        _ = try MessageProcessor(store: store, snapshots: SnapshotStore(snapshot), batchSize: 10, logger: logger).drain()
        let failed = try store.failedTickets(maxAttempts: TriageEngine.maxAttempts)
        return (store, box, failed)
    }

    @Test func placeholdersAreFetchedAgainDecidedAndAnsweredOnce() async throws {
        let (store, box, failed) = try await Self.setup()
        #expect(failed.count == 2)
        let before = try #require(try store.detail(ticket: failed[0]))
        #expect(before.summary.state == .open && before.summary.subject == "(message not downloaded)")

        let r = Reprocessor(store: store, snapshot: Self.snapshot, source: { _ in box })
        let dry = await r.run(failed, dryRun: true)
        #expect(dry.allSatisfy { !$0.refetched && $0.error == nil })
        #expect(try store.failedTickets(maxAttempts: TriageEngine.maxAttempts) == failed, "a dry run writes nothing")

        let lines = await r.run(failed)
        for l in lines {
            #expect(l.error == nil && l.refetched, "\(l)")
            #expect(l.after == "password/automatic" && l.outcome == "answer queued (password-reset)", "\(l)")
        }
        #expect(try store.failedTickets(maxAttempts: TriageEngine.maxAttempts).isEmpty)
        let after = try #require(try store.detail(ticket: failed[0]))
        #expect(after.summary.id == failed[0], "the ticket keeps its number")
        #expect(after.summary.state == .answered && after.summary.subject == "Password" && after.summary.category == "password")
        #expect(after.outbox.filter { $0.entry == "password-reset" }.count == 1)
        #expect(after.events.contains { $0.kind == EventKind.ticketReprocessed.rawValue && $0.detail["refetched"] == "true" })
        let original = try await box.fetchMessage(uid: 1, limit: 1 << 20)
        #expect(try store.firstMessage(ticket: failed[0]) == original, "the stored bytes are the server's")

        // Again (an operator runs it twice): decided again, but no second answer.
        let again = await r.run(failed)
        #expect(again.allSatisfy { $0.outcome == "no answer: the ticket was answered or taken by an agent before" }, "\(again)")
        #expect(try #require(try store.detail(ticket: failed[0])).outbox.filter { $0.entry == "password-reset" }.count == 1)
    }

    @Test func shadowModeLeavesTheTicketAsTheDaemonWouldOnce() async throws {
        let (store, box, failed) = try await Self.setup()
        let r = Reprocessor(store: store, snapshot: Self.withLevels, source: { _ in box })
        let first = await r.run([failed[0]])
        #expect(first[0].after == "password/shadow" && first[0].outcome == "shadow: would have answered with password-reset (the agent's draft)",
                "\(first)")
        let again = await r.run([failed[0]])
        #expect(again[0].outcome == "no answer: a draft was prepared before", "\(again)")
        let d = try #require(try store.detail(ticket: failed[0]))
        // The recorded answer is the agent's draft, waiting for approval: what the daemon does with the same mail.
        #expect(d.outbox.map(\.state) == [.shadow] && d.summary.state == .awaitingApproval, "\(d.summary.state)")
        #expect(d.drafts.map(\.entry) == ["password-reset"] && d.drafts.map(\.state) == [.pending])
        #expect(try store.pendingDraft(ticket: failed[0])?.entry == "password-reset", "an agent can approve or reject it")

        let daemon = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-reprocess-\(UUID().uuidString)/db.sqlite")
        _ = try daemon.record([FetchedMessage(mailbox: "support", uidValidity: 1000, uid: 1, raw: Self.mail(1), size: 400, fetchError: nil,
                                              preBaseline: false, internalDate: 1_795_500_000)],
                              cursor: MailboxCursor(mailbox: "support", uidValidity: 1000, lastUID: 1, baselineUID: 0))
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        _ = try MessageProcessor(store: daemon, snapshots: SnapshotStore(Self.withLevels), batchSize: 10, logger: logger).drain()
        let freshID = try #require(try daemon.tickets(TicketQuery()).first?.id)
        let fresh = try #require(try daemon.detail(ticket: freshID))
        #expect(fresh.summary.state == d.summary.state && fresh.summary.degree == d.summary.degree)
        #expect(fresh.outbox.map(\.state) == d.outbox.map(\.state) && fresh.outbox.map(\.entry) == d.outbox.map(\.entry))
        #expect(fresh.drafts.map(\.entry) == d.drafts.map(\.entry) && fresh.drafts.map(\.state) == d.drafts.map(\.state))
    }

    @Test func mailFromBeforeTheFirstPollIsNeverAnswered() async throws {
        let (store, box, failed) = try await Self.setup(preBaseline: [1, 2])
        let lines = await Reprocessor(store: store, snapshot: Self.snapshot, source: { _ in box }).run(failed)
        for l in lines {
            #expect(l.refetched && l.after.hasPrefix("password/") && !l.outcome.contains("answer queued"), "\(l)")
        }
        #expect(try #require(try store.detail(ticket: failed[0])).outbox.isEmpty)
    }

    @Test func anAgentsTicketGetsNoAutomaticAnswer() async throws {
        let (store, box, failed) = try await Self.setup()
        _ = try store.claim(ticket: failed[0], agent: "anna")
        let lines = await Reprocessor(store: store, snapshot: Self.snapshot, source: { _ in box }).run([failed[0]])
        #expect(lines[0].outcome == "no answer: the ticket was answered or taken by an agent before", "\(lines)")
        let d = try #require(try store.detail(ticket: failed[0]))
        #expect(d.summary.state == .claimed && d.outbox.isEmpty && d.summary.category == "password")
    }

    @Test func aChangedUIDValidityIsReportedAndNothingChanges() async throws {
        let (store, box, failed) = try await Self.setup()
        await box.resetUIDValidity(2000)
        let lines = await Reprocessor(store: store, snapshot: Self.snapshot, source: { _ in box }).run(failed)
        #expect(lines.allSatisfy { ($0.error ?? "").contains("UIDVALIDITY changed (1000 -> 2000)") }, "\(lines)")
        #expect(try store.failedTickets(maxAttempts: TriageEngine.maxAttempts) == failed)
        let missing = await Reprocessor(store: store, snapshot: Self.snapshot, source: { _ in box }).run([99_999])
        #expect(missing[0].error == "no such ticket")
    }
}
