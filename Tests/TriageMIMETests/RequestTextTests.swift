import Foundation
import Testing
@testable import TriageMIME

/// The request without greeting and closing block (issue 12): what the classifier reads.
@Suite struct RequestTextTests {
    static let cases: [(String, String)] = [
        ("Hallo,\n\nich habe mein Passwort vergessen. Wie setze ich es zurück?\n\nViele Grüße\nAnna Berger",
         "ich habe mein Passwort vergessen. Wie setze ich es zurück?"),
        ("Sehr geehrte Damen und Herren,\n\nwie lange dauert der Versand in die Schweiz?\n\nMit freundlichen Grüßen\n\nJürgen Maier\nMaier Gartenbau GmbH\nTel. +41 44 555 01 02",
         "wie lange dauert der Versand in die Schweiz?"),
        ("Hi, I forgot my password. Can you help?\n\nThanks,\nTom", "I forgot my password. Can you help?"),
        ("Dear Sir or Madam,\nhow do I add page numbers in Word?\nKind regards\nClaire Dawson\nAccounting\n\nThis e-mail and any attachments are confidential.",
         "how do I add page numbers in Word?"),
        ("Grüezi\n\nKann ich mit Rechnung bezahlen?\n\nlg Aylin Yilmaz (Versand)", "Kann ich mit Rechnung bezahlen?"),
        ("Where is my order 4711?\n\nRachel", "Where is my order 4711?"),
        // CRLF line ends, non-breaking spaces and tabs around lines.
        ("Hello,\r\n\r\n\u{A0}how do I share my calendar?\t\r\n\r\nRegards\r\nKim", "how do I share my calendar?"),
    ]

    @Test(arguments: RequestTextTests.cases)
    func strips(_ input: String, _ expected: String) {
        #expect(RequestText.of(input) == expected)
    }

    /// A thank-you that is content, a question after "Danke", and text that is only a greeting stay.
    @Test func keepsContent() {
        #expect(RequestText.of("Thanks for the quick reply, but the link has expired. What now?\n\nBest,\nSam")
            == "Thanks for the quick reply, but the link has expired. What now?")
        #expect(RequestText.of("Hallo,\nDanke für die Hilfe gestern.\nWo finde ich die Rechnung?\nGruß\nPeter")
            == "Danke für die Hilfe gestern.\nWo finde ich die Rechnung?")
        #expect(RequestText.of("Hallo") == "Hallo")
        #expect(RequestText.of("Hint: the printer is offline again") == "Hint: the printer is offline again")
    }
}

/// `RequestText.of` works on bytes and makes a line a string only when it may be a greeting, sign-off,
/// disclaimer or name. The same function on strings (as it was written first) is the reference: both must give
/// the same text for every input.
@Suite struct RequestTextBytesTests {
    static func reference(_ text: String) -> String {
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Substring($0) }
        while let f = lines.first, RequestText.isBlank(f) { lines.removeFirst() }
        while let l = lines.last, RequestText.isBlank(l) { lines.removeLast() }
        guard !lines.isEmpty else { return text }
        func hasContent(_ ls: ArraySlice<Substring>) -> Bool { ls.contains { !RequestText.isBlank($0) } }
        if let first = lines.first, let rest = RequestText.afterGreeting(first) {
            if rest.isEmpty { lines.removeFirst() } else { lines[0] = rest }
        }
        var k = 1
        while k < lines.count {
            if RequestText.isSignOff(lines[k]) && hasContent(lines[0..<k]) && RequestText.isShortTail(lines[(k + 1)...]) {
                lines.removeSubrange(k...)
                break
            }
            if RequestText.isDisclaimer(lines[k]) && hasContent(lines[0..<k]) {
                lines.removeSubrange(k...)
                break
            }
            k += 1
        }
        while lines.count > 1, let l = lines.last, RequestText.isBlank(l) || RequestText.isBareName(l) { lines.removeLast() }
        var s = Substring(lines.map { RequestText.trim($0) }.joined(separator: "\n"))
        while let f = s.first, f == "\n" || f == " " { s.removeFirst() }
        while let l = s.last, l == "\n" || l == " " { s.removeLast() }
        return s.isEmpty ? text : String(s)
    }

    static let edgeCases: [String] = [
        "", " ", "\n", "\n\n \n", "\u{A0}", "\r\n", "Hallo", "Hallo,", "Hallo,\n", "\n\nHallo Team,\nwo ist die Rechnung?\n\n",
        "Hallo\u{A0}Team,\u{A0}\nwo ist die Rechnung?\u{A0}\n\u{A0}Gruß\u{A0}\nAnna\u{A0}",
        "Hi à,\nwhere is it?\nBest\nTom", "Where is it?\nAnna \u{301}Berger", "Where is it?\nAnna Berger \u{301}x",
        "Wo ist sie?\nJürgen Maier", "Wo ist sie?\nÄnne Müller-Lüdenscheidt", "Wo ist sie?\nanna", "Wo ist sie?\n1 Anna",
        "Wo ist sie?\nDr. Anna Maria Berger", "Wo ist sie?\nAnna  Berger", "Wo ist sie?\n\tAnna Berger\t",
        "Where is it?\nTHIS E-MAIL AND ANY attachments are confidential.", "Where is it?\nThİs e-mail and any attachments",
        "Where is it?\nThis e-mail and any attachments\nmore", "Wo?\nDiese E-Mail enthält vertrauliche Informationen.",
        "Wo?\nDİe", "Wo?\nTh", "Wo?\nT", "Where?\nDisclaimer: none", "Where?\nDisclaimer", "Where?\nPlease consider the environment",
        "Where?\r\nKind regards\r\nTom\r\n", "Where?\nThanks for nothing, this is content and long enough to matter here",
        "Where?\nThanks,\nTom\nA\nB\nC\nD\nE\nF\nG\nH\nI\nJ\nK", "Where?\nMfG\n" + String(repeating: "x", count: 95),
        "Where?\n" + String(repeating: "é", count: 30) + "\nThanks", "Where?\nViele Grüsse\nAnna", "Where?\nGruesse aus Kiel\nAnna",
        "Sehr geehrte Damen und Herren\n\nwo?\n\nMit freundlichen Grüßen", "Dear Sir or Madam: how?\nCheers", "Hi!\nHi!",
        "Hallöchen zusammen\nwie geht das?", "Hey there, how do I reset it?\n\nThanks in advance\n\nKim\n\n\n",
        "e\u{301}\nThanks\nTom", "\u{1F600} Where?\n\u{1F600}\nThanks \u{1F600}\nTom", "Grüß Gott,\nWo?\nServus",
    ]

    @Test(arguments: RequestTextBytesTests.edgeCases)
    func edgeCase(_ text: String) {
        #expect(RequestText.of(text) == Self.reference(text), "\(text.debugDescription)")
    }

    /// Texts put together from lines that are, or are close to, greetings, sign-offs, names and disclaimers.
    @Test func generatedTexts() {
        let pool = [
            "Hallo,", "Hallo Frau Berger,", "Hi", "Dear team:", "hint: restart it", "Sehr geehrte Damen und Herren", "Guten Tag!",
            "ich habe mein Passwort vergessen.", "Wie lange dauert der Versand in die Schweiz?", "Where is my order 4711?",
            "Thanks,", "Thanks for the quick reply, but it still fails.", "Viele Grüße", "Viele Grüsse aus Kiel", "MfG", "lg Aylin",
            "Mit freundlichen Grüßen", "Kind regards", "Best", "Cheers!", "Danke im voraus?", "Anna Berger", "Tom", "JÜRGEN MAIER",
            "Dr. Claire Dawson-Smith", "anna", "Maier Gartenbau GmbH", "Tel. +41 44 555 01 02", "This e-mail and any attachments are confidential.",
            "Diese E-Mail enthält vertrauliche Informationen.", "Disclaimer: see our site", "Please consider the environment before printing.",
            "", " ", "\u{A0}", "\t", "\r", "Über uns", "Été", "Ça va", "Ölpreis \u{301}x", "Thİs e-mail and any", "Zoë",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var differing = 0
        for _ in 0..<4000 {
            let lines = (0..<(1 + next(9))).map { _ in pool[next(pool.count)] }
            let text = lines.joined(separator: next(4) == 0 ? "\r\n" : "\n")
            if RequestText.of(text) != Self.reference(text) {
                differing += 1
                Issue.record("differs: \(text.debugDescription)")
                if differing > 5 { break }
            }
        }
        #expect(differing == 0)
    }

    /// The new text and the whole text of every message of the shared MIME corpus.
    @Test func mimeCorpus() throws {
        let files = SharedCorpus.files()
        try #require(files.count > 500, "the shared MIME corpus was not found at \(SharedCorpus.root.path)")
        var compared = 0
        for url in files {
            guard let raw = FileManager.default.contents(atPath: url.path) else { continue }
            let m = MIMEParser.parse([UInt8](raw))
            for text in [m.text, m.newText] where !text.isEmpty {
                compared += 1
                #expect(RequestText.of(text) == Self.reference(text), "\(url.lastPathComponent)")
            }
        }
        #expect(compared > 500)
    }

    /// Every body of the shared realistic support mails, as sent and without its quoted history.
    @Test func realisticMails() throws {
        let url = SharedCorpus.root.deletingLastPathComponent().appendingPathComponent("realistic/mails.jsonl")
        let data = try #require(FileManager.default.contents(atPath: url.path), "no \(url.path)")
        var compared = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let body = o["body"] as? String ?? ""
            for text in [body, QuoteStripper.newText(body)] {
                compared += 1
                #expect(RequestText.of(text) == Self.reference(text), "\(o["id"] ?? "")")
            }
        }
        #expect(compared >= 900)
    }
}
