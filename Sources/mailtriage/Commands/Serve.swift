import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TriageCore
import TriageDaemon
import TriageMail
import TriageStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: poll every mailbox until SIGTERM or SIGINT.",
        discussion: """
            Each poll fetches new messages, commits them to the store, then flags or moves them on the
            server (after_processing), and creates tickets. With --once, one cycle per mailbox runs and
            the command exits: status 0 when every mailbox succeeded, 1 otherwise (one line per failure
            on standard error), for tests and cron.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Run one poll cycle per mailbox and exit.")
    var once = false

    func run() async throws {
        let logger = bootstrapLogging(level: global.logLevel)
        let config = try loadConfig(global, logger: logger)
        let store = try SQLiteTicketStore(path: config.resolvedDatabasePath)
        let classifier: SharedClassifier?
        do {
            classifier = try SharedClassifier.load(config: config)
        } catch let e as ConfigError {
            for d in e.diagnostics { printErr(d.description) }
            throw ExitCode(1)
        } catch {
            printErr("mailtriage: classifier: \(error)")
            throw ExitCode(1)
        }
        if let classifier {
            logger.info("classifier ready", metadata: ["model": "\(classifier.source)"])
        } else {
            logger.log(level: once ? .debug : .notice,
                       "no classifier: no trained model in the state directory and no knowledge_base configured; tickets stay unclassified")
        }
        // Automatic answers: an [smtp] table and a knowledge base.
        var answering: AnswerEngine?
        var outbox: OutboxSender?
        if let smtp = config.smtp {
            guard let kbPath = config.knowledgeBase else {
                printErr("mailtriage: [smtp] is configured but knowledge_base is not: automatic answers need the knowledge base")
                throw ExitCode(1)
            }
            do {
                let kb = try TrainingData.knowledgeBase(at: kbPath)
                answering = try AnswerEngine(config: config, entries: kb.entries)
                let password = try smtp.password.map { try SecretReader.read($0) }
                let domain = config.mailboxes.compactMap(\.address).first.flatMap { $0.split(separator: "@").last.map(String.init) }
                var settings = SMTPSettings(url: smtp.url, username: smtp.username, password: password, caFile: smtp.caFile,
                                            heloName: smtp.heloName ?? domain ?? "localhost")
                settings.connectTimeout = smtp.connectTimeout
                settings.responseTimeout = smtp.responseTimeout
                outbox = OutboxSender(store: store, sender: SMTPSender(settings: settings), maxRetryDelay: config.answers.maxRetryDelay,
                                      logger: logger)
            } catch let e as TriageError {
                printErr("mailtriage: \(e.message)")
                throw ExitCode(1)
            } catch {
                printErr("mailtriage: \(error)")
                throw ExitCode(1)
            }
        }
        var ingestors: [MailboxIngestor] = []
        for mb in config.mailboxes {
            let password: String
            do { password = try SecretReader.read(mb.password) } catch let e as TriageError {
                printErr("mailtriage: mailbox \(mb.name): \(e.message)")
                throw ExitCode(1)
            }
            let source = IMAPMailbox(options: .init(mb, password: password))
            var ingestor = MailboxIngestor(mailbox: mb, source: source, store: store, maxMessageBytes: config.maxMessageBytes,
                                           batchSize: config.batchSize, logger: logger)
            ingestor.classifier = classifier
            ingestor.answering = answering
            ingestors.append(ingestor)
        }
        if once {
            var failed = false
            for ing in ingestors {
                do {
                    let r = try await ing.runCycle()
                    print("\(ing.mailbox.name): \(r.newMessages) new, \(r.stored) stored, \(r.duplicates) duplicate, \(r.ticketsCreated) tickets created, \(r.serverActions) marked on the server")
                } catch {
                    failed = true
                    printErr("mailtriage: mailbox \(ing.mailbox.name): \((error as? TriageError)?.message ?? "\(error)")")
                }
                await ing.source.disconnect()
            }
            if let outbox {
                do {
                    let r = try await outbox.runOnce(all: true)
                    print("outbox: \(r.sent) sent, \(r.retrying) waiting for a retry, \(r.failed) refused by the server")
                } catch {
                    failed = true
                    printErr("mailtriage: outbox: \((error as? TriageError)?.message ?? "\(error)")")
                }
            }
            if failed { throw ExitCode(1) }
            return
        }
        var services: [any Service] = ingestors.map {
            MailboxPollService(ingestor: $0, interval: config.pollInterval, maxBackoff: config.maxBackoff, logger: logger)
        }
        if let outbox { services.append(OutboxService(outbox: outbox, interval: min(config.pollInterval, .seconds(30)))) }
        services.append(SystemdNotifyService())
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        // Reloading the tunable config on SIGHUP comes with the rules and service levels; until then a
        // stray SIGHUP must not end the daemon (its default action), so it is logged and ignored.
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP)
        hup.setEventHandler { logger.notice("SIGHUP ignored: restart mailtriage to apply configuration changes") }
        hup.resume()
        defer { hup.cancel() }
        logger.notice("mailtriage started", metadata: ["mailboxes": "\(config.mailboxes.map(\.name).joined(separator: ","))",
                                                       "database": "\(config.resolvedDatabasePath)"])
        try await group.run()
        logger.notice("mailtriage stopped")
    }
}

func bootstrapLogging(level: String) -> Logger {
    let lvl = Logger.Level(rawValue: level.lowercased()) ?? .info
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
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
