import CPrefetch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which knowledge-base entry answers a message: a classifier whose classes are the entries themselves
/// (plus `none`, learnt from the `other` examples), over the same features as the category model, with a
/// temperature fitted on held-out folds. An automatic answer is decided by this probability: that one
/// entry is the right answer, not only that the category is right.
public final class AnswerModel: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var category: String
        public var language: String

        public init(id: String, category: String, language: String) {
            self.id = id
            self.category = category
            self.language = language
        }
    }

    /// The entry of a category the model would answer with, its calibrated probability, and the runner-up.
    public struct Prediction: Sendable, Equatable, Codable {
        public var entry: String
        public var category: String
        /// Among the entries of the message's language and `none`.
        public var probability: Double
        /// Among the entries of its category (and language) only: how clearly it is the category's answer.
        public var share: Double
        public var runnerUp: String?
        public var runnerUpProbability: Double
        /// The probability that no entry answers it.
        public var none: Double
    }

    /// The class of "no entry answers this".
    public static let noEntry = "(none)"
    /// A category-labelled example joins the entry with at least this share of its category's probability.
    static let joinShare = 0.6
    /// How often category-labelled examples are offered to the retrained model to join an entry.
    static let joinPasses = 2
    /// Fewer features than the category model (a class per entry): indices are folded to this many bits.
    public static let bits = 14

    public let model: ClassifierModel
    public let entries: [Entry]
    /// Of the knowledge base it was trained from (`fingerprint(_:)`): a changed knowledge base retrains it.
    public let fingerprint: String

    /// Per language: the class indices of its entries and then `none` (the only logits a prediction needs).
    let classesByLanguage: [String: [Int]]

    public init(model: ClassifierModel, entries: [Entry], fingerprint: String) {
        self.model = model
        self.entries = entries
        self.fingerprint = fingerprint
        var by: [String: [Int]] = [:]
        for (k, e) in entries.enumerated() { by[e.language, default: []].append(k) }
        classesByLanguage = by.mapValues { $0 + [entries.count] }
        // Models trained here keep each language's entries together (`train`): a prediction then reads one
        // contiguous run of weights per feature (half the memory traffic of all classes).
        runs = by.compactMapValues { ks in ks.last! - ks.first! + 1 == ks.count ? ks.first!..<(ks.last! + 1) : nil }
    }

    /// Per language, its entries' class indices when they are contiguous.
    let runs: [String: Range<Int>]

    /// Identifies what the model learns from an entry set (ids, categories, languages, titles, questions, keywords).
    public static func fingerprint(_ entries: [KnowledgeEntry]) -> String {
        var text = ""
        for e in entries.sorted(by: { $0.id < $1.id }) {
            text += ([e.id, e.category, e.language, e.title] + e.questions + e.keywords).joined(separator: "\u{1F}") + "\u{1E}"
        }
        return SHA256.hex(Array(text.utf8))
    }

    /// Trains on the entries' questions (each entry its own class; its title and keywords one more example)
    /// and the `other` examples as `none`. `morphology` must be the category model's (the features are shared).
    public static func train(entries: [KnowledgeEntry], examples: [TrainingExample], morphology: Morphology,
                             subjectWeight: Float, options: TrainingOptions = TrainingOptions()) -> (AnswerModel, TrainingReport)
    {
        // Each language's entries next to each other (in their order), so a prediction reads one run of weights.
        let candidates = entries.filter { $0.category != Category.other }
        let languages = candidates.reduce(into: [String]()) { if !$0.contains($1.language) { $0.append($1.language) } }
        let usable = languages.flatMap { l in candidates.filter { $0.language == l } }
        let data = trainingData(entries: usable, examples: examples)
        var opts = options
        opts.bits = bits
        opts.subjectWeight = subjectWeight
        opts.morphology = morphology
        let classes = usable.map(\.id) + [noEntry]
        let list = usable.map { Entry(id: $0.id, category: $0.category, language: $0.language) }
        var (model, report) = Trainer.train(data, categories: classes, options: opts)
        // Examples an operator labelled only with a category (`train --data`, corrections) join the entry of
        // that category that clearly answers them, and the model is trained again with them. (Our own
        // examples are not: measured on realistic mail, they made wrong answers more likely.) A second pass
        // with the model that learnt from the first joins what only it recognises (a second wording of a
        // question the first pass taught it); what neither pass places clearly stays out.
        let ids = Set(classes), categories = Set(usable.map(\.category))
        var x = model.makeExtractor()
        var pending: [(example: TrainingExample, language: String, features: FeatureVector)] = []
        for e in examples where categories.contains(e.label) && !ids.contains(e.label) && !["knowledge-base", "examples"].contains(e.source) {
            let language = e.language ?? model.language.detect(e.subject + " " + e.body)
            pending.append((e, language, x.features(subject: e.subject, body: e.body, language: language)))
        }
        var joined: [TrainingExample] = []
        for _ in 0..<joinPasses where !pending.isEmpty {
            let current = AnswerModel(model: model, entries: list, fingerprint: "")
            var rest: [(example: TrainingExample, language: String, features: FeatureVector)] = []
            let before = joined.count
            for item in pending {
                if let p = current.predict(item.features, language: item.language, category: item.example.label), p.share >= AnswerModel.joinShare {
                    var j = item.example
                    j.label = p.entry
                    j.source = "labelled examples"
                    joined.append(j)
                } else {
                    rest.append(item)
                }
            }
            pending = rest
            if joined.count == before { break }
            (model, report) = Trainer.train(data + joined, categories: classes, options: opts)
        }
        let categoryOf = Dictionary(uniqueKeysWithValues: usable.map { ($0.id, $0.category) })
        model.anchors = learnedKeywords(joined: joined, all: data + joined) { categoryOf[$0] ?? Category.other }
        return (AnswerModel(model: model, entries: list, fingerprint: fingerprint(entries)), report)
    }

    /// Words the operator's labelled examples add to a category's knowledge-base keywords (the evidence an
    /// automatic answer needs that the FAQ covers the question): a word of at least four letters, without
    /// digits and not a function word, in at least `learnedKeywordExamples` of the examples that joined the
    /// category's entries, and of all training texts that have it, at least `learnedKeywordPurity` of them
    /// belong to that category (the entries' own questions, joined examples; `none` counts against it).
    static func learnedKeywords(joined: [TrainingExample], all: [TrainingExample], category: (String) -> String) -> [String: [String]] {
        guard !joined.isEmpty else { return [:] }
        func words(_ e: TrainingExample) -> Set<String> {
            var n: [UInt8] = []
            TextNormalizer.append(e.subject, to: &n)
            n.append(0x20)
            TextNormalizer.append(e.body, to: &n)
            var out = Set<String>()
            n.withUnsafeBufferPointer { buf in
                Morphology.forEachWord(buf) { w in
                    guard w.count >= 4, !w.contains(where: { (0x30...0x39).contains($0) }), !LanguageDetector.isFunctionWord(w) else { return }
                    out.insert(String(decoding: w, as: UTF8.self))
                }
            }
            return out
        }
        var inCategory: [String: [String: Int]] = [:]
        for e in joined {
            let c = category(e.label)
            for w in words(e) { inCategory[c, default: [:]][w, default: 0] += 1 }
        }
        var total: [String: Int] = [:], sameCategory: [String: [String: Int]] = [:]
        for e in all {
            let c = category(e.label)
            for w in words(e) where inCategory.values.contains(where: { $0[w] != nil }) {
                total[w, default: 0] += 1
                sameCategory[c, default: [:]][w, default: 0] += 1
            }
        }
        var out: [String: [String]] = [:]
        for (c, counts) in inCategory {
            let keep = counts.filter { w, n in
                n >= learnedKeywordExamples && Double(sameCategory[c]?[w] ?? 0) >= learnedKeywordPurity * Double(total[w] ?? 0)
            }.keys.sorted()
            if !keep.isEmpty { out[c] = keep }
        }
        return out
    }

    static let learnedKeywordExamples = 3
    static let learnedKeywordPurity = 0.9

    /// What the answer model learns from: each entry's questions (and its title with the keywords) labelled
    /// with the entry's id, examples labelled with an entry id (approved drafts), and the `other` and
    /// `noEntry` examples (rejected drafts, unhelpful answers) as `noEntry`.
    public static func trainingData(entries: [KnowledgeEntry], examples: [TrainingExample]) -> [TrainingExample] {
        var data: [TrainingExample] = []
        for e in entries where e.category != Category.other {
            for q in e.questions { data.append(TrainingExample(body: q, label: e.id, language: e.language, source: "knowledge-base")) }
            data.append(TrainingExample(subject: e.title, body: e.keywords.joined(separator: " "), label: e.id, language: e.language,
                                        source: "knowledge-base"))
        }
        let ids = Set(entries.map(\.id))
        for x in examples {
            if x.label == Category.other || x.label == noEntry {
                var n = x
                n.label = noEntry
                data.append(n)
            } else if ids.contains(x.label) {
                data.append(x)  // an agent approved this entry for this mail
            }
        }
        return data
    }

    /// The best entry of `category` in `language` for a message's features (as extracted by the category
    /// model, before its IDF weighting); nil when there is no such entry. `allowed` (by class index): only
    /// these entries may answer (a mailbox's audiences); the probabilities are then among them and `none`,
    /// which is the model's belief given that the others are not an answer here.
    public func predict(_ features: FeatureVector, language: String, category: String, allowed: [Bool]? = nil) -> Prediction? {
        let mask = Int32((1 << model.bits) - 1)  // AnswerModel.bits in a model that was read or trained
        var v = FeatureVector(indices: features.indices.map { $0 & mask }, values: features.values)
        model.weigh(&v)
        guard let classes = classesByLanguage[language] else { return nil }
        // Logits of the entries of the message's language and `none` only (the softmax is over those).
        let c = model.categories.count
        // Every class's logit, a contiguous row of weights per feature (vectorised); only the language's are used.
        var logits = model.bias
        let run = runs[language] ?? 0..<entries.count
        let noneColumn = entries.count
        logits.withUnsafeMutableBufferPointer { l in
            model.weightTable.withUnsafeBufferPointer { w in
                guard let lp = l.baseAddress, let wp = w.baseAddress, w.count >= c, noneColumn < c else { return }
                let first = run.lowerBound, n = run.count
                let count = v.indices.count, ahead = ClassifierModel.prefetchDistance
                for f in 0..<count {
                    if f + ahead < count { mailtriage_prefetch(wp + Int(v.indices[f + ahead]) * c + first) }
                    let base = Int(v.indices[f]) * c
                    guard base >= 0, base + c <= w.count else { continue }
                    let row = wp + base
                    let x = v.values[f]
                    // The language's run (vectorised) and `none`; other classes are not in the softmax.
                    let out = lp + first, src = row + first
                    for k in 0..<n { out[k] += src[k] * x }
                    lp[noneColumn] += row[noneColumn] * x
                }
            }
        }
        let t = max(model.temperature, 0.05)
        let noneIndex = entries.count
        func usable(_ k: Int) -> Bool { k == noneIndex || allowed.map { k < $0.count && $0[k] } ?? true }
        var m = -Float.infinity
        for k in classes where usable(k) { m = max(m, logits[k] / t) }
        var p = [Float](repeating: 0, count: c)
        var sum: Float = 0
        for k in classes where usable(k) {
            p[k] = Float(exp(Double(logits[k] / t - m)))
            sum += p[k]
        }
        var best = -1, second = -1
        var inCategory: Float = 0
        for k in run where entries[k].language == language && entries[k].category == category && usable(k) {
            inCategory += p[k]
            if best < 0 || p[k] > p[best] { second = best; best = k } else if second < 0 || p[k] > p[second] { second = k }
        }
        guard best >= 0, sum > 0, inCategory > 0 else { return nil }
        return Prediction(entry: entries[best].id, category: category, probability: Double(p[best] / sum),
                          share: Double(p[best] / inCategory), runnerUp: second >= 0 ? entries[second].id : nil,
                          runnerUpProbability: second >= 0 ? Double(p[second] / sum) : 0, none: Double(p[noneIndex] / sum))
    }
}
