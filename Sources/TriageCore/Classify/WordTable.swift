import CPrefetch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the decision takes from one normalised word that depends only on its letters, worked out once
/// per distinct word and kept: its feature indices (the word, its character 4-grams), the hashes the rules
/// and the keyword test look for, its letter trigrams for language detection, whether it is a function
/// word, and (per language, when first asked) its Snowball stem and compound parts. Mail repeats its
/// vocabulary: a lookup is one hash of the word and a comparison of its bytes, where hashing, stemming,
/// compound splitting and n-grams cost several times that on every occurrence.
///
/// Bounded: when `limit` words are kept the table starts empty again. Not thread-safe (one per extractor).
struct WordTable: Sendable {
    struct Info: Sendable {
        /// The word's bytes in `text`.
        var start: Int32
        var length: Int32
        var key: UInt64
        /// Feature hash of the word (namespace 1) before the final mix: bigrams combine two of these.
        var unigramHash: UInt32
        /// The word's feature index.
        var unigram: Int32
        /// `LanguageDetector.wordHash`: rules' whole words and function words.
        var ruleHash: UInt32
        /// `RuleText.prefixHash` of the first four letters (words of four letters or more).
        var prefixHash: UInt32
        /// Words under four letters are not stemmed: their stem hash is the word's.
        var shortStem: UInt32
        /// Feature indices of the character 4-grams (`grams[gramStart..<gramStart + gramCount]`).
        var gramStart: Int32
        var gramCount: Int32
        /// Language-table indices of the trigrams centred on each letter (`trigrams[...]`).
        var trigramStart: Int32
        var trigramCount: Int32
        /// Letters a-z, and bytes of non-ASCII letters (language detection's "is this Latin text").
        var letters: Int32
        var nonASCII: Int32
        /// Bit 0: a German function word, bit 1: an English one.
        var functionWord: UInt8
        var hasDigit: Bool
    }

    /// Past this many words or bytes of words the table starts empty again (`trim`, between messages).
    static let limit = 50_000
    static let textLimit = 1 << 20

    let featureMask: UInt32
    private(set) var infos: [Info] = []
    private(set) var text: [UInt8] = []
    private(set) var grams: [Int32] = []
    private(set) var trigrams: [UInt16] = []
    /// Per entry, its stem and compound parts as German (`formsSlot`) and as English, once worked out
    /// (`formsKnown`: bit 0 German, bit 1 English).
    private(set) var forms: [StemForms] = []
    private(set) var formsKnown: [UInt8] = []
    /// Open addressing over the keys (an entry is looked at only when its key matches).
    private var slots: [Slot] = []

    struct Slot: Sendable {
        var key: UInt64 = 0
        /// Entry index + 1; 0 for an empty slot.
        var entry: Int32 = 0
        var length: Int32 = 0
    }

    static let germanFunctionWords = LanguageDetector.functionWordHashes["de"] ?? .init([])
    static let englishFunctionWords = LanguageDetector.functionWordHashes["en"] ?? .init([])

    @inline(__always)
    static func formsSlot(_ e: Int32, german: Bool) -> Int { 2 * Int(e) + (german ? 0 : 1) }

    init(featureBits: Int) {
        featureMask = UInt32((1 << featureBits) - 1)
    }

    var count: Int { infos.count }

    mutating func removeAll() {
        infos.removeAll(keepingCapacity: true)
        text.removeAll(keepingCapacity: true)
        grams.removeAll(keepingCapacity: true)
        trigrams.removeAll(keepingCapacity: true)
        forms.removeAll(keepingCapacity: true)
        formsKnown.removeAll(keepingCapacity: true)
        slots = []
    }

    /// Empties the table when it is full. Only between messages: entries found for a message stay valid
    /// until the next `trim` (a message adds at most its own words).
    mutating func trim() {
        if infos.count >= WordTable.limit || text.count >= WordTable.textLimit { removeAll() }
    }

    /// A 64-bit hash of the bytes, eight at a time (a table key; entries are compared byte for byte).
    @inline(__always)
    static func key(_ w: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = UInt64(w.count) &* 0x9E37_79B9_7F4A_7C15
        guard let base = w.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= w.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < w.count {
            var tail: UInt64 = 0
            for k in i..<w.count { tail |= UInt64(base[k]) << UInt64(8 * (k - i)) }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
            h ^= h >> 29
        }
        return h
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask }

    /// Asks the processor for the slot where a key would be (a text's words are hashed and their slots
    /// requested first, then looked up: the cache misses overlap instead of coming one after another).
    @inline(__always)
    func prefetch(_ key: UInt64) {
        guard !slots.isEmpty else { return }
        slots.withUnsafeBufferPointer { s in mailtriage_prefetch(s.baseAddress! + WordTable.slot(key, s.count - 1)) }
    }

    /// The entry of a word (added when new).
    mutating func lookup(_ w: UnsafeBufferPointer<UInt8>) -> Int32 { lookup(w, key: WordTable.key(w)) }

    /// The entry of a word whose `key` is known.
    mutating func lookup(_ w: UnsafeBufferPointer<UInt8>, key: UInt64) -> Int32 {
        if !slots.isEmpty {
            let mask = slots.count - 1
            var i = WordTable.slot(key, mask)
            let found: Int32 = slots.withUnsafeBufferPointer { s in
                text.withUnsafeBufferPointer { t in
                    while s[i].entry != 0 {
                        if s[i].key == key && Int(s[i].length) == w.count {
                            let e = Int(s[i].entry - 1)
                            if w.count == 0 || memcmp(t.baseAddress! + Int(infos[e].start), w.baseAddress!, w.count) == 0 { return Int32(e) }
                        }
                        i = (i + 1) & mask
                    }
                    return -1
                }
            }
            if found >= 0 { return found }
        }
        return insert(w, key: key)
    }

    private mutating func insert(_ w: UnsafeBufferPointer<UInt8>, key: UInt64) -> Int32 {
        if slots.count < 2 * (infos.count + 1) { grow() }
        let len = w.count
        var info = Info(start: Int32(text.count), length: Int32(len), key: key, unigramHash: 0, unigram: 0, ruleHash: 0, prefixHash: 0,
                        shortStem: 0, gramStart: Int32(grams.count), gramCount: 0, trigramStart: Int32(trigrams.count), trigramCount: 0,
                        letters: 0, nonASCII: 0, functionWord: 0, hasDigit: false)
        text.append(contentsOf: w)
        var wh = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 1)
        for b in w { wh = FeatureExtractor.mix(wh, b) }
        info.unigramHash = wh
        info.unigram = Int32(truncatingIfNeeded: FeatureExtractor.finish(wh) & featureMask)
        info.ruleHash = LanguageDetector.wordHash(w)
        if len >= 4 { info.prefixHash = RuleText.prefixHash(UnsafeBufferPointer(rebasing: w[..<4])) } else { info.shortStem = FeatureExtractor.stemHash(w) }
        for b in w {
            if b >= 0x61 && b <= 0x7A { info.letters += 1 } else if b >= 0x30 && b <= 0x39 { info.hasDigit = true } else if b >= 0x80 { info.nonASCII += 1 }
        }
        if WordTable.germanFunctionWords.contains(info.ruleHash) { info.functionWord |= 1 }
        if WordTable.englishFunctionWords.contains(info.ruleHash) { info.functionWord |= 2 }
        if len >= 7 && len <= 40 {
            // Character 4-grams of "<word>": parts of compounds ("kennwort|ruecksetzung") and stems.
            let padded = len + 2
            @inline(__always) func at(_ p: Int) -> UInt8 { p == 0 ? 0x3C : (p == padded - 1 ? 0x3E : w[p - 1]) }
            var p = 0
            while p + 4 <= padded {
                var h = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 3)
                h = FeatureExtractor.mix(h, at(p))
                h = FeatureExtractor.mix(h, at(p + 1))
                h = FeatureExtractor.mix(h, at(p + 2))
                h = FeatureExtractor.mix(h, at(p + 3))
                grams.append(Int32(truncatingIfNeeded: FeatureExtractor.finish(h) & featureMask))
                p += 1
            }
            info.gramCount = Int32(grams.count) - info.gramStart
        }
        // The trigram centred on each letter, with a space before the first and after the last.
        for k in 0..<len {
            let a: UInt8 = k == 0 ? 0x20 : w[k - 1]
            let c: UInt8 = k == len - 1 ? 0x20 : w[k + 1]
            trigrams.append(UInt16(LanguageDetector.trigramIndex(a, w[k], c)))
        }
        info.trigramCount = Int32(len)
        infos.append(info)
        forms.append(StemForms())
        forms.append(StemForms())
        formsKnown.append(0)
        let e = Int32(infos.count - 1)
        place(e)
        return e
    }

    private mutating func place(_ e: Int32) {
        let mask = slots.count - 1
        let info = infos[Int(e)]
        var i = WordTable.slot(info.key, mask)
        while slots[i].entry != 0 { i = (i + 1) & mask }
        slots[i] = Slot(key: info.key, entry: e + 1, length: info.length)
    }

    private mutating func grow() {
        var size = max(1024, slots.count * 2)
        while size < 2 * (infos.count + 1) { size *= 2 }
        slots = [Slot](repeating: Slot(), count: size)
        for e in infos.indices { place(Int32(e)) }
    }

    func bytes(_ e: Int32) -> ArraySlice<UInt8> {
        let i = infos[Int(e)]
        return text[Int(i.start)..<Int(i.start + i.length)]
    }

    mutating func setForms(_ e: Int32, german: Bool, _ f: StemForms) {
        forms[WordTable.formsSlot(e, german: german)] = f
        formsKnown[Int(e)] |= german ? 1 : 2
    }
}
