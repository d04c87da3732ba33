import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
import TriageDaemon

/// Classifier speed: messages per second one at a time (features included), training time, model load time.
struct ClassifyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classifier throughput, training and load time (see Benchmarks/classify.sh).")

    @Option(help: "JSONL messages to classify (text or subject/body).") var data: String
    @Option(help: "JSONL or CSV training file (text,label).") var train: String
    @Option(help: "Knowledge base directory.") var knowledgeBase = "knowledge-base"
    @Option(help: "Messages to classify (the data is cycled).") var messages = 100_000
    @Option(help: "Training examples (the training file is cycled).") var trainingExamples = 10_000
    @Option(help: "Where the model is written and read back.") var model = "/tmp/mailtriage-bench.model"
    @Option(help: "Rules file applied while classifying.") var rules = "config/rules.toml"
    @Option(help: "Measure only the speed with this trained model (no training; for profiling).") var speedOnly: String?
    @Flag(help: "Measure only the whole decision (TriageEngine.decide), not the classifier alone.") var decideOnly = false

    func run() throws {
        let kb = try TrainingData.knowledgeBase(at: knowledgeBase)
        if let path = speedOnly {
            let t0 = DispatchTime.now().uptimeNanoseconds
            guard let loaded = try ModelStore.load(path) else { throw ValidationError("no model at \(path)") }
            let loadMs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            print(String(format: "mailtriage: model %.1f MiB, load %.1f ms", Double(size) / 1048576, loadMs))
            try speed(loaded, kb: kb)
            return
        }
        var pool = try TrainingData.labelledFile(train)
        pool += kb.entries.flatMap(\.trainingExamples) + kb.examples
        var examples: [TrainingExample] = []
        while examples.count < trainingExamples { examples += pool.prefix(trainingExamples - examples.count) }
        var t0 = DispatchTime.now().uptimeNanoseconds
        var (m, _) = Trainer.train(examples, categories: Category.defaults, anchors: KnowledgeEntry.anchors(kb.entries))
        let trainSecs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        // The answer model, as `train` makes it (one class per entry; the labelled examples join their entries).
        t0 = DispatchTime.now().uptimeNanoseconds
        m.answers = AnswerModel.train(entries: kb.entries, examples: examples, morphology: m.morphology, subjectWeight: m.subjectWeight).0
        let answerSecs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        var options = TrainingOptions()
        options.folds = 0
        t0 = DispatchTime.now().uptimeNanoseconds
        _ = Trainer.train(examples, categories: Category.defaults, anchors: KnowledgeEntry.anchors(kb.entries), options: options)
        let fitSecs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        try ModelStore.save(m, to: model)
        t0 = DispatchTime.now().uptimeNanoseconds
        guard let loaded = try ModelStore.load(model) else { throw ValidationError("model not written") }
        let loadMs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let size = (try? FileManager.default.attributesOfItem(atPath: model)[.size] as? Int) ?? 0
        try speed(loaded, kb: kb)
        print(String(format: "mailtriage: train on %d examples: %.2f s with 5-fold calibration, %.2f s single fit; answer model (%d entries) %.2f s",
                     examples.count, trainSecs, fitSecs, kb.entries.count, answerSecs))
        print(String(format: "mailtriage: model %.1f MiB, load %.1f ms", Double(size) / 1048576, loadMs))
    }

    /// CPU time of the calling thread.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Messages per second one at a time: the classifier, then the whole decision.
    func speed(_ loaded: ClassifierModel, kb: (entries: [KnowledgeEntry], examples: [TrainingExample])) throws {
        let inputs = try TrainingData.jsonLines(FileManager.default.contents(atPath: data) ?? Data(), path: data).map { (_, o) in
            ClassifierInput(subject: o["subject"] as? String ?? "", body: (o["text"] as? String) ?? (o["body"] as? String) ?? "")
        }
        guard !inputs.isEmpty else { throw ValidationError("no messages in \(data)") }
        let avgBytes = inputs.reduce(0) { $0 + $1.subject.utf8.count + $1.body.utf8.count } / inputs.count
        var settings = ClassifierSettings()
        settings.rules = try RulesLoader.load(path: rules, categories: settings.categories).rules
        var classifier = Classifier(model: loaded, settings: settings)
        var automatic = 0
        var t0 = DispatchTime.now().uptimeNanoseconds
        if !decideOnly {
            // Warm-up, then the timed run.
            for k in 0..<min(1000, messages) { _ = classifier.classify(inputs[k % inputs.count], explain: false) }
            t0 = DispatchTime.now().uptimeNanoseconds
            for k in 0..<messages where classifier.classify(inputs[k % inputs.count], explain: false).degree == .automatic { automatic += 1 }
            let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            print(String(format: "mailtriage: classify %d messages (avg %d bytes, %d rules) in %.3f s: %.0f msg/s on one core (%d automatic)",
                         messages, avgBytes, settings.rules.count, secs, Double(messages) / secs, automatic))
        }
        // The whole decision (TriageEngine.decide: classification, degree, knowledge-base match) on the same texts.
        let snapshot = try TriageSnapshot(config: TriageConfig(), classifier: SharedClassifier(Classifier(model: loaded, settings: settings),
                                                                                                 source: speedOnly ?? model), knowledgeBase: kb.entries)
        func decide(_ k: Int) -> TriageDecision {
            let i = inputs[k % inputs.count]
            return TriageEngine.decide(.text(subject: i.subject, body: i.body), snapshot: snapshot, context: DecisionContext(), now: 0)
        }
        let n = decideOnly ? messages : messages / 4
        if decideOnly { for k in 0..<min(1000, n) { _ = decide(k) } }
        // In rounds, with the thread's CPU time beside the wall clock: on a shared machine the wall clock also
        // counts time the core spent on other processes; CPU time counts only this thread's.
        let rounds = 5, perRound = max(1, n / rounds)
        var wall: [Double] = [], cpu: [Double] = []
        var decidedAutomatic = 0
        for r in 0..<rounds {
            t0 = DispatchTime.now().uptimeNanoseconds
            let c0 = ClassifyBench.threadCPUSeconds()
            for k in (r * perRound)..<((r + 1) * perRound) where decide(k).degree == .automatic { decidedAutomatic += 1 }
            cpu.append(Double(perRound) / (ClassifyBench.threadCPUSeconds() - c0))
            wall.append(Double(perRound) * 1e9 / Double(DispatchTime.now().uptimeNanoseconds - t0))
        }
        let total = perRound * rounds
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        print(String(format: "mailtriage: decide %d messages (TriageEngine.decide, explained) in %d rounds: %.0f msg/s on one core (median of the "
                        + "rounds; best %.0f), per second of CPU time %.0f msg/s (best %.0f) (%d automatic)",
                     total, rounds, median(wall), wall.max() ?? 0, median(cpu), cpu.max() ?? 0, decidedAutomatic))
    }
}
