import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
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

    @Option(name: .long, help: ArgumentHelp("Decide with this mailbox's settings (default: the first configured one).", valueName: "name"))
    var mailbox: String?

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
    /// The category model's training examples (entries and `_examples/`), the anchors, and the entries.
    func knowledgeBaseExamples(_ cfg: TriageConfig?) throws
        -> (examples: [TrainingExample], anchors: [String: [String]], entries: [KnowledgeEntry])
    {
        let dir = knowledgeBasePath(cfg)
        do {
            let kb = try TrainingData.knowledgeBase(at: dir)
            return (kb.entries.flatMap(\.trainingExamples) + kb.examples, KnowledgeEntry.anchors(kb.entries), kb.entries)
        } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
    }

    /// The configuration a decision is made with: the configured one (answers, mailboxes, thresholds) with
    /// the classifier and knowledge base these options choose.
    func snapshot(_ cfg: TriageConfig?, serviceLevels: ServiceLevels? = nil, templates: [String: String] = [:]) throws -> (TriageSnapshot, String) {
        let (classifier, source) = try classifier(cfg)
        var config = cfg ?? TriageConfig()
        config.classifier.settings = classifier.settings
        let entries: [KnowledgeEntry]
        do { entries = try TrainingData.knowledgeBase(at: knowledgeBasePath(cfg)).entries } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
        if let mailbox, !config.mailboxes.contains(where: { $0.name == mailbox }) {
            throw ValidationError("no mailbox \"\(mailbox)\" in the configuration")
        }
        do {
            return (try TriageSnapshot(config: config, classifier: SharedClassifier(classifier, source: source), knowledgeBase: entries,
                                       serviceLevels: serviceLevels, templates: templates), source)
        } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
    }

    /// The mailbox whose settings a message is decided with.
    func mailboxName(_ cfg: TriageConfig?) -> String { mailbox ?? cfg?.mailboxes.first?.name ?? "" }

    /// The trained model, or one trained now from the knowledge base when none was saved.
    func classifier(_ cfg: TriageConfig?) throws -> (Classifier, String) {
        var settings = try settings(cfg)
        let path = modelPath(cfg)
        let kb = try knowledgeBaseExamples(cfg)
        settings.audiences(entries: kb.entries, mailboxes: cfg?.mailboxes ?? [])
        do {
            if let m = try ModelStore.load(path) {
                let (model, retrained) = ModelStore.withAnswers(m, entries: kb.entries, examples: kb.examples)
                return (Classifier(model: model, settings: settings),
                        "model \(path)" + (retrained ? " (answer model trained now: the knowledge base changed)" : ""))
            }
        } catch {
            printErr("mailtriage: \(path): \(error); training from the knowledge base instead")
        }
        let (trained, _) = Trainer.train(kb.examples, categories: settings.categories, anchors: kb.anchors)
        let model = ModelStore.withAnswers(trained, entries: kb.entries, examples: kb.examples).model
        return (Classifier(model: model, settings: settings), "trained now from \(knowledgeBasePath(cfg))")
    }
}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Decide a message as the daemon would: loop guard, language, category, confidence, knowledge-base answer, degree, reasons.",
        discussion: """
            mailtriage classify message.eml          (or - for standard input)
            mailtriage classify --text "Ich habe mein Passwort vergessen"
            mailtriage classify --jsonl requests.jsonl   each line {"id":..,"text":..} or {"id":..,"subject":..,"body":..}
            The decision is the daemon's (TriageEngine.decide) with the configured mailbox (--mailbox), thresholds,
            rules and knowledge base; only the thread lookup and the per-sender count need the store and are left out.
            Text without headers (--text, --jsonl) skips the loop guard.
            """)

    @OptionGroup var options: ClassifierOptions
    @Argument(help: ArgumentHelp("A message file (.eml), or - for standard input.", valueName: "file")) var file: String?
    @Option(help: "Classify this text instead of a message.") var text: String?
    @Option(help: ArgumentHelp("Classify every line of a JSON Lines file (or - for standard input).", valueName: "file"))
    var jsonl: String?
    @Flag(help: "Print JSON.") var json = false

    struct Output: Encodable {
        var id: String?
        var mailbox: String?
        var language: String?
        var category: String?
        var confidence: Double?
        var degree: String?
        var state: String?
        var answer: String?
        /// The answer model's best entry and its probability (also when not sure enough to answer).
        var bestEntry: String?
        var entryProbability: Double?
        var reasons: [String]?
        var loopGuard: [String]?
        var rules: [String]?
        var scores: [String: Double]?
        var coverage: Double?
        var targetGroup: String?
        var priority: String?
        var report: String?
        /// The typed decision, as the daemon stores it with the ticket.
        var decision: DecisionRecord?
    }

    func run() throws {
        let cfg = try options.loadedConfig()
        let (snapshot, _) = try options.snapshot(cfg)
        let mailbox = options.mailboxName(cfg)
        if let jsonl {
            try bulk(jsonl, snapshot, mailbox: mailbox)
            return
        }
        let message: IncomingMessage
        if let text {
            message = .text(subject: "", body: text, mailbox: mailbox)
        } else if let file {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else {
                printErr("mailtriage: cannot read \(file)")
                throw ExitCode(1)
            }
            message = IncomingMessage(stored: StoredMessage(id: 0, mailbox: mailbox, raw: [UInt8](data), size: data.count, truncated: false,
                                                            fetchError: nil, preBaseline: false, attempts: 1, receivedAt: 0))
        } else {
            throw ValidationError("give a message file, - , --text or --jsonl")
        }
        let d = TriageEngine.decide(message, snapshot: snapshot, context: DecisionContext(), now: Int64(Date().timeIntervalSince1970))
        let c = d.classification
        if json {
            let out = Output(mailbox: mailbox.isEmpty ? nil : mailbox, language: c?.language, category: c?.category, confidence: c?.confidence,
                             degree: d.degree?.rawValue, state: d.ticket.state.rawValue, answer: d.knowledgeEntry,
                             reasons: d.reasons.map(\.description), loopGuard: d.loopGuard.map(\.description), rules: c?.rules,
                             scores: c?.scores, coverage: c?.coverage, targetGroup: c?.targetGroup, priority: c?.priority,
                             report: d.ticket.report, decision: d.record)
            print(try jsonString(out, pretty: true))
            return
        }
        if !mailbox.isEmpty { print("mailbox:    \(mailbox)") }
        if let c {
            print("language:   \(c.language)")
            print("category:   \(c.category)")
            print("confidence: \(String(format: "%.3f", c.confidence))")
        }
        print("degree:     \(d.degree?.rawValue ?? "-")")
        if d.degree == .automatic, let e = d.knowledgeEntry { print("answer:     \(e)") }
        if let r = d.ticket.report { print("report:     \(r)") }
        if let sd = d.service {
            if let g = sd.group { print("group:      \(g) (by \(sd.groupMatch?.rawValue ?? "-"))") }
            if let p = sd.policy { print("policy:     \(p)\(sd.calendar.map { ", calendar \($0)" } ?? "")") }
            if let p = sd.priority { print("priority:   \(p)") }
            if let due = sd.firstResponse { print("due:        \(due.description)") }
            if d.acknowledgement != nil || d.reasons.contains(.acknowledged) { print("acknowledge: yes") }
        } else {
            if let g = c?.targetGroup { print("group:      \(g)") }
            if let p = c?.priority { print("priority:   \(p)") }
        }
        if message.textOnly == nil { print("loop guard: \(d.loopGuard.isEmpty ? "an automatic answer is allowed" : d.loopGuard.map(\.description).joined(separator: "; "))") }
        for r in d.reasons { print("reason:     \(r)") }
        if let c {
            let ranked = c.scores.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \(String(format: "%.3f", $0.value))" }
            print("scores:     \(ranked.joined(separator: ", "))")
        }
    }

    func bulk(_ path: String, _ snapshot: TriageSnapshot, mailbox: String) throws {
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
            let m = IncomingMessage.text(subject: o["subject"] as? String ?? "", body: (o["text"] as? String) ?? (o["body"] as? String) ?? "",
                                         mailbox: mailbox)
            let d = TriageEngine.decide(m, snapshot: snapshot, context: DecisionContext(), now: 0)
            let c = d.classification
            out.append(try enc.encode(Output(id: id, language: c?.language, category: c?.category,
                                             confidence: c.map { ($0.confidence * 10000).rounded() / 10000 }, degree: d.degree?.rawValue,
                                             answer: d.degree == .automatic ? d.knowledgeEntry : nil, bestEntry: c?.answer?.entry,
                                             entryProbability: c?.answer.map { ($0.probability * 10000).rounded() / 10000 },
                                             reasons: d.reasons.map(\.description))))
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
