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
        var figures: Figures?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if disk?.mayWrite() ?? true {
                    figures = try await write(reusing: figures)
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

    /// The figures over every ticket, and when they were computed. They cost a pass over the whole store
    /// (seconds with a million tickets), so a pass computes them again only when the event log has grown
    /// since (every change to a ticket appends an event), no sooner than `costFactor` times their cost
    /// after the last computation, and at least hourly (figures that move with time alone).
    struct Figures: Sendable {
        var stats: QueueStats
        var outbox: [OutboxState: Int]
        var acknowledgementsBeyondServiceLevel: Int
        var lastEvent: Int64
        var computedAt: ContinuousClock.Instant
        var nextAllowed: ContinuousClock.Instant

        func fresh(lastEvent: Int64, at now: ContinuousClock.Instant) -> Bool {
            now < nextAllowed || (lastEvent == self.lastEvent && now < computedAt + .seconds(3600))
        }
    }

    static let costFactor = 20

    /// One rewrite of the file from the store.
    public func write() async throws { _ = try await write(reusing: nil) }

    /// One rewrite of the file: the queue gauges read now, the figures over every ticket from `previous`
    /// while they are fresh. Returns the figures written.
    func write(reusing previous: Figures?) async throws -> Figures {
        let store = store, path = path, interval = interval
        return try await calls.run {
            let now = Int64(Date().timeIntervalSince1970)
            let start = ContinuousClock.now
            let lastEvent = try store.lastEventID()
            var figures: Figures
            if let previous, previous.fresh(lastEvent: lastEvent, at: start) {
                figures = previous
            } else {
                figures = Figures(stats: QueueStats.compute(try store.statsRows(), now: now), outbox: try store.outboxCounts(),
                                  acknowledgementsBeyondServiceLevel: try store.acknowledgementsBeyondServiceLevel(), lastEvent: lastEvent,
                                  computedAt: start, nextAllowed: start)
                figures.nextAllowed = start + max(interval, (ContinuousClock.now - start) * Self.costFactor)
            }
            let gauges = try store.queueGauges(now: now)
            try MetricsFile.write(MetricsFile.render(figures.stats, outbox: figures.outbox, waiting: gauges.waiting, overdue: gauges.overdue,
                                                     acknowledgementsBeyondServiceLevel: figures.acknowledgementsBeyondServiceLevel), to: path)
            return figures
        }
    }
}
