/// Exponential backoff with a cap: how long to wait after the n-th consecutive failure.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The delay after `failures` consecutive failures (1 = the first failure). 0 failures: `base`.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 1 else { return base }
        var d = base
        for _ in 1..<min(failures, 32) {
            d = d * 2
            if d >= cap { return cap }
        }
        return min(d, cap)
    }
}
