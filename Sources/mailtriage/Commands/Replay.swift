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
        discussion: "The candidate (rules, thresholds, knowledge base, model, service levels) is read like the daemon reads it: --candidate, else --config (a copy of the running configuration with the change, pointing at the same database). The tickets come from that configuration's database (--database to choose another), newest first. Counts first, then examples.")

    @OptionGroup var db: QueueDatabase
    @Option(name: .customLong("candidate"), help: ArgumentHelp("The candidate configuration (default: --config).", valueName: "path"))
    var candidate: String?
    @Option(help: ArgumentHelp("Only tickets received on or after this day (YYYY-MM-DD, UTC).", valueName: "date")) var since: String?
    @Option(help: "Only the most recent N tickets (by ticket number).") var limit: Int?
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
        let report = try ReplayReport.run(store: store, snapshot: loaded.snapshot, since: start, limit: limit, examples: examples)
        if json {
            print(try jsonString(report, pretty: true))
            return
        }
        print("\(report.tickets) ticket\(report.tickets == 1 ? "" : "s") decided again; \(report.changed) would change")
        for kind in ReplayReport.kinds {
            guard let k = report.changes[kind], k.count > 0 else { continue }
            print("\n\(kind): \(k.count)")
            for (p, n) in k.moves.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).prefix(20) { print("  \(n)  \(p)") }
            for c in k.examples { print("    #\(c.ticket) \(c.subject.prefix(60)): \(c.before) -> \(c.after)") }
        }
    }
}
