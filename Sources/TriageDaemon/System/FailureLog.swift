public import Logging
import Synchronization

/// The log of a loop that retries on its next pass: a failure is logged once while it repeats (the same
/// message again is only counted), a different failure is logged again, and the loop working again is one
/// line with the number of passes that failed. A failure that lasts an hour is then two lines, not one per pass.
public final class FailureLog: Sendable {
    let logger: Logger
    /// "processing failed; retrying on the next pass"
    let failed: Logger.Message
    /// "processing works again"
    let recovered: Logger.Message
    private let state = Mutex<(message: String?, passes: Int)>((nil, 0))

    public init(logger: Logger, failed: Logger.Message, recovered: Logger.Message) {
        self.logger = logger
        self.failed = failed
        self.recovered = recovered
    }

    /// A pass failed with `message`.
    public func failure(_ message: String) {
        let new = state.withLock { s -> Bool in
            s.passes += 1
            defer { s.message = message }
            return s.message != message
        }
        if new { logger.error(failed, metadata: ["error": "\(message)"]) }
    }

    /// A pass worked.
    public func success() {
        let passes = state.withLock { s -> Int in
            defer { s = (nil, 0) }
            return s.message == nil ? 0 : s.passes
        }
        if passes > 0 { logger.notice(recovered, metadata: ["failed_passes": "\(passes)"]) }
    }
}
