import Foundation
import Testing
@testable import TriageMIME
import TriageCore

func fixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return try [UInt8](Data(contentsOf: url))
}

/// What one fixture must yield.
struct FixtureCase: Sendable, CustomTestStringConvertible {
    var file: String
    var subject: String
    var fromName: String?
    var source: ParsedMessage.TextSource
    var textContains: [String] = []
    var textExcludes: [String] = []
    var newText: String?
    var newTextExcludes: [String] = []
    var attachments: [String] = []  // "type name size" or "type name"
    var report: MessageReport.Kind = .none
    var isList = false
    var warnings: [String] = []
    var testDescription: String { file }
}

@Suite struct FixtureTests {
    static let cases: [FixtureCase] = [
        FixtureCase(
            file: "german-outlook-reply.eml", subject: "AW: Ihr Konto – Passwort zurücksetzen", fromName: "Jürgen Weiß",
            source: .plain, textContains: ["Können Sie es bitte zurücksetzen?", "Betreff: Ihr Konto"],
            newText: "Hallo zusammen,\n\nich habe mein Passwort vergessen und kann mich nicht mehr anmelden. Können Sie es bitte zurücksetzen?\n\nViele Grüße\nJürgen Weiß"),
        FixtureCase(
            file: "html-only.eml", subject: "Where is my invoice?", fromName: "Anna Smith", source: .html,
            textContains: ["Hello team,", "I can't find my invoice for order #4711 & the delivery date.", "- Order 4711",
                           "1. first\n2. second", "my order page <https://shop.example.com/orders/4711>", "Thanks € … ☺",
                           "> Your order has shipped."],
            textExcludes: ["alert", "color: red", "Ignored title", "hidden", "<p>"],
            newText: "Hello team,\n\nI can't find my invoice for order #4711 & the delivery date.\n\n- Order 4711\n- Ordered on 2 March\n\n1. first\n2. second\n\nDetails: my order page <https://shop.example.com/orders/4711>\nThanks € … ☺"),
        FixtureCase(
            file: "nested-forward.eml", subject: "Fwd: Rechnung", fromName: "Müller, Eva", source: .plain,
            textContains: ["Bitte sehen Sie sich die weitergeleitete Rechnung an."], textExcludes: ["epilogue", "multi-part message"],
            attachments: ["message/rfc822 Rechnung N° 42", "application/ms-tnef winmail.dat 57"]),
        FixtureCase(
            file: "broken-multipart.eml", subject: "Bestellung überfällig", fromName: "Jürgen", source: .plain,
            textContains: ["Meine Bestellung ist überfällig – wo bleibt sie?", "Hier ist der zweite Teil"],
            warnings: ["no closing boundary", "no Message-ID"]),
        FixtureCase(
            file: "iso-2022-jp.eml", subject: "パスワード", fromName: "山田", source: .plain,
            textContains: ["こんにちは、パスワードを忘れました。"]),
        FixtureCase(
            file: "dsn.eml", subject: "Undelivered Mail Returned to Sender", fromName: "Mail Delivery System", source: .plain,
            textContains: ["could not be delivered"], textExcludes: ["Final-Recipient"],
            attachments: ["message/delivery-status", "text/rfc822-headers"], report: .deliveryStatus),
        FixtureCase(file: "mdn.eml", subject: "Read: Your ticket", source: .plain, textContains: ["displayed"],
                    attachments: ["message/disposition-notification"], report: .dispositionNotification),
        FixtureCase(file: "arf.eml", subject: "Abuse report", source: .plain, attachments: ["message/feedback-report"],
                    report: .feedbackReport),
        FixtureCase(file: "out-of-office.eml", subject: "Automatische Antwort: Ihr Ticket [#42]", fromName: "Max Mustermann",
                    source: .plain, textContains: ["nicht im Büro"], report: .autoReply),
        FixtureCase(file: "list.eml", subject: "Our spring offers", fromName: "Newsletter", source: .plain, isList: true),
    ]

    @Test(arguments: cases)
    func parses(_ c: FixtureCase) throws {
        let m = MIMEParser.parse(try fixture(c.file))
        #expect(m.envelope.subject == c.subject)
        if let name = c.fromName { #expect(m.envelope.from?.name == name) }
        #expect(m.textSource == c.source)
        for s in c.textContains { #expect(m.text.contains(s), "text lacks \"\(s)\":\n\(m.text)") }
        for s in c.textExcludes { #expect(!m.text.contains(s), "text has \"\(s)\"") }
        if let n = c.newText { #expect(m.newText == n) }
        let atts = m.attachments.map { a in
            [a.mimeType, a.name ?? "", "\(a.size)"].joined(separator: " ")
        }
        for (k, expected) in c.attachments.enumerated() {
            #expect(k < atts.count && atts[k].hasPrefix(expected), "attachments \(atts)")
        }
        #expect(m.attachments.count == c.attachments.count, "attachments \(atts)")
        #expect(m.report.kind == c.report, "signals \(m.report.signals)")
        #expect(m.report.isList == c.isList)
        for w in c.warnings { #expect(m.warnings.contains { $0.contains(w) }, "warnings \(m.warnings)") }
        if c.warnings.isEmpty { #expect(m.warnings.isEmpty, "unexpected warnings \(m.warnings)") }
    }

    @Test func tnefAndRFC2231NamesInTheForward() throws {
        let m = MIMEParser.parse(try fixture("nested-forward.eml"))
        #expect(m.attachments.last?.isTNEF == true)
        let embedded = m.root.children[1]
        #expect(embedded.contentType.mimeType == "message/rfc822")
        let pdf = embedded.children[0].children[1]
        #expect(pdf.path == "2.2")
        #expect(pdf.filename == "Rechnung März.pdf")
        #expect(pdf.isAttachment)
        let bytes = ParsedMessage.decodedBody(of: pdf, in: try fixture("nested-forward.eml"))
        #expect(bytes.starts(with: Array("%PDF-1.4".utf8)))
        #expect(bytes.count == 24 * 20)
    }
}

@Suite struct CharsetTests {
    @Test(arguments: [
        ("iso-8859-2", [0x5A, 0x61, 0xBF, 0xF3, 0xB3, 0xE6, 0x20, 0x67, 0xEA, 0xB6, 0x6C, 0xB1], "Zażółć gęślą"),
        ("ISO_8859-15", [0x50, 0x72, 0x65, 0x69, 0x73, 0x3A, 0x20, 0x35, 0x20, 0xA4], "Preis: 5 €"),
        ("windows-1250", [0xA3, 0xF3, 0x64, 0x9F, 0x2C, 0x20, 0x50, 0xF8, 0xED, 0x6C, 0x69, 0x9A], "Łódź, Příliš"),
        ("cp1252", [0x84, 0x47, 0x72, 0xFC, 0xDF, 0x65, 0x93, 0x20, 0x96, 0x20, 0x35, 0x20, 0x80], "„Grüße“ – 5 €"),
        ("koi8-r", [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x2C, 0x20, 0xCD, 0xC9, 0xD2], "Привет, мир"),
        ("iso-2022-jp", [0x1B, 0x24, 0x42, 0x24, 0x33, 0x24, 0x73, 0x24, 0x4B, 0x24, 0x41, 0x24, 0x4F, 0x40, 0x24, 0x33, 0x26, 0x1B, 0x28, 0x42], "こんにちは世界"),
        ("Shift_JIS", [0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD], "こんにちは"),
        ("x-sjis", [0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD], "こんにちは"),
        ("euc-jp", [0xC6, 0xFC, 0xCB, 0xDC, 0xB8, 0xEC, 0xA5, 0xC6, 0xA5, 0xAD, 0xA5, 0xB9, 0xA5, 0xC8], "日本語テキスト"),
        ("gb2312", [0xC4, 0xE3, 0xBA, 0xC3, 0xCA, 0xC0, 0xBD, 0xE7], "你好世界"),
        ("GB2312", [0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7], "你好，世界"),
        ("gbk", [0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7], "你好，世界"),
        ("big5", [0xC1, 0x63, 0xC5, 0xE9, 0xA4, 0xA4, 0xA4, 0xE5], "繁體中文"),
        ("utf-16", [0xFF, 0xFE, 0x47, 0x00, 0x72, 0x00, 0xFC, 0x00, 0xDF, 0x00, 0x65, 0x00], "Grüße"),
        ("iso-8859-1", [0x47, 0x72, 0xFC, 0xDF, 0x65, 0x20, 0x61, 0x75, 0x73, 0x20, 0x4B, 0xF6, 0x6C, 0x6E], "Grüße aus Köln"),
        ("latin1", [0x4B, 0xF6, 0x6C, 0x6E], "Köln"),
        ("\"utf-8\"", [0x4B, 0xC3, 0xB6, 0x6C, 0x6E], "Köln"),
        ("us-ascii", [0x4B, 0xC3, 0xB6, 0x6C, 0x6E], "Köln"),  // mislabelled UTF-8 is still read as UTF-8
        ("utf-8", [0x4B, 0xF6, 0x6C, 0x6E, 0x20, 0xC3, 0xA4], "Köln ä"),  // stray Latin-1 byte in UTF-8 text
        ("x-no-such-charset", [0x4B, 0xC3, 0xB6, 0x6C, 0x6E], "Köln"),
        ("", [0x4B, 0xF6, 0x6C, 0x6E], "Köln"),
    ] as [(String, [UInt8], String)])
    func decodes(label: String, bytes: [UInt8], expected: String) {
        #expect(Charset.decode(bytes, label: label) == expected)
    }

    @Test func undecodableBytesBecomeReplacementCharacters() {
        // 0x80 0xFF is not Shift_JIS; decoding goes on after it.
        let s = Charset.decode([0x82, 0xB1, 0x80, 0xFF, 0x82, 0xF1], label: "shift_jis")
        #expect(s.hasPrefix("こ"))
        #expect(s.hasSuffix("ん"))
        #expect(s.contains("\u{FFFD}"))
    }

    @Test func labelsAreNormalised() {
        #expect(Charset.normalize("ISO8859-2") == "iso-8859-2")
        #expect(Charset.normalize("iso_8859-15:1998") == "iso-8859-15")
        #expect(Charset.normalize("x-gbk") == "gb18030")
        #expect(Charset.normalize("ks_c_5601-1987") == "cp949")
        #expect(Charset.normalize("CP1250") == "windows-1250")
        #expect(Charset.isKnown("koi8-r"))
        #expect(!Charset.isKnown("x-no-such-charset"))
    }
}

@Suite struct ParameterTests {
    @Test(arguments: [
        ("text/plain; charset=\"utf-8\"", "text/plain", "charset", "utf-8"),
        ("TEXT/Plain;CHARSET=ISO-8859-1 (comment)", "text/plain", "charset", "ISO-8859-1"),
        ("application/pdf; name*=utf-8''Rechnung%20M%C3%A4rz.pdf", "application/pdf", "name", "Rechnung März.pdf"),
        ("application/pdf; name*=iso-8859-1'de'Gr%FC%DFe.pdf", "application/pdf", "name", "Grüße.pdf"),
        ("attachment; filename*0=\"very long \"; filename*1=\"name.txt\"", "attachment", "filename", "very long name.txt"),
        ("attachment; filename*1*=%C3%A4.txt; filename*0*=utf-8''Datei_", "attachment", "filename", "Datei_ä.txt"),
        ("attachment; filename=\"=?utf-8?q?Gr=C3=BC=C3=9Fe.txt?=\"", "attachment", "filename", "Grüße.txt"),
        ("attachment; filename=plain name with spaces.pdf", "attachment", "filename", "plain name with spaces.pdf"),
        ("multipart/mixed; boundary=\"a;b=c\"", "multipart/mixed", "boundary", "a;b=c"),
        ("multipart/mixed; boundary=simple charset=utf-8", "multipart/mixed", "boundary", "simple charset=utf-8"),
        ("text/plain; name=\"a\\\"quoted\\\".txt\"", "text/plain", "name", "a\"quoted\".txt"),
        ("attachment; filename=\"x.txt\"; filename*=utf-8''y.txt", "attachment", "filename", "y.txt"),
    ])
    func parses(raw: String, value: String, name: String, expected: String) {
        let p = HeaderParameters(parsing: raw)
        #expect(p.value == value)
        #expect(p[name] == expected)
    }

    @Test(arguments: ["", "text", "/plain", "text/", "text plain/x"])
    func unreadableContentTypes(raw: String) {
        #expect(ContentType(parsing: raw) == nil)
    }
}

@Suite struct MoreHeaderTests {
    @Test(arguments: [
        ("=?utf-8?q?a?= =?iso-8859-1?q?=E4?=", "aä"),
        ("=?utf-8?b?w6Q=?=\r\n\t=?utf-8?b?w7Y=?=", "äö"),
        ("=?unknown-8bit?q?K=C3=B6ln?=", "Köln"),
        ("=?utf-8?q?spaces_and=20more?= plain", "spaces and more plain"),
        ("no words here", "no words here"),
        ("=?utf-8?B?broken base64?=", "=?utf-8?B?broken base64?="),
    ])
    func encodedWords(input: String, expected: String) {
        #expect(EncodedWords.decode(input) == expected)
    }

    @Test(arguments: [
        ("\"unterminated <a@example.org>", MailAddress(name: "unterminated", address: "a@example.org")),
        ("Name <a@example.org", MailAddress(name: "Name", address: "a@example.org")),
        ("\"M\\\"uller\" <m@example.de>", MailAddress(name: "M\"uller", address: "m@example.de")),
        ("Jürgen Weiß <jw@example.de>", MailAddress(name: "Jürgen Weiß", address: "jw@example.de")),
        ("a@example.org (Anna (Sales))", MailAddress(name: "Anna (Sales)", address: "a@example.org")),
        ("John Q. Public <john@example.com>", MailAddress(name: "John Q. Public", address: "john@example.com")),
        ("<a@example.org> Trailing", MailAddress(name: nil, address: "a@example.org")),
    ])
    func messyAddresses(input: String, expected: MailAddress) {
        #expect(MailAddress.parseList(input).first == expected)
    }

    @Test func groupsAndEmptyGroups() {
        #expect(MailAddress.parseList("undisclosed-recipients:;").isEmpty)
        #expect(MailAddress.parseList("A: a@x.org;, b@y.org").map(\.address) == ["a@x.org", "b@y.org"])
    }

    @Test(arguments: [
        ("Tue, 4 Mar 2025 09:30:00 +0100", Int64(1_741_077_000)),
        ("Tue,4 Mar 2025 09:30:00 +0100", 1_741_077_000),
        ("4 March 2025 09:30 +0100", 1_741_077_000),
        ("Tue Mar  4 08:30:00 2025", 1_741_077_000),
        ("Tue, 04 Mar 2025 08:30:00 UT", 1_741_077_000),
        ("Tue, 04 Mar 2025 08:30:00 Z", 1_741_077_000),
        ("Tue, 04 Mar 2025 03:30:00 EST", 1_741_077_000),
        ("Tue, 04 Mar 2025 09:30:00 +01:00", 1_741_077_000),
        ("04-Mar-2025 09:30:00 +0100", 1_741_077_000),
        ("2025-03-04T08:30:00Z", 1_741_077_000),
        ("2025-03-04 09:30:00 +0100", 1_741_077_000),
        ("Tue, 4 Mar 2025 09.30.00 +0100", 1_741_077_000),
        ("Tue, 4 Mar 2025 08:30:00 -0000", 1_741_077_000),
        ("Tue, 4 Mar 2025 08:30:00 A", 1_741_077_000),  // military zones mean -0000 (RFC 5322 4.3)
    ])
    func dates(input: String, expected: Int64) {
        #expect(MailDate.parse(input) == expected)
    }
}

@Suite struct HTMLTextTests {
    @Test(arguments: [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("a<br>b<br/><br />c", "a\nb\n\nc"),
        ("<div>x</div><div>y</div>", "x\ny"),
        ("<ul><li>one<li>two</ul>", "- one\n- two"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        ("<a href=\"https://x.example/p?a=1&amp;b=2\">link</a>", "link <https://x.example/p?a=1&b=2>"),
        ("<a href='mailto:help@example.com'>help@example.com</a>", "help@example.com"),
        ("<a href=\"https://x.example\">https://x.example</a>", "https://x.example"),
        ("<a href=\"javascript:alert(1)\">click</a>", "click"),
        ("<script>var a = '<p>';</script>visible", "visible"),
        ("<STYLE type=text/css>p{}</STYLE>Text", "Text"),
        ("&lt;tag&gt; &amp; &quot;q&quot; &#228;&#xE4; &auml; &euro;&nbsp;5", "<tag> & \"q\" ää ä € 5"),
        ("a &unknown; b & c", "a &unknown; b & c"),
        ("a < b and c > d", "a < b and c > d"),
        ("<p>x</p><pre>  two  spaces\n  kept</pre>", "x\n\n  two  spaces\n  kept"),
        ("<table><tr><td>A</td><td>B</td></tr><tr><td>C</td><td>D</td></tr></table>", "A | B\nC | D"),
        ("<blockquote>quoted<br>twice</blockquote>new", "> quoted\n> twice\n\nnew"),
        ("x<!-- <p>hidden</p> -->y", "xy"),
        ("<img src=\"logo.png\" alt=\"Logo\">", "[Logo]"),
        ("unterminated <b", "unterminated"),
        ("&#150; &#0; &#xD800;", "– \u{FFFD} \u{FFFD}"),
    ])
    func converts(html: String, expected: String) {
        #expect(HTMLText.toText(html) == expected)
    }

    @Test func sniffsMetaCharset() {
        #expect(HTMLText.sniffCharset(Array("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">".utf8)) == "iso-8859-1")
        #expect(HTMLText.sniffCharset(Array("<meta charset='utf-8'>".utf8)) == "utf-8")
        #expect(HTMLText.sniffCharset(Array("<p>no charset</p>".utf8)) == nil)
    }
}

@Suite struct QuoteStripperTests {
    @Test(arguments: [
        // English top posting with a Gmail reply header
        ("Thanks, that worked.\n\nOn Mon, 3 Mar 2025 at 10:00, Support <s@example.com> wrote:\n> Try again.\n", "Thanks, that worked."),
        // The header wrapped over two lines
        ("Yes please.\n\nOn Mon, 3 Mar 2025 at 10:00, Support Team <support@example.com>\nwrote:\n\n> Shall we?", "Yes please."),
        // German reply header
        ("Danke!\n\nAm 03.03.2025 um 10:00 schrieb Support <s@example.com>:\n> Bitte neu starten.", "Danke!"),
        ("Danke!\n\nMax Mustermann <max@example.de> schrieb am Mo., 3. März 2025, 10:00:\n> Frage", "Danke!"),
        // Interleaved answers are kept
        ("> Which order?\n4711\n> Which address?\nBerlin", "4711\nBerlin"),
        // Bottom posting: the answer below the quote is kept
        ("On Mon, Jane wrote:\n> question\n\nMy answer", "My answer"),
        // Outlook (English and German) with unquoted history
        ("Please reset it.\n\nFrom: Support <s@example.com>\nSent: Monday, March 3, 2025 10:00\nTo: me\nSubject: Your account\n\nOld text",
         "Please reset it."),
        ("Bitte zurücksetzen.\n\n________________________________\nVon: Support <s@example.com>\nGesendet: Montag, 3. März 2025 10:00\nAn: ich\nBetreff: Konto\n\nAlt",
         "Bitte zurücksetzen."),
        ("New.\n*From:* Support\n*Sent:* Monday\n*To:* me\n*Subject:* x", "New."),
        ("New.\n-----Original Message-----\nFrom: x\nold", "New."),
        ("Neu.\n-----Ursprüngliche Nachricht-----\nVon: x\nalt", "Neu."),
        ("Neu.\n\n-------- Weitergeleitete Nachricht --------\nBetreff: x", "Neu."),
        ("See below.\n\nBegin forwarded message:\n\nFrom: x", "See below."),
        // Signatures and mobile footers
        ("Hello.\n-- \nJane Doe\nACME", "Hello."),
        ("Hello.\n\nSent from my iPhone", "Hello."),
        ("Hallo.\n\nVon meinem iPhone gesendet\n\n> alt", "Hallo."),
        ("Hallo.\nGesendet von Outlook für Android", "Hallo."),
        // Nothing to strip; a line that merely mentions "from:" stays
        ("Line one\n\n\n\nLine two  \nfrom: me to you", "Line one\n\nLine two\nfrom: me to you"),
        ("The order from: Monday is late.", "The order from: Monday is late."),
        ("", ""),
    ])
    func strips(input: String, expected: String) {
        #expect(QuoteStripper.newText(input) == expected)
    }
}

@Suite struct ReportTests {
    static func classify(_ headers: String, body: String = "Hello") -> MessageReport {
        MIMEParser.parse(Array((headers + "\r\n\r\n" + body).utf8)).report
    }

    @Test(arguments: [
        ("From: a@example.org\r\nSubject: Question", MessageReport.Kind.none, false),
        ("From: a@example.org\r\nAuto-Submitted: no", .none, false),
        ("From: a@example.org\r\nAuto-Submitted: auto-generated", .autoReply, false),
        ("From: a@example.org\r\nAuto-Submitted: auto-replied; owner-email=a@example.org", .autoReply, false),
        ("From: a@example.org\r\nX-Autoreply: yes", .autoReply, false),
        ("From: a@example.org\r\nX-Autorespond: Out of office", .autoReply, false),
        ("From: a@example.org\r\nPrecedence: auto_reply", .autoReply, false),
        ("From: a@example.org\r\nX-Auto-Response-Suppress: OOF, AutoReply", .autoReply, false),
        ("From: a@example.org\r\nSubject: Out of Office: Your question", .autoReply, false),
        ("From: a@example.org\r\nSubject: Abwesenheitsnotiz: Ihre Anfrage", .autoReply, false),
        ("From: a@example.org\r\nList-Id: <x.example.org>", .none, true),
        ("From: a@example.org\r\nList-Unsubscribe: <mailto:u@example.org>", .none, true),
        ("From: a@example.org\r\nPrecedence: list", .none, true),
        ("From: MAILER-DAEMON@example.org\r\nSubject: failure notice", .deliveryStatus, false),
        ("From: postmaster@example.org\r\nSubject: Unzustellbar: Ihre Nachricht", .deliveryStatus, false),
        ("From: a@example.org\r\nX-Failed-Recipients: b@example.org", .deliveryStatus, false),
        ("From: a@example.org\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b", .deliveryStatus, false),
    ])
    func classifies(headers: String, kind: MessageReport.Kind, list: Bool) {
        let r = Self.classify(headers)
        #expect(r.kind == kind, "signals \(r.signals)")
        #expect(r.isList == list)
        #expect(r.signals.isEmpty == (kind == .none && !list))
    }

    @Test func customerWritingAboutADeliveryIsNotABounce() {
        let r = Self.classify("From: kunde@example.de\r\nSubject: Lieferung nicht angekommen",
                              body: "Meine Bestellung wurde nicht geliefert, bitte um Auskunft.")
        #expect(r.kind == .none)
        let r2 = Self.classify("From: customer@example.com\r\nSubject: My parcel was returned to sender",
                               body: "Why was my order returned? It says the address was wrong.")
        #expect(r2.kind == .none)
    }

    @Test func forwardedBounceFieldsAreRecognised() {
        let r = Self.classify("From: colleague@example.com\r\nSubject: Fwd: see this",
                              body: "> Final-Recipient: rfc822; x@example.org\n> Action: failed\n> Status: 5.1.1\n")
        #expect(r.kind == .deliveryStatus)
    }
}

@Suite struct LimitTests {
    static func nested(depth: Int) -> [UInt8] {
        var s = "From: a@example.org\r\nMessage-ID: <deep@example.org>\r\nSubject: deep\r\n"
        for d in 0..<depth {
            s += "Content-Type: multipart/mixed; boundary=\"b\(d)\"\r\n\r\n--b\(d)\r\n"
        }
        s += "Content-Type: text/plain\r\n\r\ninnermost\r\n"
        for d in (0..<depth).reversed() { s += "--b\(d)--\r\n" }
        return Array(s.utf8)
    }

    @Test func depthIsBounded() {
        let m = MIMEParser.parse(Self.nested(depth: 60), limits: ParseLimits(maxDepth: 10))
        #expect(m.depth == 10)
        #expect(m.warnings.contains { $0.contains("limit of 10") })
        #expect(m.envelope.subject == "deep")
        let ok = MIMEParser.parse(Self.nested(depth: 8), limits: ParseLimits(maxDepth: 10))
        #expect(ok.text == "innermost")
        #expect(ok.warnings.isEmpty)
    }

    @Test func partsAreBounded() {
        var s = "Subject: many\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
        for k in 0..<500 { s += "--x\r\nContent-Type: text/plain\r\n\r\npart \(k)\r\n" }
        s += "--x--\r\n"
        let m = MIMEParser.parse(Array(s.utf8), limits: ParseLimits(maxParts: 50))
        #expect(m.partCount == 50)
        #expect(m.warnings.contains { $0.contains("more than 50 MIME parts") })
        #expect(m.text.hasPrefix("part 0"))
    }

    @Test func messageSizeIsBounded() {
        let body = String(repeating: "x", count: 10_000)
        let m = MIMEParser.parse(Array("Subject: big\r\n\r\n\(body)".utf8), limits: ParseLimits(maxMessageBytes: 1_000))
        #expect(m.text.utf8.count == 1_000 - 16)
        #expect(m.warnings.contains { $0.contains("over the limit of 1000") && $0.contains("10016") })
    }

    @Test func decodedTextIsBounded() {
        let m = MIMEParser.parse(Array("Subject: big\r\n\r\n\(String(repeating: "y", count: 5_000))".utf8),
                                 limits: ParseLimits(maxDecodedBytes: 100))
        #expect(m.text.utf8.count == 100)
        #expect(m.warnings.contains { $0.contains("more than 100 bytes") })
    }

    @Test func headerLinesAndFieldsAreBounded() {
        var s = "Subject: " + String(repeating: "s", count: 3_000) + "\r\n"
        for k in 0..<100 { s += "X-Field-\(k): v\r\n" }
        s += "\r\nbody"
        let m = MIMEParser.parse(Array(s.utf8), limits: ParseLimits(maxHeaderLineLength: 1_000, maxHeaderFields: 20))
        #expect(m.headers.fields.count == 20)
        #expect(m.envelope.subject.utf8.count == 991)
        #expect(m.warnings.contains { $0.contains("cut to the limit of 1000") })
        #expect(m.warnings.contains { $0.contains("over the limit of 20") })
        #expect(m.text == "body")
    }
}

@Suite struct RobustnessTests {
    /// A seeded mutator over our fixtures: flips, deletes, duplicates and splices bytes, and checks that
    /// the parser returns (no trap, no hang) with a consistent result. libFuzzer runs (Fuzz/) go further.
    @Test func mutatedFixturesNeverTrap() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let seeds = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            .map { try [UInt8](Data(contentsOf: dir.appendingPathComponent($0))) }
        #expect(seeds.count >= 10)
        var rng = SplitMix(seed: 0x6D61_696C_7472_6961)
        let tokens: [[UInt8]] = ["\r\n", "--", "=?", "?=", "\"", ";", "boundary=", "multipart/", "=\r\n", "<", ">", ":", "\n\n",
                                 "Content-Type: multipart/mixed; boundary=x\r\n", "charset*0*=", "&#x", "<br>"].map { Array($0.utf8) }
        var parsed = 0
        for round in 0..<1_500 {
            var b = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(rng.next() % 8)) {
                guard !b.isEmpty else { break }
                let at = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 5 {
                case 0: b[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.removeSubrange(at..<min(b.count, at + Int(rng.next() % 64)))
                case 2: b.insert(contentsOf: tokens[Int(rng.next() % UInt64(tokens.count))], at: at)
                case 3: b.insert(contentsOf: b[at..<min(b.count, at + Int(rng.next() % 128))], at: at)
                default:
                    let other = seeds[Int(rng.next() % UInt64(seeds.count))]
                    b = Array(b[..<at]) + other[min(other.count, at)...]
                }
            }
            let m = MIMEParser.parse(b)
            #expect(m.partCount >= 1 && m.partCount <= ParseLimits.default.maxParts)
            #expect(m.text.utf8.count <= ParseLimits.default.maxDecodedBytes * 3)
            parsed += 1
        }
        #expect(parsed == 1_500)
    }
}
