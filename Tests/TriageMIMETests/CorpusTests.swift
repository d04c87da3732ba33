import Foundation
import Testing
@testable import TriageMIME

/// The shared corpus of real-world and torture-test messages (see ../shared/datasets/README.md).
enum SharedCorpus {
    static var root: URL {
        if let env = ProcessInfo.processInfo.environment["MAILTRIAGE_SHARED"] {
            return URL(fileURLWithPath: env).appendingPathComponent("datasets/mime")
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/datasets/mime")
    }

    static func files(under sub: String = "") -> [URL] {
        let dir = sub.isEmpty ? root : root.appendingPathComponent(sub)
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return e.compactMap { $0 as? URL }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.path < $1.path }
    }
}

@Suite struct CorpusTests {
    @Test func everyFileParsesWithinItsBudget() throws {
        let files = SharedCorpus.files()
        try #require(files.count > 500, "the shared MIME corpus was not found at \(SharedCorpus.root.path)")
        var slowest = (0.0, "")
        var withWarnings = 0
        var withText = 0
        var bytes = 0
        let clock = ContinuousClock()
        for url in files {
            let raw = try [UInt8](Data(contentsOf: url))
            bytes += raw.count
            let start = clock.now
            let m = MIMEParser.parse(raw)
            let d = clock.now - start
            let secs = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            if secs > slowest.0 { slowest = (secs, url.lastPathComponent) }
            // Debug builds are slow; a hang or a quadratic blow-up is far beyond this budget.
            #expect(secs < 5.0, "\(url.path) took \(secs) s")
            if !m.warnings.isEmpty { withWarnings += 1 }
            if !m.text.isEmpty { withText += 1 }
            #expect(m.partCount >= 1)
        }
        print("corpus: \(files.count) files, \(bytes) bytes; \(withText) with body text, \(withWarnings) with warnings; slowest \(slowest.1) \(String(format: "%.3f", slowest.0)) s")
    }

    @Test func everyBounceIsRecognisedAndNoNonBounceIs() throws {
        let bounces = SharedCorpus.files(under: "sisimai_set_of_emails/maildir_bsd")
        let others = SharedCorpus.files(under: "sisimai_set_of_emails/maildir_not")
        try #require(bounces.count > 300 && others.count >= 3, "sisimai maildirs not found under \(SharedCorpus.root.path)")
        var kinds: [MessageReport.Kind: Int] = [:]
        var missed: [String] = []
        for url in bounces {
            let m = MIMEParser.parse(try [UInt8](Data(contentsOf: url)))
            kinds[m.report.kind, default: 0] += 1
            // sisimai files RFC 3834 vacation replies with the bounces; they are auto-replies, which the
            // loop guard refuses just the same, and threading must treat them as auto-replies.
            if !m.report.isReport && m.report.kind != .autoReply { missed.append("\(url.lastPathComponent): \(m.report.kind) \(m.envelope.subject)") }
        }
        var falsePositives: [String] = []
        for url in others {
            let m = MIMEParser.parse(try [UInt8](Data(contentsOf: url)))
            if m.report.isReport { falsePositives.append("\(url.lastPathComponent): \(m.report.signals)") }
        }
        let summary = kinds.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        print("sisimai: \(bounces.count) bounces, \(bounces.count - missed.count) recognised as reports or auto-replies (\(summary)); \(others.count) non-bounces, \(falsePositives.count) wrongly taken for reports")
        #expect(missed.isEmpty, "not recognised: \(missed.joined(separator: "\n"))")
        #expect(falsePositives.isEmpty, "taken for reports: \(falsePositives)")
    }
}
