import Foundation
import Testing
import TriageMIME
@testable import TriageCore

@Suite struct LoopGuardTests {
    static func facts(_ headers: String, mailbox: String? = "support@example.com", recent: Int = 0, answered: Bool = false) -> LoopGuard.Facts {
        let m = MIMEParser.parse(Array((headers + "\r\n\r\nHello").utf8))
        return LoopGuard.Facts(parsed: m, mailboxAddress: mailbox, recentAnswersToSender: recent, threadAlreadyAnswered: answered)
    }

    static let ok = "Return-Path: <anna@example.org>\r\nFrom: Anna <anna@example.org>\r\nTo: support@example.com\r\nSubject: Hi\r\nMessage-ID: <a1@example.org>"

    static func guardian() throws -> LoopGuard {
        var s = LoopGuard.Settings()
        s.ownAddresses = ["support@example.com"]
        s.ownMessageIDDomain = "mailtriage.example.com"
        return try LoopGuard(settings: s)
    }

    @Test func ordinaryMailPasses() throws {
        #expect(try Self.guardian().refusals(Self.facts(Self.ok)).isEmpty)
    }

    @Test(arguments: [
        ("Auto-Submitted: auto-replied", LoopRefusal.autoSubmitted("auto-replied")),
        ("Auto-Submitted: auto-generated", .autoSubmitted("auto-generated")),
        ("Precedence: bulk", .precedence("bulk")),
        ("Precedence: junk", .precedence("junk")),
        ("Precedence: list", .precedence("list")),
        ("Precedence: auto_reply", .precedence("auto_reply")),
        ("List-Id: <x.example.org>", .listHeader("List-Id")),
        ("List-Unsubscribe: <mailto:u@example.org>", .listHeader("List-Unsubscribe")),
        ("X-Auto-Response-Suppress: OOF", .autoResponseSuppress("oof")),
        ("X-Auto-Response-Suppress: All", .autoResponseSuppress("all")),
        ("X-Autoreply: yes", .autoreplyHeader("X-Autoreply")),
        ("X-Autorespond: on", .autoreplyHeader("X-Autorespond")),
        ("X-Autoresponder: 1", .autoreplyHeader("X-Autoresponder")),
    ])
    func loopSignalsRefuse(header: String, reason: LoopRefusal) throws {
        let r = try Self.guardian().refusals(Self.facts(Self.ok + "\r\n" + header))
        #expect(r.contains(reason), "\(r)")
    }

    @Test func autoSubmittedNoIsFine() throws {
        #expect(try Self.guardian().refusals(Self.facts(Self.ok + "\r\nAuto-Submitted: no")).isEmpty)
    }

    @Test(arguments: ["MAILER-DAEMON@mx.example.org", "postmaster@example.org", "noreply@shop.example", "no-reply@shop.example",
                      "do-not-reply@x.example", "list-request@lists.example", "owner-list@lists.example", "bounces+123@x.example"])
    func roleSendersRefuse(sender: String) throws {
        let h = "Return-Path: <\(sender)>\r\nFrom: \(sender)\r\nTo: support@example.com\r\nSubject: x\r\nMessage-ID: <r@x>"
        let r = try Self.guardian().refusals(Self.facts(h))
        #expect(r.contains(.roleSender(sender.lowercased())), "\(r)")
    }

    @Test func returnPathOurselvesAndAddressing() throws {
        let g = try Self.guardian()
        #expect(g.refusals(Self.facts(Self.ok.replacingOccurrences(of: "Return-Path: <anna@example.org>", with: "Return-Path: <>"))).contains(.nullReturnPath))
        #expect(g.refusals(Self.facts(Self.ok.replacingOccurrences(of: "Return-Path: <anna@example.org>\r\n", with: ""))).contains(.noReturnPath))
        let own = "Return-Path: <support@example.com>\r\nFrom: support@example.com\r\nTo: support@example.com\r\nMessage-ID: <auto.5.x@mailtriage.example.com>"
        let r = g.refusals(Self.facts(own))
        #expect(r.contains(.ownAddress("support@example.com")) && r.contains(.ownMessageCameBack))
        let replyToOurs = Self.ok + "\r\nIn-Reply-To: <auto.5.abc@mailtriage.example.com>"
        #expect(g.refusals(Self.facts(replyToOurs)).contains(.replyToOurAnswer))
        let bcc = Self.ok.replacingOccurrences(of: "To: support@example.com", with: "To: someone@else.example")
        #expect(g.refusals(Self.facts(bcc)).contains(.notAddressedTo("support@example.com")))
        let cc = bcc + "\r\nCc: Support <SUPPORT@example.com>"
        #expect(g.refusals(Self.facts(cc)).isEmpty)
    }

    @Test(arguments: [
        "Reply-To: support@example.com",
        "Reply-To: SUPPORT@Example.COM",
        "Reply-To: <support+loop@example.com>",
        "Reply-To: support@example.com.",
        "Reply-To: \"support\"@example.com",
        "Reply-To: Anna <anna@example.org>\r\nFrom: Support <Support+x@example.com>",
    ])
    func ourOwnMailboxInAnySpellingIsRefused(header: String) throws {
        let h = Self.ok.replacingOccurrences(of: "From: Anna <anna@example.org>", with: header.contains("From:") ? header : "From: Anna <anna@example.org>\r\n" + header)
        let r = try Self.guardian().refusals(Self.facts(h))
        #expect(r.contains { if case .ownAddress = $0 { return true } else { return false } }, "\(r)")
    }

    @Test(arguments: [
        "Reply-To: <anna@example.org\r\n bcc@evil.example>",  // a folded line inside the brackets
        "Reply-To: <anna@example.org,victim@evil.example>",
        "Reply-To: <anna@evil.example@example.org>",
        "Reply-To: <anna@[127.0.0.1]>",
        "Reply-To: <anna@localhost>",
        "Reply-To: <\"anna bcc\"@example.org>",
        "Reply-To: <anna@example.org\u{7F}>",
        "Reply-To: <.anna@example.org>",
        "Reply-To: <anna@-example.org>",
        "Reply-To: <" + String(repeating: "a", count: 65) + "@example.org>",
        "Reply-To: <anna@" + String(repeating: "a", count: 64) + ".example.org>",
        "Reply-To: <anna@" + String(repeating: "abcdefghi.", count: 25) + "example.org>",
    ])
    func addressesThatAreNotPlainAreNotAnswered(header: String) throws {
        let r = try Self.guardian().refusals(Self.facts(Self.ok + "\r\n" + header))
        #expect(r.contains { if case .unusableAddress = $0 { return true } else { return false } }, "\(r)")
    }

    @Test func plainAddressesPass() {
        for a in ["anna@example.org", "a.b-c+d_e@sub.example.co.uk", "o'brien@example.ie", "jürgen@müller.example", "x@a.bc",
                  String(repeating: "a", count: 64) + "@" + String(repeating: "b", count: 63) + ".example"] {
            #expect(MailAddress.isPlainAddrSpec(a), "\(a)")
        }
        #expect(!MailAddress.isPlainAddrSpec(""))
        #expect(!MailAddress.isPlainAddrSpec("anna"))
        #expect(!MailAddress.isPlainAddrSpec("anna..b@example.org"))
        #expect(MailAddress.mailboxKey("\"Support+x\"@Example.COM.") == "support@example.com")
    }

    @Test func reportsAndRateLimits() throws {
        let g = try Self.guardian()
        let dsn = Self.ok + "\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b"
        #expect(g.refusals(Self.facts(dsn)).contains(.machineGenerated("delivery_status")))
        #expect(g.refusals(Self.facts(Self.ok, recent: 2)).isEmpty)
        #expect(g.refusals(Self.facts(Self.ok, recent: 3)).contains(.rateLimit(answers: 3, hours: 24)))
        #expect(g.refusals(Self.facts(Self.ok, answered: true)).contains(.threadAlreadyAnswered))
    }

    @Test func badRolePatternIsAnError() {
        var s = LoopGuard.Settings()
        s.roleSenderPattern = "(unclosed"
        #expect(throws: (any Error).self) { try LoopGuard(settings: s) }
    }
}

@Suite struct ReplyComposerTests {
    static func reply(subject: String = "Passwort vergessen", name: String? = "Jürgen Weiß", body: String = "Hallo\nneue Zeile") -> [UInt8] {
        ReplyComposer().render(.init(
            from: MailAddress(name: "Example Support", address: "support@example.com"),
            to: MailAddress(name: name, address: "j@example.de"),
            subject: ReplyComposer.subject(original: subject, ticket: 42),
            messageID: ReplyComposer.messageID(ticket: 42, token: "abc123", domain: "mailtriage.example.com"),
            inReplyTo: "orig@example.de", references: ["root@example.de", "orig@example.de"], date: 1_795_341_600, body: body))
    }

    @Test func headersAreCompleteAndParseBack() {
        let raw = Self.reply()
        let m = MIMEParser.parse(raw)
        #expect(m.headers.fields.map(\.name) == ["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                                                  "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
                                                  "X-Auto-Response-Suppress", "Precedence"])
        #expect(m.envelope.subject == "Re: Passwort vergessen [#42]")
        #expect(m.envelope.to.first == MailAddress(name: "Jürgen Weiß", address: "j@example.de"))
        #expect(m.envelope.messageID == "auto.42.abc123@mailtriage.example.com")
        #expect(m.envelope.inReplyTo == ["orig@example.de"])
        #expect(m.envelope.references == ["root@example.de", "orig@example.de"])
        #expect(m.headers["Date"] == "Sun, 22 Nov 2026 10:00:00 +0000")
        #expect(m.text == "Hallo\nneue Zeile")
        #expect(m.report.kind == .autoReply)  // our own answer is recognised as automatic if it comes back
        // Every line within 78 characters, CRLF only.
        let text = String(decoding: raw, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    }

    @Test(arguments: [
        ("Hi\r\nBcc: evil@attacker.example", "Anna"),
        ("Hi", "Anna\r\nBcc: evil@attacker.example"),
        ("=?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example?=", "Anna"),
    ])
    func noHeaderInjection(subject: String, name: String) {
        let decodedSubject = EncodedWords.decode(subject)
        let raw = Self.reply(subject: decodedSubject, name: name, body: AnswerTemplate.render("Hallo {{customer_name}}", values: ["customer_name": name]).text)
        let m = MIMEParser.parse(raw)
        #expect(m.headers["Bcc"] == nil)
        #expect(m.headers.fields.count == 13)
        #expect(m.envelope.to.count == 1 && m.envelope.to[0].address == "j@example.de")
        #expect(!m.text.contains("\nBcc"))
    }

    @Test(arguments: [String(repeating: "Kunde ", count: 2000), String(repeating: "Jürgen ", count: 2000), "A \"quoted\" name of some length, longer than one header line allows"])
    func longDisplayNamesAreFoldedAndCut(name: String) {
        let raw = Self.reply(name: name)
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 }, "a header line over 78 characters")
        let m = MIMEParser.parse(raw)
        let expected = AnswerTemplate.plain(name)
        #expect(m.envelope.to == [MailAddress(name: expected.count > 200 ? String(expected.prefix(200)) + "…" : expected, address: "j@example.de")])
        #expect(m.headers.fields.count == 13)
    }

    @Test func subjectsAreTaggedOnceAndEncodedWhenNeeded() {
        #expect(ReplyComposer.subject(original: "AW: Re: Bestellung", ticket: 7) == "Re: Bestellung [#7]")
        #expect(ReplyComposer.subject(original: "Re: Bestellung [#7]", ticket: 7) == "Re: Bestellung [#7]")
        #expect(ReplyComposer.subject(original: "", ticket: 7) == "Re: [#7]")
        let long = String(repeating: "Ä", count: 80)
        let raw = Self.reply(subject: long)
        let m = MIMEParser.parse(raw)
        #expect(m.envelope.subject == "Re: " + String(repeating: "Ä", count: 80) + " [#42]")
        #expect(String(decoding: raw, as: UTF8.self).contains("=?utf-8?B?"))
        #expect(String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 }, "an encoded Subject line over 78")
    }

    @Test func quotedPrintableKeepsEveryByte() {
        let body = "Grüße – 5 €\nline with trailing space \n.leading dot\nFrom the start\n" + String(repeating: "x", count: 200) + "\n=equals"
        let raw = Self.reply(body: body)
        #expect(MIMEParser.parse(raw).text == body)
        #expect(raw.allSatisfy { $0 < 0x80 })
    }

    @Test func templatesFillPlainTextOnly() {
        let (t, unknown) = AnswerTemplate.render("Hallo {{customer_name}}, Ticket {{ ticket_id }}: {{shop_url}} {{missing}}",
                                                 values: ["customer_name": "Eve\r\n{{shop_url}}", "ticket_id": "42", "shop_url": "https://shop.example"])
        #expect(t == "Hallo Eve  { {shop_url}}, Ticket 42: https://shop.example ")
        #expect(unknown == ["missing"])
        #expect(AnswerTemplate.placeholders(in: "{{a}} {{b}} {{a}}") == ["a", "b"])
    }
}

@Suite struct KnowledgeMatcherTests {
    static let kbDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("knowledge-base")

    static func entries() throws -> [KnowledgeEntry] {
        var out: [KnowledgeEntry] = []
        let fm = FileManager.default
        for cat in try fm.contentsOfDirectory(atPath: kbDir.path) where !cat.hasPrefix("_") {
            for f in try fm.contentsOfDirectory(atPath: kbDir.appendingPathComponent(cat).path) where f.hasSuffix(".md") {
                let p = kbDir.appendingPathComponent(cat).appendingPathComponent(f).path
                out.append(try KnowledgeEntry.parse(String(contentsOfFile: p, encoding: .utf8), path: p))
            }
        }
        return out
    }

    @Test(arguments: [
        ("Passwort vergessen", "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?", "password", "de", "passwort-zuruecksetzen"),
        ("Account locked", "My account is locked after too many attempts", "password", "en", "account-locked"),
        ("Rechnung", "Wo finde ich die Rechnung zu meiner Bestellung?", "order_info", "de", "rechnung"),
        ("Shipping", "How long does delivery to Austria take?", "order_info", "en", "delivery-times"),
        ("Outlook", "Wie richte ich die Abwesenheitsnotiz in Outlook ein?", "office", "de", "outlook-signatur"),
    ])
    func choosesTheRightEntry(subject: String, body: String, category: String, language: String, expected: String) throws {
        let m = KnowledgeMatcher(entries: try Self.entries())
        let r = m.match(subject: subject, body: body, category: category, language: language)
        #expect(r.chosen == expected, "\(r)")
    }

    @Test func vagueQuestionsAreNotAnswered() throws {
        let m = KnowledgeMatcher(entries: try Self.entries())
        let r = m.match(subject: "Frage", body: "Hallo, ich habe eine Frage.", category: "order_info", language: "de")
        #expect(r.chosen == nil)
        guard case .belowMinimum = r.outcome else { Issue.record("expected belowMinimum, got \(r.outcome)"); return }
        let none = m.match(subject: "x", body: "y", category: "order_info", language: "fr")
        #expect(none.chosen == nil && none.candidates.isEmpty)
    }
}
