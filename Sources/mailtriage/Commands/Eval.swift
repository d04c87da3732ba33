import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
import TriageDaemon

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure the classifier on labelled data: precision/recall/F1, confusion matrix, automation by threshold.",
        discussion: """
            --data takes JSONL or CSV with text,label (labels are category ids; optional subject, language).
            "Automated" means the automatic degree: category not other, language served, confidence at or above the
            threshold (and no rule asking for a human). The threshold table varies one threshold for all categories;
            the first line uses the configured (shipped) thresholds.
            """)

    @OptionGroup var options: ClassifierOptions
    @Option(name: .customLong("data"), help: ArgumentHelp("Labelled JSONL or CSV file.", valueName: "file")) var data: String
    @Flag(help: "Print JSON.") var json = false

    struct Row: Encodable {
        var threshold: String
        var automated: Int
        var automatedShare: Double
        var precision: Double
        var automatableAutomated: Double
        var otherAutomated: Double
    }

    struct CategoryFigures: Encodable {
        var category: String
        var support: Int
        var precision: Double
        var recall: Double
        var f1: Double
    }

    struct Result: Encodable {
        var messages: Int
        var model: String
        var accuracy: Double
        var categories: [CategoryFigures]
        var confusion: [String: [String: Int]]
        var thresholds: [Row]
        var seconds: Double
    }

    func run() throws {
        let cfg = try options.loadedConfig()
        let examples: [TrainingExample]
        do { examples = try TrainingData.labelledFile(data) } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
        let (snapshot, source) = try options.snapshot(cfg)
        guard let classifier = snapshot.classifier else { throw ExitCode(1) }
        let cats = classifier.categories
        let usable = examples.filter { cats.contains($0.label) }
        guard !usable.isEmpty else {
            printErr("mailtriage: \(data): no rows with a known category label")
            throw ExitCode(1)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        // The same decision the daemon makes (classification, degree, knowledge-base match), from text.
        let decisions = usable.map { e in
            TriageEngine.decide(.text(subject: e.subject, body: e.body, mailbox: options.mailbox ?? ""), snapshot: snapshot,
                                context: DecisionContext(), now: 0)
        }
        let results = decisions.map { $0.classification! }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        var confusion: [String: [String: Int]] = [:]
        var correct = 0
        for (e, r) in zip(usable, results) {
            confusion[e.label, default: [:]][r.category, default: 0] += 1
            if e.label == r.category { correct += 1 }
        }
        let figures: [CategoryFigures] = cats.map { c in
            let tp = confusion[c]?[c] ?? 0
            let predicted = confusion.values.reduce(0) { $0 + ($1[c] ?? 0) }
            let support = confusion[c]?.values.reduce(0, +) ?? 0
            let p = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let r = support == 0 ? 0 : Double(tp) / Double(support)
            return CategoryFigures(category: c, support: support, precision: p, recall: r, f1: p + r == 0 ? 0 : 2 * p * r / (p + r))
        }
        let settings = snapshot.config.classifier.settings
        func row(_ name: String, _ automated: (Int, Classification) -> Bool) -> Row {
            var n = 0, right = 0, automatable = 0, automatableDone = 0, others = 0, othersDone = 0
            for (i, (e, r)) in zip(usable, results).enumerated() {
                let a = automated(i, r)
                if e.label == Category.other { others += 1; if a { othersDone += 1 } } else { automatable += 1; if a && r.category == e.label { automatableDone += 1 } }
                if a { n += 1; if r.category == e.label { right += 1 } }
            }
            return Row(threshold: name, automated: n, automatedShare: Double(n) / Double(usable.count),
                       precision: n == 0 ? 1 : Double(right) / Double(n),
                       automatableAutomated: automatable == 0 ? 0 : Double(automatableDone) / Double(automatable),
                       otherAutomated: others == 0 ? 0 : Double(othersDone) / Double(others))
        }
        var rows = [row("shipped") { i, _ in decisions[i].degree == .automatic }]
        for t in [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99] {
            rows.append(row(String(format: "%.2f", t)) { _, r in
                r.category != Category.other && settings.languages.contains(r.language) && r.confidence >= t
                    && r.anchored && !r.forced
            })
        }
        let result = Result(messages: usable.count, model: source, accuracy: Double(correct) / Double(usable.count),
                            categories: figures, confusion: confusion, thresholds: rows, seconds: secs)
        if json {
            print(try jsonString(result, pretty: true))
            return
        }
        print("\(usable.count) messages from \(data); \(source); \(String(format: "%.0f", Double(usable.count) / max(secs, 1e-9))) msg/s")
        print("accuracy \(String(format: "%.3f", result.accuracy))\n")
        print("category      support  precision  recall     F1")
        for f in figures where f.support > 0 || confusion.values.contains(where: { ($0[f.category] ?? 0) > 0 }) {
            print("\(f.category.padding(toLength: 13, withPad: " ", startingAt: 0)) \(String(format: "%7d  %9.3f  %6.3f  %5.3f", f.support, f.precision, f.recall, f.f1))")
        }
        print("\nconfusion (rows: label, columns: predicted)")
        print("".padding(toLength: 12, withPad: " ", startingAt: 0) + cats.map { String($0.prefix(8)).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        for c in cats where confusion[c] != nil {
            print(String(c.prefix(11)).padding(toLength: 12, withPad: " ", startingAt: 0)
                + cats.map { String(confusion[c]?[$0] ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        }
        print("\nthreshold  automated  share   precision  automatable automated  other automated")
        for r in rows {
            print("\(r.threshold.padding(toLength: 9, withPad: " ", startingAt: 0))  \(String(format: "%9d  %5.3f  %9.4f  %21.3f  %15.4f", r.automated, r.automatedShare, r.precision, r.automatableAutomated, r.otherAutomated))")
        }
    }
}
