import Synchronization

/// A classifier that several tasks share: the model is read-only, the scratch buffers are behind a lock
/// (classification takes tens of microseconds).
public final class SharedClassifier: Sendable {
    let state: Mutex<Classifier>
    /// Where the model came from (a file, or "trained at start-up from ...").
    public let source: String

    public init(_ classifier: Classifier, source: String) {
        state = Mutex(classifier)
        self.source = source
    }

    public func classify(_ input: ClassifierInput, explain: Bool = true) -> Classification {
        state.withLock { $0.classify(input, explain: explain) }
    }

    public var settings: ClassifierSettings { state.withLock { $0.settings } }
    public var categories: [String] { state.withLock { $0.model.categories } }
    public var model: ClassifierModel { state.withLock { $0.model } }
}
