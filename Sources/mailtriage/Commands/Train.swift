import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
import TriageDaemon
import TriageMIME
import TriageStore

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the classifier and save it to the state directory.",
        discussion: """
            Trains on the knowledge base (sample questions, titles, keywords, _examples/), plus any --data files
            (JSONL or CSV with text,label) and --maildir folders (one subfolder per category). Reports what it
            trained on and the cross-validated figures; the probabilities are calibrated on held-out folds.
            """)

    @OptionGroup var options: ClassifierOptions
    @Option(name: .customLong("data"), help: ArgumentHelp("A labelled JSONL or CSV file (repeatable).", valueName: "file"))
    var data: [String] = []
    @Option(help: ArgumentHelp("A Maildir tree with one folder per category (repeatable).", valueName: "dir"))
    var maildir: [String] = []
    @Flag(help: "Leave out the knowledge base.") var noKnowledgeBase = false
    @Option(help: ArgumentHelp("Database with agents' corrections (default: the configured one, when it exists).", valueName: "path"))
    var database: String?
    @Option(help: "Passes over the training data.") var epochs = TrainingOptions().epochs
    @Option(help: "L2 regularisation strength.") var l2 = Double(TrainingOptions().l2)
    @Option(help: "AdaGrad learning rate.") var learningRate = Double(TrainingOptions().learningRate)
    @Option(help: ArgumentHelp("Where to write the model (default: the state directory).", valueName: "path"))
    var output: String?
    @Option(help: ArgumentHelp("Also write the combined training set as JSONL (for peers and audits).", valueName: "path"))
    var exportExamples: String?
    @Option(help: ArgumentHelp("Also write the answer model's training set (entry ids as labels) as JSONL.", valueName: "path"))
    var exportAnswers: String?

    func run() throws {
        let cfg = try options.loadedConfig()
        let settings = try options.settings(cfg)
        var entries: [KnowledgeEntry] = []
        var examples: [TrainingExample] = []
        var feedback: [TrainingFeedback] = []
        do {
            if !noKnowledgeBase {
                let kb = try TrainingData.knowledgeBase(at: options.knowledgeBasePath(cfg))
                entries = kb.entries
                examples = kb.examples
            }
            for f in data { examples += try TrainingData.labelledFile(f) }
            for d in maildir { examples += try TrainingData.maildir(d, categories: settings.categories) }
            if let db = database ?? cfg?.resolvedDatabasePath, FileManager.default.fileExists(atPath: db) {
                feedback = try SQLiteTicketStore(path: db).trainingFeedback()
            }
        } catch {
            printErr("mailtriage: \(error)")
            throw ExitCode(1)
        }
        let extra = examples
        examples = entries.flatMap(\.trainingExamples) + extra
        let unknown = Set(examples.map(\.label)).subtracting(settings.categories)
        if !unknown.isEmpty { printErr("mailtriage: ignoring examples with unknown labels: \(unknown.sorted().joined(separator: ", "))") }
        guard !examples.isEmpty else {
            printErr("mailtriage: nothing to train on")
            throw ExitCode(1)
        }
        func export(_ rows: [TrainingExample], to path: String) throws {
            var out = Data()
            for e in rows {
                var o: [String: String] = ["text": e.body, "label": e.label, "source": e.source]
                if !e.subject.isEmpty { o["subject"] = e.subject }
                if let l = e.language { o["language"] = l }
                out.append(try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes]))
                out.append(0x0A)
            }
            try out.write(to: URL(fileURLWithPath: path))
        }
        if exportExamples != nil || exportAnswers != nil {
            let withFeedback = examples + TrainingFeedback.examples(feedback)
            if let exportExamples { try export(withFeedback.filter { settings.categories.contains($0.label) }, to: exportExamples) }
            if let exportAnswers { try export(AnswerModel.trainingData(entries: entries, examples: withFeedback), to: exportAnswers) }
        }
        var opts = TrainingOptions()
        opts.epochs = epochs
        opts.l2 = Float(l2)
        opts.learningRate = Float(learningRate)
        let run = ModelTraining.train(entries: entries, examples: extra, feedback: feedback, settings: settings, options: opts)
        let (model, report, answerReport, secs) = (run.model, run.report, run.answerReport, run.seconds)
        let path = output ?? options.modelPath(cfg)
        do { try ModelStore.save(model, to: path) } catch {
            printErr("mailtriage: cannot write \(path): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print("trained on \(report.examples) examples in \(String(format: "%.2f", secs)) s (5-fold cross-validation and the final fit)")
        for (s, n) in report.bySource.sorted(by: { $0.key < $1.key }) { print("  source \(s): \(n)") }
        for (s, n) in (answerReport?.bySource ?? [:]).sorted(by: { $0.key < $1.key }) where ["approved drafts", "rejected drafts", "unhelpful answers"].contains(s) {
            print("  source \(s): \(n)")
        }
        print("cross-validated accuracy: \(String(format: "%.3f", report.accuracy)); temperature \(String(format: "%.2f", report.temperature))")
        print("category      examples  precision  recall")
        for c in settings.categories {
            let pr = report.perCategory[c] ?? (0, 0)
            print("\(c.padding(toLength: 13, withPad: " ", startingAt: 0)) \(String(format: "%8d  %9.3f  %6.3f", report.byCategory[c] ?? 0, pr.precision, pr.recall))")
        }
        if let a = answerReport {
            print("answer model: \(a.byCategory.count - 1) entries, \(a.examples) examples; cross-validated accuracy "
                  + "\(String(format: "%.3f", a.accuracy)); temperature \(String(format: "%.2f", a.temperature))")
        }
        print("model written to \(path)")
    }
}
