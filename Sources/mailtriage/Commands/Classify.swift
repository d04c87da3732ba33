import ArgumentParser
import Foundation
import TriageCore
import TriageDaemon
import TriageMIME

/// Where the classifier's parts come from, for `classify`, `eval` and `train`: flags first, then the
/// configuration (when there is one), then the installed defaults, then the working directory.
struct ClassifierOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file (optional for these commands).", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Knowledge base directory.", valueName: "dir"))
    var knowledgeBase: String?

    @Option(name: .long, help: ArgumentHelp("Rules file (default: the configured one, /etc/mailtriage/rules.toml or ./config/rules.toml).", valueName: "path"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("Model file (default: classifier.model in the state directory).", valueName: "path"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("State directory holding the trained model.", valueName: "dir"))
    var stateDir: String?

    static let installedKnowledgeBases = ["/usr/local/share/mailtriage/knowledge-base", "/usr/share/mailtriage/knowledge-base"]

    func loadedConfig() throws -> TriageConfig? {
        let path = config ?? (FileManager.default.fileExists(atPath: ConfigLoader.defaultPath) ? ConfigLoader.defaultPath : nil)
        guard let path else { return nil }
        do {
            return try ConfigLoader.load(path: path, mailboxes: false).config
        } catch let e as ConfigError {
            for d in e.diagnostics { printErr(d.description) }
            throw ExitCode(1)
        }
    }

    func knowledgeBasePath(_ cfg: TriageConfig?) -> String {
        if let k = knowledgeBase { return k }
        if let k = cfg?.knowledgeBase { return k }
        for p in Self.installedKnowledgeBases where FileManager.default.fileExists(atPath: p) { return p }
        return "knowledge-base"
    }

    func rulesPath(_ cfg: TriageConfig?) -> String? {
        if let r = rules { return r }
        if let r = cfg?.classifier.rulesFile { return r }
        for p in ["/etc/mailtriage/rules.toml", "config/rules.toml"] where FileManager.default.fileExists(atPath: p) { return p }
        return nil
    }

    func modelPath(_ cfg: TriageConfig?) -> String {
        model ?? ModelStore.path(stateDir: stateDir ?? cfg?.stateDir ?? TriageConfig().stateDir)
    }

    func settings(_ cfg: TriageConfig?) throws -> ClassifierSettings {
        var s = cfg?.classifier.settings ?? ClassifierSettings()
        if let path = rulesPath(cfg) {
            do {
                let (rules, warnings) = try RulesLoader.load(path: path, categories: s.categories)
                for w in warnings { printErr(w.description) }
                s.rules = rules
            } catch let e as ConfigError {
                for d in e.diagnostics { printErr(d.description) }
                throw ExitCode(1)
            }
        }
        return s
    }

    /// The knowledge base's own training material (entries' questions and `_examples/`) and its anchors.
    func knowledgeBaseExamples(_ cfg: TriageConfig?) throws -> (examples: [TrainingExample], anchors: [String: [String]]) {
        let dir = knowledgeBasePath(cfg)
        do {
            let kb = try TrainingData.knowledgeBase(at: dir)
            return (kb.entries.flatMap(\.trainingExamples) + kb.examples, KnowledgeEntry.anchors(kb.entries))
        } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
    }

    /// The trained model, or one trained now from the knowledge base when none was saved.
    func classifier(_ cfg: TriageConfig?) throws -> (Classifier, String) {
        let settings = try settings(cfg)
        let path = modelPath(cfg)
        do {
            if let m = try ModelStore.load(path) { return (Classifier(model: m, settings: settings), "model \(path)") }
        } catch {
            printErr("mailtriage: \(path): \(error); training from the knowledge base instead")
        }
        let kb = try knowledgeBaseExamples(cfg)
        let (m, _) = Trainer.train(kb.examples, categories: settings.categories, anchors: kb.anchors)
        return (Classifier(model: m, settings: settings), "trained now from \(knowledgeBasePath(cfg))")
    }
}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify a message: language, category, confidence, automation degree and the reasons.",
        discussion: """
            mailtriage classify message.eml          (or - for standard input)
            mailtriage classify --text "Ich habe mein Passwort vergessen"
            mailtriage classify --jsonl requests.jsonl   each line {"id":..,"text":..} or {"id":..,"subject":..,"body":..}
            """)

    @OptionGroup var options: ClassifierOptions
    @Argument(help: ArgumentHelp("A message file (.eml), or - for standard input.", valueName: "file")) var file: String?
    @Option(help: "Classify this text instead of a message.") var text: String?
    @Option(help: ArgumentHelp("Classify every line of a JSON Lines file (or - for standard input).", valueName: "file"))
    var jsonl: String?
    @Flag(help: "Print JSON.") var json = false

    struct Output: Encodable {
        var id: String?
        var language: String
        var category: String
        var confidence: Double
        var degree: String
        var reasons: [String]?
        var rules: [String]?
        var scores: [String: Double]?
        var coverage: Double?
        var targetGroup: String?
        var priority: String?
        var report: String?
    }

    func run() throws {
        let cfg = try options.loadedConfig()
        var (classifier, _) = try options.classifier(cfg)
        if let jsonl {
            try bulk(jsonl, &classifier)
            return
        }
        var input: ClassifierInput
        var report: MessageReport?
        if let text {
            input = ClassifierInput(subject: "", body: text)
        } else if let file {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else {
                printErr("mailtriage: cannot read \(file)")
                throw ExitCode(1)
            }
            let m = MIMEParser.parse([UInt8](data))
            input = ClassifierInput(subject: m.envelope.subject, body: m.newText.isEmpty ? m.text : m.newText,
                                    sender: m.envelope.from?.address ?? "")
            report = m.report
        } else {
            throw ValidationError("give a message file, - , --text or --jsonl")
        }
        let c = classifier.classify(input)
        var reasons = c.reasons
        if let r = report, r.isAutomated {
            reasons.append("machine-generated mail (\(r.kind.rawValue)\(r.isList ? ", list" : "")): never answered automatically")
        }
        let degree = report?.isAutomated == true ? AutomationDegree.manual : c.degree
        if json {
            let out = Output(language: c.language, category: c.category, confidence: c.confidence, degree: degree.rawValue,
                             reasons: reasons, rules: c.rules, scores: c.scores, coverage: c.coverage, targetGroup: c.targetGroup,
                             priority: c.priority, report: report?.kind.rawValue)
            print(try jsonString(out, pretty: true))
            return
        }
        print("language:   \(c.language)")
        print("category:   \(c.category)")
        print("confidence: \(String(format: "%.3f", c.confidence))")
        print("degree:     \(degree.rawValue)")
        if let g = c.targetGroup { print("group:      \(g)") }
        if let p = c.priority { print("priority:   \(p)") }
        for r in reasons { print("reason:     \(r)") }
        let ranked = c.scores.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \(String(format: "%.3f", $0.value))" }
        print("scores:     \(ranked.joined(separator: ", "))")
    }

    func bulk(_ path: String, _ classifier: inout Classifier) throws {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data else {
            printErr("mailtriage: cannot read \(path)")
            throw ExitCode(1)
        }
        let lines: [(Int, [String: Any])]
        do { lines = try TrainingData.jsonLines(data, path: path) } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
        var out = Data()
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (_, o) in lines {
            let id = o["id"].map { "\($0)" }
            let input = ClassifierInput(subject: o["subject"] as? String ?? "",
                                        body: (o["text"] as? String) ?? (o["body"] as? String) ?? "")
            let c = classifier.classify(input, explain: false)
            out.append(try enc.encode(Output(id: id, language: c.language, category: c.category,
                                             confidence: (c.confidence * 10000).rounded() / 10000, degree: c.degree.rawValue)))
            out.append(0x0A)
            if out.count > 1 << 16 {
                FileHandle.standardOutput.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(out)
    }
}

func jsonString(_ value: some Encodable, pretty: Bool) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try enc.encode(value), as: UTF8.self)
}
