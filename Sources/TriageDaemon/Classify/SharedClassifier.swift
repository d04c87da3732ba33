import Foundation
import Synchronization
import TriageCore

/// A classifier that several mailbox services share: the model is read-only, the scratch buffers are
/// behind a lock (classification takes tens of microseconds).
public final class SharedClassifier: Sendable {
    let state: Mutex<Classifier>
    public let source: String

    public init(_ classifier: Classifier, source: String) {
        state = Mutex(classifier)
        self.source = source
    }

    public func classify(_ input: ClassifierInput) -> Classification {
        state.withLock { $0.classify(input) }
    }

    /// The daemon's classifier: the model saved by `mailtriage train` in the state directory, or one
    /// trained now from the configured knowledge base; nil when neither exists. Rules come from the
    /// configured rules file. Errors name the file and what is wrong.
    public static func load(config: TriageConfig) throws -> SharedClassifier? {
        var settings = config.classifier.settings
        if let rules = config.classifier.rulesFile {
            settings.rules = try RulesLoader.load(path: rules, categories: settings.categories).rules
        }
        let path = ModelStore.path(stateDir: config.stateDir)
        if let model = try ModelStore.load(path) {
            return SharedClassifier(Classifier(model: model, settings: settings), source: path)
        }
        guard let kb = config.knowledgeBase else { return nil }
        let data = try TrainingData.knowledgeBase(at: kb)
        let (model, _) = Trainer.train(data.entries.flatMap(\.trainingExamples) + data.examples, categories: settings.categories,
                                       anchors: KnowledgeEntry.anchors(data.entries))
        return SharedClassifier(Classifier(model: model, settings: settings), source: "trained at start-up from \(kb)")
    }
}
