import Foundation
public import Logging
import Synchronization
public import TriageCore
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's view of the disk holding its database and files: every loop that writes reports a full
/// disk here (logged once for the whole daemon, not per loop or retry) and asks before it writes or fetches;
/// while the disk is full nothing is downloaded, and the loops resume when the free space is back.
public final class DiskSpaceWatch: Sendable {
    /// The directory whose file system is watched (the database's).
    public let directory: String
    let logger: Logger
    let freeBytes: @Sendable () -> Int64?
    private let state: Mutex<DiskFullState>

    public init(directory: String, logger: Logger, reserve: Int64 = 1 << 20, freeBytes: (@Sendable () -> Int64?)? = nil) {
        self.directory = directory
        self.logger = logger
        self.freeBytes = freeBytes ?? { DiskSpaceWatch.available(directory) }
        state = Mutex(DiskFullState(reserve: reserve))
    }

    /// Bytes an unprivileged writer may still use in `directory`'s file system; nil when it cannot be read.
    public static func available(_ directory: String) -> Int64? {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    public var isFull: Bool { state.withLock { $0.isFull } }

    /// Whether a loop may write (and fetch) now: true unless the disk is full and still short of the reserve.
    public func mayWrite() -> Bool {
        guard isFull else { return true }
        let free = freeBytes()
        return state.withLock { $0.mayTry(freeBytes: free) }
    }

    /// Takes a loop's failure: true when it was a full disk, which is then logged here once per outage
    /// (the caller logs nothing); false for any other error.
    public func absorb(_ error: any Error, in loop: String) -> Bool {
        guard let e = error as? TriageError, e.isDiskFull else { return false }
        if state.withLock({ $0.failed() }) {
            let free = freeBytes().map { "\($0)" } ?? "unknown"
            logger.critical("disk full: no mail is fetched or recorded until there is room again (logged once; checked every poll)", metadata: [
                "path": "\(directory)", "free_bytes": "\(free)", "loop": "\(loop)", "error": "\(e.message)",
            ])
        }
        return true
    }

    /// A loop wrote what it had to: ends an outage (its recovery logged once).
    public func wrote() {
        guard isFull, let failures = state.withLock({ $0.succeeded() }) else { return }
        logger.notice("disk space available again: fetching and recording resumed", metadata: [
            "path": "\(directory)", "failed_writes": "\(failures)", "free_bytes": "\(freeBytes().map { "\($0)" } ?? "unknown")",
        ])
    }
}
