/// German/English detection from character trigram profiles (learned with the model from the
/// language-tagged training texts) plus function words; "unknown" for too little text or text that fits
/// neither profile.
public struct LanguageDetector: Sendable {
    public static let unknown = "unknown"
    public static let tableBits = 14

    public let languages: [String]
    /// log P(trigram | language), `languages.count` tables of 2^tableBits entries.
    let logProb: [Float]

    public init(languages: [String], logProb: [Float]) {
        self.languages = languages
        self.logProb = logProb
    }

    /// Learns the profiles from (text, language) pairs; languages other than those listed are ignored.
    public static func train(_ samples: [(text: String, language: String)], languages: [String] = ["de", "en"]) -> LanguageDetector {
        let size = 1 << tableBits
        var counts = [Float](repeating: 0, count: size * languages.count)
        var totals = [Float](repeating: 0, count: languages.count)
        var norm: [UInt8] = []
        for (text, lang) in samples {
            guard let li = languages.firstIndex(of: lang) else { continue }
            norm.removeAll(keepingCapacity: true)
            TextNormalizer.append(text, to: &norm)
            forEachTrigram(norm) { idx in
                counts[li * size + idx] += 1
                totals[li] += 1
            }
        }
        // Add-k smoothing.
        var lp = [Float](repeating: 0, count: counts.count)
        for li in languages.indices {
            let denom = totals[li] + 0.1 * Float(size)
            for k in 0..<size {
                lp[li * size + k] = Float(log(Double((counts[li * size + k] + 0.1) / denom)))
            }
        }
        return LanguageDetector(languages: languages, logProb: lp)
    }

    @inline(__always)
    static func forEachTrigram(_ norm: [UInt8], _ body: (Int) -> Void) {
        guard norm.count >= 1 else { return }
        // " word " boundaries count, so short words contribute.
        var a: UInt8 = 0x20, b: UInt8 = 0x20
        norm.withUnsafeBufferPointer { buf in
            for k in 0...buf.count {
                let c = k < buf.count ? buf[k] : 0x20
                if !(b == 0x20 && c == 0x20) { body(trigramIndex(a, b, c)) }
                a = b
                b = c
            }
        }
    }

    /// The profile-table index of a trigram.
    @inline(__always)
    static func trigramIndex(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int {
        var h = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 7)
        h = FeatureExtractor.mix(h, a)
        h = FeatureExtractor.mix(h, b)
        h = FeatureExtractor.mix(h, c)
        return Int(FeatureExtractor.finish(h) & UInt32((1 << tableBits) - 1))
    }

    static let functionWords: [String: Set<String>] = [
        "de": ["der", "die", "das", "und", "ist", "nicht", "ich", "sie", "mit", "fuer", "auf", "ein", "eine", "den", "dem",
               "zu", "bitte", "wie", "kann", "habe", "mein", "meine", "wir", "es", "von", "bei", "noch", "auch", "wurde",
               "hallo", "danke", "sehr", "geehrte", "guten", "tag", "vielen", "gruesse", "ihr", "ihre", "wo", "was", "wann"],
        "en": ["the", "and", "is", "not", "you", "with", "for", "on", "a", "an", "to", "please", "how", "can", "have",
               "my", "we", "it", "of", "at", "still", "also", "was", "hello", "hi", "thanks", "thank", "dear", "your",
               "i", "where", "what", "when", "do", "does", "this", "that", "be", "are", "am"],
    ]

    /// The `wordHash` of every space-separated word of a normalised text, in one pass without substrings.
    @inline(__always)
    static func forEachWordHash(_ text: [UInt8], _ body: (UInt32) -> Void) {
        text.withUnsafeBufferPointer { buf in
            var i = 0
            while i < buf.count {
                while i < buf.count && buf[i] == 0x20 { i += 1 }
                if i >= buf.count { break }
                var h = FeatureExtractor.fnvOffset
                while i < buf.count && buf[i] != 0x20 { h = FeatureExtractor.mix(h, buf[i]); i += 1 }
                body(h)
            }
        }
    }

    static func wordHash(_ w: some Collection<UInt8>) -> UInt32 {
        var h = FeatureExtractor.fnvOffset
        for b in w { h = FeatureExtractor.mix(h, b) }
        return h
    }

    /// Function words by FNV hash (sorted, searched by bisection: no strings per word).
    /// A function word of either language (a normalised word).
    static func isFunctionWord(_ w: UnsafeBufferPointer<UInt8>) -> Bool {
        let h = wordHash(w)
        return functionWordHashes.values.contains { $0.contains(h) }
    }

    static let functionWordHashes: [String: SortedHashes] = functionWords.mapValues { SortedHashes($0.map { wordHash($0.utf8) }) }

    struct SortedHashes: Sendable {
        let values: [UInt32]
        init(_ v: [UInt32]) { values = v.sorted() }
        func contains(_ h: UInt32) -> Bool {
            var lo = 0, hi = values.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if values[mid] < h { lo = mid + 1 } else { hi = mid }
            }
            return lo < values.count && values[lo] == h
        }
    }

    /// The language of a text, or "unknown".
    public func detect(_ text: String) -> String {
        var norm: [UInt8] = []
        TextNormalizer.append(text, to: &norm, maxBytes: 4096)
        return detect(normalized: norm)
    }

    public func detect(normalized norm: [UInt8]) -> String {
        let letters = norm.reduce(0) { $0 + (($1 >= 0x61 && $1 <= 0x7A) ? 1 : 0) }
        guard letters >= 8, !languages.isEmpty, logProb.count == languages.count << LanguageDetector.tableBits else {
            return LanguageDetector.unknown
        }
        // Mostly non-Latin text (Japanese, Russian, ...) is neither German nor English.
        // (Digits and punctuation do not count against it: "status of order 732201349959" is English.)
        if norm.reduce(0, { $0 + ($1 >= 0x80 ? 1 : 0) }) > letters { return LanguageDetector.unknown }
        let size = 1 << LanguageDetector.tableBits
        let nl = languages.count
        var scores = [Float](repeating: 0, count: nl)
        var n: Float = 0
        logProb.withUnsafeBufferPointer { lp in
            scores.withUnsafeMutableBufferPointer { sc in
                LanguageDetector.forEachTrigram(norm) { idx in
                    for li in 0..<nl { sc[li] += lp[li * size + idx] }
                    n += 1
                }
            }
        }
        // Function words: a strong, cheap signal for the two languages we serve.
        var hits = [Int](repeating: 0, count: nl)
        var words = 0
        let tables = languages.map { LanguageDetector.functionWordHashes[$0] ?? SortedHashes([]) }
        LanguageDetector.forEachWordHash(norm) { h in
            words += 1
            for li in 0..<nl where tables[li].contains(h) { hits[li] += 1 }
        }
        return choose(scores: scores, trigrams: n, hits: hits, words: words)
    }

    /// `detect(normalized:)` of the text that the table's words `ids` make when joined by single spaces,
    /// from their entries: the same trigrams summed in the same order, without hashing a letter.
    func detect(words ids: ArraySlice<Int32>, table: WordTable) -> String {
        var letters = 0, nonASCII = 0
        for e in ids {
            letters += Int(table.infos[Int(e)].letters)
            nonASCII += Int(table.infos[Int(e)].nonASCII)
        }
        guard letters >= 8, !languages.isEmpty, logProb.count == languages.count << LanguageDetector.tableBits else {
            return LanguageDetector.unknown
        }
        if nonASCII > letters { return LanguageDetector.unknown }
        let size = 1 << LanguageDetector.tableBits
        let nl = languages.count
        var scores = [Float](repeating: 0, count: nl)
        var n: Float = 0
        let bits: [UInt8] = languages.map { $0 == "de" ? 1 : $0 == "en" ? 2 : 0 }
        var hits = [Int](repeating: 0, count: nl)
        logProb.withUnsafeBufferPointer { lp in
            scores.withUnsafeMutableBufferPointer { sc in
                table.infos.withUnsafeBufferPointer { inf in
                    table.text.withUnsafeBufferPointer { text in
                        table.trigrams.withUnsafeBufferPointer { tri in
                            @inline(__always) func add(_ idx: Int) {
                                for li in 0..<nl { sc[li] += lp[li * size + idx] }
                                n += 1
                            }
                            var last: UInt8 = 0x20
                            for e in ids {
                                let info = inf[Int(e)]
                                let first = text[Int(info.start)]
                                // The trigram across the space before the word (at the start: two spaces).
                                add(LanguageDetector.trigramIndex(last, 0x20, first))
                                for k in Int(info.trigramStart)..<Int(info.trigramStart + info.trigramCount) { add(Int(tri[k])) }
                                last = text[Int(info.start + info.length) - 1]
                                for li in 0..<nl where info.functionWord & bits[li] != 0 { hits[li] += 1 }
                            }
                        }
                    }
                }
            }
        }
        return choose(scores: scores, trigrams: n, hits: hits, words: ids.count)
    }

    /// The language from the trigram scores and the function-word counts.
    private func choose(scores: [Float], trigrams n: Float, hits: [Int], words: Int) -> String {
        guard let best = scores.indices.max(by: { scores[$0] < scores[$1] }) else { return LanguageDetector.unknown }
        let second = scores.indices.filter { $0 != best }.map { scores[$0] }.max() ?? -Float.infinity
        let margin = (scores[best] - second) / max(n, 1)
        // Long text without a single function word of the winner is some third language.
        if words >= 6 && hits[best] == 0 { return LanguageDetector.unknown }
        if margin < 0.05 {
            // Too close to call by letters ("status of order 4711"): the language with the most function words
            // among the close ones, if one has strictly the most; else unknown.
            let close = scores.indices.filter { (scores[best] - scores[$0]) / max(n, 1) < 0.05 }
            let most = close.map { hits[$0] }.max() ?? 0
            let leaders = close.filter { hits[$0] == most }
            return most > 0 && leaders.count == 1 ? languages[leaders[0]] : LanguageDetector.unknown
        }
        return languages[best]
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
