import CPrefetch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A trained categoriser: multinomial logistic regression over hashed text features, a temperature
/// for calibrated probabilities, the language profiles and the vocabulary seen in training.
public struct ClassifierModel: Sendable {
    /// 2: stems and compound vocabulary, the answer model. 3: the weight and IDF tables in page-aligned
    /// sections, read in place from a mapping of the file (format 2 is still read, into memory).
    public static let formatVersion: UInt32 = 3
    /// The oldest format this build reads.
    static let oldestFormat: UInt32 = 2
    static let magic: [UInt8] = Array("MTCM".utf8)

    public var categories: [String]
    public var bits: Int
    public var subjectWeight: Float
    /// Row-major: feature `i`, category `c` at `i * categories.count + c`. Read in place from the model
    /// file when the model was read from one (`weights` is a copy: for training and tests).
    public var weightTable: WeightTable
    public var weights: [Float] {
        get { weightTable.array }
        set { weightTable = WeightTable(newValue) }
    }
    public var bias: [Float]
    /// Divides the logits before the softmax; fitted on held-out folds.
    public var temperature: Float
    public var language: LanguageDetector
    /// Bit set of word features that occurred in training.
    public var seen: [UInt64]
    /// What the model was trained on and how it scored, one "key: value" per line.
    public var summary: [String]
    /// Per category, phrases from the knowledge base (keywords, titles) of which an automatic answer
    /// needs at least one in the message: evidence that the question is one the FAQ covers.
    public var anchors: [String: [String]] = [:]
    /// Inverse document frequency per feature (empty: no weighting): rare, telling features count more
    /// than the words every message has.
    public var idf: [Float] {
        get { idfTable.array }
        set { idfTable = WeightTable(newValue) }
    }
    public var idfTable = WeightTable([])
    /// The training vocabulary for stems and compound splitting.
    public var morphology = Morphology()
    /// Which knowledge-base entry answers a message (entries as classes); nil when trained without one.
    public var answers: AnswerModel?
    let stopIndices: [UInt64]

    public init(categories: [String], bits: Int, subjectWeight: Float, weights: [Float], bias: [Float], temperature: Float,
                language: LanguageDetector, seen: [UInt64], summary: [String])
    {
        self.categories = categories
        self.bits = bits
        self.subjectWeight = subjectWeight
        self.weightTable = WeightTable(weights)
        self.bias = bias
        self.temperature = temperature
        self.language = language
        self.seen = seen
        self.summary = summary
        stopIndices = ClassifierModel.stopIndices(bits: bits)
    }

    /// Function words do not count towards familiarity: every text has them.
    static func stopIndices(bits: Int) -> [UInt64] {
        var s = [UInt64](repeating: 0, count: max(1, (1 << bits) / 64))
        for (_, words) in LanguageDetector.functionWords {
            for w in words {
                let i = Int(FeatureExtractor.wordIndex(w.utf8, bits: bits))
                s[i >> 6] |= 1 << UInt64(i & 63)
            }
        }
        return s
    }

    public func makeExtractor() -> FeatureExtractor {
        var x = FeatureExtractor(bits: bits, subjectWeight: subjectWeight)
        x.morphology = morphology
        return x
    }

    func isFunctionWord(_ i: Int32) -> Bool { stopIndices[Int(i) >> 6] & (1 << UInt64(Int(i) & 63)) != 0 }

    /// Applies the IDF weights and normalises again.
    public func weigh(_ v: inout FeatureVector) {
        guard idfTable.count == 1 << bits else { return }
        idfTable.withUnsafeBufferPointer { ClassifierModel.weigh(&v, idf: $0) }
    }

    static func weigh(_ v: inout FeatureVector, idf: [Float]) {
        idf.withUnsafeBufferPointer { weigh(&v, idf: $0) }
    }

    static func weigh(_ v: inout FeatureVector, idf: UnsafeBufferPointer<Float>) {
        guard !v.values.isEmpty else { return }
        var sumSq: Float = 0
        for k in v.values.indices {
            v.values[k] *= idf[Int(v.indices[k])]
            sumSq += v.values[k] * v.values[k]
        }
        let scale = sumSq > 0 ? 1 / sumSq.squareRoot() : 0
        for k in v.values.indices { v.values[k] *= scale }
    }

    /// IDF from the training vectors: log((n + 1) / (df + 1)) + 1.
    public static func inverseDocumentFrequency(_ vectors: [FeatureVector], bits: Int) -> [Float] {
        var df = [Float](repeating: 0, count: 1 << bits)
        for v in vectors { for i in v.indices { df[Int(i)] += 1 } }
        let n = Float(vectors.count)
        return df.map { Float(log(Double((n + 1) / ($0 + 1)))) + 1 }
    }

    /// Raw scores per category (before temperature and softmax).
    public func logits(_ v: FeatureVector) -> [Float] {
        weightTable.withUnsafeBufferPointer { ClassifierModel.logits(v, weights: $0, bias: bias) }
    }

    static func logits(_ v: FeatureVector, weights: [Float], bias: [Float]) -> [Float] {
        weights.withUnsafeBufferPointer { logits(v, weights: $0, bias: bias) }
    }

    /// How many features ahead a weight row is requested (`mailtriage_prefetch`).
    static let prefetchDistance = 8

    static func logits(_ v: FeatureVector, weights w: UnsafeBufferPointer<Float>, bias: [Float]) -> [Float] {
        let c = bias.count
        // A row in one vector register: each category's sum is still taken feature by feature, in the same
        // order and with the same roundings, so the result is the same as one category at a time.
        if c <= 8 { return logits(v, weights: w, bias: bias, as: SIMD8<Float>.self) }
        if c <= 16 { return logits(v, weights: w, bias: bias, as: SIMD16<Float>.self) }
        var out = bias
        out.withUnsafeMutableBufferPointer { o in
            guard let wp = w.baseAddress else { return }
            let n = v.indices.count
            for k in 0..<n {
                // The rows are scattered over megabytes: ask for one a few features ahead.
                if k + prefetchDistance < n { mailtriage_prefetch(wp + Int(v.indices[k + prefetchDistance]) * c) }
                let base = Int(v.indices[k]) * c
                let x = v.values[k]
                for j in 0..<c { o[j] += w[base + j] * x }
            }
        }
        return out
    }

    /// `logits` with the row of a feature loaded as a vector of `V.scalarCount >= c` lanes; the lanes past the
    /// row (the next row's weights) are summed too and dropped. A row too near the table's end is read by element.
    @inline(__always)
    static func logits<V: SIMD>(_ v: FeatureVector, weights w: UnsafeBufferPointer<Float>, bias: [Float], as: V.Type) -> [Float]
    where V.Scalar == Float {
        let c = bias.count
        var acc = V()
        for j in 0..<c { acc[j] = bias[j] }
        guard let wp = w.baseAddress else { return bias }
        let raw = UnsafeRawPointer(wp)
        let lastFull = w.count - V.scalarCount
        v.indices.withUnsafeBufferPointer { ix in
            v.values.withUnsafeBufferPointer { xs in
                let n = ix.count
                for k in 0..<n {
                    if k + prefetchDistance < n { mailtriage_prefetch(wp + Int(ix[k + prefetchDistance]) * c) }
                    let base = Int(ix[k]) * c
                    let x = xs[k]
                    if base <= lastFull {
                        acc = acc + raw.loadUnaligned(fromByteOffset: base * MemoryLayout<Float>.stride, as: V.self) * V(repeating: x)
                    } else {
                        for j in 0..<c { acc[j] = acc[j] + w[base + j] * x }
                    }
                }
            }
        }
        return (0..<c).map { acc[$0] }
    }

    public static func softmax(_ logits: [Float], temperature: Float = 1) -> [Float] {
        let t = max(temperature, 0.05)
        let m = logits.max() ?? 0
        var e = logits.map { Float(exp(Double(($0 - m) / t))) }
        let s = e.reduce(0, +)
        for k in e.indices { e[k] /= s }
        return e
    }

    /// Share of the text's content words (function words and words with digits left out) that the model saw in training, as a
    /// word, by its stem or as a compound of known parts (1 for a text without content words).
    public func coverage(_ v: FeatureVector) -> Float {
        var hit = 0, total = 0
        for (k, w) in v.words.enumerated() where stopIndices[Int(w) >> 6] & (1 << UInt64(Int(w) & 63)) == 0 {
            let a = k < v.alternates.count ? v.alternates[k] : -1
            if a == FeatureVector.number { continue }
            total += 1
            if seen[Int(w) >> 6] & (1 << UInt64(Int(w) & 63)) != 0 || a == FeatureVector.knownCompound
                || (a >= 0 && seen[Int(a) >> 6] & (1 << UInt64(Int(a) & 63)) != 0)
            {
                hit += 1
            }
        }
        return total == 0 ? 1 : Float(hit) / Float(total)
    }

    // MARK: - File format: magic, version, then length-prefixed fields, little endian.

    /// `origin`: where these bytes start in the file (a model inside another), for the page alignment.
    /// `format`: 2 writes the previous format (tables inline; for tests of reading old files).
    public func serialized(origin: Int = 0, format: UInt32 = ClassifierModel.formatVersion) -> [UInt8] {
        var w = ByteWriter(origin: origin, sections: format >= 3)
        w.bytes(ClassifierModel.magic)
        w.u32(format)
        w.strings(categories)
        w.u32(UInt32(bits))
        w.f32(subjectWeight)
        w.f32(temperature)
        w.floats(bias)
        w.section(weightTable)
        w.strings(language.languages)
        w.floats(language.logProb)
        w.u32(UInt32(seen.count))
        for s in seen { w.u64(s) }
        w.strings(summary)
        w.strings(anchors.sorted { $0.key < $1.key }.flatMap { (cat, phrases) in phrases.map { cat + "\t" + $0 } })
        w.section(idfTable)
        w.u32(UInt32(morphology.lexicon.count))
        for h in morphology.lexicon.sorted() { w.u64(h) }
        if let answers {
            w.u32(1)
            let inner = answers.model.serialized(origin: origin + w.out.count + 4, format: format)
            w.u32(UInt32(inner.count))
            w.bytes(inner)
            w.strings(answers.entries.map { "\($0.id)\t\($0.category)\t\($0.language)" })
            w.strings([answers.fingerprint])
        } else {
            w.u32(0)
        }
        return w.out
    }

    /// A model from a copy of its file's bytes.
    public init(bytes: [UInt8]) throws {
        try self.init(file: ModelBytes(bytes))
    }

    /// A model whose weight tables are read in place from `file` (a mapping: `ModelBytes.mapping(_:)`).
    /// A damaged or truncated file is a `TriageError` (code `.model`), never a crash.
    public init(file: ModelBytes) throws {
        try self.init(file, 0..<file.bytes.count)
    }

    init(_ file: ModelBytes, _ range: Range<Int>) throws {
        var r = ByteReader(file, range)
        guard r.take(4) == ClassifierModel.magic else { throw TriageError.modelFormat("not a mailtriage model file") }
        let version = try r.u32()
        guard (ClassifierModel.oldestFormat...ClassifierModel.formatVersion).contains(version) else {
            throw TriageError.modelFormat("model format \(version), this build reads \(ClassifierModel.oldestFormat) to \(ClassifierModel.formatVersion); run `mailtriage train`")
        }
        r.sections = version >= 3
        categories = try r.strings()
        bits = Int(try r.u32())
        guard (10...24).contains(bits), !categories.isEmpty else { throw TriageError.modelFormat("bad dimensions") }
        subjectWeight = try r.f32()
        temperature = try r.f32()
        bias = try r.floats()
        weightTable = try r.table()
        guard bias.count == categories.count, weightTable.count == categories.count << bits else {
            throw TriageError.modelFormat("weights do not match the categories")
        }
        let langs = try r.strings()
        let lp = try r.floats()
        guard lp.count == langs.count << LanguageDetector.tableBits else { throw TriageError.modelFormat("language tables do not match the languages") }
        language = LanguageDetector(languages: langs, logProb: lp)
        let n = Int(try r.u32())
        guard n == (1 << bits) / 64 else { throw TriageError.modelFormat("vocabulary set has the wrong size") }
        seen = try (0..<n).map { _ in try r.u64() }
        summary = try r.strings()
        for line in try r.strings() {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { anchors[String(parts[0]), default: []].append(String(parts[1])) }
        }
        idfTable = try r.table()
        guard idfTable.count == 0 || idfTable.count == 1 << bits else { throw TriageError.modelFormat("IDF table has the wrong size") }
        let words = Int(try r.u32())
        guard words <= 10_000_000 else { throw TriageError.modelFormat("bad vocabulary size") }
        var lexicon = Set<UInt64>(minimumCapacity: words)
        for _ in 0..<words { lexicon.insert(try r.u64()) }
        morphology = Morphology(lexicon: lexicon)
        if try r.u32() == 1 {
            let n = Int(try r.u32())
            guard let inner = r.skip(n) else { throw TriageError.modelFormat("file is truncated") }
            let model = try ClassifierModel(file, inner)
            // The answer model reads the category model's features cut to its own dimension.
            guard model.bits == AnswerModel.bits else { throw TriageError.modelFormat("answer model has the wrong dimension") }
            let entries: [AnswerModel.Entry] = try r.strings().map { line in
                let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 3 else { throw TriageError.modelFormat("bad answer entry") }
                return AnswerModel.Entry(id: f[0], category: f[1], language: f[2])
            }
            guard entries.count + 1 == model.categories.count else { throw TriageError.modelFormat("answer entries do not match") }
            answers = AnswerModel(model: model, entries: entries, fingerprint: try r.strings().first ?? "")
        }
        stopIndices = ClassifierModel.stopIndices(bits: bits)
    }
}

extension TriageError {
    static func modelFormat(_ m: String) -> TriageError { TriageError(.model, m) }
}

struct ByteWriter {
    var out: [UInt8] = []
    /// Where `out` starts in the file.
    var origin = 0
    /// Tables as page-aligned sections (format 3), else inline (format 2).
    var sections = true
    mutating func bytes(_ b: [UInt8]) { out += b }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func floats(_ a: [Float]) {
        u32(UInt32(a.count))
        out.reserveCapacity(out.count + a.count * 4)
        a.withUnsafeBytes { out += $0 }  // little-endian hosts (x86-64, arm64)
    }
    /// A table read in place: its count, zeros to the next page boundary of the file, the floats.
    mutating func section(_ t: WeightTable) {
        guard sections else { return floats(t.array) }
        u32(UInt32(t.count))
        out += [UInt8](repeating: 0, count: ByteReader.padding(origin + out.count))
        out.reserveCapacity(out.count + t.count * 4)
        t.withUnsafeBufferPointer { out += UnsafeRawBufferPointer($0) }
    }
    mutating func strings(_ a: [String]) {
        u32(UInt32(a.count))
        for s in a {
            u32(UInt32(s.utf8.count))
            out += Array(s.utf8)
        }
    }
}

/// Reads a model's fields from `range` of a file's bytes, every read checked against the range.
struct ByteReader {
    let file: ModelBytes
    let b: UnsafeRawBufferPointer
    /// Absolute positions in `file`.
    var i: Int
    let end: Int
    /// Format 3 and later: tables are page-aligned sections (`ByteWriter.section`), read in place.
    var sections = false

    init(_ file: ModelBytes, _ range: Range<Int>) {
        self.file = file
        b = file.bytes
        i = max(0, range.lowerBound)
        end = min(range.upperBound, file.bytes.count)
    }

    /// Zeros after a section's count up to the next page boundary of the file.
    static func padding(_ position: Int) -> Int { (ModelBytes.pageSize - position % ModelBytes.pageSize) % ModelBytes.pageSize }

    /// The range of the next `n` bytes, skipped; nil when they are not all there.
    mutating func skip(_ n: Int) -> Range<Int>? {
        guard n >= 0, n <= end - i else { return nil }
        defer { i += n }
        return i..<(i + n)
    }
    mutating func take(_ n: Int) -> [UInt8]? {
        skip(n).map { Array(b[$0]) }
    }
    mutating func u32() throws -> UInt32 {
        guard let r = skip(4) else { throw TriageError.modelFormat("file is truncated") }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(b[r.lowerBound + k]) << (8 * k) }
        return v
    }
    mutating func u64() throws -> UInt64 {
        UInt64(try u32()) | UInt64(try u32()) << 32
    }
    mutating func f32() throws -> Float { Float(bitPattern: try u32()) }
    mutating func floats() throws -> [Float] {
        let n = Int(try u32())
        guard n <= (end - i) / 4, let r = skip(n * 4) else { throw TriageError.modelFormat("file is truncated") }
        var a = [Float](repeating: 0, count: n)
        a.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[r])) }
        return a
    }
    /// A weight table: in place from a page-aligned section (format 3), else a copy (format 2).
    mutating func table() throws -> WeightTable {
        guard sections else { return WeightTable(try floats()) }
        let n = Int(try u32())
        guard skip(ByteReader.padding(i)) != nil, n <= (end - i) / 4, let r = skip(n * 4) else {
            throw TriageError.modelFormat("file is truncated")
        }
        return WeightTable(source: file, offset: r.lowerBound, count: n)
    }
    mutating func strings() throws -> [String] {
        let n = Int(try u32())
        guard n < 1_000_000 else { throw TriageError.modelFormat("bad string count") }
        return try (0..<n).map { _ in
            let len = Int(try u32())
            guard let r = skip(len) else { throw TriageError.modelFormat("file is truncated") }
            return String(decoding: UnsafeRawBufferPointer(rebasing: b[r]), as: UTF8.self)
        }
    }
}
