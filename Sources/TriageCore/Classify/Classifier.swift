/// How much of a ticket a machine may do.
public enum AutomationDegree: String, Sendable, Codable, CaseIterable {
    /// Answered without a human.
    case automatic
    /// A drafted answer waits for an agent's approval.
    case semiAutomatic = "semi_automatic"
    /// Decided and drafted but never sent: what would have been sent is recorded (a service-level policy).
    case shadow
    case manual
}

/// Confidence bars for one category.
public struct Thresholds: Sendable, Equatable, Codable {
    /// At or above: automatic.
    public var auto: Double
    /// At or above (and below `auto`): semi-automatic.
    public var draft: Double

    public init(auto: Double, draft: Double) {
        self.auto = auto
        self.draft = draft
    }
}

/// The tunable part of classification (the `[classifier]` table and the rules file).
public struct ClassifierSettings: Sendable {
    public var categories: [String] = Category.defaults
    /// Per category; categories without an entry use `defaultThresholds`.
    public var thresholds: [String: Thresholds] = [:]
    public var defaultThresholds = Thresholds(auto: 0.98, draft: 0.6)
    /// Below this share of known words, confidence is scaled down (mail unlike anything trained on).
    public var minimumCoverage: Double = 0.75
    /// Languages that may be answered automatically.
    public var languages: [String] = ["de", "en"]
    public var rules: [ClassificationRule] = []
    /// Per mailbox that names its audiences: the knowledge-base entries that may answer its mail
    /// (`audiences(entries:mailboxes:)`). Mailboxes not listed: every entry.
    public var mailboxEntries: [String: Set<String>] = [:]

    public init() {}

    /// `mailboxEntries` from the entries' and the mailboxes' audiences.
    public mutating func audiences(entries: [KnowledgeEntry], mailboxes: [MailboxConfig]) {
        mailboxEntries = [:]
        for m in mailboxes where !m.audiences.isEmpty {
            mailboxEntries[m.name] = Set(entries.filter { $0.serves(m.audiences) }.map(\.id))
        }
    }

    public func thresholds(for category: String) -> Thresholds { thresholds[category] ?? defaultThresholds }
}

/// The outcome for one message, with its reasons.
public struct Classification: Sendable, Codable, Equatable {
    public var language: String
    public var category: String
    /// Calibrated probability of `category`, scaled down for unfamiliar text.
    public var confidence: Double
    public var degree: AutomationDegree
    public var reasons: [ClassificationReason]
    /// Matching rule names.
    public var rules: [String]
    /// Probability per category (after rules, before the familiarity scaling).
    public var scores: [String: Double]
    /// Share of the message's words the model knows.
    public var coverage: Double
    public var targetGroup: String?
    public var priority: String?
    /// A knowledge-base keyword of the category (or a rule for it) is in the message.
    public var anchored: Bool
    /// A rule asked for a human.
    public var forced: Bool
    /// The knowledge-base entry the answer model picks (nil: no answer model, or no entry is likely).
    public var answer: AnswerModel.Prediction?

    public init(language: String, category: String, confidence: Double, degree: AutomationDegree, reasons: [ClassificationReason] = [],
                rules: [String] = [], scores: [String: Double] = [:], coverage: Double = 1, targetGroup: String? = nil, priority: String? = nil,
                anchored: Bool = true, forced: Bool = false)
    {
        self.language = language
        self.category = category
        self.confidence = confidence
        self.degree = degree
        self.reasons = reasons
        self.rules = rules
        self.scores = scores
        self.coverage = coverage
        self.targetGroup = targetGroup
        self.priority = priority
        self.anchored = anchored
        self.forced = forced
    }
}

/// Rules and model combined. Keeps scratch buffers: one instance per thread.
public struct Classifier: Sendable {
    /// Language detection reads the subject and this many bytes of the normalised body.
    static let languageHeadBytes = 320
    public let model: ClassifierModel
    public let settings: ClassifierSettings
    let rules: [CompiledRule]
    /// The rules' phrases by the words that must be in a text for them to be in it.
    let ruleIndex: RuleIndex
    /// Per category, the keyword phrases as the stems a message needs (German and English forms).
    let anchors: [String: [[UInt32]]]
    var extractor: FeatureExtractor
    /// Per mailbox with audiences: which of the answer model's entries may answer (by class index).
    let entryMasks: [String: [Bool]]

    public init(model: ClassifierModel, settings: ClassifierSettings) {
        self.model = model
        self.settings = settings
        var nextID: Int32 = 0
        rules = settings.rules.map { CompiledRule($0, nextID: &nextID) }
        ruleIndex = RuleIndex(rules)
        // Stems, so "invoices", "Rechnungen" and "Versandkosten" (a compound part) count for "invoice",
        // "Rechnung" and "Versand".
        // The knowledge base's keywords, and the words the operator's labelled examples add (`AnswerModel`).
        var phrases = model.anchors
        for (c, words) in model.answers?.model.anchors ?? [:] { phrases[c, default: []] += words }
        anchors = phrases.mapValues { phrases in phrases.flatMap(FeatureExtractor.keywordForms) }
        extractor = model.makeExtractor()
        entryMasks = model.answers.map { a in settings.mailboxEntries.mapValues { ids in a.entries.map { ids.contains($0.id) } } } ?? [:]
    }

    public mutating func classify(_ input: ClassifierInput, explain: Bool = true) -> Classification {
        // Normalise once for language, features, rules and anchors.
        var ns: [UInt8] = [], nb: [UInt8] = []
        TextNormalizer.append(input.subject, to: &ns)
        TextNormalizer.append(input.body, to: &nb, maxBytes: 32 * 1024)
        // Each word looked up once (`WordTable`); the language from the subject and the body's first bytes.
        extractor.read(normalizedSubject: ns, normalizedBody: nb)
        let language = extractor.language(model.language)
        var v = extractor.features(language: language)
        let unweighted = v
        model.weigh(&v)
        var logits = model.logits(v)
        let t = max(model.temperature, 0.05)
        for k in logits.indices { logits[k] /= t }

        var reasons: [ClassificationReason] = []
        var matched: [String] = []
        var supportingRules = Set<String>()
        var force: ClassificationRule.Force?
        var targetGroup: String?
        var priority: String?
        let text = extractor.ruleText(subject: ns, body: nb, index: ruleIndex)
        if !rules.isEmpty {
            for r in rules where r.matches(input, text, language: language) {
                matched.append(r.rule.name)
                if let cat = r.rule.category, let j = model.categories.firstIndex(of: cat) {
                    logits[j] += Float(r.rule.weight)
                    if r.rule.weight > 0 { supportingRules.insert(cat) }
                    reasons.append(.rule(name: r.rule.name, category: cat, weight: r.rule.weight))
                } else {
                    reasons.append(.rule(name: r.rule.name, category: nil, weight: 0))
                }
                if let f = r.rule.force, force != .other { force = f }
                if targetGroup == nil { targetGroup = r.rule.targetGroup }
                if priority == nil { priority = r.rule.priority }
            }
        }
        let p = ClassifierModel.softmax(logits)
        var best = p.indices.max { p[$0] < p[$1] } ?? 0
        let coverage = model.coverage(v)
        let familiarity = min(1, Double(coverage) / max(settings.minimumCoverage, 0.01))
        var category = model.categories[best]
        var confidence = Double(p[best]) * familiarity
        if force == .other, let o = model.categories.firstIndex(of: Category.other) {
            best = o
            category = Category.other
            confidence = 1
        }

        // Looked up only where it can matter (not for `other`, not for low confidence).
        let anchored = category != Category.other && confidence >= min(0.5, settings.thresholds(for: category).draft)
            && (supportingRules.contains(category) || (anchors[category].map { forms in
                forms.isEmpty || { let stems = Set(v.stems); return forms.contains { $0.allSatisfy(stems.contains) } }()
            } ?? true))
        var degree: AutomationDegree
        var answer: AnswerModel.Prediction?
        if category == Category.other || force != nil {
            degree = .manual
            if force != nil { reasons.append(.ruleRequiresHuman) }
        } else if !settings.languages.contains(language) {
            degree = .manual
            reasons.append(.languageNotServed(language))
        } else if let answers = model.answers {
            // Decided by the answer: one entry of the category, in the message's language, is confidently right.
            let th = settings.thresholds(for: category)
            answer = answers.predict(unweighted, language: language, category: category, allowed: input.mailbox.flatMap { entryMasks[$0] })
            degree = confidence >= th.draft ? .semiAutomatic : .manual
            if let a = answer {
                // Sure of the answer: the answer model's probability for the entry (against every other
                // entry of the language and `none`), scaled down for unfamiliar text.
                let sure = a.probability * familiarity
                if sure < th.auto {
                    reasons.append(.answerUnsure(entry: a.entry, percent: percent(sure), needed: percent(th.auto)))
                } else if !anchored {
                    reasons.append(.noKnowledgeKeyword(category: category))
                } else if confidence < th.draft {
                    reasons.append(.answerUnsure(entry: a.entry, percent: percent(confidence), needed: percent(th.draft)))
                } else {
                    degree = .automatic
                    reasons.append(.answer(entry: a.entry, percent: percent(sure)))
                }
            } else {
                reasons.append(.noAnswerEntry(language))
            }
        } else {
            let th = settings.thresholds(for: category)
            degree = confidence >= th.auto ? .automatic : confidence >= th.draft ? .semiAutomatic : .manual
            // Precision first: an automatic answer needs evidence that this is a question the FAQ covers.
            if degree == .automatic && !anchored {
                degree = .semiAutomatic
                reasons.append(.noKnowledgeKeyword(category: category))
            }
        }
        if familiarity < 1 { reasons.append(.unfamiliarWords(percent: Int((Double(coverage) * 100).rounded()))) }
        if explain && category != Category.other {
            let top = topWords(ns, nb, category: best)
            if !top.isEmpty { reasons.append(.words(top)) }
        }
        var scores: [String: Double] = [:]
        for (j, c) in model.categories.enumerated() { scores[c] = Double(p[j]) }
        var result = Classification(language: language, category: category, confidence: confidence, degree: degree, reasons: reasons,
                                    rules: matched, scores: scores, coverage: Double(coverage), targetGroup: targetGroup,
                                    priority: priority, anchored: anchored, forced: force != nil)
        result.answer = answer
        return result
    }

    func percent(_ p: Double) -> Int { Int((p * 100).rounded(.down)) }

    /// The words of the message that pull hardest towards `category` (relative to the other categories),
    /// from the normalised subject and the first 4 KB of the body; strings only for the four shown.
    func topWords(_ subject: [UInt8], _ body: [UInt8], category j: Int) -> [String] {
        let c = model.categories.count
        let mask = UInt32((1 << model.bits) - 1)
        var seen: [Int32] = []
        var scored: [(ArraySlice<UInt8>, Float)] = []
        model.weightTable.withUnsafeBufferPointer { weights in
            for text in [subject, body.count > 4096 ? Array(body.prefix(4096)) : body] {
                text.withUnsafeBufferPointer { buf in
                    Morphology.forEachWord(buf) { w in
                        guard w.count >= 3 else { return }
                        var h = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 1)
                        for b in w { h = FeatureExtractor.mix(h, b) }
                        let wi = Int32(truncatingIfNeeded: FeatureExtractor.finish(h) & mask)
                        if seen.contains(wi) || model.isFunctionWord(wi) { return }
                        seen.append(wi)
                        let idx = Int(wi) * c
                        guard idx + c <= weights.count else { return }
                        var others: Float = 0
                        for k in 0..<c where k != j { others += weights[idx + k] }
                        let s = weights[idx + j] - others / Float(c - 1)
                        if s > 0.05 {
                            let start = w.baseAddress! - buf.baseAddress!
                            scored.append((text[start..<(start + w.count)], s))
                        }
                    }
                }
            }
        }
        return scored.sorted { $0.1 > $1.1 }.prefix(4).map { String(decoding: $0.0, as: UTF8.self) }
    }
}

/// Why the classifier decided as it did.
public enum ClassificationReason: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A rule matched; with a category it moved the score by `weight`.
    case rule(name: String, category: String?, weight: Double)
    case ruleRequiresHuman
    case languageNotServed(String)
    /// Precision first: no keyword of a knowledge-base entry of the category in the message.
    case noKnowledgeKeyword(category: String)
    /// Only this share of the words is known to the model; confidence was scaled down.
    case unfamiliarWords(percent: Int)
    /// The words that pulled hardest towards the category.
    case words([String])
    /// The answer model is this sure that the entry answers the message.
    case answer(entry: String, percent: Int)
    /// The best entry is not sure enough for an automatic answer.
    case answerUnsure(entry: String, percent: Int, needed: Int)
    /// The category has no entry in the message's language.
    case noAnswerEntry(String)

    public var description: String {
        switch self {
        case .rule(let n, let c?, let w): return "rule \(n): \(c) \(w >= 0 ? "+" : "")\(w)"
        case .rule(let n, nil, _): return "rule \(n)"
        case .ruleRequiresHuman: return "a rule requires a human"
        case .languageNotServed(let l): return "language \(l) is not answered automatically"
        case .noKnowledgeKeyword(let c): return "no knowledge-base keyword of \(c) in the message"
        case .unfamiliarWords(let p): return "only \(p)% of the words are familiar"
        case .words(let w): return "words: " + w.joined(separator: ", ")
        case .answer(let e, let p): return "answer \(e): \(p)% sure"
        case .answerUnsure(let e, let p, let n): return "best answer \(e) is \(p)% sure, \(n)% needed"
        case .noAnswerEntry(let l): return "no \(l) entry in the category"
        }
    }
}
