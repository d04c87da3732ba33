import ArgumentParser
import Foundation
import Logging
import TriageCore
import TriageFiles
import TriageDaemon
import TriageMail
import TriageStore

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailtriage-bench",
        abstract: "mailtriage's benchmarks (see BENCHMARKS.md and Benchmarks/).",
        subcommands: [IngestBench.self, ParseBench.self, ClassifyBench.self, StoreGen.self])
}

/// Measures ingest: every message of a mailbox fetched over one kept connection, committed to a fresh
/// SQLite store with its cursor, and turned into tickets, as `serve --once` does.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest throughput against an IMAP server (see Benchmarks/ingest.sh).")

    @Option(help: "imaps:// or imap:// URL of the folder.") var url: String
    @Option(help: "IMAP user.") var user: String
    @Option(help: "A file holding the IMAP password.") var passwordFile: String
    @Option(help: "CA file for the server certificate.") var caFile: String?
    @Option(help: "Database file to create (removed first).") var database: String
    @Option(help: "Messages per transaction.") var batchSize = 50

    func run() async throws {
        guard let u = IMAPURL(url) else { throw ValidationError("bad URL \(url)") }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let store = try SQLiteTicketStore(path: database)
        var mb = MailboxConfig(name: "bench", url: u, username: user, password: .file(passwordFile))
        mb.caFile = caFile
        mb.afterProcessing = .none  // the fetch itself sets \Seen; no extra server write, as in the Python loop
        let password = try SecretReader.read(.file(passwordFile))
        let source = IMAPMailbox(options: .init(mb, password: password))
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let ingestor = MailboxIngestor(mailbox: mb, source: source, store: store, maxMessageBytes: 25 << 20,
                                       batchSize: batchSize, logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        let report = try await ingestor.runCycle()
        let fetched = clock.now - start
        // Tickets, as the daemon's processor makes them (no classifier, as before the split).
        var config = TriageConfig()
        config.mailboxes = [mb]
        let processor = MessageProcessor(store: store, snapshots: SnapshotStore(try TriageSnapshot(config: config, classifier: nil, knowledgeBase: nil)),
                                         batchSize: batchSize, logger: logger)
        let processed = try processor.drain()
        let elapsed = clock.now - start
        await source.disconnect()
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let bytes = try store.counts()
        let raw = try FileManager.default.attributesOfItem(atPath: database)[.size] as? Int ?? 0
        let fetchSecs = Double(fetched.components.seconds) + Double(fetched.components.attoseconds) / 1e18
        print(String(format: "mailtriage: %d messages stored, %d tickets, %.3f s, %.0f msg/s (fetch and record %.3f s, decide and apply %.3f s; db %.1f MiB, %d rows)",
                     report.stored, processed.tickets, secs, Double(report.stored) / secs, fetchSecs, secs - fetchSecs,
                     Double(raw) / 1048576, bytes.messages))
    }
}
