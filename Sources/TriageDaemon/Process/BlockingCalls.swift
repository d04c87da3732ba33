import TriageMail

/// Runs store calls on a thread of their own: an SQLite write may wait up to its busy timeout for the
/// lock, and that wait must not hold one of Swift's cooperative threads.
public struct BlockingCalls: Sendable {
    let thread: TransferThread?

    /// A new thread named `name`.
    public init(name: String) { thread = TransferThread(name: name) }

    /// Calls run where they are called (benchmarks and tests that want no extra thread).
    public static let inline = BlockingCalls(thread: nil)

    init(thread: TransferThread?) { self.thread = thread }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard let thread else { return try body() }
        return try await thread.run(body)
    }
}
