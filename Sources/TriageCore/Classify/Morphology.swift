import CStemmer

/// A Snowball stemmer (libstemmer) for German or English, over normalised words (`TextNormalizer`:
/// lowercase, umlauts spelled out). Holds C state: not thread-safe; make one per use (creating one costs
/// about a microsecond).
final class SnowballStemmer {
    private let handle: OpaquePointer

    /// "de" stems German, anything else English.
    init?(language: String) {
        guard let h = sb_stemmer_new(language == "de" ? "german" : "english", "UTF_8") else { return nil }
        handle = h
    }

    deinit { sb_stemmer_delete(handle) }

    /// Calls `body` with the stem of `word` (valid only inside `body`).
    func stem<R>(_ word: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let base = word.baseAddress, let p = sb_stemmer_stem(handle, base, Int32(word.count)) else { return body(word) }
        return body(UnsafeBufferPointer(start: p, count: Int(sb_stemmer_length(handle))))
    }

    func stem(_ word: String) -> String {
        var w = word
        return w.withUTF8 { stem($0) { String(decoding: $0, as: UTF8.self) } }
    }
}

/// Word forms for matching: Snowball stems, and German compounds split into parts the vocabulary knows
/// ("passwortzuruecksetzung" -> "passwort" + "zuruecksetzung", "versandkosten" -> "versand" + "kosten").
/// The vocabulary (`lexicon`) is the words and stems of the training text, as 64-bit hashes.
public struct Morphology: Sendable, Equatable {
    /// Hashes of known words and stems (sorted, for the model file).
    public private(set) var lexicon: Set<UInt64>
    /// A compound is split only when it is at least this long and both parts at least `minimumPart`.
    static let minimumCompound = 9
    static let minimumPart = 4

    public init(lexicon: Set<UInt64> = []) { self.lexicon = lexicon }

    /// The vocabulary of normalised texts: every word of two or more letters and its stem, per language.
    public init(texts: [(text: String, language: String)]) {
        var lex = Set<UInt64>()
        var stemmers: [String: SnowballStemmer] = [:]
        for (text, language) in texts {
            let key = language == "de" ? "de" : "en"
            guard let st = stemmers[key] ?? SnowballStemmer(language: key) else { continue }
            stemmers[key] = st
            var n: [UInt8] = []
            TextNormalizer.append(text, to: &n)
            n.withUnsafeBufferPointer { buf in
                Morphology.forEachWord(buf) { w in
                    guard w.count >= 2 else { return }
                    lex.insert(Morphology.hash(w))
                    st.stem(w) { lex.insert(Morphology.hash($0)) }
                }
            }
        }
        lexicon = lex
    }

    @inline(__always)
    static func hash(_ w: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in w { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    static func hash(_ s: String) -> UInt64 {
        var t = s
        return t.withUTF8 { hash($0) }
    }

    static func forEachWord(_ buf: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var i = 0
        let n = buf.count
        while i < n {
            while i < n && buf[i] == 0x20 { i += 1 }
            let start = i
            while i < n && buf[i] != 0x20 { i += 1 }
            if i > start { body(UnsafeBufferPointer(rebasing: buf[start..<i])) }
        }
    }

    @inline(__always)
    func knows(_ w: UnsafeBufferPointer<UInt8>, _ stemmer: SnowballStemmer) -> Bool {
        lexicon.contains(Morphology.hash(w)) || stemmer.stem(w) { lexicon.contains(Morphology.hash($0)) }
    }

    /// The parts of a German compound the vocabulary knows, left to right (empty: not a known compound).
    /// Tries the longest known left part first; a linking "s" ("arbeits|zeit") is dropped; the right part
    /// may itself be a compound (one more level).
    func split(_ w: UnsafeBufferPointer<UInt8>, _ stemmer: SnowballStemmer, depth: Int = 0) -> [UnsafeBufferPointer<UInt8>] {
        let n = w.count
        guard n >= Morphology.minimumCompound, !lexicon.isEmpty else { return [] }
        var i = n - Morphology.minimumPart
        while i >= Morphology.minimumPart {
            let left = UnsafeBufferPointer(rebasing: w[0..<i])
            let right = UnsafeBufferPointer(rebasing: w[i..<n])
            var leftKnown = lexicon.contains(Morphology.hash(left))
            var leftPart = left
            if !leftKnown, i > Morphology.minimumPart, w[i - 1] == 0x73 {  // Fugen-s
                let l = UnsafeBufferPointer(rebasing: w[0..<(i - 1)])
                if lexicon.contains(Morphology.hash(l)) { leftKnown = true; leftPart = l }
            }
            if leftKnown {
                if knows(right, stemmer) { return [leftPart, right] }
                if depth == 0 {
                    let more = split(right, stemmer, depth: 1)
                    if !more.isEmpty { return [leftPart] + more }
                }
            }
            i -= 1
        }
        return []
    }

    /// Stems of the words of a normalised text, compounds also as their parts' stems (for tests and tools).
    public func terms(_ normalized: String, language: String) -> [String] {
        guard let st = SnowballStemmer(language: language) else { return [] }
        var out: [String] = []
        var t = normalized
        t.withUTF8 { buf in
            Morphology.forEachWord(buf) { w in
                out.append(st.stem(w) { String(decoding: $0, as: UTF8.self) })
                if language == "de" {
                    for p in split(w, st) { out.append(st.stem(p) { String(decoding: $0, as: UTF8.self) }) }
                }
            }
        }
        return out
    }
}
