import Foundation
import Synchronization

/// A thread of its own for blocking work (libcurl transfers, SQLite writes), awaited from async code,
/// so that a slow server never occupies Swift's cooperative thread pool. Jobs run one at a time, in order.
public final class TransferThread: Sendable {
    let queue: JobQueue

    public init(name: String) {
        queue = JobQueue()
        let q = queue
        let t = Thread { q.loop() }
        t.name = name
        t.start()
    }

    deinit { queue.stop() }

    /// Runs `body` on the thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            queue.enqueue {
                do { cont.resume(returning: try body()) } catch { cont.resume(throwing: error) }
            }
        }
    }
}

/// The thread's work list. The thread holds only this, so it ends when its `TransferThread` goes away.
final class JobQueue: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopped = false

    func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}

/// Set on shutdown: libcurl's progress callback sees it within a second and aborts the transfer.
public final class AbortFlag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { value.load(ordering: .relaxed) }
    public func set() { value.store(true, ordering: .relaxed) }
}
