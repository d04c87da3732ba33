/// Whether the disk the daemon writes to is full, and what to log about it: one line when it fills, one
/// when writing works again, nothing for the failures in between. While full, the loops that write (and the
/// fetch loops, which would download what cannot be recorded) wait until the free space reaches `reserve`.
/// Pure; `DiskSpaceWatch` holds one for the whole daemon.
public struct DiskFullState: Sendable, Equatable {
    public private(set) var isFull = false
    /// Writes that failed on the full disk in this outage (only the first was logged).
    public private(set) var failures = 0
    /// Free bytes wanted before writing is tried again.
    public var reserve: Int64

    public init(reserve: Int64 = 1 << 20) {
        self.reserve = reserve
    }

    /// A write failed because the disk is full: true when this is the news to log (the first failure of an outage).
    public mutating func failed() -> Bool {
        failures += 1
        guard !isFull else { return false }
        isFull = true
        return true
    }

    /// Whether to write (or fetch) now: always unless full; while full, once `freeBytes` reach the reserve
    /// (unknown free space: try, the write will tell).
    public func mayTry(freeBytes: Int64?) -> Bool {
        !isFull || (freeBytes ?? .max) >= reserve
    }

    /// A write went through: ends an outage. Returns the failures it had (log the recovery once), or nil when
    /// the disk was not full.
    public mutating func succeeded() -> Int? {
        guard isFull else { return nil }
        defer { isFull = false; failures = 0 }
        return failures
    }
}
