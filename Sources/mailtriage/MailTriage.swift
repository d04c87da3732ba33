import ArgumentParser

@main
struct MailTriage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailtriage",
        abstract: "E-mail ticket triage and auto-response daemon.",
        discussion: """
            mailtriage polls IMAP mailboxes, stores every message as a ticket in its SQLite database and
            queues it for the helpdesk. Configuration: /etc/mailtriage/mailtriage.toml (see --config).
            """,
        subcommands: [Serve.self, CheckConfig.self, Queue.self, Parse.self, ClassifyCommand.self, EvalCommand.self, TrainCommand.self])
}

/// Options every command that reads the configuration shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String = "/etc/mailtriage/mailtriage.toml"

    @Option(name: .long, help: ArgumentHelp("Override state_dir from the configuration.", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"
}
