#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One labelled text to learn from.
public struct TrainingExample: Sendable {
    public var subject: String
    public var body: String
    public var label: String
    /// "de", "en" or nil when unknown (then it does not train the language profiles).
    public var language: String?
    /// Where it came from ("knowledge-base", a file name, "corrections"), for the training report.
    public var source: String

    public init(subject: String = "", body: String, label: String, language: String? = nil, source: String) {
        self.subject = subject
        self.body = body
        self.label = label
        self.language = language
        self.source = source
    }
}

public struct TrainingOptions: Sendable {
    public var bits = FeatureExtractor.defaultBits
    public var subjectWeight: Float = 2
    public var epochs = 12
    public var learningRate: Float = 0.4
    public var l2: Float = 1e-5
    /// Folds for the held-out calibration and the cross-validated figures (0 or 1: none).
    public var folds = 5
    public var seed: UInt64 = 0x5EED
    /// The vocabulary for stems and compounds; nil: built from the training examples.
    public var morphology: Morphology?

    public init() {}
}

/// Cross-validated figures from training.
public struct TrainingReport: Sendable {
    public var examples: Int
    public var bySource: [String: Int]
    public var byCategory: [String: Int]
    public var temperature: Float
    /// Out-of-fold accuracy over all examples.
    public var accuracy: Double
    /// Out-of-fold precision and recall per category.
    public var perCategory: [String: (precision: Double, recall: Double)]
}

public enum Trainer {
    /// Trains a model on `examples`; labels not in `categories` are dropped.
    public static func train(_ examples: [TrainingExample], categories: [String], anchors: [String: [String]] = [:],
                             options: TrainingOptions = TrainingOptions()) -> (ClassifierModel, TrainingReport)
    {
        let usable = examples.filter { categories.contains($0.label) }
        let language = LanguageDetector.train(usable.compactMap { e in e.language.map { (e.subject + " " + e.body, $0) } })
        let languages = usable.map { $0.language ?? language.detect($0.subject + " " + $0.body) }
        let morphology = options.morphology
            ?? Morphology(texts: zip(usable, languages).map { ($0.subject + " " + $0.body, $1) })
        var extractor = FeatureExtractor(bits: options.bits, subjectWeight: options.subjectWeight)
        extractor.morphology = morphology
        var vectors = zip(usable, languages).map { extractor.features(subject: $0.subject, body: $0.body, language: $1) }
        let idf = ClassifierModel.inverseDocumentFrequency(vectors, bits: options.bits)
        for k in vectors.indices { ClassifierModel.weigh(&vectors[k], idf: idf) }
        let labels = usable.map { categories.firstIndex(of: $0.label)! }
        let c = categories.count

        // Class weights so a small category is not drowned by a big one.
        var counts = [Int](repeating: 0, count: c)
        for l in labels { counts[l] += 1 }
        let classWeight: [Float] = counts.map { n in
            n == 0 ? 1 : min(5, max(0.3, Float(usable.count) / Float(c * n)))
        }

        // Held-out folds: out-of-fold logits for calibration and honest figures.
        var oofLogits = [[Float]](repeating: [], count: usable.count)
        let folds = options.folds
        if folds >= 2 && usable.count >= folds * 2 {
            for f in 0..<folds {
                let trainIdx = usable.indices.filter { $0 % folds != f }
                let (w, b) = fit(vectors, labels, trainIdx, classes: c, classWeight: classWeight, options: options)
                for k in usable.indices where k % folds == f {
                    oofLogits[k] = ClassifierModel.logits(vectors[k], weights: w, bias: b)
                }
            }
        }
        let haveOOF = oofLogits.allSatisfy { !$0.isEmpty } && !usable.isEmpty
        let temperature = haveOOF ? fitTemperature(oofLogits, labels) : 1

        var report = TrainingReport(examples: usable.count, bySource: [:], byCategory: [:], temperature: temperature,
                                    accuracy: 0, perCategory: [:])
        for e in usable {
            report.bySource[e.source, default: 0] += 1
            report.byCategory[e.label, default: 0] += 1
        }
        if haveOOF {
            var tp = [Int](repeating: 0, count: c), predicted = [Int](repeating: 0, count: c)
            var correct = 0
            for k in usable.indices {
                let p = oofLogits[k].indices.max { oofLogits[k][$0] < oofLogits[k][$1] }!
                predicted[p] += 1
                if p == labels[k] { tp[p] += 1; correct += 1 }
            }
            report.accuracy = Double(correct) / Double(usable.count)
            for (j, cat) in categories.enumerated() {
                report.perCategory[cat] = (predicted[j] == 0 ? 0 : Double(tp[j]) / Double(predicted[j]),
                                           counts[j] == 0 ? 0 : Double(tp[j]) / Double(counts[j]))
            }
        }

        let (weights, bias) = fit(vectors, labels, Array(usable.indices), classes: c, classWeight: classWeight, options: options)
        var seen = [UInt64](repeating: 0, count: (1 << options.bits) / 64)
        for v in vectors {
            for w in v.words + v.alternates where w >= 0 { seen[Int(w) >> 6] |= 1 << UInt64(Int(w) & 63) }
        }
        var summary = ["examples: \(usable.count)"]
        summary += report.bySource.sorted { $0.key < $1.key }.map { "source \($0.key): \($0.value)" }
        summary += report.byCategory.sorted { $0.key < $1.key }.map { "category \($0.key): \($0.value)" }
        summary.append("temperature: \(temperature)")
        if haveOOF { summary.append("cross-validated accuracy: \(report.accuracy)") }
        var model = ClassifierModel(categories: categories, bits: options.bits, subjectWeight: options.subjectWeight,
                                    weights: weights, bias: bias, temperature: temperature, language: language, seen: seen,
                                    summary: summary)
        model.anchors = anchors
        model.idf = idf
        model.morphology = morphology
        return (model, report)
    }

    /// AdaGrad on the softmax cross-entropy with L2 on the touched weights.
    static func fit(_ vectors: [FeatureVector], _ labels: [Int], _ subset: [Int], classes c: Int, classWeight: [Float],
                    options: TrainingOptions) -> ([Float], [Float])
    {
        let dim = 1 << options.bits
        var w = [Float](repeating: 0, count: dim * c)
        var g2 = [Float](repeating: 0, count: dim * c)
        var b = [Float](repeating: 0, count: c)
        var bg2 = [Float](repeating: 0, count: c)
        var order = subset
        var rng = options.seed
        let lr = options.learningRate
        let l2 = options.l2
        var scores = [Float](repeating: 0, count: c)
        var grad = [Float](repeating: 0, count: c)
        var active: [Int] = []
        active.reserveCapacity(c)
        w.withUnsafeMutableBufferPointer { W in
            g2.withUnsafeMutableBufferPointer { G in
                for _ in 0..<options.epochs {
                    // Fisher-Yates with a SplitMix64 stream: the same data gives the same model.
                    for k in stride(from: order.count - 1, to: 0, by: -1) {
                        rng &+= 0x9E37_79B9_7F4A_7C15
                        var z = rng
                        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                        z ^= z >> 31
                        order.swapAt(k, Int(z % UInt64(k + 1)))
                    }
                    for idx in order {
                        let v = vectors[idx]
                        let y = labels[idx]
                        for j in 0..<c { scores[j] = b[j] }
                        for k in 0..<v.indices.count {
                            let base = Int(v.indices[k]) * c
                            let x = v.values[k]
                            for j in 0..<c { scores[j] += W[base + j] * x }
                        }
                        let m = scores.max()!
                        var sum: Float = 0
                        for j in 0..<c { scores[j] = Float(exp(Double(scores[j] - m))); sum += scores[j] }
                        let cw = classWeight[y]
                        for j in 0..<c { grad[j] = cw * (scores[j] / sum - (j == y ? 1 : 0)) }
                        // With many classes (the answer model: one per entry) only the classes with a gradient
                        // worth the name are updated: training time grows with them, not with every class.
                        active.removeAll(keepingCapacity: true)
                        for j in 0..<c where c <= 16 || abs(grad[j]) >= 1e-4 { active.append(j) }
                        for k in 0..<v.indices.count {
                            let base = Int(v.indices[k]) * c
                            let x = v.values[k]
                            for j in active {
                                let g = grad[j] * x + l2 * W[base + j]
                                G[base + j] += g * g
                                W[base + j] -= lr * g / (G[base + j] + 1e-8).squareRoot()
                            }
                        }
                        for j in 0..<c {
                            bg2[j] += grad[j] * grad[j]
                            b[j] -= lr * grad[j] / (bg2[j] + 1e-8).squareRoot()
                        }
                    }
                }
            }
        }
        return (w, b)
    }

    /// The temperature minimising the held-out negative log-likelihood (golden-section search).
    static func fitTemperature(_ logits: [[Float]], _ labels: [Int]) -> Float {
        func nll(_ t: Float) -> Double {
            var total = 0.0
            for (k, l) in logits.enumerated() {
                let p = ClassifierModel.softmax(l, temperature: t)
                total -= log(max(Double(p[labels[k]]), 1e-12))
            }
            return total
        }
        var lo: Float = 0.2, hi: Float = 8
        let phi: Float = 0.618_034
        var a = hi - phi * (hi - lo), bb = lo + phi * (hi - lo)
        var fa = nll(a), fb = nll(bb)
        for _ in 0..<40 {
            if fa < fb { hi = bb; bb = a; fb = fa; a = hi - phi * (hi - lo); fa = nll(a) }
            else { lo = a; a = bb; fa = fb; bb = lo + phi * (hi - lo); fb = nll(bb) }
        }
        return (lo + hi) / 2
    }
}
