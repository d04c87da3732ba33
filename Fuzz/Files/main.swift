// libFuzzer entry point for what operators write (`make fuzz`): FUZZ_TARGET=config feeds each input to the
// TOML loaders (mailtriage.toml, rules, service levels; TOMLKit underneath), FUZZ_TARGET=knowledge to the
// knowledge-base entry parser (front matter and answer template). Any input must give a value or an error,
// never a crash. An ordinary `swift build` compiles this target too; without `-sanitize=fuzzer` there is
// no libFuzzer driver to find and it says so.
import Foundation
import TriageCore
import TriageFiles
#if canImport(Glibc)
import Glibc
#endif

let categories = ["general", "office", "order_info", "password", "webshop"]

enum FuzzTarget: String {
    case config, knowledge
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

let fuzzOne: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    switch target {
    case .config: fuzzConfig(text)
    case .knowledge: fuzzKnowledge(text)
    case nil: break
    }
    return 0
}

typealias RunDriver = @convention(c) (
    UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

guard target != nil else {
    FileHandle.standardError.write(Data("set FUZZ_TARGET to config or knowledge\n".utf8))
    exit(2)
}
// libFuzzer's driver, present only in a build with -sanitize=fuzzer (and exported with --export-dynamic).
guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "LLVMFuzzerRunDriver") else {
    FileHandle.standardError.write(Data("this build has no libFuzzer: build it with `make fuzz`\n".utf8))
    exit(2)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(unsafeBitCast(symbol, to: RunDriver.self)(&argc, &argv, fuzzOne))
