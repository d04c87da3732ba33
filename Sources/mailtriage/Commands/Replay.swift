import ArgumentParser
import Foundation
import TriageCore
import TriageDaemon
import TriageFiles
import TriageStore

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Decide stored tickets again with a candidate configuration and show what would change; nothing is written or sent.",
        discussion: "The candidate (rules, thresholds, knowledge base, model, service levels) is read like the daemon reads it; the tickets come from the configured database (--database to choose another). Counts first, then examples.")

    @OptionGroup var db: QueueDatabase
    @Option(name: .customLong("candidate"), help: ArgumentHelp("The candidate configuration (default: --config).", valueName: "path"))
    var candidate: String?
    @Option(help: ArgumentHelp("Only tickets received on or after this day (YYYY-MM-DD, UTC).", valueName: "date")) var since: String?
    @Option(help: "At most this many tickets.") var limit: Int?
    @Option(help: "Examples per kind of change.") var examples = 5
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let start = try since.map(utcDay)
        let loaded: SnapshotLoader.Loaded
        do { loaded = try SnapshotLoader.load(configPath: candidate ?? db.global.config, mailboxes: false) } catch let e as ConfigError {
            for d in e.diagnostics { printErr(d.description) }
            throw ExitCode(1)
        }
        let store = try SQLiteTicketStore.forReading(try db.existingPath())
        let report = try ReplayReport.run(store: store, snapshot: loaded.snapshot, since: start, limit: limit)
        if json {
            print(try jsonString(report, pretty: true))
            return
        }
        print("\(report.tickets) tickets decided again; \(report.changed) would change")
        for kind in ["category", "degree", "answer", "group", "due"] {
            guard let list = report.changes[kind], !list.isEmpty else { continue }
            print("\n\(kind): \(list.count)")
            var pairs: [String: Int] = [:]
            for c in list { pairs["\(c.before) -> \(c.after)", default: 0] += 1 }
            for (p, n) in pairs.sorted(by: { $0.value > $1.value }) { print("  \(n)  \(p)") }
            for c in list.prefix(examples) { print("    #\(c.ticket) \(c.subject.prefix(60)): \(c.before) -> \(c.after)") }
        }
    }
}
