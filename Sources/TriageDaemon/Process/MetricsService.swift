import Foundation
public import Logging
public import ServiceLifecycle
import TriageCore
import TriageFiles
public import TriageStore

/// Rewrites the metrics file (`mailtriage.prom` in the state directory) every `interval` on the injected clock.
public struct MetricsService: Service {
    let store: SQLiteTicketStore
    let path: String
    let interval: Duration
    let clock: any Clock<Duration>
    let logger: Logger
    let calls = BlockingCalls(name: "metrics")
    /// While the disk is full the file is not rewritten; a full disk is logged there, once.
    public var disk: DiskSpaceWatch?

    public init(store: SQLiteTicketStore, path: String, interval: Duration, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.store = store
        self.path = path
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        var lastError: String?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if disk?.mayWrite() ?? true {
                    try await write()
                    lastError = nil
                }
            } catch let error where disk?.absorb(error, in: "metrics") == true {
                lastError = nil
            } catch {
                let text = (error as? TriageError)?.message ?? "\(error)"
                if text != lastError { logger.warning("cannot write the metrics file", metadata: ["path": "\(path)", "error": "\(text)"]) }
                lastError = text
            }
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { break }
        }
    }

    /// One rewrite of the file from the store.
    public func write() async throws {
        let store = store, path = path
        try await calls.run {
            let now = Int64(Date().timeIntervalSince1970)
            let stats = QueueStats.compute(try store.statsRows(), now: now)
            let gauges = try store.queueGauges(now: now)
            try MetricsFile.write(MetricsFile.render(stats, outbox: try store.outboxCounts(), waiting: gauges.waiting, overdue: gauges.overdue,
                                                     acknowledgementsBeyondServiceLevel: try store.acknowledgementsBeyondServiceLevel()), to: path)
        }
    }
}
