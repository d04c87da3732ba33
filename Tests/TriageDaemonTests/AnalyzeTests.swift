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

    static func message(_ id: String, from: String, refs: [String] = [], outcome: AnalysisItem.Outcome = .manual, automated: Bool = false,
                        mails: Int = 0, at: Int64 = 1_795_000_000) -> AnalysisItem
    {
        var item = Self.gap(id, [])
        item.gap = nil
        item.outcome = outcome
        item.entry = outcome == .automatic ? "password-reset" : nil
        item.thread = ArchiveThreads.Facts(messageID: id, references: refs, senders: [from], recipient: from, automated: automated, mails: mails, at: at)
        return item
    }

    @Test func followUpsJoinTheirTicketAsInTheDaemon() {
        var a = ArchiveAnalysis()
        a.add(Self.message("q1@x", from: "kim@kunde.example"))
        a.add(Self.message("r1@x", from: "kim@kunde.example", refs: ["q1@x"]))  // the customer writes again
        a.add(Self.message("r2@x", from: "kim@kunde.example", refs: ["q1@x", "r1@x"]))  // and again, to the follow-up
        a.add(Self.message("b1@x", from: "mailer-daemon@mx.example", refs: ["q1@x"], outcome: .refused, automated: true))  // a bounce about it
        a.add(Self.message("o1@x", from: "eve@other.example", refs: ["q1@x"]))  // someone else cites it: a ticket of their own
        a.add(Self.message("n1@x", from: "kim@kunde.example", refs: ["unknown@x"]))  // a reply to mail not in the archive
        #expect(a.messages == 6 && a.followUps == 2 && a.automatedFollowUps == 1)
        #expect(a.outcomes.total == 3 && a.outcomes.manual == 3 && a.categories.values.map(\.total).reduce(0, +) == 3)
        let r = AnalysisReport(a, files: 1, skippedFiles: [], unreadable: [], seconds: 1, minutesPerTicket: 10, draftShare: 0.5)
        #expect(r.tickets == 3 && r.followUps == 2 && r.automatedFollowUps == 1 && r.percent(3) == 100)
        #expect(AnalysisRendering.csv(r).contains("\r\nfollow_up,customer,2,,,,,,,\r\nfollow_up,automatic,1,,,,,,,\r\n"))
    }

    @Test func threadMemoryIsBoundedAndKeepsWhatIsUsed() {
        var a = ArchiveAnalysis(threads: ArchiveThreads(capacity: 10, maxMailsPerSender: nil, window: 0))
        a.add(Self.message("old@x", from: "kim@kunde.example"))
        a.add(Self.message("kept@x", from: "ann@kunde.example"))
        for i in 0..<6 {
            a.add(Self.message("m\(i)@x", from: "c\(i)@kunde.example"))
            a.add(Self.message("k\(i)@x", from: "ann@kunde.example", refs: ["kept@x"]))  // used again and again: kept
        }
        a.add(Self.message("late@x", from: "kim@kunde.example", refs: ["old@x"]))  // forgotten: a new ticket
        a.add(Self.message("k9@x", from: "ann@kunde.example", refs: ["kept@x"]))
        #expect(a.followUps == 7 && a.outcomes.total == 9, "followUps \(a.followUps), tickets \(a.outcomes.total)")
    }

    @Test func thePerSenderLimitRefusesAsTheLoopGuardWould() {
        let day: Int64 = 86_400, t0: Int64 = 1_795_000_000
        var a = ArchiveAnalysis(threads: ArchiveThreads(maxMailsPerSender: 3, window: day))
        // An answer and an acknowledgement count alike: 2 + 1 mails, then the limit.
        a.add(Self.message("a1@x", from: "kim@kunde.example", outcome: .automatic, mails: 2, at: t0))
        a.add(Self.message("a2@x", from: "kim@kunde.example", outcome: .automatic, mails: 1, at: t0 + 60))
        a.add(Self.message("a3@x", from: "kim@kunde.example", outcome: .automatic, mails: 1, at: t0 + 120))
        a.add(Self.message("a4@x", from: "kim@kunde.example", outcome: .semiAutomatic, at: t0 + 180))
        a.add(Self.message("b1@x", from: "ann@kunde.example", outcome: .automatic, mails: 1, at: t0 + 200))  // another sender
        a.add(Self.message("a5@x", from: "kim@kunde.example", outcome: .automatic, mails: 1, at: t0 + day + 1))  // the window has passed
        #expect(a.outcomes.automatic == 4 && a.outcomes.refused == 2 && a.refusals == ["rate_limit": 2], "\(a.outcomes)")
        #expect(a.entries["password-reset"]?.answers == 4, "a refused message uses no entry")
        // Without answers (no SMTP), no limit: nothing is sent.
        var b = ArchiveAnalysis()
        for i in 0..<5 { b.add(Self.message("x\(i)@x", from: "kim@kunde.example", outcome: .automatic, mails: 1)) }
        #expect(b.outcomes.automatic == 5)
    }

    @Test func decidedResultsWaitingForTheirTurnAreBounded() {
        let slots = ResultSlots<Int>(capacity: 2)
        // Batch 0 takes long: the results of 1 are kept, 2 must wait (its worker with it).
        #expect(slots.tryPut(1, 1) && !slots.tryPut(2, 2) && !slots.tryPut(5, 5))
        #expect(slots.tryPut(0, 0) && slots.waiting == 2)
        #expect(slots.take(0, total: { nil }) == 0)
        #expect(slots.tryPut(2, 2) && !slots.tryPut(3, 3))
        #expect(slots.take(1, total: { nil }) == 1 && slots.take(2, total: { nil }) == 2 && slots.waiting == 0)
        #expect(slots.take(3, total: { 3 }) == nil)
    }

    /// Function words of German and English that a question's gap words must not be made of.
    @Test func gapTermsKeepNoFunctionWords() {
        var t = GapTerms()
        let de = t.terms(subject: "Frage als Neukunde", body: """
            Ich habe als neuer Kunde eine Frage, weil ich seit gestern nicht mehr einloggen kann, obwohl ich alles so gemacht habe, \
            wie es hier steht. Wenn das nicht geht, sollte man dann lieber anrufen? Oder gibt es eine andere Möglichkeit, damit \
            ich wenigstens meine Bestellungen sehen kann? Vielleicht wäre es besser, wenn ihr euch meldet. Ihr seid doch dafür zuständig.
            """, language: "de")
        let en = t.terms(subject: "Question as a new customer", body: """
            Hi, I have been trying since yesterday but it isn't working although I did everything as described. If it doesn't \
            work, should I rather call? Or is there another way so that I could at least see my orders? Maybe it would be better \
            if you got in touch, because nobody else seems to know. Anyway, I'm looking forward to hearing from you.
            """, language: "en")
        let function = ["als", "weil", "seit", "obwohl", "wenn", "dann", "oder", "damit", "vielleicht", "wenigstens", "lieber", "euch",
                        "seid", "dafuer", "andere", "mehr", "hier", "steht",
                        "since", "but", "isn", "although", "did", "everything", "doesn", "rather", "another", "least", "maybe",
                        "better", "got", "because", "nobody", "else", "seems", "anyway", "looking", "forward", "hearing", "trying"]
        let words = (de + en).map(\.word)
        #expect(words.filter(function.contains).isEmpty, "\(words.filter(function.contains))")
        #expect(Set(words).isSuperset(of: ["neukunde", "einloggen", "bestellungen", "customer", "orders"]), "\(words)")
    }

    /// The charts are drawn for a phone: on a 400 px screen (less the page's 12 px margins and the border) no
    /// label is smaller than 11 px.
    @Test func chartLabelsAreReadableOnAPhone() throws {
        let html = AnalysisRendering.html(Self.report())
        let charts = html.components(separatedBy: "<svg ").dropFirst()
        #expect(charts.count == 3)
        for svg in charts {
            let viewBox = try #require(svg.firstMatch(of: /viewBox="0 0 (\d+) \d+"/)).1
            let shown = min(400.0 - 2 * 12 - 2, Double(AnalysisRendering.chartMaxWidth))
            let scale = shown / Double(viewBox)!
            let sizes = svg.matches(of: /font-size="(\d+)"/).map { Double($0.1)! }
            #expect(!sizes.isEmpty)
            #expect(sizes.allSatisfy { $0 * scale >= 11 }, "font sizes \(sizes) at scale \(scale)")
        }
    }

    @Test func countsAreWordedInTheSingularAndPlural() {
        #expect(English.count(1, "file") == "1 file" && English.count(2, "file") == "2 files" && English.count(0, "message") == "0 messages")
        var a = ArchiveAnalysis()
        a.add(Self.message("q@x", from: "kim@kunde.example"))
        let html = AnalysisRendering.html(AnalysisReport(a, files: 1, skippedFiles: [], unreadable: [], seconds: 1, minutesPerTicket: 10, draftShare: 0.5))
        #expect(html.contains("1 message in 1 file,") && html.contains("1 new ticket,") && html.contains(">1 message</text>"))
    }
}

