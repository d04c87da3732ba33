// libFuzzer entry point for what operators write (`make fuzz`): FUZZ_TARGET=config feeds each input to the
// TOML loaders (mailtriage.toml, rules, service levels; TOMLKit underneath), FUZZ_TARGET=knowledge to the
// knowledge-base entry parser (front matter and answer template), FUZZ_TARGET=model to the model-file reader
// (a model it accepts then classifies a few mails). Any input must give a value or an error, never a crash.
// FUZZ_TARGET=model-seeds DIR writes two small model files to start the model corpus from. An ordinary `swift build` compiles this target too; without `-sanitize=fuzzer` there is
// no libFuzzer driver to find and it says so.
import Foundation
import TriageCore
import TriageFiles
#if canImport(Glibc)
import Glibc
#endif

let categories = ["general", "office", "order_info", "password", "webshop"]

enum FuzzTarget: String {
    case config, knowledge, model
    case modelSeeds = "model-seeds"
}

let target = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "")

func fuzzConfig(_ text: String) {
    if let (c, _) = try? ConfigLoader.parse(text: text, file: "fuzz.toml") {
        precondition(c.maxMessageBytes >= 1024 && c.batchSize >= 1 && c.batchBytes >= 1 << 20, "a value outside its validated range")
        precondition(!c.mailboxes.isEmpty, "a configuration without a mailbox was accepted")
    }
    _ = try? ConfigLoader.parse(text: text, file: "fuzz.toml", mailboxes: false)
    _ = try? RulesLoader.parse(text: text, file: "rules.toml", categories: categories)
    _ = try? ServiceLevelsLoader.parse(text: text, file: "service-levels.toml", categories: categories)
}

func fuzzKnowledge(_ text: String) {
    guard let e = try? KnowledgeEntry.parse(text, path: "fuzz.md") else { return }
    precondition(!e.id.isEmpty && !e.category.isEmpty && !e.language.isEmpty && !e.title.isEmpty, "an entry without a required field")
    precondition(!e.questions.isEmpty && !e.body.isEmpty, "an entry without questions or text")
    _ = KnowledgeBaseCheck.problems([e], categories: categories, placeholders: AnswerTemplate.builtIn)
    let rendered = AnswerTemplate.render(e.body, values: ["customer_name": "A\r\nBcc: x@example.org", "ticket_id": "#1", "subject": "{{subject}}"])
    // A value stays within its line: no line of the answer starts with what followed its line break.
    precondition(!rendered.text.split(separator: "\n").contains { $0.hasPrefix("Bcc: x@example.org") } || e.body.contains("Bcc: x@example.org"),
                 "a value broke out of its line")
    _ = e.trainingExamples
}

let sampleMails = [
    ClassifierInput(subject: "Passwort vergessen", body: "Hallo, ich habe mein Passwort vergessen. Wie kann ich es zurücksetzen? Viele Grüße"),
    ClassifierInput(subject: "", body: "Where is my order 4711? Thanks"),
    ClassifierInput(subject: "x", body: ""),
]

func fuzzModel(_ bytes: [UInt8]) {
    guard let model = try? ClassifierModel(bytes: bytes) else { return }
    var classifier = Classifier(model: model, settings: ClassifierSettings())
    for mail in sampleMails {
        let c = classifier.classify(mail)
        precondition(c.confidence.isNaN || (0...1).contains(c.confidence), "a confidence outside 0...1")
    }
}

/// A category model of 2^10 features, without and with language tables and an answer model.
func writeModelSeeds(to dir: String) throws {
    var state: UInt32 = 12_345
    func weight() -> Float {
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 24)
    }
    func model(_ categories: [String], bits: Int, language: LanguageDetector) -> ClassifierModel {
        var m = ClassifierModel(categories: categories, bits: bits, subjectWeight: 2, weights: (0..<(categories.count << bits)).map { _ in weight() },
                                bias: categories.map { _ in weight() }, temperature: 1, language: language,
                                seen: [UInt64](repeating: 0x5555_5555_5555_5555, count: (1 << bits) / 64), summary: ["seed"])
        m.idf = [Float](repeating: 1.5, count: 1 << bits)
        m.anchors = ["password": ["passwort", "password"]]
        return m
    }
    let plain = model(["password", "order_info", "other"], bits: 10, language: LanguageDetector(languages: [], logProb: []))
    try Data(plain.serialized()).write(to: URL(fileURLWithPath: dir + "/plain.model"))
    let detector = LanguageDetector.train([("ich habe mein passwort vergessen", "de"), ("where is my order", "en")])
    var full = model(["password", "order_info", "other"], bits: 10, language: detector)
    let entries = [AnswerModel.Entry(id: "password-reset", category: "password", language: "de"),
                   AnswerModel.Entry(id: "order-status", category: "order_info", language: "en")]
    full.answers = AnswerModel(model: model(entries.map(\.id) + ["none"], bits: AnswerModel.bits, language: LanguageDetector(languages: [], logProb: [])),
                               entries: entries, fingerprint: "seed")
    try Data(full.serialized()).write(to: URL(fileURLWithPath: dir + "/answers.model"))
    // Both must read back: a seed the reader refuses would start the corpus from nothing.
    for name in ["plain", "answers"] { _ = try ClassifierModel(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).model")))) }
}

let fuzzOne: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    switch target {
    case .config: fuzzConfig(text)
    case .knowledge: fuzzKnowledge(text)
    case .model: fuzzModel(Array(UnsafeBufferPointer(start: data, count: size)))
    case .modelSeeds, nil: break
    }
    return 0
}

typealias RunDriver = @convention(c) (
    UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

guard target != nil else {
    FileHandle.standardError.write(Data("set FUZZ_TARGET to config, knowledge, model or model-seeds\n".utf8))
    exit(2)
}
if target == .modelSeeds {
    guard CommandLine.arguments.count == 2 else {
        FileHandle.standardError.write(Data("usage: FUZZ_TARGET=model-seeds mailtriage-fuzz DIR\n".utf8))
        exit(2)
    }
    do {
        try writeModelSeeds(to: CommandLine.arguments[1])
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("cannot write the model seeds: \(error)\n".utf8))
        exit(1)
    }
}
// libFuzzer's driver, present only in a build with -sanitize=fuzzer (and exported with --export-dynamic).
guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "LLVMFuzzerRunDriver") else {
    FileHandle.standardError.write(Data("this build has no libFuzzer: build it with `make fuzz`\n".utf8))
    exit(2)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(unsafeBitCast(symbol, to: RunDriver.self)(&argc, &argv, fuzzOne))
