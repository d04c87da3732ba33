import Foundation
public import Logging
public import ServiceLifecycle
public import TriageCore
import TriageFiles
import TriageMail
public import TriageStore

/// Trains the category model and the answer model from the knowledge base, extra labelled examples and
/// what agents and customers taught us (`TrainingFeedback`). `mailtriage train` and the daemon's
/// retraining use this one function.
public enum ModelTraining {
    public struct Run: Sendable {
        public var model: ClassifierModel
        public var report: TrainingReport
        public var answerReport: TrainingReport?
        public var seconds: Double
        public var feedback: Int
    }

    public static func train(entries: [KnowledgeEntry], examples: [TrainingExample], feedback: [TrainingFeedback], settings: ClassifierSettings,
                             options: TrainingOptions = TrainingOptions()) -> Run
    {
        let start = DispatchTime.now().uptimeNanoseconds
        let all = entries.flatMap(\.trainingExamples) + examples + TrainingFeedback.examples(feedback)
        var (model, report) = Trainer.train(all, categories: settings.categories, anchors: KnowledgeEntry.anchors(entries), options: options)
        var answerReport: TrainingReport?
        if !entries.isEmpty {
            let (answers, r) = AnswerModel.train(entries: entries, examples: all, morphology: model.morphology, subjectWeight: model.subjectWeight,
                                                 options: options)
            model.answers = answers
            answerReport = r
        }
        model.summary.append("feedback: \(feedback.count)")
        if let a = answerReport { model.summary.append("answer cross-validated accuracy: \(a.accuracy)") }
        return Run(model: model, report: report, answerReport: answerReport,
                   seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, feedback: feedback.count)
    }

    /// A figure from a model's summary ("cross-validated accuracy", "feedback", ...).
    public static func figure(_ model: ClassifierModel, _ key: String) -> Double? {
        for line in model.summary where line.hasPrefix(key + ": ") { return Double(line.dropFirst(key.count + 2)) }
        return nil
    }
}

/// Retrains from agents' corrections when there are new ones (on a schedule and on SIGHUP), keeps the
/// previous model file as `classifier.model.previous`, logs the cross-validated figures, and does not
/// swap in a model whose figures are worse than the running one's.
public struct Retrainer: Sendable {
    public enum Outcome: Sendable, Equatable {
        case noNewFeedback
        case swapped(feedback: Int, accuracy: Double, answerAccuracy: Double?)
        case kept(reason: String)
        case failed(String)
    }

    /// How much lower a cross-validated figure may be and the new model still replace the old.
    public static let tolerance = 0.02

    let configPath: String
    let stateDir: String?
    let store: SQLiteTicketStore
    let logger: Logger

    public init(configPath: String, stateDir: String?, store: SQLiteTicketStore, logger: Logger) {
        self.configPath = configPath
        self.stateDir = stateDir
        self.store = store
        self.logger = logger
    }

    /// Blocking (training takes seconds): run it on a thread of its own.
    public func retrain(force: Bool = false) -> Outcome {
        do {
            var (config, _) = try ConfigLoader.load(path: configPath)
            if let stateDir { config.stateDir = stateDir }
            guard let dir = config.knowledgeBase else { return .kept(reason: "no knowledge base configured") }
            let kb = try TrainingData.knowledgeBase(at: dir)
            let feedback = try store.trainingFeedback()
            let path = ModelStore.path(stateDir: config.stateDir)
            let current = try? ModelStore.load(path)
            let trainedWith = current.flatMap { ModelTraining.figure($0, "feedback") }.map { Int($0) } ?? 0
            if !force && feedback.count == trainedWith { return .noNewFeedback }
            let run = ModelTraining.train(entries: kb.entries, examples: kb.examples, feedback: feedback, settings: config.classifier.settings)
            let figures: Logger.Metadata = [
                "feedback": "\(feedback.count)", "examples": "\(run.report.examples)", "seconds": "\(String(format: "%.1f", run.seconds))",
                "accuracy": "\(String(format: "%.3f", run.report.accuracy))",
                "answer_accuracy": "\(run.answerReport.map { String(format: "%.3f", $0.accuracy) } ?? "-")",
            ]
            if let current {
                let old = ModelTraining.figure(current, "cross-validated accuracy")
                let oldAnswers = ModelTraining.figure(current, "answer cross-validated accuracy")
                if let old, run.report.accuracy < old - Retrainer.tolerance {
                    logger.warning("retrained model not used: its cross-validated accuracy is lower", metadata: figures.merging(["current": "\(old)"]) { $1 })
                    return .kept(reason: "accuracy \(run.report.accuracy) below \(old)")
                }
                if let oldAnswers, let a = run.answerReport?.accuracy, a < oldAnswers - Retrainer.tolerance {
                    logger.warning("retrained model not used: its answer model's cross-validated accuracy is lower",
                                   metadata: figures.merging(["current": "\(oldAnswers)"]) { $1 })
                    return .kept(reason: "answer accuracy \(a) below \(oldAnswers)")
                }
                // The running model stays on disk beside the new one.
                let previous = path + ".previous"
                try? FileManager.default.removeItem(atPath: previous)
                try? FileManager.default.copyItem(atPath: path, toPath: previous)
            }
            try ModelStore.save(run.model, to: path)
            logger.notice("retrained from agents' corrections", metadata: figures)
            return .swapped(feedback: feedback.count, accuracy: run.report.accuracy, answerAccuracy: run.answerReport?.accuracy)
        } catch let e as ConfigError {
            return .failed(e.diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "; "))
        } catch {
            return .failed((error as? TriageError)?.message ?? "\(error)")
        }
    }
}

/// Retrains on a schedule (`[classifier] retrain_interval`) when there is new feedback, then reloads.
struct RetrainService: Service {
    let daemon: Daemon
    let interval: Duration
    let clock: any Clock<Duration>

    func run() async throws {
        let daemon = daemon, thread = TransferThread(name: "retrain")
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { return }
            let outcome = try? await thread.run { daemon.retrainer.retrain() }
            if case .swapped = outcome { _ = try? await thread.run { daemon.reload() } }
            if case .failed(let m) = outcome { daemon.logger.error("retraining failed: \(m)") }
            if let outcome, outcome != .noNewFeedback { daemon.releaseMemory(after: "retraining") }
        }
    }
}
