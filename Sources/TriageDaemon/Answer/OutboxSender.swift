import Foundation
import Logging
import ServiceLifecycle
import TriageCore

/// What one outbox pass did.
public struct OutboxReport: Sendable, Equatable {
    public var sent = 0
    public var retrying = 0
    public var failed = 0
    public init() {}
}

/// Sends queued answers. A transient failure (connection refused, timeout, 4xx) is retried with
/// exponential backoff; a permanent one (5xx, TLS, login) marks the answer failed with the server's text
/// and puts the ticket back into the manual queue. An answer is marked sent only after the server
/// accepted it; a crash between the server's reply and that commit re-sends it once (rare, documented).
public struct OutboxSender: Sendable {
    public let store: any OutboxRepository
    public let sender: any MailSender
    public let maxRetryDelay: Duration
    public let logger: Logger
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    public init(store: any OutboxRepository, sender: any MailSender, maxRetryDelay: Duration, logger: Logger) {
        self.store = store
        self.sender = sender
        self.maxRetryDelay = maxRetryDelay
        self.logger = logger
    }

    /// One pass. `all`: every pending answer regardless of its retry time (`serve --once`).
    public func runOnce(all: Bool = false) async throws -> OutboxReport {
        var report = OutboxReport()
        let due = try store.dueAnswers(now: all ? nil : now(), limit: 500)
        for item in due {
            do {
                _ = try await sender.send(item.raw, from: item.envelopeFrom, to: [item.recipient])
                try store.answerOutcome(item, sent: true, error: nil, retryAt: nil)
                report.sent += 1
            } catch let e as TriageError where e.isTransient {
                let delay = min(Int64(30) << min(item.attempts, 16), maxRetryDelay.components.seconds)
                try store.answerOutcome(item, sent: false, error: e.message, retryAt: now() + delay)
                report.retrying += 1
                logger.warning("answer not sent yet, will retry", metadata: ["ticket": "\(item.ticketID)", "error": "\(e.message)",
                                                                          "retry_in": "\(delay)s"])
                break  // the server is unreachable: the rest waits for the next pass
            } catch {
                let text = (error as? TriageError)?.message ?? "\(error)"
                try store.answerOutcome(item, sent: false, error: text, retryAt: nil)
                report.failed += 1
                logger.error("answer refused by the server; ticket back to the queue", metadata: ["ticket": "\(item.ticketID)", "error": "\(text)"])
            }
        }
        return report
    }
}

/// Runs outbox passes every `interval` until shutdown.
public struct OutboxService: Service {
    let outbox: OutboxSender
    let interval: Duration

    public init(outbox: OutboxSender, interval: Duration) {
        self.outbox = outbox
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let r = try await outbox.runOnce()
                if r.sent + r.failed > 0 {
                    outbox.logger.info("outbox pass", metadata: ["sent": "\(r.sent)", "failed": "\(r.failed)", "retrying": "\(r.retrying)"])
                }
            } catch {
                outbox.logger.error("outbox pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
