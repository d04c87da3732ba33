import Foundation
public import TriageCore

/// Builds a `TriageSnapshot` from the configuration files: `mailtriage.toml`, the rules file, the knowledge
/// base and the trained model. Used at start-up, on SIGHUP, and by `check-config`, so a reload is
/// rejected with exactly the messages `check-config` prints.
public enum SnapshotLoader {
    public struct Loaded: Sendable {
        public var config: TriageConfig
        public var snapshot: TriageSnapshot
        /// Warnings of every file.
        public var warnings: [ConfigDiagnostic]
        /// One line per file that was read, for `check-config`.
        public var summary: [String]
        /// Where the classifier came from (nil: no classifier).
        public var classifierSource: String?
    }

    /// Reads and checks every file; throws `ConfigError` with all diagnostics when anything is wrong.
    /// - Parameters:
    ///   - stateDir: overrides `state_dir` (`--state-dir`).
    ///   - mailboxes: false for commands that need no mailbox passwords (`classify`).
    ///   - classifier: false to skip loading or training the model (`check-config`).
    /// `saveTrained`: a model trained here (none was saved) is written to the state directory, so the next
    /// start loads it in milliseconds; such a model is trained again whole when the knowledge base changes.
    /// Only the daemon sets it (`replay` and `check-config` write nothing).
    public static func load(configPath: String, stateDir: String? = nil, mailboxes: Bool = true, classifier wantClassifier: Bool = true,
                            generation: Int = 1, saveTrained: Bool = false) throws -> Loaded
    {
        var (config, warnings) = try ConfigLoader.load(path: configPath, mailboxes: mailboxes)
        if let stateDir { config.stateDir = stateDir }
        var diagnostics = warnings
        var summary = ["\(configPath): OK (\(config.mailboxes.count) mailbox\(config.mailboxes.count == 1 ? "" : "es"), \(warnings.count) warning\(warnings.count == 1 ? "" : "s"))"]
        var settings = config.classifier.settings
        if let rules = config.classifier.rulesFile {
            do {
                let (r, w) = try RulesLoader.load(path: rules, categories: settings.categories)
                settings.rules = r
                diagnostics += w
                summary.append("\(rules): OK (\(r.count) rule\(r.count == 1 ? "" : "s"))")
            } catch let e as ConfigError {
                diagnostics += e.diagnostics
            }
        }
        var kb: (entries: [KnowledgeEntry], examples: [TrainingExample])?
        if let dir = config.knowledgeBase {
            do {
                let loaded = try TrainingData.knowledgeBase(at: dir)
                let problems = KnowledgeBaseCheck.problems(loaded.entries, categories: settings.categories,
                                                           placeholders: config.smtp == nil ? nil : Set(config.answers.placeholders.keys))
                diagnostics += problems
                if !problems.contains(where: { $0.severity == .error }) {
                    kb = loaded
                    summary.append("\(dir): OK (\(loaded.entries.count) entries, \(loaded.examples.count) examples)")
                }
            } catch {
                diagnostics.append(ConfigDiagnostic(.error, file: dir, line: nil, keyPath: "", "\(error)"))
            }
        } else if config.smtp != nil {
            diagnostics.append(ConfigDiagnostic(.error, file: configPath, line: nil, keyPath: "knowledge_base",
                                                "[smtp] is configured but knowledge_base is not: automatic answers need the knowledge base"))
        }
        var levels: ServiceLevels?
        if let path = config.serviceLevelsFile {
            do {
                let (l, w) = try ServiceLevelsLoader.load(path: path, categories: settings.categories)
                levels = l
                diagnostics += w
                summary.append("\(path): OK (\(l.calendars.count) calendar\(l.calendars.count == 1 ? "" : "s"), \(l.groups.count) group\(l.groups.count == 1 ? "" : "s"), \(l.policies.count) polic\(l.policies.count == 1 ? "y" : "ies"))")
            } catch let e as ConfigError {
                diagnostics += e.diagnostics
            }
        }
        var templates: [String: String] = [:]
        if let dir = config.knowledgeBase {
            templates = Self.templates(in: dir)
            if levels?.policies.contains(where: \.acknowledge) == true && config.smtp != nil {
                for language in ["de", "en"] where templates["acknowledgement-\(language)"] == nil {
                    diagnostics.append(ConfigDiagnostic(.warning, file: dir + "/_templates/acknowledgement-\(language).md", line: nil, keyPath: "",
                                                        "missing: \(language == "en" ? "acknowledgements cannot be sent" : "German acknowledgements fall back to English")"))
                }
            }
        }
        if diagnostics.contains(where: { $0.severity == .error }) { throw ConfigError(diagnostics: diagnostics) }

        if let kb {
            settings.audiences(entries: kb.entries, mailboxes: config.mailboxes)
            let named = Set(kb.entries.flatMap(\.audiences))
            for (i, m) in config.mailboxes.enumerated() {
                for a in m.audiences where !named.contains(a) {
                    let known = named.isEmpty ? "no entry names an audience" : "the entries name " + named.sorted().joined(separator: ", ")
                    diagnostics.append(ConfigDiagnostic(.warning, file: configPath, line: nil, keyPath: "mailbox.\(i).audiences",
                                                        "no knowledge-base entry is for \"\(a)\" (\(known)); mailbox \(m.name) answers with entries for its other audiences and for everyone"))
                }
            }
        }
        var shared: SharedClassifier?
        var source: String?
        if wantClassifier {
            let path = ModelStore.path(stateDir: config.stateDir)
            do {
                if var model = try ModelStore.load(path),
                   !(model.summary.contains(ModelStore.trainedAtStartUp) && kb.map { AnswerModel.fingerprint($0.entries) } != model.answers?.fingerprint)
                {
                    source = path
                    if saveTrained && !model.weightTable.isMapped {
                        // A file of the previous format (its weights decoded into memory): written again in
                        // this one, so that they are read in place from the file from now on.
                        do {
                            try ModelStore.save(model, to: path)
                            model = try ModelStore.load(path) ?? model
                            source = path + " (rewritten in model format \(ClassifierModel.formatVersion))"
                        } catch {
                            diagnostics.append(ConfigDiagnostic(.warning, file: path, line: nil, keyPath: "", "cannot rewrite the model in the current format: \(error)"))
                        }
                    }
                    if let kb {
                        let (m, retrained) = ModelStore.withAnswers(model, entries: kb.entries, examples: kb.examples)
                        model = m
                        if retrained { source = path + " (answer model retrained: the knowledge base changed)" }
                    }
                    shared = SharedClassifier(Classifier(model: model, settings: settings), source: source!)
                }
            } catch let e as TriageError where e.code == .model && kb != nil {
                // A model file of an older version (after an upgrade) or a damaged one: train a new one.
                diagnostics.append(ConfigDiagnostic(.warning, file: path, line: nil, keyPath: "", "\(e.message); training from the knowledge base instead"))
            } catch {
                throw ConfigError(diagnostics: diagnostics + [ConfigDiagnostic(.error, file: path, line: nil, keyPath: "", "\(error)")])
            }
            if shared == nil, let kb, let dir = config.knowledgeBase {
                let (trained, _) = Trainer.train(kb.entries.flatMap(\.trainingExamples) + kb.examples, categories: settings.categories,
                                                 anchors: KnowledgeEntry.anchors(kb.entries))
                var model = ModelStore.withAnswers(trained, entries: kb.entries, examples: kb.examples).model
                source = "trained at start-up from \(dir)"
                if saveTrained {
                    model.summary.append(ModelStore.trainedAtStartUp)
                    do {
                        try ModelStore.save(model, to: path)
                        // Used from the file from now on: its weights mapped, not a second copy in memory.
                        model = try ModelStore.load(path) ?? model
                        source! += ", saved to \(path)"
                    } catch {
                        diagnostics.append(ConfigDiagnostic(.warning, file: path, line: nil, keyPath: "", "cannot save the trained model: \(error)"))
                    }
                }
                shared = SharedClassifier(Classifier(model: model, settings: settings), source: source!)
            }
        }
        var effective = config
        effective.classifier.settings = settings
        do {
            let snapshot = try TriageSnapshot(config: effective, classifier: shared, knowledgeBase: kb?.entries, serviceLevels: levels,
                                              templates: templates, generation: generation)
            return Loaded(config: effective, snapshot: snapshot, warnings: diagnostics, summary: summary, classifierSource: source)
        } catch let e as TriageError {
            throw ConfigError(diagnostics: diagnostics + [ConfigDiagnostic(.error, file: configPath, line: nil,
                                                                           keyPath: "answers.role_sender_pattern", e.message)])
        }
    }

    /// The message templates in `<knowledge base>/_templates/`: `acknowledgement-de.md` becomes "acknowledgement-de".
    public static func templates(in knowledgeBase: String) -> [String: String] {
        let dir = knowledgeBase + "/_templates"
        var out: [String: String] = [:]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasSuffix(".md") {
            if let text = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8) { out[String(f.dropLast(3))] = text }
        }
        return out
    }
}
