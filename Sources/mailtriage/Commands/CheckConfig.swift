import ArgumentParser
import Foundation
import TriageDaemon
import TriageCore

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and report every problem with file, line and key.",
        discussion: "Exit status 0 when the configuration can be used (warnings allowed), 1 when it has errors.")

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String = ConfigLoader.defaultPath

    func run() throws {
        do {
            let (cfg, warnings) = try ConfigLoader.load(path: config)
            for w in warnings { printErr(w.description) }
            print("\(config): OK (\(cfg.mailboxes.count) mailbox\(cfg.mailboxes.count == 1 ? "" : "es"), \(warnings.count) warning\(warnings.count == 1 ? "" : "s"))")
            var failed = false
            if let rules = cfg.classifier.rulesFile {
                do {
                    let (r, w) = try RulesLoader.load(path: rules, categories: cfg.classifier.settings.categories)
                    for d in w { printErr(d.description) }
                    print("\(rules): OK (\(r.count) rule\(r.count == 1 ? "" : "s"))")
                } catch let e as ConfigError {
                    for d in e.diagnostics { printErr(d.description) }
                    failed = true
                }
            }
            if let kb = cfg.knowledgeBase {
                do {
                    let (entries, examples) = try TrainingData.knowledgeBase(at: kb)
                    let problems = KnowledgeBaseCheck.problems(entries, categories: cfg.classifier.settings.categories,
                                                               placeholders: cfg.smtp == nil ? nil : Set(cfg.answers.placeholders.keys))
                    for p in problems { printErr(p.description) }
                    if problems.contains(where: { $0.severity == .error }) { failed = true } else {
                        print("\(kb): OK (\(entries.count) entries, \(examples.count) examples)")
                    }
                } catch {
                    printErr("\(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
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
