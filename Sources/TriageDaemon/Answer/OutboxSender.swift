import Foundation
public import Logging
public import ServiceLifecycle
public import TriageCore
import Synchronization

/// What one outbox pass did.
public struct OutboxReport: Sendable, Equatable {
    public var sent = 0
    public var retrying = 0
    public var failed = 0
    /// The pass stopped at a failure to log in (token, login, TLS): the answers stay queued as they were.
    public var outage: TriageError?
    public init() {}
}

/// Sends queued answers. A transient failure (connection refused, timeout, 4xx) is retried with
/// exponential backoff; a permanent one (5xx) marks the answer failed with the server's text and puts the
/// ticket back into the manual queue. A failure to log in (the token endpoint refusing or unreachable, the
/// server refusing the login, TLS) is no answer's fault: the pass stops, every answer stays queued untouched,
/// and `OutboxService` backs off until logging in works again. Each send is committed as begun before the SMTP
/// transaction (nothing is sent when that commit fails, e.g. on a full disk), and marked sent only after the
/// server accepted it. An acceptance that cannot be committed is held in memory and committed before anything
/// else is sent; only a daemon that dies between the server's reply and that commit sends the answer again
/// after its restart (the attempt shows as interrupted).
public struct OutboxSender: Sendable {
    public let store: any OutboxRepository
    public let sender: any MailSender
    public let maxRetryDelay: Duration
    public let logger: Logger
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// Where the store is called (off the cooperative pool).
    public var storeCalls = BlockingCalls(name: "outbox store")
    /// Answers the server accepted whose outcome the store has not taken yet.
    let unrecorded = HeldOutcomes()

    public init(store: any OutboxRepository, sender: any MailSender, maxRetryDelay: Duration, logger: Logger) {
        self.store = store
        self.sender = sender
        self.maxRetryDelay = maxRetryDelay
        self.logger = logger
    }

    /// One pass. `all`: every pending answer regardless of its retry time (`serve --once`).
    public func runOnce(all: Bool = false) async throws -> OutboxReport {
        var report = OutboxReport()
        let store = store, due = all ? nil : now()
        // Accepted answers first: until their outcome is committed, nothing else is sent (they stay pending in the store).
        for item in unrecorded.items {
            try await storeCalls.run { try store.answerOutcome(item, .accepted, error: nil) }
            unrecorded.remove(item.id)
        }
        let items = try await storeCalls.run { try store.dueAnswers(now: due, limit: 500) }
        for item in items {
            try await storeCalls.run { try store.answerSendStarting(item) }
            if item.interruptedAttempts > 0 {
                logger.warning("sending an answer again whose earlier attempt was cut off before its outcome was recorded: the customer may get it twice",
                               metadata: ["ticket": "\(item.ticketID)", "interrupted": "\(item.interruptedAttempts)"])
            }
            do {
                _ = try await sender.send(item.raw, from: item.envelopeFrom, to: [item.recipient])
            } catch let e as TriageError where e.isLoginFailure {
                // Nothing reached the server: the begun send is taken back and the answer stays queued as it was.
                try await storeCalls.run { try store.answerSendNotStarted(item) }
                report.outage = e
                break
            } catch let e as TriageError where e.isTransient {
                let delay = min(Int64(30) << min(item.attempts, 16), maxRetryDelay.components.seconds)
                let retryAt = now() + delay
                try await storeCalls.run { try store.answerOutcome(item, .transientFailure(retryAt: retryAt), error: e.message) }
                report.retrying += 1
                logger.warning("answer not sent yet, will retry", metadata: ["ticket": "\(item.ticketID)", "error": "\(e.message)",
                                                                          "retry_in": "\(delay)s"])
                break  // the server is unreachable: the rest waits for the next pass
            } catch {
                let text = (error as? TriageError)?.message ?? "\(error)"
                try await storeCalls.run { try store.answerOutcome(item, .permanentFailure, error: text) }
                report.failed += 1
                logger.error("answer refused by the server; ticket back to the queue", metadata: ["ticket": "\(item.ticketID)", "error": "\(text)"])
                continue
            }
            do {
                try await storeCalls.run { try store.answerOutcome(item, .accepted, error: nil) }
            } catch {
                unrecorded.add(item)
                throw error
            }
            report.sent += 1
        }
        return report
    }
}

/// Outbox rows the server accepted whose outcome could not be committed yet (the store failed).
final class HeldOutcomes: Sendable {
    private let held = Mutex<[OutboxItem]>([])

    var items: [OutboxItem] { held.withLock { $0 } }
    func add(_ item: OutboxItem) { held.withLock { $0.append(item) } }
    func remove(_ id: Int64) { held.withLock { $0.removeAll { $0.id == id } } }
}

/// Runs outbox passes every `interval` on the injected clock until shutdown; then one last pass for what
/// is due, bounded by `drainTime` (a transfer still running then is aborted and retried after a restart).
public struct OutboxService: Service {
    let outbox: OutboxSender
    let interval: Duration
    let drainTime: Duration
    let clock: any Clock<Duration>
    /// Called after every pass (tests await it instead of sleeping).
    public var onPass: (@Sendable (OutboxReport) -> Void)?
    /// While the disk is full nothing is sent (a send must be committed as begun first); logged there, once.
    public var disk: DiskSpaceWatch?

    public init(outbox: OutboxSender, interval: Duration, drainTime: Duration = .seconds(10),
                clock: any Clock<Duration> = ContinuousClock())
    {
        self.outbox = outbox
        self.interval = interval
        self.drainTime = drainTime
        self.clock = clock
    }

    public func run() async throws {
        // A login outage is logged once (again only when its kind changes); passes back off until it ends.
        var tracker = FailureTracker()
        let backoff = Backoff(base: interval, cap: max(interval, outbox.maxRetryDelay))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let report = await pass()
            if let e = report.outage {
                let delay = backoff.delay(afterFailures: tracker.failures + 1)
                if tracker.failed(FailureTracker.kind(of: e)) {
                    outbox.logger.error("cannot send answers, they stay queued; retrying with backoff (logged again only if the error changes)",
                                        metadata: ["error": "\(e.message)", "retry_in": "\(DurationText.format(delay))"])
                }
            } else if report.sent + report.failed > 0, let down = tracker.recovered() {
                outbox.logger.notice("sending answers again", metadata: ["failed_passes": "\(down)"])
            }
            let wait = tracker.failures == 0 ? interval : backoff.delay(afterFailures: tracker.failures)
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: wait) } } catch { break }
        }
        // Drain: one more pass for what is due now, cut off after `drainTime`.
        let sender = outbox.sender, drainClock = clock, drainTime = drainTime
        await withDiscardingTaskGroup { group in
            group.addTask {
                do { try await drainClock.sleep(for: drainTime) } catch { return }
                sender.abortTransfers()
            }
            await pass()
            group.cancelAll()
        }
    }

    @discardableResult
    func pass() async -> OutboxReport {
        if let disk, !disk.mayWrite() {
            onPass?(OutboxReport())
            return OutboxReport()
        }
        do {
            let r = try await outbox.runOnce()
            if r.sent + r.failed > 0 {
                outbox.logger.info("outbox pass", metadata: ["outbox.accepted": "\(r.sent)", "outbox.refused": "\(r.failed)", "outbox.retrying": "\(r.retrying)"])
            }
            onPass?(r)
            return r
        } catch let error where disk?.absorb(error, in: "outbox") == true {
            onPass?(OutboxReport())
            return OutboxReport()
        } catch {
            outbox.logger.error("outbox pass failed", metadata: ["error": "\(error)"])
            onPass?(OutboxReport())
            return OutboxReport()
        }
    }
}
