import Foundation
import Testing
@testable import TriageCore
@testable import TriageDaemon
@testable import TriageFiles

/// The archive reader, the analysis totals and the report's renderings, without the binary.
@Suite struct AnalyzeTests {
    static func split(_ text: String, chunk: Int, limit: Int = 1 << 20) -> [(String, Int)] {
        var s = MboxSplitter(limit: limit)
        var out: [(String, Int)] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let piece = Array(bytes[i..<min(bytes.count, i + chunk)])
            piece.withUnsafeBufferPointer { s.feed($0) { raw, size in out.append((String(decoding: raw, as: UTF8.self), size)) } }
            i += chunk
        }
        if let (raw, size) = s.finish() { out.append((String(decoding: raw, as: UTF8.self), size)) }
        return out
    }

    static let mbox = "From a@x Mon Jan  5 10:00:00 2026\nSubject: one\n\nbody 1\n>From the start\n>>From twice\nFrom\n\n"
        + "From b@x Mon Jan  5 10:00:01 2026\nSubject: two\n\nbody 2\n"
        + "From c@x Mon Jan  5 10:00:02 2026\nSubject: three\n\n" + String(repeating: "A", count: 10_000) + "\nend\n"

    @Test(arguments: [1, 2, 3, 7, 64, 4095, 4097, 1 << 20])
    func mboxSplitsTheSameInPiecesOfAnySize(chunk: Int) {
        let m = Self.split(Self.mbox, chunk: chunk)
        #expect(m.count == 3)
        #expect(m[0].0 == "Subject: one\n\nbody 1\nFrom the start\n>From twice\nFrom\n\n", "mboxrd quoting undone once; a bare \"From\" line is text")
        #expect(m[1].0 == "Subject: two\n\nbody 2\n")
        #expect(m[2].0.hasSuffix(String(repeating: "A", count: 100) + "\nend\n") && m[2].0.utf8.count == 10_021)
        #expect(m.map(\.1) == m.map(\.0.utf8.count))
    }

    @Test func mboxMessagesAreCutAtTheLimitWithTheirRealSize() {
        let m = Self.split(Self.mbox, chunk: 100, limit: 20)
        #expect(m.count == 3)
        #expect(m.allSatisfy { $0.0.utf8.count <= 20 })
        #expect(m[2].1 == 10_021)
    }

    @Test func textWithoutSeparatorIsOneMessageAndATrailingSeparatorAddsNone() {
        #expect(Self.split("Subject: x\n\nhello", chunk: 3).map(\.0) == ["Subject: x\n\nhello"])
        #expect(Self.split("From a\nSubject: x\n\nhi\nFrom b", chunk: 5).map(\.0) == ["Subject: x\n\nhi\n"])
    }

    @Test func inputsTellMboxMaildirMessagesAndOtherFiles() throws {
        let root = NSTemporaryDirectory() + "mt-archive-\(UUID().uuidString)"
        let fm = FileManager.default
        for d in ["md/cur", "md/new", "md/tmp", "md/.Sub/cur", "md/.Sub/new", "plain"] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        try "Subject: a\n\nx\n".write(toFile: root + "/md/cur/1:2,S", atomically: true, encoding: .utf8)
        try "Subject: b\n\nx\n".write(toFile: root + "/md/new/2", atomically: true, encoding: .utf8)
        try "Subject: c\n\nx\n".write(toFile: root + "/md/tmp/3", atomically: true, encoding: .utf8)
        try "Subject: d\n\nx\n".write(toFile: root + "/md/.Sub/cur/4", atomically: true, encoding: .utf8)
        try "From x\nSubject: e\n\nx\n".write(toFile: root + "/plain/box", atomically: true, encoding: .utf8)
        try "Received: from a by b\nFrom: q@x\n\nhi\n".write(toFile: root + "/plain/msg.txt", atomically: true, encoding: .utf8)
        try "<html><body>not mail</body></html>".write(toFile: root + "/plain/page.html", atomically: true, encoding: .utf8)
        try "garbage".write(toFile: root + "/plain/odd.eml", atomically: true, encoding: .utf8)
        try "Received: from a by b\r\n\tfor x\r\nFrom: q@x\r\nSubject: crlf\r\n\r\nhi\r\n".write(toFile: root + "/plain/crlf.msg", atomically: true, encoding: .utf8)
        try "From a@x Mon Jan  5 10:00:00 2026\nSubject: one\n\nhi\nFrom here\n".write(toFile: root + "/plain/single.eml", atomically: true, encoding: .utf8)
        let found = try ArchiveReader.inputs([root])
        let names = found.files.map { ($0.path.replacingOccurrences(of: root + "/", with: ""), $0.kind) }
        #expect(names.map(\.0) == ["md/cur/1:2,S", "md/new/2", "md/.Sub/cur/4", "plain/box", "plain/crlf.msg", "plain/msg.txt", "plain/odd.eml",
                                   "plain/single.eml"])
        #expect(names.first { $0.0 == "plain/single.eml" }?.1 == .message, "a .eml file is one message, even after a From_ line")
        #expect(names.first { $0.0 == "plain/box" }?.1 == .mbox)
        #expect(found.skipped.map { ($0 as NSString).lastPathComponent } == ["page.html"])
        #expect(throws: ArchiveReader.ReadError.self) { try ArchiveReader.inputs([root + "/missing"]) }
    }

    @Test func monthsOfTimes() {
        #expect(AnalysisItem.month(0) == "1970-01")
        #expect(AnalysisItem.month(1_795_000_000) == "2026-11")
        #expect(AnalysisItem.month(951_782_400) == "2000-02")  // 2000-02-29
        #expect(AnalysisItem.month(951_868_800) == "2000-03")
        #expect(AnalysisItem.month(-1) == "1969-12")
    }

    static func gap(_ subject: String, _ words: [String], category: String = "general") -> AnalysisItem {
        AnalysisItem(source: subject, month: "2026-01", language: "en", category: category, group: nil, outcome: .manual, entry: nil,
                     gap: GapSample(language: "en", category: category, subject: subject,
                                    terms: words.map { GapTerms.Term(stem: $0, word: $0, inSubject: true) }),
                     problem: nil, refusal: nil, bytes: 100)
    }

    @Test func knowledgeGapsGroupQuestionsByTheirTellingWords() {
        var a = ArchiveAnalysis()
        for i in 0..<6 { a.add(Self.gap("Invoice copy \(i)", ["invoic", "copi", "send"])) }
        for i in 0..<4 { a.add(Self.gap("VPN drops \(i)", ["vpn", "drop", "send"], category: "office")) }
        for i in 0..<30 { a.add(Self.gap("Misc \(i)", ["misc\(i)", "send"])) }
        let g = a.gapClusters()
        #expect(g.count == 2)
        #expect(g[0].words.prefix(2).sorted() == ["copi", "invoic"] && g[0].messages == 6 && g[0].examples.count == 3)
        #expect(g[1].category == "office" && g[1].messages == 4)
        #expect(a.gapMessages == 40)
    }

    @Test func gapSampleIsBoundedAndScaled() {
        var a = ArchiveAnalysis(sampleSize: 100)
        for i in 0..<1000 { a.add(Self.gap("Q \(i)", i % 2 == 0 ? ["refund", "voucher"] : ["uniq\(i)", "other\(i)"])) }
        #expect(a.gapSample.count == 100)
        let g = a.gapClusters()
        #expect(g.count == 1)
        #expect(abs(g[0].messages - 500) < 150, "estimated from the sample: \(g[0].messages)")
        var b = ArchiveAnalysis(sampleSize: 100)
        for i in 0..<1000 { b.add(Self.gap("Q \(i)", i % 2 == 0 ? ["refund", "voucher"] : ["uniq\(i)", "other\(i)"])) }
        #expect(a.gapSample == b.gapSample, "the same archive gives the same sample")
    }

    @Test func gapTermsDropFunctionWordsAndStem() {
        var t = GapTerms()
        let terms = t.terms(subject: "Wie kann ich meine Rechnungen herunterladen?", body: "Hallo, ich brauche die Rechnungen für März. Danke", language: "de")
        let stems = terms.map(\.stem)
        #expect(stems.contains("rechnung") && stems.contains("herunterlad"))
        #expect(!stems.contains("wie") && !stems.contains("ich") && !stems.contains("hallo") && !stems.contains("dank"))
        #expect(stems.filter { $0 == "rechnung" }.count == 1)
    }

    static func report() -> AnalysisReport {
        var a = ArchiveAnalysis()
        a.add(Self.gap("<script>alert(1)</script> & \"quotes\"", ["script", "alert"]))
        a.add(Self.gap("<script>alert(2)</script>", ["script", "alert"]))
        var auto = Self.gap("x", [])
        auto.outcome = .automatic
        auto.gap = nil
        auto.entry = "password-reset"
        for _ in 0..<3 { a.add(auto) }
        return AnalysisReport(a, files: 1, skippedFiles: [], unreadable: [], seconds: 1, minutesPerTicket: 10, draftShare: 0.5)
    }

    @Test func reportSavingsAndRenderings() {
        let r = Self.report()
        #expect(r.savings.hoursTotal == 0.5 && r.savings.months == 1)
        #expect(r.entries == [AnalysisReport.EntryRow(entry: "password-reset", answers: 3, drafts: 0)])
        let html = AnalysisRendering.html(r)
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        #expect(html.contains("id=\"chart-categories\"") && html.contains("id=\"chart-months\""))
        let csv = AnalysisRendering.csv(r)
        #expect(csv.hasPrefix("section,name,messages,automatic,semi_automatic,shadow,manual,refused,failed,detail\r\ntotal,all,5,3,0,0,2,0,0,\r\n"))
        #expect(AnalysisRendering.field("=1+2") == "'=1+2" && AnalysisRendering.field("-5") == "-5" && AnalysisRendering.field("a,\"b\"") == "\"a,\"\"b\"\"\"")
    }
}
