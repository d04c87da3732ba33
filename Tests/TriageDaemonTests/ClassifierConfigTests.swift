import Foundation
import Testing
import TriageCore
@testable import TriageDaemon
@testable import TriageFiles

/// The repository root (for the shipped knowledge base and rules).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct RulesLoaderTests {
    @Test func shippedRulesLoad() throws {
        let (rules, warnings) = try RulesLoader.load(path: repoRoot.appendingPathComponent("config/rules.toml").path,
                                                     categories: Category.defaults)
        #expect(rules.count >= 5)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(rules.contains { $0.name == "complaint" && $0.force == .other })
    }

    @Test func everyProblemIsReportedWithLineAndRule() {
        let text = """
            [[rule]]
            name = "bad-regex"
            regex = "(unclosed"
            category = "password"

            [[rule]]
            name = "bad-category"
            any = ["x"]
            category = "nonsense"

            [[rule]]
            name = "no-condition"
            force = "manual"

            [[rule]]
            name = "no-action"
            any = ["y"]
            colour = "blue"

            [[rule]]
            name = "bad-force"
            any = ["z"]
            force = "sometimes"
            """
        do {
            _ = try RulesLoader.parse(text: text, file: "rules.toml", categories: Category.defaults)
            Issue.record("bad rules accepted")
        } catch let e as ConfigError {
            let all = e.diagnostics.map(\.description)
            #expect(all.contains { $0.hasPrefix("rules.toml:3: error: rule \"bad-regex\".regex: invalid regular expression") }, "\(all)")
            #expect(all.contains { $0.hasPrefix("rules.toml:9: error: rule \"bad-category\".category: unknown category") }, "\(all)")
            #expect(all.contains { $0.contains("rule \"no-condition\" has no condition") }, "\(all)")
            #expect(all.contains { $0.contains("rule \"no-action\" has no action") }, "\(all)")
            #expect(all.contains { $0.hasPrefix("rules.toml:18: warning: rule \"no-action\".colour: unknown key") }, "\(all)")
            #expect(all.contains { $0.contains("force: must be \"manual\" or \"other\"") }, "\(all)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct ClassifierConfigTests {
    static let base = """
        [[mailbox]]
        name = "support"
        url = "imaps://mail.example.com/INBOX"
        username = "u"
        password_file = "/etc/mailtriage/pw"

        """

    @Test func thresholdsAndPathsAreRead() throws {
        let text = """
            knowledge_base = "kb"
            [classifier]
            rules_file = "rules.toml"
            minimum_coverage = 0.5
            [classifier.thresholds]
            default = { auto = 0.97, draft = 0.5 }
            password = { auto = 0.9 }
            """ + "\n" + Self.base
        let (cfg, warnings) = try ConfigLoader.parse(text: text, file: "/etc/mailtriage/mailtriage.toml", mailboxes: false)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(cfg.knowledgeBase == "/etc/mailtriage/kb")
        #expect(cfg.classifier.rulesFile == "/etc/mailtriage/rules.toml")
        #expect(cfg.classifier.settings.minimumCoverage == 0.5)
        #expect(cfg.classifier.settings.defaultThresholds == Thresholds(auto: 0.97, draft: 0.5))
        #expect(cfg.classifier.settings.thresholds(for: "password") == Thresholds(auto: 0.9, draft: 0.5))
        #expect(cfg.classifier.settings.thresholds(for: "office") == Thresholds(auto: 0.97, draft: 0.5))
    }

    @Test func badThresholdsAreErrorsWithLines() {
        let text = """
            [classifier]
            minimum_coverage = 3
            [classifier.thresholds]
            nonsense = { auto = 0.9 }
            password = { auto = 0.5, draft = 0.8 }
            """ + "\n" + Self.base
        do {
            _ = try ConfigLoader.parse(text: text, file: "m.toml", mailboxes: false)
            Issue.record("accepted")
        } catch let e as ConfigError {
            let all = e.diagnostics.map(\.description)
            #expect(all.contains { $0.hasPrefix("m.toml:2: error: classifier.minimum_coverage") }, "\(all)")
            #expect(all.contains { $0.hasPrefix("m.toml:4: error: classifier.thresholds.nonsense: unknown category") }, "\(all)")
            #expect(all.contains { $0.hasPrefix("m.toml:5: error: classifier.thresholds.password: draft") }, "\(all)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct ShippedKnowledgeBaseTests {
    @Test func loadsAndPassesTheChecks() throws {
        let (entries, examples) = try TrainingData.knowledgeBase(at: repoRoot.appendingPathComponent("knowledge-base").path)
        #expect(entries.count >= 30)
        #expect(examples.count >= 150)
        let problems = KnowledgeBaseCheck.problems(entries, categories: Category.defaults,
                                                   placeholders: ["company", "shop_url", "password_reset_url", "support_hours"])
        #expect(problems.isEmpty, "\(problems)")
        let missing = KnowledgeBaseCheck.problems(entries, categories: Category.defaults, placeholders: ["company"])
        #expect(missing.contains { $0.keyPath == "{{shop_url}}" && $0.severity == .error })
        for cat in Category.defaults where cat != Category.other {
            for lang in ["de", "en"] {
                #expect(entries.filter { $0.category == cat && $0.language == lang }.count >= 3, "\(cat) \(lang)")
            }
        }
    }

    @Test func checksFindDuplicatesAndUnknownCategories() {
        let e = KnowledgeEntry(id: "a", category: "password", language: "en", title: "t", questions: ["q"], keywords: [], body: "b",
                               path: "kb/password/a.md")
        var dup = e
        dup.path = "kb/password/b.md"
        var bad = e
        bad.id = "c"
        bad.category = "nonsense"
        bad.path = "kb/nonsense/c.md"
        let p = KnowledgeBaseCheck.problems([e, dup, bad], categories: Category.defaults).map(\.description)
        #expect(p.contains { $0.contains("duplicate id \"a\"") })
        #expect(p.contains { $0.contains("unknown or non-automatable category \"nonsense\"") })
        #expect(p.contains { $0.contains("no de entry") })
    }

    /// Out of the box: trained on the shipped knowledge base alone, typical German and English mail lands
    /// in the right category.
    @Test(arguments: [
        ("Passwort vergessen", "Hallo, ich komme nicht mehr in mein Konto, weil ich mein Passwort vergessen habe.", "password"),
        ("Password", "Hi, I forgot my password. How can I reset it?", "password"),
        ("Bestellung 4711", "Wo bleibt meine Bestellung? Das Paket ist noch nicht angekommen.", "order_info"),
        ("Invoice", "Could you send me the invoice for my last order?", "order_info"),
        ("Zahlung", "Kann ich in Ihrem Shop mit PayPal bezahlen?", "webshop"),
        ("Outlook", "Wie richte ich in Outlook eine Abwesenheitsnotiz ein?", "office"),
        ("Excel", "How do I freeze the top row in Excel?", "office"),
        ("Download", "Wo kann ich die aktuelle Version der Software herunterladen?", "general"),
        ("Beschwerde", "Ich bin sehr verärgert über Ihren Service und möchte mich beschweren.", "other"),
    ])
    func outOfTheBox(subject: String, body: String, expected: String) throws {
        let (entries, examples) = try TrainingData.knowledgeBase(at: repoRoot.appendingPathComponent("knowledge-base").path)
        let (model, _) = Trainer.train(entries.flatMap(\.trainingExamples) + examples, categories: Category.defaults,
                                       anchors: KnowledgeEntry.anchors(entries))
        var settings = ClassifierSettings()
        settings.rules = try RulesLoader.load(path: repoRoot.appendingPathComponent("config/rules.toml").path,
                                              categories: Category.defaults).rules
        var c = Classifier(model: model, settings: settings)
        let r = c.classify(ClassifierInput(subject: subject, body: body))
        #expect(r.category == expected, "\(r)")
        #expect(r.language == (body.contains("Hallo") || body.contains("Wo ") || body.contains("Kann") || body.contains("Wie") || body.contains("Ich") ? "de" : "en"))
    }
}

@Suite struct TrainingDataTests {
    @Test func csvAndJsonLinesAreRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mt-td-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("x.csv")
        try "text,label\n\"Hello, \"\"world\"\"\nsecond line\",password\nplain,other\n".write(to: csv, atomically: true, encoding: .utf8)
        let rows = try TrainingData.labelledFile(csv.path)
        #expect(rows.map(\.label) == ["password", "other"])
        #expect(rows[0].body == "Hello, \"world\"\nsecond line")
        let jl = dir.appendingPathComponent("x.jsonl")
        try "{\"subject\":\"S\",\"body\":\"B\",\"label\":\"office\",\"language\":\"de\"}\n\n{\"text\":\"T\",\"label\":\"other\"}\n"
            .write(to: jl, atomically: true, encoding: .utf8)
        let j = try TrainingData.labelledFile(jl.path)
        #expect(j.count == 2 && j[0].subject == "S" && j[0].body == "B" && j[0].language == "de")
        try "{\"text\":\"no label\"}\n".write(to: jl, atomically: true, encoding: .utf8)
        #expect(throws: TrainingData.Problem.self) { try TrainingData.labelledFile(jl.path) }
    }
}
