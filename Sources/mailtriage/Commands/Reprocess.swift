import ArgumentParser
import Foundation
import TriageCore
import TriageDaemon
import TriageFiles
import TriageStore

struct ReprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess",
        abstract: "Parse and decide tickets again from their stored mail (after a fix or a knowledge-base change); fetch placeholders again.",
        discussion: """
            mailtriage reprocess 1042 1043       these tickets
            mailtriage reprocess --failed        every ticket whose mail was not downloaded or failed processing
            mailtriage reprocess --failed --dry-run
            The decision is the daemon's with the current configuration; the ticket is updated in place and keeps its
            number. A message that could not be downloaded is fetched again from its mailbox first. An automatic answer
            is queued (and sent by the running daemon) only for a ticket that is still open, unanswered and with no
            agent, and never for mail that was in the folder before the first poll. Acknowledgements are not repeated.
            """)

    @OptionGroup var db: QueueDatabase
    @Argument(help: ArgumentHelp("Ticket numbers.", valueName: "ticket")) var tickets: [Int64] = []
    @Flag(help: "Every ticket whose mail was not downloaded or whose processing failed.") var failed = false
    @Flag(help: "Decide and show, but do not fetch or write anything.") var dryRun = false

    func validate() throws {
        if tickets.isEmpty && !failed { throw ValidationError("name tickets or use --failed") }
    }

    func run() async throws {
        let loaded: SnapshotLoader.Loaded
        do { loaded = try SnapshotLoader.load(configPath: db.global.config, stateDir: db.global.stateDir, mailboxes: true) } catch let e as ConfigError {
            for d in e.diagnostics { printErr(d.description) }
            throw ExitCode(1)
        }
        let path = try db.existingPath()
        let store: SQLiteTicketStore
        do { store = try SQLiteTicketStore(path: path) } catch {
            printErr("mailtriage: cannot open \(path) for writing: \(error) (reprocessing needs write access, as the daemon's user)")
            throw ExitCode(1)
        }
        let ids = failed ? try store.failedTickets(maxAttempts: TriageEngine.maxAttempts) + tickets : tickets
        if ids.isEmpty {
            print("no ticket to reprocess")
            return
        }
        let sources = MailboxSources(loaded.config)
        let r = Reprocessor(store: store, snapshot: loaded.snapshot, source: { sources.source($0) })
        var failures = 0
        for line in await r.run(Array(NSOrderedSet(array: ids)) as? [Int64] ?? ids, dryRun: dryRun) {
            if let e = line.error {
                failures += 1
                print("#\(line.ticket): \(e)")
            } else {
                print("#\(line.ticket): \(line.refetched ? "fetched again; " : "")\(line.before) -> \(line.after): \(line.outcome)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
