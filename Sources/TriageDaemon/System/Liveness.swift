import Foundation
import Synchronization

/// Whether the daemon's loops make progress, for the systemd watchdog: each loop says when it starts work
/// (`busy`), reports progress (`beat`: a server reply, a batch), and when it waits (`idle`). A loop busy
/// without progress for longer than its budget is hung; then the watchdog is not fed and systemd restarts us.
public final class Liveness: Sendable {
    struct Loop: Sendable {
        var busySince: ContinuousClock.Instant?
        var lastBeat: ContinuousClock.Instant
        var budget: Duration
        /// When the loop last finished a round (a poll), wall clock, and its last error.
        var lastDone: Date?
        var lastError: String?
    }

    private let loops = Mutex<[String: Loop]>([:])
    private let clock = ContinuousClock()

    public init() {}

    public func busy(_ name: String, budget: Duration) {
        let now = clock.now
        loops.withLock { $0[name] = Loop(busySince: now, lastBeat: now, budget: budget) }
    }

    public func beat(_ name: String) {
        let now = clock.now
        loops.withLock { $0[name]?.lastBeat = now }
    }

    public func idle(_ name: String) {
        let now = clock.now
        loops.withLock {
            $0[name]?.busySince = nil
            $0[name]?.lastBeat = now
            $0[name]?.lastDone = Date()
        }
    }

    /// The loop's round failed with `message` (shown in the status line until a later error replaces it).
    public func failed(_ name: String, _ message: String) {
        loops.withLock { $0[name]?.lastError = message }
    }

    /// "mailbox support polled 12:03:04", and the newest error, for `systemctl status`.
    public func summary() -> (done: [String], lastError: String?) {
        loops.withLock { all in
            let done = all.sorted { $0.key < $1.key }.compactMap { name, l in
                l.lastDone.map { "\(name) \(ClockText.localTimeOfDay(Int64($0.timeIntervalSince1970.rounded(.down))))" }
            }
            let error = all.sorted { $0.key < $1.key }.compactMap { name, l in l.lastError.map { "\(name): \($0)" } }.last
            return (done, error)
        }
    }

    /// The loops that are hung now, with how long they have made no progress.
    public func hung() -> [(name: String, silent: Duration)] {
        let now = clock.now
        return loops.withLock { all in
            all.compactMap { name, l in
                guard l.busySince != nil else { return nil }
                let silent = now - l.lastBeat
                return silent > l.budget ? (name, silent) : nil
            }.sorted { $0.name < $1.name }
        }
    }
}
