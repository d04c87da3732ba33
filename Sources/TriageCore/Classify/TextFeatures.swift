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
        var pendingSpace = start > 0 && out[start - 1] != 0x20
        var count = start
        var result = out
        out = []
        result.append(contentsOf: repeatElement(0, count: capacity - start))
        let limit = start + maxBytes
        result.withUnsafeMutableBufferPointer { o in
            @inline(__always) func put(_ c: UInt8) {
                if pendingSpace { o[count] = 0x20; count += 1; pendingSpace = false }
                o[count] = c
                count += 1
            }
            @inline(__always) func separate() { pendingSpace = count > 0 && o[count - 1] != 0x20 }
            var i = 0
            while i < n && count < limit {
                let b = buf[i]
                if b < 0x80 {
                    // ASCII: letters and digits kept (lowercased), apostrophes dropped, the rest separates.
                    if (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) { put(b) }
                    else if b >= 0x41 && b <= 0x5A { put(b | 0x20) }
                    else if b != 0x27 { separate() }
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
                if v < 0x250, let folded = latinFold[Int(v)] {
                    if folded.isEmpty { separate(); continue }
                    for f in folded { put(f) }
                    continue
                }
                guard let scalar = Unicode.Scalar(v) else { continue }
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    let lower = scalar.properties.lowercaseMapping.utf8
                    if count + lower.count + 1 >= o.count { break }
                    for l in lower { put(l) }
                } else {
                    separate()
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
    var touched: [Int32] = []
    var wordList: [Int32] = []
    var alternateList: [Int32] = []
    var stemList: [UInt32] = []
    var norm: [UInt8] = []
    /// The vocabulary for splitting compounds (empty: no splitting). Setting it empties the stem cache.
    public var morphology = Morphology() { didSet { stemCache.removeAll() } }
    /// Per word (and language): its stem's feature hash, then its compound parts' stems.
    var stemCache: [UInt64: StemForms] = [:]
    static let stemCacheLimit = 100_000

    public init(bits: Int = FeatureExtractor.defaultBits, subjectWeight: Float = 2) {
        self.bits = bits
        self.subjectWeight = subjectWeight
        scratch = [Float](repeating: 0, count: 1 << bits)
        touched.reserveCapacity(4096)
        norm.reserveCapacity(4096)
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
        touched.removeAll(keepingCapacity: true)
        wordList.removeAll(keepingCapacity: true)
        alternateList.removeAll(keepingCapacity: true)
        stemList.removeAll(keepingCapacity: true)
        var stemmer: SnowballStemmer?  // made on the first word not in the cache
        let german = language == "de"
        var sumSq: Float = 0
        var v = FeatureVector()
        let mask = UInt32(scratch.count - 1)
        // Move the scratch buffer out of self so the closure may call mutating methods without a copy.
        var buffer = scratch
        scratch = []
        defer { scratch = buffer }
        buffer.withUnsafeMutableBufferPointer { sc in
            if !normalizedSubject.isEmpty { add(normalizedSubject, weight: subjectWeight, sc, mask, &stemmer, german) }
            add(normalizedBody, weight: 1, sc, mask, &stemmer, german)
            for i in touched { sumSq += sc[Int(i)] * sc[Int(i)] }
            let scale = sumSq > 0 ? 1 / sumSq.squareRoot() : 0
            v.indices.reserveCapacity(touched.count)
            v.values.reserveCapacity(touched.count)
            for i in touched {
                v.indices.append(i)
                v.values.append(sc[Int(i)] * scale)
                sc[Int(i)] = 0
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
    mutating func bump(_ h: UInt32, _ w: Float, _ sc: UnsafeMutableBufferPointer<Float>, _ mask: UInt32) {
        let i = Int(FeatureExtractor.finish(h) & mask)
        if sc[i] == 0 { touched.append(Int32(i)) }
        sc[i] += w
        if sc[i] == 0 { sc[i] = 1e-9 }  // keep it marked as touched
    }

    /// Word unigrams, bigrams, and character 4-grams of words of five or more letters (the compounds
    /// and inflections that whole words miss; short words are covered by their unigram).
    @inline(__always)
    static func stemHash(_ s: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h = mix(fnvOffset, 4)
        for b in s { h = mix(h, b) }
        return h
    }

    mutating func add(_ text: [UInt8], weight: Float, _ sc: UnsafeMutableBufferPointer<Float>, _ mask: UInt32,
                      _ stemmer: inout SnowballStemmer?, _ german: Bool)
    {
        let n = text.count
        guard n > 0 else { return }
        text.withUnsafeBufferPointer { buf in
            var prevWordHash: UInt32 = 0
            var havePrev = false
            var i = 0
            let charWeight = weight * 0.4
            while i < n {
                while i < n && buf[i] == 0x20 { i += 1 }
                let start = i
                while i < n && buf[i] != 0x20 { i += 1 }
                let end = i
                if end == start { break }
                let len = end - start
                var wh = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 1)
                for k in start..<end { wh = FeatureExtractor.mix(wh, buf[k]) }
                bump(wh, weight, sc, mask)
                wordList.append(Int32(truncatingIfNeeded: FeatureExtractor.finish(wh) & mask))
                var alternate: Int32 = -1
                if len < 4 { stemList.append(FeatureExtractor.stemHash(UnsafeBufferPointer(rebasing: buf[start..<end]))) }
                if len >= 4 {
                    // Stem and compound parts, from the cache (stemming costs about a microsecond a word).
                    let word = UnsafeBufferPointer(rebasing: buf[start..<end])
                    var key: UInt64 = german ? 0xCBF2_9CE4_8422_2325 : 0x84222325CBF29CE4
                    for b in word { key = (key ^ UInt64(b)) &* 0x100_0000_01B3 }
                    let forms: StemForms
                    if let cached = stemCache[key] {
                        forms = cached
                    } else {
                        if stemmer == nil { stemmer = SnowballStemmer(language: german ? "de" : "en") }
                        var f = StemForms()
                        if let st = stemmer {
                            f.append(st.stem(word) { FeatureExtractor.stemHash($0) })
                            if german && len >= Morphology.minimumCompound {
                                for part in morphology.split(word, st) { f.append(st.stem(part) { FeatureExtractor.stemHash($0) }) }
                            }
                        } else {
                            f.append(FeatureExtractor.stemHash(word))
                        }
                        if stemCache.count >= FeatureExtractor.stemCacheLimit { stemCache.removeAll(keepingCapacity: true) }
                        stemCache[key] = f
                        forms = f
                    }
                    for k in 0..<forms.count { stemList.append(forms[k]) }
                    bump(forms[0], weight * 0.6, sc, mask)
                    alternate = Int32(truncatingIfNeeded: FeatureExtractor.finish(forms[0]) & mask)
                    if forms.count > 1 {
                        for k in 1..<forms.count { bump(forms[k], weight * 0.5, sc, mask) }
                        alternate = FeatureVector.knownCompound
                    }
                }
                if UnsafeBufferPointer(rebasing: buf[start..<end]).contains(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    alternate = FeatureVector.number
                }
                alternateList.append(alternate)
                if havePrev {
                    var bh = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 2)
                    bh = (bh ^ prevWordHash) &* FeatureExtractor.fnvPrime
                    bh = (bh ^ wh) &* FeatureExtractor.fnvPrime
                    bump(bh, weight * 0.5, sc, mask)
                }
                prevWordHash = wh
                havePrev = true
                if len >= 7 && len <= 40 {
                    // Character 4-grams of "<word>": parts of compounds ("kennwort|ruecksetzung") and stems.
                    let padded = len + 2
                    @inline(__always) func at(_ p: Int) -> UInt8 { p == 0 ? 0x3C : (p == padded - 1 ? 0x3E : buf[start + p - 1]) }
                    var p = 0
                    while p + 4 <= padded {
                        var h = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 3)
                        h = FeatureExtractor.mix(h, at(p))
                        h = FeatureExtractor.mix(h, at(p + 1))
                        h = FeatureExtractor.mix(h, at(p + 2))
                        h = FeatureExtractor.mix(h, at(p + 3))
                        bump(h, charWeight, sc, mask)
                        p += 1
                    }
                }
            }
        }
    }
}

extension FeatureExtractor {
    /// The stem hashes a keyword phrase needs in a message, stemmed as German and as English (either
    /// matches): "passwort vergessen" -> [stem("passwort"), stem("vergessen")].
    public static func keywordForms(_ phrase: String) -> [[UInt32]] {
        var n: [UInt8] = []
        TextNormalizer.append(phrase, to: &n)
        var out: [[UInt32]] = []
        for language in ["de", "en"] {
            guard let st = SnowballStemmer(language: language) else { continue }
            var forms: [UInt32] = []
            n.withUnsafeBufferPointer { buf in
                Morphology.forEachWord(buf) { w in
                    forms.append(w.count < 4 ? stemHash(w) : st.stem(w) { stemHash($0) })
                }
            }
            if !forms.isEmpty && !out.contains(forms) { out.append(forms) }
        }
        return out
    }
}

/// A word's stem hash and up to three compound parts' stem hashes, inline (no allocation per word).
struct StemForms: Sendable {
    var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
    private(set) var count = 0

    mutating func append(_ h: UInt32) {
        switch count {
        case 0: a = h
        case 1: b = h
        case 2: c = h
        case 3: d = h
        default: return
        }
        count += 1
    }

    subscript(_ k: Int) -> UInt32 { k == 0 ? a : k == 1 ? b : k == 2 ? c : d }
}
