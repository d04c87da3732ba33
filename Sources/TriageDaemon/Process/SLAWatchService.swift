import Foundation
public import Logging
public import ServiceLifecycle
public import TriageCore
import TriageMIME

/// Watches due times: logs a warning at the policy's threshold and escalates at the breach (an e-mail to
/// the policy's address through the outbox, an event, one log line). Each fires once per ticket and level,
/// also across restarts: the store marks them in the same transaction.
public struct SLAWatchService: Service {
    let store: any SLARepository
    let snapshots: SnapshotStore
    let interval: Duration
    let clock: any Clock<Duration>
    let logger: Logger
    let calls = BlockingCalls(name: "sla watch")
    let failures: FailureLog
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    public var token: @Sendable () -> String = { String(UInt64.random(in: 0...UInt64.max), radix: 36) }
    /// Called after every pass with the number of warnings and escalations made (tests await it).
    public var onPass: (@Sendable (Int) -> Void)?
    /// While the disk is full no pass runs; a full disk is logged there, once.
    public var disk: DiskSpaceWatch?

    public init(store: any SLARepository, snapshots: SnapshotStore, interval: Duration, clock: any Clock<Duration> = ContinuousClock(),
                logger: Logger)
    {
        self.store = store
        self.snapshots = snapshots
        self.interval = interval
        self.clock = clock
        self.logger = logger
        failures = FailureLog(logger: logger, failed: "SLA watch failed; trying again", recovered: "SLA watch works again")
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                guard disk?.mayWrite() ?? true else { throw CancellationError() }
                let made = try await pass()  // not inside `onPass?(...)`: a nil callback would skip the pass
                failures.success()
                onPass?(made)
            } catch is CancellationError {
                onPass?(0)  // the disk is full: skipped
            } catch let error where disk?.absorb(error, in: "sla watch") == true {
                onPass?(0)
            } catch {
                failures.failure((error as? TriageError)?.message ?? "\(error)")
                onPass?(0)
            }
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { break }
        }
    }

    /// One look at the due times; returns how many warnings and escalations were made.
    public func pass() async throws -> Int {
        let store = store, snapshot = snapshots.current, t = now(), token = token
        let made = try await calls.run { () -> [SLAAlarm] in
            var made: [SLAAlarm] = []
            for alarm in try store.slaAlarms(now: t, limit: 200) {
                var mail: OutgoingAnswer?
                if alarm.level == .breach, let mb = snapshot.mailbox(alarm.mailbox), let own = mb.address {
                    let zone = snapshot.serviceLevels?.policies.first { $0.key == alarm.policy }
                        .flatMap { snapshot.serviceLevels?.calendars[$0.calendar]?.zoneName } ?? "UTC"
                    mail = Escalation.render(alarm, from: MailAddress(name: mb.displayName, address: own), timeZone: zone,
                                             domain: snapshot.messageIDDomain, token: token(), now: t)
                }
                if try store.recordSLA(alarm, escalation: mail) { made.append(alarm) }
            }
            return made
        }
        for a in made {
            let meta: Logger.Metadata = ["ticket.id": "\(a.ticketID)", "mailbox": "\(a.mailbox)", "sla.policy": "\(a.policy ?? "-")",
                                         "sla.due": "\(a.due)"]
            switch a.level {
            case .warning: logger.warning("first answer due soon", metadata: meta)
            case .breach: logger.error("first answer overdue: escalated\(a.escalateTo.map { " to \($0)" } ?? "")", metadata: meta)
            }
        }
        return made.count
    }
}
