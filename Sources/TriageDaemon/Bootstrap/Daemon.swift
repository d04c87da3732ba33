import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import TriageCore
import TriageFiles
import TriageMail
public import TriageStore
import UnixSignals

/// The daemon's parts, built from a configuration: the store, one fetch loop per mailbox, the one
/// processor, the outbox and the active snapshot. `serve` is a few lines over this; tests build it too.
public final class Daemon: Sendable {
    public let configPath: String
    public let stateDirOverride: String?
    /// The configuration at start-up; mailboxes and `[smtp]` need a restart to change.
    public let config: TriageConfig
    public let store: SQLiteTicketStore
    public let snapshots: SnapshotStore
    public let ingestors: [MailboxIngestor]
    public let processor: MessageProcessor
    public let outbox: OutboxSender?
    public let wakeup = Wakeup()
    /// Whether the loops make progress, for the watchdog and the status line.
    public let liveness = Liveness()
    /// The disk holding the database: full, the loops stop fetching and writing until there is room again.
    public let disk: DiskSpaceWatch
    public let logger: Logger
    public let notifier: SystemdNotifier
    let generation = Atomic<Int>(1)
    /// Where the classifier came from; nil: no classifier.
    public let classifierSource: String?
    /// Retrains from agents' corrections (schedule and SIGHUP).
    public let retrainer: Retrainer

    /// Reads every configuration file, opens the store and reads the secrets. Throws `ConfigError` (with
    /// every diagnostic) or `TriageError`.
    public init(configPath: String, stateDir: String? = nil, logger: Logger, notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.configPath = configPath
        stateDirOverride = stateDir
        self.logger = logger
        self.notifier = notifier
        let loaded = try SnapshotLoader.load(configPath: configPath, stateDir: stateDir, saveTrained: true)
        for w in loaded.warnings { logger.warning("\(w.description)") }
        config = loaded.config
        classifierSource = loaded.classifierSource
        snapshots = SnapshotStore(loaded.snapshot)
        store = try SQLiteTicketStore(path: config.resolvedDatabasePath)
        disk = DiskSpaceWatch(directory: (config.resolvedDatabasePath as NSString).deletingLastPathComponent, logger: logger)
        var ingestors: [MailboxIngestor] = []
        let wakeup = wakeup
        for mb in config.mailboxes {
            let liveness = liveness, loop = "mailbox \(mb.name)"
            let source = IMAPMailbox(options: try Logins.mailbox(mb, logger: logger), progress: { liveness.beat(loop) })
            var ingestor = MailboxIngestor(mailbox: mb, source: source, store: store,
                                           maxMessageBytes: config.maxMessageBytes, batchSize: config.batchSize, logger: logger)
            ingestor.maxBatchBytes = config.batchBytes
            ingestor.onRecorded = { wakeup.signal() }
            ingestors.append(ingestor)
        }
        self.ingestors = ingestors
        var processor = MessageProcessor(store: store, snapshots: snapshots, batchSize: config.batchSize, logger: logger)
        processor.maxBatchBytes = config.batchBytes
        self.processor = processor
        retrainer = Retrainer(configPath: configPath, stateDir: stateDir, store: store, logger: logger)
        if let smtp = config.smtp {
            let domain = config.mailboxes.compactMap(\.address).first.flatMap { $0.split(separator: "@").last.map(String.init) }
            let settings = try Logins.smtp(smtp, heloName: smtp.heloName ?? domain ?? "localhost", logger: logger)
            outbox = OutboxSender(store: store, sender: SMTPSender(settings: settings), maxRetryDelay: config.answers.maxRetryDelay,
                                  logger: logger)
        } else {
            outbox = nil
        }
    }

    /// One cycle per mailbox, then everything recorded is processed, then one outbox pass over every
    /// pending answer (`serve --once`). Returns one line per step and whether any step failed.
    public func runOnce() async -> (lines: [String], errors: [String]) {
        var lines: [String] = [], errors: [String] = []
        for ing in ingestors {
            do {
                let r = try await ing.runCycle()
                lines.append("\(ing.mailbox.name): \(r.newMessages) new, \(r.stored) stored, \(r.duplicates) duplicate, \(r.serverActions) marked on the server")
            } catch {
                errors.append("mailbox \(ing.mailbox.name): \((error as? TriageError)?.message ?? "\(error)")")
            }
            await ing.source.disconnect()
        }
        do {
            let processor = processor
            let r = try await BlockingCalls(name: "processor").run {
                try processor.releaseDeadClaims()
                return try processor.drain()
            }
            lines.append("processed: \(r.tickets) tickets created, \(r.joined) joined existing tickets, \(r.answers) answers queued")
        } catch {
            errors.append("processing: \((error as? TriageError)?.message ?? "\(error)")")
        }
        do {
            let n = try await SLAWatchService(store: store, snapshots: snapshots, interval: .seconds(30), logger: logger).pass()
            if n > 0 { lines.append("service levels: \(n) warnings or escalations") }
        } catch {
            errors.append("service levels: \((error as? TriageError)?.message ?? "\(error)")")
        }
        if let outbox {
            do {
                let r = try await outbox.runOnce(all: true)
                lines.append("outbox: \(r.sent) sent, \(r.retrying) waiting for a retry, \(r.failed) refused by the server")
                if let e = r.outage { errors.append("outbox: cannot send, the answers stay queued: \(e.message)") }
            } catch {
                errors.append("outbox: \((error as? TriageError)?.message ?? "\(error)")")
            }
        }
        do {
            try await MetricsService(store: store, path: MetricsFile.path(stateDir: config.stateDir), interval: .seconds(60), logger: logger).write()
        } catch {
            errors.append("metrics: \((error as? TriageError)?.message ?? "\(error)")")
        }
        return (lines, errors)
    }

    /// The services in start order. Graceful shutdown runs in reverse: the notifier says STOPPING, the
    /// fetch loops stop taking mail (aborting a transfer in progress), the processor finishes the batch
    /// in hand, and the outbox drains for a bounded time.
    public func services(clock: any Clock<Duration> = ContinuousClock()) -> [any Service] {
        var services: [any Service] = []
        if let outbox {
            var service = OutboxService(outbox: outbox, interval: min(config.pollInterval, .seconds(30)), clock: clock)
            service.disk = disk
            services.append(service)
        }
        var processorService = ProcessorService(processor: processor, wakeup: wakeup, interval: min(config.pollInterval, .seconds(60)), clock: clock)
        processorService.liveness = liveness
        processorService.disk = disk
        services.append(processorService)
        var watch = SLAWatchService(store: store, snapshots: snapshots, interval: min(config.pollInterval, .seconds(30)), clock: clock, logger: logger)
        watch.disk = disk
        services.append(watch)
        var metrics = MetricsService(store: store, path: MetricsFile.path(stateDir: config.stateDir), interval: min(config.pollInterval, .seconds(60)),
                                     clock: clock, logger: logger)
        metrics.disk = disk
        services.append(metrics)
        // The start-up is over once every mailbox has had its first round (done or failed): then the memory
        // only the start-up used is given back (MemoryRelease).
        let firstRounds = FirstRounds(mailboxes: ingestors.map(\.mailbox.name))
        for ing in ingestors {
            var poll = MailboxPollService(ingestor: ing, interval: config.pollInterval, maxBackoff: config.maxBackoff, clock: clock, logger: logger)
            poll.liveness = liveness
            poll.disk = disk
            let name = ing.mailbox.name
            poll.onCycle = { [self] _ in
                if firstRounds.done(name) { releaseMemory(after: "start-up") }
            }
            services.append(poll)
        }
        if let every = config.classifier.retrainInterval, config.knowledgeBase != nil {
            services.append(RetrainService(daemon: self, interval: every, clock: clock))
        }
        services.append(ReloadService(daemon: self))
        let liveness = liveness, store = store, count = ingestors.count
        services.append(SystemdNotifyService(notifier: notifier, status: {
            // "polling 2 mailboxes (mailbox support 12:03:04); queue: 17 waiting, 2 overdue; last error: ..."
            let s = liveness.summary()
            let g = try? store.queueGauges(now: Int64(Date().timeIntervalSince1970))
            var line = "polling \(count) mailbox\(count == 1 ? "" : "es")" + (s.done.isEmpty ? "" : " (\(s.done.joined(separator: ", ")))")
            if let g { line += "; queue: \(g.waiting.values.reduce(0, +)) waiting, \(g.overdue.values.reduce(0, +)) overdue" }
            if let e = s.lastError { line += "; last error: \(e)" }
            return line
        }, liveness: liveness, clock: clock, logger: logger))
        return services
    }

    /// Runs until SIGTERM or SIGINT.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: services().map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        if let source = classifierSource {
            logger.info("classifier ready", metadata: ["model": "\(source)"])
        } else {
            logger.notice("no classifier: no trained model in the state directory and no knowledge_base configured; tickets stay unclassified")
        }
        logger.notice("mailtriage started", metadata: ["mailboxes": "\(config.mailboxes.map(\.name).joined(separator: ","))",
                                                       "database": "\(config.resolvedDatabasePath)"])
        try await group.run()
        logger.notice("mailtriage stopped")
    }

    /// Gives back the heap's free pages and the pages of code and data only `what` used (`MemoryRelease`),
    /// and says how much.
    func releaseMemory(after what: String) {
        let r = MemoryRelease.release()
        logger.info("memory given back", metadata: ["after": "\(what)", "heap_kib": "\(r.anonymousKiB)", "mapped_files_kib": "\(r.fileKiB)"])
    }

    /// Re-reads rules, thresholds, knowledge base, model and answer settings and swaps them in as one
    /// snapshot. A configuration with errors is rejected with every diagnostic, and the running one stays.
    /// Returns true when the new configuration is active.
    @discardableResult
    public func reload() -> Bool {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())")
        defer { notifier.notify("READY=1\nSTATUS=polling \(ingestors.count) mailbox\(ingestors.count == 1 ? "" : "es")") }
        let next = generation.load(ordering: .relaxed) + 1
        do {
            let loaded = try SnapshotLoader.load(configPath: configPath, stateDir: stateDirOverride, generation: next, saveTrained: true)
            for w in loaded.warnings { logger.warning("\(w.description)") }
            if loaded.config.mailboxes.map(\.url) != config.mailboxes.map(\.url) || loaded.config.mailboxes.map(\.name) != config.mailboxes.map(\.name)
                || loaded.config.smtp != config.smtp || loaded.config.resolvedDatabasePath != config.resolvedDatabasePath
            {
                logger.warning("mailboxes, [smtp] and the database change only with a restart; the rest of the new configuration is active")
            }
            snapshots.replace(loaded.snapshot)
            generation.store(next, ordering: .relaxed)
            logger.notice("configuration reloaded", metadata: ["generation": "\(next)", "model": "\(loaded.classifierSource ?? "none")"])
            return true
        } catch let e as ConfigError {
            for d in e.diagnostics where d.severity == .error { logger.error("\(d.description)") }
            logger.error("reload rejected: the previous configuration stays active")
            return false
        } catch {
            logger.error("reload rejected: \(error); the previous configuration stays active")
            return false
        }
    }
}

/// Reloads the configuration on SIGHUP (`systemctl reload mailtriage`).
struct ReloadService: Service {
    let daemon: Daemon
    let thread = TransferThread(name: "reload")

    func run() async throws {
        let daemon = daemon
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            daemon.logger.notice("SIGHUP: reloading the configuration")
            _ = try? await thread.run {
                // New corrections since the model was trained: retrain first (a worse model is not used).
                if case .failed(let m) = daemon.retrainer.retrain() { daemon.logger.error("retraining failed: \(m)") }
                defer { daemon.releaseMemory(after: "reload") }
                return daemon.reload()
            }
        }
    }
}

/// Which mailboxes have had their first round since the start; says once when the last one has.
final class FirstRounds: Sendable {
    private let pending: Mutex<Set<String>?>

    init(mailboxes: [String]) { pending = Mutex(Set(mailboxes)) }

    /// Records `mailbox`'s round; true exactly once: when it was the last mailbox without one.
    func done(_ mailbox: String) -> Bool {
        pending.withLock { p in
            guard p != nil, p!.remove(mailbox) != nil, p!.isEmpty else { return false }
            p = nil
            return true
        }
    }
}
