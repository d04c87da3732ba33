#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks the knowledge-base entry that answers a message: BM25 over each entry's title, sample questions
/// and keywords (normalised words: case, umlauts and ß folded), within the classified category and
/// language. An answer is only chosen when its score clears `minimumScore` and beats the runner-up by
/// `margin`; otherwise the best candidates are returned for a human.
public struct KnowledgeMatcher: Sendable {
    public struct Candidate: Sendable, Equatable, Codable {
        public var id: String
        public var score: Double
    }

    public struct Result: Sendable, Equatable {
        /// The entry to answer with, when the match is clear.
        public var chosen: String?
        /// The best candidates, best first.
        public var candidates: [Candidate]
        public var outcome: MatchOutcome
    }

    struct Doc: Sendable {
        let entry: KnowledgeEntry
        let terms: [UInt32: Int]
        let length: Int
    }

    let docs: [Doc]
    let idf: [UInt32: Double]
    let averageLength: Double
    public var minimumScore: Double
    /// Best / runner-up at least this ratio.
    public var margin: Double
    let k1 = 1.2, b = 0.75

    public init(entries: [KnowledgeEntry], minimumScore: Double = 3.0, margin: Double = 1.25) {
        var docs: [Doc] = []
        var df: [UInt32: Int] = [:]
        for e in entries {
            let text = ([e.title] + e.questions + e.keywords).joined(separator: " ")
            var tf: [UInt32: Int] = [:]
            let words = KnowledgeMatcher.terms(text)
            for w in words { tf[w, default: 0] += 1 }
            for w in tf.keys { df[w, default: 0] += 1 }
            docs.append(Doc(entry: e, terms: tf, length: words.count))
        }
        let n = Double(max(1, docs.count))
        idf = df.mapValues { log(1 + (n - Double($0) + 0.5) / (Double($0) + 0.5)) }
        averageLength = docs.isEmpty ? 1 : Double(docs.reduce(0) { $0 + $1.length }) / n
        self.docs = docs
        self.minimumScore = minimumScore
        self.margin = margin
    }

    /// Function words carry no meaning for matching.
    static let stop: Set<String> = LanguageDetector.functionWords.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        .union(["ich", "mich", "mir", "me", "i", "im", "in", "ein", "einen", "is", "are", "do", "how", "wie", "kann", "can"])

    /// Hashes of the content words of a text.
    static func terms(_ text: String) -> [UInt32] {
        TextNormalizer.normalize(text).split(separator: " ").compactMap { w in
            guard w.count >= 2, !stop.contains(String(w)) else { return nil }
            return LanguageDetector.wordHash(w.utf8)
        }
    }

    public func match(subject: String, body: String, category: String, language: String) -> Result {
        // Sorted: the sum is then the same in every process (Set order is seeded per process).
        let query = Set(KnowledgeMatcher.terms(subject + " " + body)).sorted()
        var scored: [Candidate] = []
        for d in docs where d.entry.category == category && d.entry.language == language {
            var s = 0.0
            for q in query {
                guard let f = d.terms[q], let w = idf[q] else { continue }
                let tf = Double(f)
                s += w * tf * (k1 + 1) / (tf + k1 * (1 - b + b * Double(d.length) / averageLength))
            }
            scored.append(Candidate(id: d.entry.id, score: s))
        }
        scored.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        let top = Array(scored.prefix(3))
        guard let best = top.first else {
            return Result(chosen: nil, candidates: [], outcome: .noEntry(category: category, language: language))
        }
        if best.score < minimumScore {
            return Result(chosen: nil, candidates: top, outcome: .belowMinimum(entry: best.id, score: rounded(best.score), minimum: minimumScore))
        }
        if top.count > 1, best.score < top[1].score * margin {
            return Result(chosen: nil, candidates: top, outcome: .notClear(best: best.id, score: rounded(best.score),
                                                                           runnerUp: top[1].id, runnerUpScore: rounded(top[1].score)))
        }
        return Result(chosen: best.id, candidates: top, outcome: .chosen(entry: best.id, score: rounded(best.score)))
    }

    func rounded(_ v: Double) -> Double { (v * 100).rounded() / 100 }

    public func entry(_ id: String) -> KnowledgeEntry? { docs.first { $0.entry.id == id }?.entry }
}

/// How the knowledge-base match came out.
public enum MatchOutcome: Sendable, Equatable, Codable, CustomStringConvertible {
    case chosen(entry: String, score: Double)
    case noEntry(category: String, language: String)
    case belowMinimum(entry: String, score: Double, minimum: Double)
    case notClear(best: String, score: Double, runnerUp: String, runnerUpScore: Double)
    /// The answer model's entry and how sure it is.
    case predicted(entry: String, percent: Int)

    public var description: String {
        switch self {
        case .chosen(let e, let s): return "\(e) scores \(s)"
        case .noEntry(let c, let l): return "no \(l) entry in \(c)"
        case .belowMinimum(let e, let s, let m): return "best entry \(e) scores \(s), below \(m)"
        case .notClear(let b, let s, let r, let rs): return "\(b) (\(s)) does not clearly beat \(r) (\(rs))"
        case .predicted(let e, let p): return "\(e) is \(p)% sure"
        }
    }
}
