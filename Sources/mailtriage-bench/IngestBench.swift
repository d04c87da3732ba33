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

/// Measures ingest end to end: every message of a mailbox fetched, committed to a fresh SQLite store with its
/// cursor, flagged `\Seen` on the server and turned into a ticket, as `serve` does it: the fetch loop and the one
/// processor run side by side (the processor woken by each recorded batch); the clock stops when the last ticket
/// is decided.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest throughput against an IMAP server (see Benchmarks/ingest.sh).")

    @Option(help: "imaps:// or imap:// URL of the folder.") var url: String
    @Option(help: "IMAP user.") var user: String
    @Option(help: "A file holding the IMAP password.") var passwordFile: String
    @Option(help: "CA file for the server certificate.") var caFile: String?
    @Option(help: "Database file to create (removed first).") var database: String
    @Option(help: "Messages per transaction.") var batchSize = TriageConfig().batchSize
    @Flag(inversion: .prefixedNo, help: "Pipelined commands over one connection (the default), or one transfer per message.")
    var pipelining = true

    func run() async throws {
        guard let u = IMAPURL(url) else { throw ValidationError("bad URL \(url)") }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let store = try SQLiteTicketStore(path: database)
        var mb = MailboxConfig(name: "bench", url: u, username: user, password: .file(passwordFile))
        mb.caFile = caFile
        mb.pipelining = pipelining
        let password = try SecretReader.read(.file(passwordFile))
        let source = IMAPMailbox(options: .init(mb, password: password))
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var ingestor = MailboxIngestor(mailbox: mb, source: source, store: store, maxMessageBytes: TriageConfig().maxMessageBytes,
                                       batchSize: batchSize, logger: logger)
        // Tickets, as the daemon's processor makes them (no classifier, as before the split).
        var config = TriageConfig()
        config.mailboxes = [mb]
        let processor = MessageProcessor(store: store, snapshots: SnapshotStore(try TriageSnapshot(config: config, classifier: nil, knowledgeBase: nil)),
                                         batchSize: batchSize, logger: logger)
        let fetchDone = AbortFlag()
        let wake = DispatchSemaphore(value: 0)
        ingestor.onRecorded = { wake.signal() }
        let processing = TransferThread(name: "processor")
        let clock = ContinuousClock()
        let start = clock.now
        async let decided = processing.run { () throws -> (ProcessReport, ContinuousClock.Instant) in
            var total = ProcessReport()
            while true {
                let last = fetchDone.isSet  // one more pass after the fetch loop is done
                let r = try processor.drain()
                total.tickets += r.tickets
                total.joined += r.joined
                if last { return (total, clock.now) }
                if r.tickets + r.joined == 0 { _ = wake.wait(timeout: .now() + .milliseconds(20)) }
            }
        }
        let report: IngestReport
        do {
            report = try await ingestor.runCycle()
        } catch {
            fetchDone.set()
            _ = try? await decided
            throw error
        }
        let fetched = clock.now - start
        fetchDone.set()
        wake.signal()
        let (processed, end) = try await decided
        await source.disconnect()
        let secs = (end - start).seconds
        let bytes = try store.counts()
        let raw = try FileManager.default.attributesOfItem(atPath: database)[.size] as? Int ?? 0
        print(String(format: "mailtriage (%@): %d messages stored, %d tickets, %.3f s, %.0f msg/s (fetch and record done after %.3f s; db %.1f MiB, %d rows)",
                     pipelining ? "pipelined" : "one transfer per message", report.stored, processed.tickets, secs,
                     Double(processed.tickets) / secs, fetched.seconds, Double(raw) / 1048576, bytes.messages))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
