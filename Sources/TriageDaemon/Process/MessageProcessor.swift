import Foundation
import TriageMIME
public import Logging
public import TriageCore

/// What one processing pass did.
public struct ProcessReport: Sendable, Equatable {
    public var tickets = 0
    public var joined = 0
    public var answers = 0
    public init() {}
}

/// The one processing stage: claims recorded messages (from every mailbox), decides each with its own
/// mailbox's settings through `TriageEngine.decide`, and applies the decisions, a batch per transaction.
/// Synchronous (parsing, deciding, SQLite); `ProcessorService` runs it on a thread of its own.
public struct MessageProcessor: Sendable {
    public let store: any ProcessingRepository
    public let snapshots: SnapshotStore
    /// Who holds a claim: "host/pid" in the daemon, so that claims of a dead process can be released.
    public let worker: String
    public var batchSize: Int
    /// The most bytes of raw messages one batch holds (at least one message; `batch_bytes`).
    public var maxBatchBytes = TriageConfig().batchBytes
    /// Seconds a claim is held before another worker may take the message.
    public var lease: Int64 = 600
    public let logger: Logger
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    public var token: @Sendable () -> String = { String(UInt64.random(in: 0...UInt64.max), radix: 36) }

    public init(store: any ProcessingRepository, snapshots: SnapshotStore, worker: String = MessageProcessor.processWorker,
                batchSize: Int, logger: Logger)
    {
        self.store = store
        self.snapshots = snapshots
        self.worker = worker
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// This process as a worker name.
    public static var processWorker: String { "\(ProcessInfo.processInfo.hostName)/\(getpid())" }

    /// True unless `worker` names a process of this host that no longer runs.
    public static func isAlive(_ worker: String) -> Bool {
        let parts = worker.split(separator: "/")
        guard parts.count == 2, String(parts[0]) == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]) else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Releases messages claimed by processes that are gone (a daemon killed while processing).
    public func releaseDeadClaims() throws {
        let n = try store.releaseClaims(isAlive: MessageProcessor.isAlive)
        if n > 0 { logger.notice("released messages claimed by a stopped process", metadata: ["count": "\(n)"]) }
    }

    /// Processes every unprocessed message, a batch at a time, until none is left or `shouldStop` says so.
    public func drain(shouldStop: () -> Bool = { false }) throws -> ProcessReport {
        var report = ProcessReport()
        while !shouldStop() {
            let batch = try store.claimUnprocessed(limit: batchSize, maxBytes: maxBatchBytes, worker: worker, lease: lease)
            if batch.isEmpty { break }
            let decisions: [TriageDecision]
            do {
                decisions = try decide(batch)
                try store.apply(decisions)
            } catch let e as TriageError where e.code == .storage || e.code == .diskFull {
                // The store failed (a full disk, a lock held too long), not the messages: their attempts are not counted.
                // Should this write fail as well, this worker takes its claims again on the next pass.
                try? store.unclaim(batch.map(\.id), worker: worker)
                throw e
            }
            for d in decisions {
                switch d.action {
                case .newTicket: report.tickets += 1
                case .joinThread: report.joined += 1
                }
                if d.reply != nil { report.answers += 1 }
                if let later = d.promisedLater {
                    logger.warning("the backlog makes the service level unrealistic: the acknowledgement promises a later time", metadata: [
                        "ticket.id": "\(d.ticketID)", "sla.group": "\(d.service?.group ?? "-")", "sla.due": "\(d.service?.firstResponse?.description ?? "-")",
                        "promised": "\(later.description)",
                    ])
                }
                logger.debug("message decided", metadata: [
                    "mailbox": "\(d.mailbox)", "ticket.id": "\(d.ticketID)", "degree": "\(d.degree?.rawValue ?? "-")",
                    "entry": "\(d.knowledgeEntry ?? "-")",
                ])
            }
        }
        return report
    }

    /// Decides a batch. Later messages see the tickets and answers of earlier ones in the same batch.
    func decide(_ batch: [StoredMessage]) throws -> [TriageDecision] {
        let snapshot = snapshots.current
        let t = now()
        let window = snapshot.config.answers.window.components.seconds
        var overlay = BatchOverlay()
        var out: [TriageDecision] = []
        // How far behind each group is, for acknowledgements that promise only what can be kept.
        let backlog = snapshot.serviceLevels == nil ? [:] : try store.groupBacklog(now: t)
        for stored in batch {
            let m = IncomingMessage(stored: stored)
            var context = DecisionContext(renderReply: true, token: token())
            context.backlog = backlog
            if let q = m.threadQuery {
                context.threadCandidates = try store.threadCandidates(q) + overlay.candidates(q)
                // The per-sender count matters only where answers can be sent.
                if snapshot.answersEnabled {
                    context.recentAnswersToSender = try store.answersSent(to: q.recipient, since: t - window) + overlay.answers[q.recipient, default: 0]
                }
            }
            let d = TriageEngine.decide(m, snapshot: snapshot, context: context, now: t)
            overlay.add(d, m)
            out.append(d)
        }
        return out
    }
}

/// What a batch has decided but not yet written: new tickets by Message-ID and tag, answers by recipient.
struct BatchOverlay {
    var byMessageID: [String: ThreadCandidate] = [:]
    var byTicket: [Int64: ThreadCandidate] = [:]
    var answers: [String: Int] = [:]

    mutating func add(_ d: TriageDecision, _ m: IncomingMessage) {
        guard case .newTicket = d.action else { return }
        var customers: Set<String> = [d.ticket.fromAddress.lowercased()]
        if let r = d.reply {
            customers.insert(r.recipient.lowercased())
            answers[r.recipient.lowercased(), default: 0] += 1
            byMessageID[r.messageID] = ThreadCandidate(ticketID: d.ticketID, link: .ourAnswer, customers: customers)
        }
        if let mid = m.parsed?.envelope.messageID {
            byMessageID[mid] = ThreadCandidate(ticketID: d.ticketID, link: .storedMessage, customers: customers)
        }
        byTicket[d.ticketID] = ThreadCandidate(ticketID: d.ticketID, link: .subjectTag, customers: customers)
    }

    func candidates(_ q: ThreadQuery) -> [ThreadCandidate] {
        var out = q.references.compactMap { byMessageID[$0] }
        if let tag = q.taggedTicket, let c = byTicket[tag] { out.append(c) }
        return out
    }
}
