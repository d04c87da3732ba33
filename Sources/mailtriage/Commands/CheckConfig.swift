import ArgumentParser
import Foundation
import TriageDaemon
import TriageCore
import TriageFiles

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and report every problem with file, line and key.",
        discussion: """
            Exit status 0 when the configuration can be used (warnings allowed), 1 when it has errors.
            --connect also logs in to every mailbox and to the SMTP server (passwords or OAuth2 tokens) and reports each
            result, without fetching or sending mail: a test of the credentials before the daemon starts.
            """)

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String = ConfigLoader.defaultPath

    @Flag(help: "Also log in to every mailbox and the SMTP server and report each result.") var connect = false

    func run() async throws {
        do {
            // The same loader the daemon uses at start-up and on SIGHUP: what passes here, loads there.
            let loaded = try SnapshotLoader.load(configPath: config, classifier: false)
            for w in loaded.warnings { printErr(w.description) }
            for line in loaded.summary { print(line) }
            if connect {
                let failed = await ConnectionCheck.run(loaded.config)
                for line in failed.lines { print(line) }
                if failed.failures > 0 { throw ExitCode(1) }
            }
        } catch let e as ConfigError {
            for d in e.diagnostics { printErr(d.description) }
            let n = e.diagnostics.filter { $0.severity == .error }.count
            printErr("\(config): \(n) error\(n == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }
}

func printErr(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
