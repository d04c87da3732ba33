public import Logging
import Foundation
public import TriageCore

/// What one poll of one mailbox did.
public struct IngestReport: Sendable, Equatable {
    public var newMessages = 0
    public var stored = 0
    public var duplicates = 0
    public var skippedUnfetchable = 0
    public var serverActions = 0
    public init() {}
}

/// One poll cycle of one mailbox: fetch what is new, commit it to the store with the cursor, then flag
/// or move it on the server. It only fetches and records: the one `MessageProcessor` turns recorded
/// messages into tickets. Every step can be interrupted (crash, SIGKILL, network) and the next cycle
/// continues from the store without loss or duplicates.
public struct MailboxIngestor: Sendable {
    public var mailbox: MailboxConfig
    public var source: any MailboxSource
    public var store: any TicketRepository
    public var maxMessageBytes: Int
    public var batchSize: Int
    public var logger: Logger
    /// The most bytes one batch downloads before it is recorded (at least one message; `batch_bytes`).
    public var maxBatchBytes = TriageConfig().batchBytes
    /// A UID that failed to download this many times becomes a placeholder ticket so it blocks nothing.
    public var maxFetchFailures = 3
    /// Where the store is called (off the cooperative pool).
    public var storeCalls = BlockingCalls(name: "store")
    /// Called after a batch is committed, to wake the processor.
    public var onRecorded: (@Sendable () -> Void)?

    public init(mailbox: MailboxConfig, source: any MailboxSource, store: any TicketRepository,
                maxMessageBytes: Int, batchSize: Int, logger: Logger)
    {
        self.mailbox = mailbox
        self.source = source
        self.store = store
        self.maxMessageBytes = maxMessageBytes
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    var name: String { mailbox.name }

    public func runCycle() async throws -> IngestReport {
        var report = IngestReport()
        let status = try await source.status()
        let cursor = try await storeCalls.run { try self.establishCursor(status) }
        report.serverActions += try await applyPendingServerActions(uidValidity: status.uidValidity)

        let found = try await source.searchUIDs(after: cursor.lastUID).sorted()
        let store = store, name = name
        let recorded = try await storeCalls.run { try store.recordedUIDs(mailbox: name, uidValidity: status.uidValidity, among: found) }
        let todo = found.filter { !recorded.contains($0) }
        report.newMessages = todo.count
        if !todo.isEmpty {
            logger.info("new messages", metadata: ["mailbox": "\(name)", "imap.count": "\(todo.count)"])
        }
        let info = todo.isEmpty ? [:] : try await source.messageInfo(of: todo)
        // UIDs that need no (more) download: already recorded, or gone from the server meanwhile.
        var settled = Set(recorded)
        for uid in todo where info[uid] == nil { settled.insert(uid) }
        var current = cursor

        let wanted = todo.filter { info[$0] != nil }
        // A batch is bounded in count and in bytes (what is downloaded is held until it is recorded); a whole
        // message is read up to the size limit (plus room for a server that miscounts its line ends), one over it
        // only its header.
        let batches = MailboxIngestor.batches(wanted.map { uid in
            DownloadRequest(uid: uid, announcedSize: info[uid]!.size, maxMessageBytes: maxMessageBytes)
        }, sizes: info.mapValues { min($0.size, maxMessageBytes) }, count: batchSize, bytes: maxBatchBytes)
        let source = source
        // The next batch downloads while this one is recorded and flagged: at most two batches are held.
        var next: Task<[DownloadResult], Never>? = batches.first.map { first in Task { await source.download(first) } }
        for (k, requests) in batches.enumerated() {
            let results = await next!.value
            next = nil
            let broken = results.contains { if case .failure(let e) = $0 { e.isAboutTheConnection } else { false } }
            if k + 1 < batches.count && !broken {
                let following = batches[k + 1]
                next = Task { await source.download(following) }
            }
            var batch: [FetchedMessage] = []
            var pendingError: (any Error)?
            for (request, result) in zip(requests, results) {
                switch result {
                case .failure(let e) where e.isAboutTheConnection:
                    pendingError = e  // keep what this batch already has, then give up the cycle
                case .failure(let e) where e.code == .limitExceeded && !request.headerOnly:
                    // Larger than announced and than the limit: like any message over the limit, only its header.
                    logger.warning("message larger than the server announced and than the size limit: storing its header only",
                                   metadata: ["mailbox": "\(name)", "imap.uid": "\(request.uid)", "announced": "\(info[request.uid]!.size)",
                                              "limit": "\(maxMessageBytes)"])
                    let header = await source.download([DownloadRequest(uid: request.uid, headerOnly: true, limit: DownloadRequest.maxHeaderBytes)]).first
                    switch header {
                    case .success(let raw)?:
                        var big = info[request.uid]!
                        big.size = max(big.size, request.limit + 1)
                        batch.append(fetched(uid: request.uid, info: big, raw: raw, headerOnly: true, cursor: current))
                    case .failure(let e2)? where e2.isAboutTheConnection:
                        pendingError = e2
                    case .failure(let e2)?:
                        if let m = try await downloadFailed(uid: request.uid, info: info[request.uid]!, error: e2, cursor: current) { batch.append(m) }
                    case nil:
                        pendingError = TriageError(.connection, "no answer to the header fetch", transient: true)
                    }
                case .failure(let e):
                    if let m = try await downloadFailed(uid: request.uid, info: info[request.uid]!, error: e, cursor: current) { batch.append(m) }
                case .success(let raw):
                    batch.append(fetched(uid: request.uid, info: info[request.uid]!, raw: raw, headerOnly: request.headerOnly, cursor: current))
                }
            }
            for m in batch { settled.insert(m.uid) }
            current.lastUID = MailboxIngestor.advance(current.lastUID, found: found, settled: settled)
            let toRecord = batch, at = current
            let outcomes = try await storeCalls.run { try store.record(toRecord, cursor: at) }
            for o in outcomes {
                switch o {
                case .stored: report.stored += 1
                case .duplicate: report.duplicates += 1
                case .alreadyRecorded: break
                }
            }
            report.skippedUnfetchable += batch.filter { $0.fetchError != nil }.count
            if !batch.isEmpty { onRecorded?() }
            report.serverActions += try await applyServerActions(batch.map(\.uid), uidValidity: status.uidValidity)
            if let pendingError { throw pendingError }
        }
        let settledUpTo = MailboxIngestor.advance(current.lastUID, found: found, settled: settled)
        if wanted.isEmpty, current.lastUID != settledUpTo {
            current.lastUID = settledUpTo
            let at = current
            _ = try await storeCalls.run { try store.record([], cursor: at) }
        }
        return report
    }

    /// The requests in batches of at most `count` messages and `bytes` bytes (at least one message each).
    static func batches(_ requests: [DownloadRequest], sizes: [UInt32: Int], count: Int, bytes: Int) -> [[DownloadRequest]] {
        var out: [[DownloadRequest]] = []
        var current: [DownloadRequest] = []
        var held = 0
        for r in requests {
            let size = sizes[r.uid] ?? 0
            if !current.isEmpty && (current.count >= count || held + size > bytes) {
                out.append(current)
                current = []
                held = 0
            }
            current.append(r)
            held += size
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The new cursor: the highest UID up to which every found UID is settled. `found` is ascending; the walk
    /// starts after `last` (found by bisection), so a cycle of many batches stays linear.
    static func advance(_ last: UInt32, found: [UInt32], settled: Set<UInt32>) -> UInt32 {
        var lo = 0, hi = found.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if found[mid] <= last { lo = mid + 1 } else { hi = mid }
        }
        var last = last
        for uid in found[lo...] {
            guard settled.contains(uid) else { break }
            last = uid
        }
        return last
    }

    /// The stored cursor, or a new baseline on first contact or after a UIDVALIDITY change.
    func establishCursor(_ status: MailboxStatus) throws -> MailboxCursor {
        let baseline = status.uidNext > 0 ? status.uidNext - 1 : 0
        guard let c = try store.cursor(mailbox: name) else {
            let c = MailboxCursor(mailbox: name, uidValidity: status.uidValidity, lastUID: 0, baselineUID: baseline)
            try store.saveCursor(c, reason: "first connection: messages up to UID \(baseline) are imported without automatic answers")
            logger.notice("first connection to the mailbox; existing mail is imported, not answered",
                          metadata: ["mailbox": "\(name)", "imap.uidvalidity": "\(status.uidValidity)", "imap.baseline_uid": "\(baseline)"])
            return c
        }
        guard c.uidValidity == status.uidValidity else {
            let n = MailboxCursor(mailbox: name, uidValidity: status.uidValidity, lastUID: 0, baselineUID: baseline)
            try store.saveCursor(n, reason: "UIDVALIDITY changed from \(c.uidValidity) to \(status.uidValidity); re-baselined, known messages are recognised by Message-ID")
            logger.warning("UIDVALIDITY changed: re-reading the folder; known messages are skipped by their Message-ID",
                           metadata: ["mailbox": "\(name)", "imap.uidvalidity.old": "\(c.uidValidity)", "imap.uidvalidity": "\(status.uidValidity)"])
            return n
        }
        return c
    }

    /// A downloaded message, ready to record. Over-size messages bring only their header.
    func fetched(uid: UInt32, info: MessageInfo, raw: [UInt8], headerOnly: Bool, cursor: MailboxCursor) -> FetchedMessage {
        let pre = uid <= cursor.baselineUID
        guard headerOnly else {
            return FetchedMessage(mailbox: name, uidValidity: cursor.uidValidity, uid: uid, raw: raw, size: raw.count,
                                  preBaseline: pre, internalDate: info.internalDate)
        }
        logger.warning("message over the size limit: storing its header only",
                       metadata: ["mailbox": "\(name)", "imap.uid": "\(uid)", "size": "\(info.size)", "limit": "\(maxMessageBytes)"])
        return FetchedMessage(mailbox: name, uidValidity: cursor.uidValidity, uid: uid, raw: raw, size: info.size,
                              truncated: true, preBaseline: pre, internalDate: info.internalDate)
    }

    /// A message the server refuses to hand out: nil means "try again next cycle"; after `maxFetchFailures`
    /// it becomes a placeholder for a human, so it never blocks the rest.
    func downloadFailed(uid: UInt32, info: MessageInfo, error e: TriageError, cursor: MailboxCursor) async throws -> FetchedMessage? {
        let store = store, name = name
        let n = try await storeCalls.run { try store.noteFetchFailure(mailbox: name, uidValidity: cursor.uidValidity, uid: uid, error: e.message) }
        logger.error("cannot download a message", metadata: [
            "mailbox": "\(name)", "imap.uid": "\(uid)", "attempt": "\(n)", "error": "\(e.message)",
        ])
        guard n >= maxFetchFailures else { return nil }
        return FetchedMessage(mailbox: name, uidValidity: cursor.uidValidity, uid: uid, raw: [], size: info.size,
                              fetchError: e.message, preBaseline: uid <= cursor.baselineUID, internalDate: info.internalDate)
    }

    func applyServerActions(_ uids: [UInt32], uidValidity: UInt32) async throws -> Int {
        guard !uids.isEmpty else { return 0 }
        if mailbox.afterProcessing != .none {
            try await source.markProcessed(uids: uids, action: mailbox.afterProcessing)
        }
        let store = store, name = name
        try await storeCalls.run { try store.markServerActionsDone(mailbox: name, uidValidity: uidValidity, uids: uids) }
        return uids.count
    }

    /// Flags or moves left undone by an interrupted earlier cycle.
    func applyPendingServerActions(uidValidity: UInt32) async throws -> Int {
        let store = store, name = name
        let pending = try await storeCalls.run { try store.pendingServerActions(mailbox: name, uidValidity: uidValidity) }
        if !pending.isEmpty {
            logger.info("completing server actions left from an interrupted cycle", metadata: ["mailbox": "\(name)", "imap.count": "\(pending.count)"])
        }
        return try await applyServerActions(pending, uidValidity: uidValidity)
    }
}
