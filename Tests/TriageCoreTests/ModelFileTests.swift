import Foundation
import Testing
@testable import TriageCore

/// The model file read in place: page-aligned weight sections mapped read-only, the old format still read,
/// damage a clear error.
@Suite struct ModelFileTests {
    static let others = ["please cancel my order and refund me", "the app crashes when I open it", "I want to complain about the delivery driver",
                         "delete all my personal data", "grant me admin rights", "my invoice is wrong, correct it"]
        .map { TrainingExample(body: $0, label: Category.other, language: "en", source: "t") }

    /// A category model with IDF weights and an answer model (the shape of a trained model file).
    static let model: ClassifierModel = {
        var (m, _) = Trainer.train(MorphologyTests.entries.flatMap(\.trainingExamples) + others,
                                   categories: ["password", "order_info", Category.other],
                                   anchors: KnowledgeEntry.anchors(MorphologyTests.entries))
        m.answers = AnswerModel.train(entries: MorphologyTests.entries, examples: others, morphology: m.morphology,
                                      subjectWeight: m.subjectWeight).0
        return m
    }()

    static let mails = [
        ClassifierInput(subject: "Forgotten password", body: "I have forgotten my password, how can I reset it?"),
        ClassifierInput(subject: "", body: "Where is my parcel? The tracking number does not work."),
        ClassifierInput(subject: "Locked", body: "My account is locked after too many attempts, please unlock it."),
        ClassifierInput(subject: "", body: "Delete all my personal data now."),
    ]

    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "mailtriage-model-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func decisions(_ m: ClassifierModel) -> [Classification] {
        var c = Classifier(model: m, settings: ClassifierSettings())
        return mails.map { c.classify($0) }
    }

    @Test func mappedModelReadsItsWeightsInPlaceAndDecidesTheSame() throws {
        let m = Self.model
        let path = try Self.temporaryFile(m.serialized())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try #require(try ModelBytes.mapping(path))
        let back = try ClassifierModel(file: file)
        // Read in place, not decoded into arrays.
        #expect(back.weightTable.isMapped && back.idfTable.isMapped)
        #expect(back.answers?.model.weightTable.isMapped == true && back.answers?.model.idfTable.isMapped == true)
        #expect(!m.weightTable.isMapped)
        #expect(back.weightTable == m.weightTable && back.idfTable == m.idfTable && back.bias == m.bias)
        #expect(back.answers?.model.weightTable == m.answers?.model.weightTable)
        #expect(Self.decisions(back) == Self.decisions(m))
        #expect(Self.decisions(m).contains { $0.answer != nil })
        // No file: no model (trained instead); an empty file: not a model.
        #expect(try ModelBytes.mapping(path + ".missing") == nil)
        let empty = try Self.temporaryFile([])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: TriageError.self) { try ClassifierModel(file: #require(try ModelBytes.mapping(empty))) }
    }

    @Test func previousFormatIsStillRead() throws {
        let m = Self.model
        let old = m.serialized(format: 2)
        #expect(old[4] == 2 && m.serialized()[4] == 3)
        let back = try ClassifierModel(bytes: old)
        #expect(!back.weightTable.isMapped)
        #expect(back.weightTable == m.weightTable && back.answers?.model.weightTable == m.answers?.model.weightTable)
        #expect(Self.decisions(back) == Self.decisions(m))
    }

    /// Every truncation and damaged counts are errors of the model, never a crash or a read out of bounds.
    @Test func truncatedOrDamagedFilesAreErrors() throws {
        let bytes = Self.model.serialized()
        var cuts = Array(stride(from: 0, to: bytes.count, by: 1021)) + [bytes.count - 1, bytes.count - 4]
        // Around each page boundary (the sections' padding and starts).
        for page in stride(from: 4096, to: bytes.count, by: 4096) { cuts += [page - 5, page - 1, page, page + 1, page + 3] }
        for n in cuts where n < bytes.count {
            #expect(throws: TriageError.self, "cut at \(n)") { try ClassifierModel(bytes: Array(bytes.prefix(n))) }
        }
        // A section whose count runs past the end of the file: the first table after the bias.
        let m = Self.model
        var w = ByteWriter()
        w.bytes(ClassifierModel.magic)
        w.u32(ClassifierModel.formatVersion)
        w.strings(m.categories)
        w.u32(UInt32(m.bits))
        w.f32(m.subjectWeight)
        w.f32(m.temperature)
        w.floats(m.bias)
        var huge = bytes
        let at = w.out.count
        for (k, b) in [UInt8(0xFF), 0xFF, 0xFF, 0x7F].enumerated() { huge[at + k] = b }
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: huge) }
        var wrongSize = bytes
        wrongSize[at] &+= 1
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: wrongSize) }
    }

    /// Well-formed fields that do not fit together: a file written that way is refused when read, before a mail
    /// is decided with it (found while writing `make fuzz`'s model target).
    @Test func inconsistentTablesAreErrors() throws {
        var shortLanguage = Self.model
        shortLanguage.language = LanguageDetector(languages: ["de", "en"], logProb: [0, 1, 2])
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: shortLanguage.serialized()) }
        // An answer model of another dimension than the one its features are cut to.
        var smallAnswers = Self.model
        let a = try #require(smallAnswers.answers)
        let inner = ClassifierModel(categories: a.model.categories, bits: 10, subjectWeight: 2,
                                    weights: [Float](repeating: 0.5, count: a.model.categories.count << 10), bias: a.model.bias,
                                    temperature: 1, language: LanguageDetector(languages: [], logProb: []),
                                    seen: [UInt64](repeating: 0, count: (1 << 10) / 64), summary: [])
        var withIDF = inner
        withIDF.idf = [Float](repeating: 1, count: 1 << 10)
        smallAnswers.answers = AnswerModel(model: withIDF, entries: a.entries, fingerprint: a.fingerprint)
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: smallAnswers.serialized()) }
        // Deciding with such a model as it is in memory stays within its tables.
        _ = Self.decisions(smallAnswers)
        // The model as trained reads back.
        _ = try ClassifierModel(bytes: Self.model.serialized())
    }

    /// The daemon replaces the file by renaming a new one over it: a classifier still reading the old
    /// mapping keeps the old weights and decides as before.
    @Test func renameOverTheFileKeepsAnOldMappingValid() throws {
        let m = Self.model
        let path = try Self.temporaryFile(m.serialized())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = try ClassifierModel(file: #require(try ModelBytes.mapping(path)))
        let before = Self.decisions(old)
        var other = Toy.model()
        other.summary.append("replacement")
        let tmp = try Self.temporaryFile(other.serialized())
        #expect(rename(tmp, path) == 0)
        #expect(Self.decisions(old) == before)
        #expect(old.weightTable == m.weightTable)
        let new = try ClassifierModel(file: #require(try ModelBytes.mapping(path)))
        #expect(new.summary.last == "replacement" && new.weightTable == other.weightTable)
    }
}
