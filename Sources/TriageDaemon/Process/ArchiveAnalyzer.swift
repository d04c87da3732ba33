import Foundation
public import TriageCore
public import TriageFiles
import TriageMIME

/// `mailtriage analyze`: every message of an archive parsed and decided with the current configuration (the
/// daemon's `TriageEngine.decide`), counted in the archive's order. A reader thread streams the files in
/// batches, `workers` threads parse and decide, and the caller's thread adds the results in order. At most
/// `2 × workers` batches wait to be decided, `workers` are decided at once and `2 × workers` decided ones wait
/// for their turn, so memory does not grow with the archive.
public enum ArchiveAnalyzer {
    public struct Options: Sendable {
        public var workers: Int
        /// The mailbox whose settings decide (address, service levels by mailbox).
        public var mailbox: String
        /// Larger messages are cut here, as the daemon downloads only their header.
        public var maxMessageBytes: Int
        public var batchMessages = 256
        public var batchBytes = 4 << 20
        public var sampleSize = 20_000
        /// Message-IDs (and addresses) remembered for threading and the per-sender limit (`ArchiveThreads`).
        public var threadMemory = 100_000

        public init(workers: Int, mailbox: String, maxMessageBytes: Int) {
            self.workers = max(1, workers)
            self.mailbox = mailbox
            self.maxMessageBytes = maxMessageBytes
        }
    }

    public struct Progress: Sendable {
        public var messages: Int
        public var bytesRead: Int
        public var totalBytes: Int
        public var seconds: Double
    }

    public struct Result: Sendable {
        public var analysis: ArchiveAnalysis
        /// Files that could not be read, with the reason.
        public var unreadable: [String]
        public var seconds: Double
    }

    /// Analyses `inputs`; `progress` is called on the caller's thread after each batch.
    public static func run(_ inputs: ArchiveInputs, snapshot: TriageSnapshot, options: Options,
                           progress: (Progress) -> Void = { _ in }) -> Result
    {
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let queue = BatchQueue(capacity: 2 * options.workers)
        let results = ResultSlots<BatchResult>(capacity: 2 * options.workers)
        let unreadable = Locked<[String]>([])

        let reader = Thread {
            var batch: [ArchiveMessage] = []
            var bytes = 0
            var index = 0
            var lastRead = 0
            func flush() {
                guard !batch.isEmpty else { return }
                queue.put(Batch(index: index, messages: batch, bytesRead: lastRead))
                index += 1
                batch = []
                bytes = 0
            }
            do {
                try ArchiveReader.read(inputs.files, maxMessageBytes: options.maxMessageBytes,
                                       failed: { path, why in unreadable.withLock { $0.append("\(path): \(why)") } }) { m, read in
                    batch.append(m)
                    bytes += m.raw.count
                    lastRead = read
                    if batch.count >= options.batchMessages || bytes >= options.batchBytes { flush() }
                }
            } catch {
                unreadable.withLock { $0.append("\(error)") }
            }
            flush()
            queue.close(batches: index)
        }
        reader.name = "analyze reader"
        reader.start()

        let goodEntry = snapshot.classifier?.settings.defaultThresholds.draft ?? 0.6
        for w in 0..<options.workers {
            let own = options.workers > 1 ? snapshot.withOwnClassifier() : snapshot
            let t = Thread {
                var terms = GapTerms()
                while let batch = queue.take() {
                    var items: [AnalysisItem] = []
                    items.reserveCapacity(batch.messages.count)
                    for (k, m) in batch.messages.enumerated() {
                        items.append(decide(m, id: Int64(batch.index * options.batchMessages + k + 1), snapshot: own,
                                            mailbox: options.mailbox, goodEntry: goodEntry, terms: &terms))
                    }
                    results.put(batch.index, BatchResult(items: items, bytesRead: batch.bytesRead))
                }
            }
            t.name = "analyze \(w + 1)"
            t.start()
        }

        // The per-sender limit counts only where answers can be sent, as in the daemon.
        let guardSettings = snapshot.loopGuard.settings
        var analysis = ArchiveAnalysis(sampleSize: options.sampleSize, threads: ArchiveThreads(
            capacity: options.threadMemory, maxMailsPerSender: snapshot.answersEnabled ? guardSettings.maxAnswersPerSender : nil, window: guardSettings.window))
        var next = 0
        while let r = results.take(next, total: { queue.total }) {
            for item in r.items { analysis.add(item) }
            next += 1
            progress(Progress(messages: analysis.messages, bytesRead: r.bytesRead, totalBytes: inputs.totalBytes, seconds: elapsed()))
        }
        return Result(analysis: analysis, unreadable: unreadable.withLock { $0 }, seconds: elapsed())
    }

    /// One message, parsed and decided as the daemon would when it arrived (its Date, else its file's time).
    static func decide(_ m: ArchiveMessage, id: Int64, snapshot: TriageSnapshot, mailbox: String, goodEntry: Double,
                       terms: inout GapTerms) -> AnalysisItem
    {
        let parsed = MIMEParser.parse(m.raw)
        let at = parsed.envelope.date ?? m.fileTime ?? Int64(Date().timeIntervalSince1970)
        let stored = StoredMessage(id: id, mailbox: mailbox, raw: m.raw, size: m.size, truncated: m.truncated, fetchError: nil,
                                   preBaseline: false, attempts: 1, receivedAt: at)
        var incoming = IncomingMessage(stored: stored, parsed: parsed)
        incoming.prepared = incoming.classifierInput
        var context = DecisionContext()
        context.explain = false
        let d = TriageEngine.decide(incoming, snapshot: snapshot, context: context, now: at)
        var item = AnalysisItem.of(d, parsed: parsed, request: incoming.prepared?.body, source: m.source, bytes: m.size, fileTime: m.fileTime,
                                   goodEntry: goodEntry, terms: &terms)
        if let q = incoming.threadQuery, !parsed.headers.fields.isEmpty {
            let acknowledged = d.reasons.contains { if case .acknowledged = $0 { true } else { false } }
            item.thread = ArchiveThreads.Facts(messageID: parsed.envelope.messageID, references: q.references, senders: incoming.senders,
                                               recipient: q.recipient, automated: parsed.report.isAutomated,
                                               mails: (d.ticket.state == .answered ? 1 : 0) + (acknowledged ? 1 : 0), at: at)
        }
        return item
    }
}

private struct Batch: Sendable {
    var index: Int
    var messages: [ArchiveMessage]
    var bytesRead: Int
}

private struct BatchResult: Sendable {
    var items: [AnalysisItem]
    var bytesRead: Int
}

/// Batches from the reader to the workers: `put` waits while `capacity` batches wait.
private final class BatchQueue: @unchecked Sendable {
    private let cond = NSCondition()
    private var items: [Batch] = []
    private var closed = false
    private var count: Int?
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func put(_ b: Batch) {
        cond.lock()
        while items.count >= capacity { cond.wait() }
        items.append(b)
        cond.broadcast()
        cond.unlock()
    }

    /// The next batch, or nil when the reader is done and the queue is empty.
    func take() -> Batch? {
        cond.lock()
        defer { cond.unlock() }
        while items.isEmpty && !closed { cond.wait() }
        guard !items.isEmpty else { return nil }
        let b = items.removeFirst()
        cond.broadcast()
        return b
    }

    func close(batches: Int) {
        cond.lock()
        closed = true
        count = batches
        cond.broadcast()
        cond.unlock()
    }

    /// How many batches there are, once the reader is done.
    var total: Int? {
        cond.lock()
        defer { cond.unlock() }
        return count
    }
}

/// Decided batches by index, handed out in order. At most `capacity` results wait: a worker whose batch is
/// `capacity` or more ahead of the one the caller waits for waits itself, so a batch that takes long (a huge
/// message) does not let the results of the ones after it pile up. The worker with the awaited batch is never
/// held, so this cannot deadlock.
final class ResultSlots<Value>: @unchecked Sendable {
    private let cond = NSCondition()
    private var slots: [Int: Value] = [:]
    /// The index the caller takes next.
    private var next = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Stores result `index`, waiting while it is too far ahead.
    func put(_ index: Int, _ r: Value) {
        cond.lock()
        while index >= next + capacity { cond.wait() }
        slots[index] = r
        cond.broadcast()
        cond.unlock()
    }

    /// Stores result `index` if it is not too far ahead; false (and nothing stored) if it is.
    func tryPut(_ index: Int, _ r: Value) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        guard index < next + capacity else { return false }
        slots[index] = r
        cond.broadcast()
        return true
    }

    var waiting: Int {
        cond.lock()
        defer { cond.unlock() }
        return slots.count
    }

    /// Waits for result `index`; nil once `total()` says there is no such batch.
    func take(_ index: Int, total: () -> Int?) -> Value? {
        cond.lock()
        defer { cond.unlock() }
        while true {
            if let r = slots.removeValue(forKey: index) {
                next = index + 1
                cond.broadcast()
                return r
            }
            if let t = total(), index >= t { return nil }
            // The reader's close does not signal this condition: look again after a short wait.
            _ = cond.wait(until: Date().addingTimeInterval(0.05))
        }
    }
}

/// A value behind a lock.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
