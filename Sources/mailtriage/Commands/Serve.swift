import ArgumentParser
import Foundation
import Logging
import TriageCore
import TriageFiles
import TriageDaemon

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: poll every mailbox until SIGTERM or SIGINT; SIGHUP reloads the configuration.",
        discussion: """
            One fetch loop per mailbox fetches new messages, commits them to the store, then flags or moves
            them on the server (after_processing); one processor turns them into tickets and queues automatic
            answers; the outbox sends them. With --once, one cycle per mailbox runs, then processing and one
            outbox pass, and the command exits: status 0 when every step succeeded, 1 otherwise (one line per
            failure on standard error), for tests and cron.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Run one poll cycle per mailbox, process, send, and exit.")
    var once = false

    func run() async throws {
        // Two malloc arenas for a process of many mostly waiting threads (before the daemon's threads start).
        MemoryRelease.limitArenas()
        // The level: --log-level, else the configuration's (a configuration with errors is reported below).
        let level = global.logLevel ?? (try? ConfigLoader.load(path: global.config, mailboxes: false).config.logLevel) ?? "info"
        let logger = bootstrapLogging(level: level)
        let daemon: Daemon
        do {
            daemon = try Daemon(configPath: global.config, stateDir: global.stateDir, logger: logger)
        } catch let e as ConfigError {
            for d in e.diagnostics where d.severity == .error { printErr(d.description) }
            throw ExitCode(1)
        } catch let e as TriageError {
            printErr("mailtriage: \(e.message)")
            throw ExitCode(1)
        }
        if once {
            let (lines, errors) = await daemon.runOnce()
            for l in lines { print(l) }
            for e in errors { printErr("mailtriage: \(e)") }
            if !errors.isEmpty { throw ExitCode(1) }
            return
        }
        try await daemon.run()
    }
}

func bootstrapLogging(level: String) -> Logger {
    let lvl = Logger.Level(rawValue: level.lowercased()) ?? .info
    let journal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false
    LoggingSystem.bootstrap { label in TriageLogHandler(label: label, level: lvl, journal: journal) }
    var logger = Logger(label: "mailtriage")
    logger.logLevel = lvl
    return logger
}

/// Loads the configuration or exits with every diagnostic printed.
func loadConfig(_ global: GlobalOptions, mailboxes: Bool = true, logger: Logger?) throws -> TriageConfig {
    do {
        var (config, warnings) = try ConfigLoader.load(path: global.config, mailboxes: mailboxes)
        for w in warnings { logger?.warning("\(w.description)") }
        if let dir = global.stateDir { config.stateDir = dir }
        return config
    } catch let e as ConfigError {
        for d in e.diagnostics { printErr(d.description) }
        throw ExitCode(1)
    }
}
