import Foundation
import Synchronization
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriageDaemon
import TriageFiles
#if canImport(Glibc)
import Glibc
#endif

/// Every service on the mock clock: what each waits for is read off the clock, never slept.
@Suite struct ServiceTests {
    static var quiet: Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    static func store() throws -> SQLiteTicketStore {
        try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-svc-\(UUID().uuidString)/db.sqlite")
    }

    static func record(_ store: SQLiteTicketStore, _ range: Range<Int>) throws {
        let msgs = range.map { FetchedMessage(mailbox: "support", uidValidity: 1, uid: UInt32($0 + 1), raw: Fixtures.message($0), size: 100,
                                              preBaseline: false) }
        _ = try store.record(msgs, cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: UInt32(range.upperBound), baselineUID: 0))
    }

    @Test func pollBacksOffOnTheClockAndRecovers() async throws {
        let box = InMemoryMailbox()
        await box.setOutage(TriageError(.connection, "down", transient: true))
        let clock = MockClock()
        let ingestor = MailboxIngestor(mailbox: MailboxConfig(name: "support", url: IMAPURL("imaps://h")!, username: "u", password: .file("/x")),
                                       source: box, store: try Self.store(), maxMessageBytes: 1 << 20, batchSize: 10, logger: Self.quiet)
        var service = MailboxPollService(ingestor: ingestor, interval: .seconds(10), maxBackoff: .seconds(80), clock: clock, logger: Self.quiet)
        let (events, cont) = AsyncStream.makeStream(of: IngestReport?.self)
        service.onCycle = { cont.yield($0) }
        let b = Backoff(base: .seconds(10), cap: .seconds(80))
        let running = service
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await running.run() }
                var it = events.makeAsyncIterator()
                var e = await it.next()
                #expect(e == .some(nil))
                await clock.waitForSleepers(1)
                #expect(clock.deadlines == [b.delay(afterFailures: 1)])
                clock.advance(by: b.delay(afterFailures: 1))
                e = await it.next()
                #expect(e == .some(nil))
                await clock.waitForSleepers(1)
                let t2 = b.delay(afterFailures: 1) + b.delay(afterFailures: 2)
                #expect(clock.deadlines == [t2] && b.delay(afterFailures: 2) == .seconds(20))
                await box.setOutage(nil)
                await box.deliver(Fixtures.message(1))
                clock.advance(by: b.delay(afterFailures: 2))
                e = await it.next()
                #expect(e??.stored == 1)
                await clock.waitForSleepers(1)
                #expect(clock.deadlines == [t2 + .seconds(10)])  // back to the normal interval
                trigger.triggerGracefulShutdown()
            }
        }
    }

    @Test func processorRunsWhenWokenAndOnItsTimer() async throws {
        let store = try Self.store()
        try Self.record(store, 0..<3)
        let clock = MockClock()
        let wakeup = Wakeup()
        let processor = MessageProcessor(store: store, snapshots: SnapshotStore(Fixtures.plainSnapshot()), worker: "test/1", batchSize: 2,
                                         logger: Self.quiet)
        var service = ProcessorService(processor: processor, wakeup: wakeup, interval: .seconds(60), clock: clock)
        let (passes, cont) = AsyncStream.makeStream(of: ProcessReport.self)
        service.onPass = { cont.yield($0) }
        let running = service
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await running.run() }
                var it = passes.makeAsyncIterator()
                #expect(await it.next()?.tickets == 3)  // the pass at start
                try? Self.record(store, 3..<5)
                wakeup.signal()
                #expect(await it.next()?.tickets == 2)
                try? Self.record(store, 5..<6)
                await clock.waitForSleepers(1)
                #expect(clock.deadlines == [.seconds(60)])
                clock.advance(by: .seconds(60))  // no wake-up: the timer finds it
                #expect(await it.next()?.tickets == 1)
                trigger.triggerGracefulShutdown()
            }
        }
        #expect(try store.counts().tickets == 6)
    }

    /// An outbox service passing every 10 s on `clock` (the outbox's time follows it), and its passes.
    static func outboxService(_ store: SQLiteTicketStore, _ sender: ScriptedSender, clock: MockClock, logger: Logger)
        -> (OutboxService, AsyncStream<OutboxReport>)
    {
        let t0 = Int64(Date().timeIntervalSince1970)
        var outbox = OutboxSender(store: store, sender: sender, maxRetryDelay: .seconds(3600), logger: logger)
        outbox.now = { t0 + clock.now.offset.components.seconds }
        var service = OutboxService(outbox: outbox, interval: .seconds(10), clock: clock)
        let (passes, cont) = AsyncStream.makeStream(of: OutboxReport.self)
        service.onPass = { cont.yield($0) }
        return (service, passes)
    }

    @Test func outboxRetriesOnTheClock() async throws {
        let (store, dir) = try OutboxTests.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = MockClock()
        let sender = ScriptedSender([TriageError(.connection, "connection refused", transient: true)])
        let (running, passes) = Self.outboxService(store, sender, clock: clock, logger: Self.quiet)
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await running.run() }
                var it = passes.makeAsyncIterator()
                #expect(await it.next()?.retrying == 1)
                for _ in 0..<2 {  // 10 s, 20 s: not due yet (the first retry waits 30 s)
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(10))
                    #expect(await it.next() == OutboxReport())
                }
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(10))
                #expect(await it.next()?.sent == 1)
                trigger.triggerGracefulShutdown()
            }
        }
        #expect(await sender.count() == 1)
        #expect(try store.outboxCounts() == [.sent: 1])
    }

    /// A login failure while sending (the token endpoint refusing the client) is an outage: every answer stays
    /// queued untouched, one error line for the outage, passes back off (10 s, 20 s), and sending resumes
    /// when logging in works again.
    @Test func aLoginOutageKeepsTheAnswersQueuedAndBacksOff() async throws {
        let (store, dir) = try OutboxTests.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = MockClock()
        let refused = TriageError(.credential, "token endpoint https://t.example/token: invalid_client: revoked (HTTP 401)")
        let sender = ScriptedSender([refused, refused, refused])
        let lines = RecordingLog()
        let (running, passes) = Self.outboxService(store, sender, clock: clock, logger: lines.logger)
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await running.run() }
                var it = passes.makeAsyncIterator()
                #expect(await it.next()?.outage == refused)
                #expect((try? store.outboxCounts()) == [.pending: 1])
                for wait in [10, 20] as [Int64] {  // backed off: the waits double
                    await clock.waitForSleepers(1)
                    #expect(clock.deadlines == [clock.now.offset + .seconds(wait)])
                    clock.advance(by: .seconds(wait))
                    #expect(await it.next()?.outage == refused)
                }
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(40))
                #expect(await it.next()?.sent == 1)
                trigger.triggerGracefulShutdown()
            }
        }
        #expect(await sender.count() == 1)
        #expect(try store.outboxCounts() == [.sent: 1])
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.state == .answered && t.answerError == nil)
        let errors = lines.lines.withLock { $0 }.filter { $0.level == .error }
        #expect(errors.count == 1 && errors.first?.text.contains("invalid_client: revoked") == true, "\(errors)")
        #expect(lines.lines.withLock { $0 }.contains { $0.level == .notice && $0.text.hasPrefix("sending answers again") })
    }

    @Test func notifierFeedsTheWatchdogOnlyWhileTheLoopsMakeProgress() async throws {
        let socket = try NotifySocket()
        let clock = MockClock()
        let liveness = Liveness()
        let service = SystemdNotifyService(notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path]), watchdog: .seconds(5),
                                           status: { "polling 1 mailbox" }, liveness: liveness, clock: clock)
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await service.run() }
                #expect(await socket.next() == "READY=1\nSTATUS=polling 1 mailbox")
                #expect(await socket.next() == "WATCHDOG=1\nSTATUS=polling 1 mailbox")
                // A poll that has made no progress past its budget: no WATCHDOG=1, and the status says why.
                liveness.busy("mailbox support", budget: .zero)
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(5))
                let hung = await socket.next()
                #expect(hung?.hasPrefix("STATUS=hung: mailbox support without progress") == true, "\(hung ?? "-")")
                // Progress again: fed again.
                liveness.idle("mailbox support")
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(5))
                #expect(await socket.next() == "WATCHDOG=1\nSTATUS=polling 1 mailbox")
                await clock.waitForSleepers(1)
                trigger.triggerGracefulShutdown()
            }
        }
        #expect(await socket.next() == "STOPPING=1")
    }

    /// Without systemd (no $NOTIFY_SOCKET) the status line, a query of the store, is never worked out; a loop
    /// without progress is still logged.
    @Test func withoutSystemdTheStatusIsNotWorkedOut() async throws {
        let clock = MockClock()
        let liveness = Liveness()
        let asked = Mutex(0)
        let lines = RecordingLog()
        let service = SystemdNotifyService(notifier: SystemdNotifier(environment: [:]), watchdog: nil,
                                           status: { asked.withLock { $0 += 1 }; return "polling" }, liveness: liveness, clock: clock,
                                           logger: lines.logger)
        await testGracefulShutdown { trigger in
            await withDiscardingTaskGroup { group in
                group.addTask { try? await service.run() }
                for _ in 0..<3 {
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(30))
                }
                liveness.busy("mailbox support", budget: .zero)
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(30))
                await clock.waitForSleepers(1)
                trigger.triggerGracefulShutdown()
            }
        }
        #expect(asked.withLock { $0 } == 0)
        #expect(lines.count(.critical, containing: "no progress") == 1)
    }

    @Test func reloadSwapsTheSnapshotOrKeepsTheOldOne() throws {
        let dir = NSTemporaryDirectory() + "mt-reload-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pw = dir + "/pw"
        try "secret\n".write(toFile: pw, atomically: true, encoding: .utf8)
        chmod(pw, 0o600)
        let rules = dir + "/rules.toml"
        try "[[rule]]\nname = \"complaint\"\nany = [\"beschwerde\"]\nforce = \"manual\"\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let config = dir + "/mailtriage.toml"
        try """
            state_dir = "\(dir)/state"
            [classifier]
            rules_file = "rules.toml"
            [[mailbox]]
            name = "support"
            url = "imaps://127.0.0.1:1/INBOX"
            username = "u"
            password_file = "\(pw)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let socket = try NotifySocket()
        let daemon = try Daemon(configPath: config, logger: Self.quiet, notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path]))
        #expect(daemon.snapshots.current.generation == 1)
        #expect(daemon.snapshots.current.config.classifier.settings.rules.map(\.name) == ["complaint"])
        // A broken rules file: rejected, the old snapshot stays.
        try "[[rule]]\nname = \"broken\"\nany = [\"x\"\n".write(toFile: rules, atomically: true, encoding: .utf8)
        #expect(!daemon.reload())
        #expect(daemon.snapshots.current.generation == 1)
        #expect(socket.receive()?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true)
        #expect(socket.receive()?.hasPrefix("READY=1") == true)
        // A good one: swapped in whole.
        try "[[rule]]\nname = \"legal\"\nany = [\"anwalt\"]\nforce = \"manual\"\n".write(toFile: rules, atomically: true, encoding: .utf8)
        #expect(daemon.reload())
        #expect(daemon.snapshots.current.generation == 2)
        #expect(daemon.snapshots.current.config.classifier.settings.rules.map(\.name) == ["legal"])
    }
}

@Suite struct LogFormatTests {
    @Test func journalLinesCarryThePriorityAndNoTimestamp() {
        let h = TriageLogHandler(label: "mailtriage", level: .info, journal: true)
        #expect(h.line(level: .warning, message: "poll failed", metadata: ["mailbox": "support", "error": "refused"]) == "<4>poll failed error=refused mailbox=support")
        #expect(h.line(level: .error, message: "two\nlines", metadata: nil) == "<3>two ⏎ lines")
        #expect(TriageLogHandler.priority(.notice) == 5 && TriageLogHandler.priority(.debug) == 7 && TriageLogHandler.priority(.critical) == 2)
        let plain = TriageLogHandler(label: "mailtriage", level: .info, journal: false)
        #expect(plain.line(level: .info, message: "started", metadata: nil, now: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z info mailtriage: started")
    }
}

@Suite struct SecretTests {
    @Test func aSecretNeverPrints() throws {
        let dir = NSTemporaryDirectory() + "mt-secret-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "hunter2\n".write(toFile: dir + "/imap", atomically: true, encoding: .utf8)
        let s = try SecretReader.read(.credential("imap"), environment: ["CREDENTIALS_DIRECTORY": dir])
        #expect(s.reveal() == "hunter2")
        #expect("\(s)" == "<redacted>" && String(describing: s) == "<redacted>" && String(reflecting: s) == "<redacted>")
        #expect(!"\([s])".contains("hunter2") && !"\(Optional(s) as Any)".contains("hunter2"))
    }
}

/// Log lines kept for a test to count: level and message with its metadata.
final class RecordingLog: Sendable {
    struct Line: Sendable { var level: Logger.Level; var text: String }
    let lines = Mutex<[Line]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(sink: self) }
    }

    /// Lines of `level` whose message (or metadata) contains `text`.
    func count(_ level: Logger.Level, containing text: String) -> Int {
        lines.withLock { $0.filter { $0.level == level && $0.text.contains(text) }.count }
    }

    struct Handler: LogHandler {
        let sink: RecordingLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let meta = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.lines.withLock { $0.append(Line(level: event.level, text: "\(event.message) \(meta)")) }
        }
    }
}

/// A loop that fails on every pass logs it once, and once when it works again (with how many passes failed).
@Suite struct FailureLogTests {
    @Test func aRepeatedFailureIsLoggedOnceAndTheRecoveryWithItsCount() {
        let lines = RecordingLog()
        let log = FailureLog(logger: lines.logger, failed: "x failed", recovered: "x works again")
        log.success()
        #expect(lines.lines.withLock { $0 }.isEmpty)
        for _ in 0..<5 { log.failure("database is locked") }
        #expect(lines.count(.error, containing: "x failed") == 1)
        log.failure("disk I/O error")  // a different failure is logged
        #expect(lines.count(.error, containing: "disk I/O error") == 1)
        log.failure("disk I/O error")
        log.success()
        #expect(lines.count(.notice, containing: "x works again failed_passes=7") == 1)
        log.success()
        #expect(lines.count(.notice, containing: "works again") == 1)
        log.failure("database is locked")  // a new outage is logged again
        #expect(lines.count(.error, containing: "database is locked") == 2)
        #expect(lines.lines.withLock { $0.count } == 4)
    }
}
