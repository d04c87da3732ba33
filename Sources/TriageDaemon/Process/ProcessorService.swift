import Logging
public import ServiceLifecycle
import TriageCore
import TriageMail

/// Wakes the processor when a fetch loop has recorded new mail.
public final class Wakeup: Sendable {
    let stream: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func signal() { continuation.yield() }
    func finish() { continuation.finish() }
}

/// Runs the one `MessageProcessor`: a pass whenever a fetch loop recorded mail, and every `interval` on the
/// injected clock (mail recorded by a crashed run, claims that ran out). Parsing, deciding and SQLite run
/// on a thread of their own. On graceful shutdown it finishes the batch in hand and stops.
public struct ProcessorService: Service {
    let processor: MessageProcessor
    let wakeup: Wakeup
    let interval: Duration
    let clock: any Clock<Duration>
    let thread = TransferThread(name: "processor")
    let failures: FailureLog
    /// Called after every pass (tests await it instead of sleeping).
    public var onPass: (@Sendable (ProcessReport) -> Void)?
    /// Told when a pass starts and ends, for the watchdog.
    public var liveness: Liveness?
    /// While the disk is full no pass runs (the timer looks again); a full disk is logged there, once.
    public var disk: DiskSpaceWatch?

    public init(processor: MessageProcessor, wakeup: Wakeup, interval: Duration, clock: any Clock<Duration> = ContinuousClock()) {
        self.processor = processor
        self.wakeup = wakeup
        self.interval = interval
        self.clock = clock
        failures = FailureLog(logger: processor.logger, failed: "processing failed; retrying on the next pass",
                              recovered: "processing works again")
    }

    public func run() async throws {
        let stopping = AbortFlag()
        let processor = processor, wakeup = wakeup, interval = interval, clock = clock
        do { try await thread.run { try processor.releaseDeadClaims() } } catch {
            processor.logger.error("cannot release stale claims", metadata: ["error": "\(error)"])
        }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        do { try await clock.sleep(for: interval) } catch { break }
                        wakeup.signal()
                    }
                }
                await pass(stopping)
                for await _ in wakeup.stream {
                    if stopping.isSet { break }
                    await pass(stopping)
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            stopping.set()
            wakeup.finish()
        }
    }

    func pass(_ stopping: AbortFlag) async {
        let processor = processor
        if let disk, !disk.mayWrite() { return }
        liveness?.busy("processor", budget: .seconds(600))
        defer { liveness?.idle("processor") }
        do {
            let r = try await thread.run { try processor.drain(shouldStop: { stopping.isSet }) }
            if r.tickets + r.joined > 0 {
                disk?.wrote()
                processor.logger.info("messages processed", metadata: [
                    "tickets": "\(r.tickets)", "joined": "\(r.joined)", "answers": "\(r.answers)",
                ])
            }
            failures.success()
            onPass?(r)
        } catch let error where disk?.absorb(error, in: "processor") == true {
            onPass?(ProcessReport())
        } catch {
            failures.failure((error as? TriageError)?.message ?? "\(error)")
            onPass?(ProcessReport())
        }
    }
}
