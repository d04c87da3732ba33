/// The categories mailtriage knows by default. The list is configurable; `other` is always present and
/// always goes to a human.
public enum Category {
    public static let other = "other"
    public static let defaults = ["general", "order_info", "webshop", "password", "office", "other"]
}

/// Text normalisation shared by features, rules and language detection: Unicode case folding, German
/// umlauts and ß spelled out (`zurücksetzen` = `zuruecksetzen`), accents dropped, everything that is not a
/// letter or digit a single space. Works on UTF-8 bytes; the output is UTF-8 (ASCII for Latin text).
public enum TextNormalizer {
    /// Appends the normalised form of `text` to `out` (a space is added first when `out` is not empty).
    public static func append(_ text: String, to out: inout [UInt8], maxBytes: Int = 16 * 1024) {
        var t = text
        t.withUTF8 { buf in append(utf8: buf, to: &out, maxBytes: maxBytes) }
    }

    static func append(utf8 buf: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], maxBytes: Int) {
        let start = out.count
        let n = min(buf.count, maxBytes * 2)
        // Worst case: every byte becomes a separator plus a letter, or a letter grows when lowercased.
        let capacity = start + n * 2 + 16
        let pendingAtStart = start > 0 && out[start - 1] != 0x20
        var result = out
        out = []
        result.append(contentsOf: repeatElement(0, count: capacity - start))
        let limit = start + maxBytes
        let fold = latinFoldPacked, ascii = asciiMap
        // The output position and the pending separator live in locals of the closure (registers), not
        // in captured variables.
        let count = fold.withUnsafeBufferPointer { fold in
            ascii.withUnsafeBufferPointer { ascii in
                result.withUnsafeMutableBufferPointer { o -> Int in
                    var count = start
                    var pendingSpace = pendingAtStart
                    @inline(__always) func put(_ c: UInt8, _ count: inout Int, _ pendingSpace: inout Bool) {
                        if pendingSpace { o[count] = 0x20; count += 1; pendingSpace = false }
                        o[count] = c
                        count += 1
                    }
                    @inline(__always) func separate(_ count: Int, _ pendingSpace: inout Bool) { pendingSpace = count > 0 && o[count - 1] != 0x20 }
                    var i = 0
                    while i < n && count < limit {
                        let b = buf[i]
                        if b < 0x80 {
                            // ASCII: letters and digits kept (lowercased), apostrophes dropped, the rest separates.
                            let m = ascii[Int(b)]
                            if m > 1 { put(m, &count, &pendingSpace) } else if m == 0 { separate(count, &pendingSpace) }
                            i += 1
                            continue
                        }
                        // Decode one scalar (the String is valid UTF-8).
                        var v: UInt32
                        var len: Int
                        if b & 0xE0 == 0xC0 { v = UInt32(b & 0x1F); len = 2 }
                        else if b & 0xF0 == 0xE0 { v = UInt32(b & 0x0F); len = 3 }
                        else { v = UInt32(b & 0x07); len = 4 }
                        if i + len > n { break }
                        for k in 1..<len { v = (v << 6) | UInt32(buf[i + k] & 0x3F) }
                        i += len
                        if v < 0x250 {
                            // Packed: length in the low byte, then up to two ASCII letters (0: a separator).
                            let folded = fold[Int(v)]
                            let letters = folded & 0xFF
                            if letters == 0 { separate(count, &pendingSpace); continue }
                            put(UInt8(truncatingIfNeeded: folded >> 8), &count, &pendingSpace)
                            if letters > 1 { put(UInt8(truncatingIfNeeded: folded >> 16), &count, &pendingSpace) }
                            continue
                        }
                        guard let scalar = Unicode.Scalar(v) else { continue }
                        if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                            let lower = scalar.properties.lowercaseMapping.utf8
                            if count + lower.count + 1 >= o.count { break }
                            for l in lower { put(l, &count, &pendingSpace) }
                        } else {
                            separate(count, &pendingSpace)
                        }
                    }
                    return count
                }
            }
        }
        result.removeSubrange(count...)
        out = result
    }

    public static func normalize(_ text: String) -> String {
        var out: [UInt8] = []
        append(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Per ASCII byte: the letter or digit it becomes (lowercase), 1 for the apostrophe (dropped), 0 for a separator.
    static let asciiMap: [UInt8] = (0..<128).map { b -> UInt8 in
        if (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) { return UInt8(b) }
        if (0x41...0x5A).contains(b) { return UInt8(b | 0x20) }
        return b == 0x27 ? 1 : 0
    }

    /// `latinFold` packed for the loop (no array per character): count | first << 8 | second << 16.
    static let latinFoldPacked: [UInt32] = latinFold.map { f in
        guard let f else { return 0 }
        var packed = UInt32(f.count)
        for (k, b) in f.prefix(2).enumerated() { packed |= UInt32(b) << (8 * UInt32(k + 1)) }
        return packed
    }

    /// Folding for U+0080..U+024F: letters to ASCII, everything else to "" (a separator).
    static let latinFold: [[UInt8]?] = {
        var t = [[UInt8]?](repeating: nil, count: 0x250)
        for v in 0x80..<0x250 { t[v] = [] }
        func set(_ chars: String, _ ascii: String) {
            for s in chars.unicodeScalars { t[Int(s.value)] = Array(ascii.utf8) }
        }
        set("äÄæÆ", "ae"); set("öÖœŒ", "oe"); set("üÜ", "ue"); set("ß", "ss"); set("øØ", "o")
        set("àáâãåāăąÀÁÂÃÅĀĂĄ", "a"); set("çćĉċčÇĆĈĊČ", "c"); set("ďđĎĐ", "d"); set("èéêëēĕėęěÈÉÊËĒĔĖĘĚ", "e")
        set("ĝğġģĜĞĠĢ", "g"); set("ĥħĤĦ", "h"); set("ìíîïĩīĭįıÌÍÎÏĨĪĬĮİ", "i"); set("ĵĴ", "j"); set("ķĶ", "k")
        set("ĺļľŀłĹĻĽĿŁ", "l"); set("ñńņňÑŃŅŇ", "n"); set("òóôõōŏőÒÓÔÕŌŎŐ", "o"); set("ŕŗřŔŖŘ", "r")
        set("śŝşšŚŜŞŠ", "s"); set("ţťŧŢŤŦ", "t"); set("ùúûũūŭůűųÙÚÛŨŪŬŮŰŲ", "u"); set("ŵŴ", "w")
        set("ýÿŷÝŶŸ", "y"); set("źżžŹŻŽ", "z"); set("ðÐ", "d"); set("þÞ", "th"); set("ĳĲ", "ij")
        set("ª", "a"); set("º", "o"); set("¹", "1"); set("²", "2"); set("³", "3")
        return t
    }()
}

/// A sparse feature vector: hashed indices and L2-normalised values.
public struct FeatureVector: Sendable {
    public var indices: [Int32]
    public var values: [Float]
    /// The word-unigram indices of the text, in order (for vocabulary coverage).
    public var words: [Int32]
    /// The stem hashes of the text's words (compounds also their parts'), for keyword evidence.
    public var stems: [UInt32] = []
    /// Per word: the index of its stem feature, `FeatureVector.knownCompound` for a compound whose parts
    /// the vocabulary knows, or -1 (for vocabulary coverage: a known stem makes a word familiar).
    public var alternates: [Int32]
    public static let knownCompound: Int32 = -2
    /// A word with a digit in it (an order, ticket or phone number, a date): neither familiar nor unfamiliar.
    public static let number: Int32 = -3

    public init(indices: [Int32] = [], values: [Float] = [], words: [Int32] = [], alternates: [Int32] = []) {
        self.indices = indices
        self.values = values
        self.words = words
        self.alternates = alternates
    }
}

/// Turns subject and new text into hashed features: word unigrams and bigrams, Snowball stems (so
/// "passwords" and "password", "Bestellungen" and "Bestellung" meet), the stems of the parts of German
/// compounds the vocabulary knows ("versandkosten": "versand", "kost"), plus character 4-grams of longer
/// words. The subject counts `subjectWeight` times. Not thread-safe (it keeps scratch buffers); make one
/// per thread.
public struct FeatureExtractor: Sendable {
    public static let defaultBits = 16
    public let bits: Int
    public let subjectWeight: Float
    var scratch: [Float]
    /// Every index bumped so far, in order, repeats included (`touchedCount` of them): `features` keeps the
    /// first of each. Not knowing whether an index is new lets each bump go on without waiting for the last.
    var touched: [Int32] = []
    var touchedCount = 0
    var wordList: [Int32] = []
    var alternateList: [Int32] = []
    var stemList: [UInt32] = []
    /// The vocabulary for splitting compounds (empty: no splitting). Setting it empties the word table.
    public var morphology = Morphology() { didSet { table.removeAll() } }
    /// Per distinct word: its hashes, n-grams, trigrams and stems (`WordTable`).
    var table: WordTable
    /// The words of the message last read (`read`), as table entries; `headIDs`: what language detection reads.
    var subjectIDs: [Int32] = []
    var bodyIDs: [Int32] = []
    var headIDs: [Int32] = []
    /// Scratch for `lookUpWords`: each word of a text.
    var words: [Word] = []
    struct Word: Sendable {
        var start: Int32
        var count: Int32
        var key: UInt64
        var entry: Int32 = -1
    }
    /// Where each word of subject and body starts in its text.
    var subjectStarts: [Int32] = []
    var bodyStarts: [Int32] = []

    public init(bits: Int = FeatureExtractor.defaultBits, subjectWeight: Float = 2) {
        self.bits = bits
        self.subjectWeight = subjectWeight
        scratch = [Float](repeating: 0, count: 1 << bits)
        table = WordTable(featureBits: bits)
    }

    public var dimension: Int { 1 << bits }

    /// Features of one message. `body` should be the new text (quotes and signatures removed).
    public mutating func features(subject: String, body: String, language: String = "en") -> FeatureVector {
        var ns: [UInt8] = [], nb: [UInt8] = []
        TextNormalizer.append(subject, to: &ns)
        TextNormalizer.append(body, to: &nb)
        return features(normalizedSubject: ns, normalizedBody: nb, language: language)
    }

    /// Features from texts already normalised with `TextNormalizer`; `language` picks the stemmer.
    public mutating func features(normalizedSubject: [UInt8], normalizedBody: [UInt8], language: String = "en") -> FeatureVector {
        read(normalizedSubject: normalizedSubject, normalizedBody: normalizedBody)
        return features(language: language)
    }

    /// Reads a message (normalised subject and body) into words of the table, for `language(_:)`,
    /// `features(language:)` and `ruleText(subject:body:)`. Language detection reads the subject and the
    /// first `headBytes` of the body (a word cut there counts as the part that is inside).
    mutating func read(normalizedSubject: [UInt8], normalizedBody: [UInt8], headBytes: Int = Classifier.languageHeadBytes) {
        table.trim()
        subjectIDs.removeAll(keepingCapacity: true)
        bodyIDs.removeAll(keepingCapacity: true)
        headIDs.removeAll(keepingCapacity: true)
        subjectStarts.removeAll(keepingCapacity: true)
        bodyStarts.removeAll(keepingCapacity: true)
        normalizedSubject.withUnsafeBufferPointer { lookUpWords($0) }
        for w in words {
            subjectIDs.append(w.entry)
            subjectStarts.append(w.start)
        }
        headIDs += subjectIDs
        normalizedBody.withUnsafeBufferPointer { lookUpWords($0) }
        normalizedBody.withUnsafeBufferPointer { buf in
            for w in words {
                let e = w.entry, start = Int(w.start)
                bodyIDs.append(e)
                let end = start + Int(w.count)
                bodyStarts.append(w.start)
                if end <= headBytes {
                    headIDs.append(e)
                } else if start < headBytes {
                    headIDs.append(table.lookup(UnsafeBufferPointer(rebasing: buf[start..<headBytes])))
                }
            }
        }
    }

    /// The words of a normalised text (`words`: offset, length, table entry): all hashed and their table
    /// slots requested first, then looked up.
    private mutating func lookUpWords(_ buf: UnsafeBufferPointer<UInt8>) {
        words.removeAll(keepingCapacity: true)
        guard let base = buf.baseAddress else { return }
        Morphology.forEachWord(buf) { w in
            let key = WordTable.key(w)
            table.prefetch(key)
            words.append(Word(start: Int32(w.baseAddress! - base), count: Int32(w.count), key: key))
        }
        for k in words.indices {
            words[k].entry = table.lookup(UnsafeBufferPointer(start: base + Int(words[k].start), count: Int(words[k].count)), key: words[k].key)
        }
    }

    /// The language of the message last read.
    func language(_ detector: LanguageDetector) -> String { detector.detect(words: headIDs[...], table: table) }

    /// Features of the message last read (`read`).
    mutating func features(language: String) -> FeatureVector {
        touchedCount = 0
        wordList.removeAll(keepingCapacity: true)
        alternateList.removeAll(keepingCapacity: true)
        stemList.removeAll(keepingCapacity: true)
        var stemmer: SnowballStemmer?  // made for the first word whose stem is not in the table yet
        let german = language == "de"
        var sumSq: Float = 0
        var v = FeatureVector()
        // Move the scratch buffer out of self so the closure may call mutating methods without a copy.
        var buffer = scratch
        scratch = []
        defer { scratch = buffer }
        buffer.withUnsafeMutableBufferPointer { sc in
            if !subjectIDs.isEmpty { add(subjectIDs, weight: subjectWeight, sc, &stemmer, german) }
            add(bodyIDs, weight: 1, sc, &stemmer, german)
            let n = touchedCount
            // Each index once, at its first bump: a slot is zeroed when taken, so a repeat reads 0 (a sum of 0 was
            // stored as 1e-9) and is overwritten by the next. The squares are summed in the same order as the
            // indices (adding 0 for a repeat changes nothing).
            var kept = 0
            v.indices = [Int32](unsafeUninitializedCapacity: n) { ib, count in
                v.values = [Float](unsafeUninitializedCapacity: n) { vb, vcount in
                    touched.withUnsafeBufferPointer { tb in
                        for k in 0..<n {
                            let i = Int(tb[k])
                            let x = sc[i]
                            ib[kept] = Int32(truncatingIfNeeded: i)
                            vb[kept] = x
                            kept &+= x != 0 ? 1 : 0
                            sumSq += x * x
                            sc[i] = 0
                        }
                    }
                    let scale = sumSq > 0 ? 1 / sumSq.squareRoot() : 0
                    for k in 0..<kept { vb[k] *= scale }
                    vcount = kept
                }
                count = kept
            }
        }
        v.words = wordList
        v.alternates = alternateList
        v.stems = stemList
        return v
    }

    static let fnvOffset: UInt32 = 2_166_136_261
    static let fnvPrime: UInt32 = 16_777_619

    @inline(__always)
    static func mix(_ h: UInt32, _ b: UInt8) -> UInt32 { (h ^ UInt32(b)) &* fnvPrime }

    /// Final avalanche so nearby FNV values spread over the table.
    @inline(__always)
    static func finish(_ h0: UInt32) -> UInt32 {
        var h = h0
        h ^= h >> 16
        h = h &* 0x7FEB_352D
        h ^= h >> 15
        h = h &* 0x846C_A68B
        h ^= h >> 16
        return h
    }

    /// Feature index of a word (namespace 1), a bigram (2), a character n-gram (3) or a stem (4).
    public static func wordIndex(_ word: some Collection<UInt8>, bits: Int) -> Int32 {
        var h = mix(fnvOffset, 1)
        for b in word { h = mix(h, b) }
        return Int32(truncatingIfNeeded: finish(h) & UInt32((1 << bits) - 1))
    }

    @inline(__always)
    static func bump(_ i: Int, _ w: Float, _ sc: UnsafeMutablePointer<Float>, _ touched: UnsafeMutablePointer<Int32>, _ n: inout Int) {
        touched[n] = Int32(truncatingIfNeeded: i)
        n &+= 1
        let sum = sc[i] + w
        sc[i] = sum == 0 ? 1e-9 : sum  // keep it marked as touched
    }

    @inline(__always)
    static func stemHash(_ s: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h = mix(fnvOffset, 4)
        for b in s { h = mix(h, b) }
        return h
    }

    /// A word's stem and compound parts (stem hashes) in the message's language, from the table or worked out.
    mutating func forms(_ e: Int32, german: Bool, _ stemmer: inout SnowballStemmer?) -> StemForms {
        if table.formsKnown[Int(e)] & (german ? 1 : 2) != 0 { return table.forms[WordTable.formsSlot(e, german: german)] }
        if stemmer == nil { stemmer = SnowballStemmer(language: german ? "de" : "en") }
        var f = StemForms()
        let word = Array(table.bytes(e))
        word.withUnsafeBufferPointer { word in
            if let st = stemmer {
                f.append(st.stem(word) { FeatureExtractor.stemHash($0) })
                if german && word.count >= Morphology.minimumCompound {
                    for part in morphology.split(word, st) { f.append(st.stem(part) { FeatureExtractor.stemHash($0) }) }
                }
            } else {
                f.append(FeatureExtractor.stemHash(word))
            }
        }
        table.setForms(e, german: german, f)
        return f
    }

    /// Word unigrams (and their stems and compound parts), bigrams, and character 4-grams of words of seven
    /// or more letters (the compounds and inflections that whole words miss; short words are covered by
    /// their unigram).
    mutating func add(_ ids: [Int32], weight: Float, _ scratch: UnsafeMutableBufferPointer<Float>, _ stemmer: inout SnowballStemmer?, _ german: Bool) {
        guard !ids.isEmpty else { return }
        // Stems of words new to the table in this language first: the loop below only reads the table.
        let bit: UInt8 = german ? 1 : 2
        for e in ids where table.formsKnown[Int(e)] & bit == 0 { _ = forms(e, german: german, &stemmer) }
        guard let sc = scratch.baseAddress else { return }
        let mask = table.featureMask
        var prevWordHash: UInt32 = 0
        var havePrev = false
        let charWeight = weight * 0.4
        var n = touchedCount
        defer { touchedCount = n }
        // At most six bumps a word (unigram, four stems or parts, bigram) and its 4-grams.
        var most = n
        table.infos.withUnsafeBufferPointer { inf in
            for e in ids { most += 6 + Int(inf[Int(e)].gramCount) }
        }
        if touched.count < most {
            let old = touched
            touched = [Int32](unsafeUninitializedCapacity: max(most, 2 * touched.count)) { b, count in
                for k in 0..<n { b[k] = old[k] }
                count = b.count
            }
        }
        touched.withUnsafeMutableBufferPointer { tb in
            let t = tb.baseAddress!
            table.infos.withUnsafeBufferPointer { inf in
                table.grams.withUnsafeBufferPointer { grams in
                    table.forms.withUnsafeBufferPointer { allForms in
                        for e in ids {
                            let info = inf[Int(e)]
                            FeatureExtractor.bump(Int(info.unigram), weight, sc, t, &n)
                            wordList.append(info.unigram)
                            var alternate: Int32 = -1
                            if info.length < 4 {
                                stemList.append(info.shortStem)
                            } else {
                                let forms = allForms[WordTable.formsSlot(e, german: german)]
                                for k in 0..<forms.count { stemList.append(forms[k]) }
                                let stem = Int32(truncatingIfNeeded: FeatureExtractor.finish(forms[0]) & mask)
                                FeatureExtractor.bump(Int(stem), weight * 0.6, sc, t, &n)
                                alternate = stem
                                if forms.count > 1 {
                                    for k in 1..<forms.count { FeatureExtractor.bump(Int(FeatureExtractor.finish(forms[k]) & mask), weight * 0.5, sc, t, &n) }
                                    alternate = FeatureVector.knownCompound
                                }
                            }
                            if info.hasDigit { alternate = FeatureVector.number }
                            alternateList.append(alternate)
                            if havePrev {
                                var bh = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 2)
                                bh = (bh ^ prevWordHash) &* FeatureExtractor.fnvPrime
                                bh = (bh ^ info.unigramHash) &* FeatureExtractor.fnvPrime
                                FeatureExtractor.bump(Int(FeatureExtractor.finish(bh) & mask), weight * 0.5, sc, t, &n)
                            }
                            prevWordHash = info.unigramHash
                            havePrev = true
                            for k in Int(info.gramStart)..<Int(info.gramStart + info.gramCount) {
                                FeatureExtractor.bump(Int(grams[k]), charWeight, sc, t, &n)
                            }
                        }
                    }
                }
            }
        }
    }
}

extension FeatureExtractor {
    /// The rules' view of the message last read (`read`): its normalised texts, its words in order and the
    /// phrases worth looking for.
    func ruleText(subject: [UInt8], body: [UInt8], index: RuleIndex) -> RuleText {
        RuleText(subject: subject, body: body, subjectMarked: ruleWords(subjectIDs, subjectStarts, index),
                 bodyMarked: ruleWords(bodyIDs, bodyStarts, index))
    }

    private func ruleWords(_ ids: [Int32], _ starts: [Int32], _ index: RuleIndex) -> RuleText.Marked {
        var words = RuleText.Words(hashes: [], starts: starts)
        words.hashes.reserveCapacity(ids.count)
        let marks = table.infos.withUnsafeBufferPointer { inf in
            index.marks { mark in
                for e in ids {
                    let info = inf[Int(e)]
                    words.hashes.append(info.ruleHash)
                    mark(info.ruleHash)
                    if info.length >= 4 { mark(info.prefixHash) }
                }
            }
        }
        return RuleText.Marked(marks: marks, words: words)
    }

    /// The stem hashes a keyword phrase needs in a message, stemmed as German and as English (either
    /// matches): "passwort vergessen" -> [stem("passwort"), stem("vergessen")]. Function words of a phrase
    /// are not needed when it has two other words or more: "close my account" also matches "closing the
    /// account"; "change to the" or "where is my" need every word (one word alone would be too weak).
    public static func keywordForms(_ phrase: String) -> [[UInt32]] {
        var n: [UInt8] = []
        TextNormalizer.append(phrase, to: &n)
        var out: [[UInt32]] = []
        for language in ["de", "en"] {
            guard let st = SnowballStemmer(language: language) else { continue }
            var content: [UInt32] = [], all: [UInt32] = []
            n.withUnsafeBufferPointer { buf in
                Morphology.forEachWord(buf) { w in
                    let h = w.count < 4 ? stemHash(w) : st.stem(w) { stemHash($0) }
                    all.append(h)
                    if !LanguageDetector.isFunctionWord(w) { content.append(h) }
                }
            }
            let forms = content.count >= 2 ? content : all
            if !forms.isEmpty && !out.contains(forms) { out.append(forms) }
        }
        return out
    }
}

/// A word's stem hash and up to three compound parts' stem hashes, inline (no allocation per word).
struct StemForms: Sendable {
    var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
    private var stored: UInt8 = 0
    var count: Int { Int(stored) }

    mutating func append(_ h: UInt32) {
        switch count {
        case 0: a = h
        case 1: b = h
        case 2: c = h
        case 3: d = h
        default: return
        }
        stored += 1
    }

    subscript(_ k: Int) -> UInt32 { k == 0 ? a : k == 1 ? b : k == 2 ? c : d }
}
