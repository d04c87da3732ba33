public import Logging
public import ServiceLifecycle
import TriageCore

/// Polls one mailbox every `interval` until graceful shutdown. After a failure it waits with
/// exponential backoff and logs the error once, not on every retry, then logs the recovery.
public struct MailboxPollService: Service {
    let ingestor: MailboxIngestor
    let interval: Duration
    let backoff: Backoff
    let clock: any Clock<Duration>
    let logger: Logger
    /// Called after every cycle with its report, or nil when it failed (tests await it instead of sleeping).
    public var onCycle: (@Sendable (IngestReport?) -> Void)?
    /// Told when a cycle starts and ends, for the watchdog.
    public var liveness: Liveness?
    /// The disk the store writes to: while it is full, no cycle runs (nothing is downloaded that could not be recorded).
    public var disk: DiskSpaceWatch?

    public init(ingestor: MailboxIngestor, interval: Duration, maxBackoff: Duration, clock: any Clock<Duration> = ContinuousClock(),
                logger: Logger)
    {
        self.ingestor = ingestor
        self.interval = interval
        self.backoff = Backoff(base: interval, cap: max(interval, maxBackoff))
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        // Shutdown aborts a transfer in progress (a silent server) instead of waiting for its timeout.
        let source = ingestor.source
        await withGracefulShutdownHandler { await loop() } onGracefulShutdown: { source.abortTransfers() }
        await ingestor.source.disconnect()
    }

    func loop() async {
        var tracker = FailureTracker()
        var fullCycles = 0  // cycles in a row that failed on a full disk: the wait between tries doubles
        let name = ingestor.mailbox.name
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let disk, !disk.mayWrite() {
                // The disk is still full: no connection, no download; the free space is looked at again after the wait.
                let wait = fullCycles == 0 ? interval : backoff.delay(afterFailures: fullCycles)
                do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: wait) } } catch { break }
                continue
            }
            // A reply from the server within the response timeout (plus a margin) is progress; none is a hang.
            liveness?.busy("mailbox \(name)", budget: ingestor.mailbox.responseTimeout + .seconds(5))
            do {
                let report = try await ingestor.runCycle()
                fullCycles = 0
                disk?.wrote()
                onCycle?(report)
                if let down = tracker.recovered() {
                    logger.notice("mailbox reachable again", metadata: ["mailbox": "\(name)", "failed_cycles": "\(down)"])
                }
                if report.stored + report.duplicates > 0 {
                    logger.info("poll done", metadata: [
                        "mailbox": "\(name)", "stored": "\(report.stored)", "duplicates": "\(report.duplicates)",
                    ])
                }
            } catch let error where disk?.absorb(error, in: "mailbox \(name)") == true {
                // Logged once by the watch; not a failure of the mailbox (its recovery is not "reachable again").
                fullCycles += 1
                await ingestor.source.disconnect()
                liveness?.failed("mailbox \(name)", (error as? TriageError)?.message ?? "disk full")
                onCycle?(nil)
            } catch {
                if Task.isShuttingDownGracefully { break }
                let message = (error as? TriageError)?.message ?? "\(error)"
                let delay = backoff.delay(afterFailures: tracker.failures + 1)
                if tracker.failed(FailureTracker.kind(of: error)) {
                    logger.error("poll failed; retrying with backoff (logged again only if the error changes)", metadata: [
                        "mailbox": "\(name)", "error": "\(message)", "retry_in": "\(DurationText.format(delay))",
                    ])
                }
                await ingestor.source.disconnect()
                liveness?.failed("mailbox \(name)", message)
                onCycle?(nil)
            }
            liveness?.idle("mailbox \(name)")
            let failures = max(tracker.failures, fullCycles)
            let wait = failures == 0 ? interval : backoff.delay(afterFailures: failures)
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: wait) }
            } catch {
                break  // shutdown or cancellation during the wait
            }
        }
    }
}

/// Remembers consecutive failures so that a persistent error is logged once, not every cycle.
public struct FailureTracker: Sendable, Equatable {
    public private(set) var failures = 0
    public private(set) var lastMessage: String?

    public init() {}

    /// What makes two failures "the same error" for logging: the error's code, not its text, which changes from
    /// one attempt to the next while the cause stays (the command that failed, "after 3 ms", "after 3001 milliseconds").
    public static func kind(of error: any Error) -> String {
        (error as? TriageError).map { "\($0.code)" } ?? "\(error)"
    }

    /// Counts a failure; true when it should be logged (the first one, or a different error).
    public mutating func failed(_ message: String) -> Bool {
        failures += 1
        defer { lastMessage = message }
        return failures == 1 || message != lastMessage
    }

    /// Resets after a success; returns how many cycles had failed, or nil if none had.
    public mutating func recovered() -> Int? {
        defer { failures = 0; lastMessage = nil }
        return failures > 0 ? failures : nil
    }
}
