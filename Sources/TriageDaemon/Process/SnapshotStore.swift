import Synchronization
public import TriageCore

/// The active `TriageSnapshot`, swapped whole on reload: a decision always sees one consistent
/// configuration, never half of an old one and half of a new one.
public final class SnapshotStore: Sendable {
    private let value: Mutex<TriageSnapshot>

    public init(_ snapshot: TriageSnapshot) {
        value = Mutex(snapshot)
    }

    public var current: TriageSnapshot { value.withLock { $0 } }

    public func replace(_ snapshot: TriageSnapshot) {
        value.withLock { $0 = snapshot }
    }
}
