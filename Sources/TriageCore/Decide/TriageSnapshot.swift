/// The active configuration a decision is made with: one immutable value, swapped whole on reload.
public struct TriageSnapshot: Sendable {
    public let config: TriageConfig
    public private(set) var classifier: SharedClassifier?
    /// Nil without a knowledge base.
    public let matcher: KnowledgeMatcher?
    public private(set) var loopGuard: LoopGuard
    /// Automatic answers can be sent (an `[smtp]` table is configured).
    public let answersEnabled: Bool
    /// The domain of our answers' Message-IDs.
    public let messageIDDomain: String
    /// Counts reloads, for logs.
    public let generation: Int
    /// Calendars, target groups and policies; nil without a service-levels file.
    public let serviceLevels: ServiceLevels?
    /// Message templates by name and language ("acknowledgement-de"), from the knowledge base's `_templates/`.
    public let templates: [String: String]

    /// Throws `TriageError(.config)` when the role sender pattern is not a valid regular expression.
    public init(config: TriageConfig, classifier: SharedClassifier?, knowledgeBase: [KnowledgeEntry]?, serviceLevels: ServiceLevels? = nil,
                templates: [String: String] = [:], generation: Int = 1) throws
    {
        self.config = config
        self.serviceLevels = serviceLevels
        self.templates = templates
        self.classifier = classifier
        self.generation = generation
        matcher = knowledgeBase.map { KnowledgeMatcher(entries: $0) }
        answersEnabled = config.smtp != nil
        let envelopeSender = config.smtp?.envelopeSender ?? ""
        let firstDomain = config.mailboxes.compactMap(\.address).first.flatMap { $0.split(separator: "@").last.map(String.init) }
        messageIDDomain = config.answers.messageIDDomain ?? firstDomain ?? "mailtriage.invalid"
        var s = LoopGuard.Settings()
        s.ownAddresses = Set(config.mailboxes.compactMap { $0.address?.lowercased() })
        if !envelopeSender.isEmpty { s.ownAddresses.insert(envelopeSender.lowercased()) }
        s.ownMessageIDDomain = messageIDDomain
        if let r = config.answers.roleSenderPattern { s.roleSenderPattern = r }
        s.maxAnswersPerSender = config.answers.maxPerSender
        s.window = config.answers.window.components.seconds
        do { loopGuard = try LoopGuard(settings: s) } catch {
            throw TriageError(.config, "answers.role_sender_pattern is not a valid regular expression: \(error)")
        }
    }

    /// The same configuration with a classifier of its own (over the same model), for a thread that
    /// decides in parallel with others: a `SharedClassifier` serialises its callers.
    public func withOwnClassifier() -> TriageSnapshot {
        guard let c = classifier else { return self }
        var copy = self
        copy.classifier = SharedClassifier(Classifier(model: c.model, settings: c.settings), source: c.source)
        return copy
    }

    /// The same configuration for mail read from an archive: a missing Return-Path is not held against a
    /// message (exports drop it; the delivering server adds one to everything that reaches a mailbox).
    public func forArchive() -> TriageSnapshot {
        var copy = self
        var s = loopGuard.settings
        s.requireReturnPath = false
        if let g = try? LoopGuard(settings: s) { copy.loopGuard = g }
        return copy
    }

    /// The settings of a configured mailbox.
    public func mailbox(_ name: String) -> MailboxConfig? { config.mailboxes.first { $0.name == name } }
}
