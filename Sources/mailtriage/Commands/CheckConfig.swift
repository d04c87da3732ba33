import ArgumentParser
import Foundation
import TriageDaemon
import TriageCore
import TriageFiles

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and report every problem with file, line and key.",
        discussion: "Exit status 0 when the configuration can be used (warnings allowed), 1 when it has errors.")

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String = ConfigLoader.defaultPath

    func run() throws {
        do {
            // The same loader the daemon uses at start-up and on SIGHUP: what passes here, loads there.
            let loaded = try SnapshotLoader.load(configPath: config, classifier: false)
            for w in loaded.warnings { printErr(w.description) }
            for line in loaded.summary { print(line) }
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
