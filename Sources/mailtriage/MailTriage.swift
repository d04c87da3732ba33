import ArgumentParser
import Foundation

@main
struct MailTriage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailtriage",
        abstract: "E-mail ticket triage and auto-response daemon.",
        discussion: """
            mailtriage polls IMAP mailboxes, stores every message as a ticket in its SQLite database and
            queues it for the helpdesk. Configuration: /etc/mailtriage/mailtriage.toml (see --config).
            """,
        subcommands: [Serve.self, CheckConfig.self, Queue.self, StatsCommand.self, ReplayCommand.self, AnalyzeCommand.self, ReprocessCommand.self, Parse.self, ClassifyCommand.self,
                      EvalCommand.self, TrainCommand.self])

    /// As ArgumentParser's, but a usage error exits with status 2 (scripts tell "refused", 1, from "wrong call", 2).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command that reads the configuration shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String = "/etc/mailtriage/mailtriage.toml"

    @Option(name: .long, help: ArgumentHelp("Override state_dir from the configuration.", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error (default: log_level in the configuration, else info).", valueName: "level"))
    var logLevel: String?
}
