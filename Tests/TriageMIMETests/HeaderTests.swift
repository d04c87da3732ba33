import Testing
@testable import TriageMIME

@Suite struct HeaderBlockTests {
    @Test func unfoldsAndKeepsOrder() {
        let raw = "Received: a\r\nSubject: first\r\n  line two\r\nreceived: b\r\n\r\nbody"
        let h = HeaderBlock(parsing: Array(raw.utf8))
        #expect(h.values("RECEIVED") == ["a", "b"])
        #expect(h["subject"] == "first  line two")
        #expect(h.fields.map(\.name) == ["Received", "Subject", "received"])
        #expect(Array(raw.utf8)[h.bodyOffset...].elementsEqual("body".utf8))
        #expect(h.warnings.isEmpty)
    }

    @Test func bareLineFeeds() {
        let h = HeaderBlock(parsing: Array("From: a@b\nSubject: x\n\nbody\n".utf8))
        #expect(h["From"] == "a@b")
        #expect(h["Subject"] == "x")
        #expect(h.bodyOffset == 22)
    }

    @Test func missingBlankLineIsRepaired() {
        let h = HeaderBlock(parsing: Array("Subject: x\nthis is body text\n".utf8))
        #expect(h["Subject"] == "x")
        #expect(h.warnings.contains { $0.contains("without a blank line") })
    }

    @Test func eightBitHeaderFallsBackToWindows1252() {
        let raw: [UInt8] = Array("Subject: Gr".utf8) + [0xFC] + Array("\u{df}e\r\n\r\n".utf8.prefix(0)) + Array("sse\r\n\r\n".utf8)
        let h = HeaderBlock(parsing: raw)
        #expect(h["Subject"] == "Grüsse")
    }

    @Test func overlongLineIsCutWithAWarning() {
        let raw = "Subject: " + String(repeating: "x", count: 200) + "\r\n\r\n"
        let h = HeaderBlock(parsing: Array(raw.utf8), maxLineLength: 100)
        #expect(h["Subject"]?.count == 91)
        #expect(h.warnings.first?.contains("limit of 100") == true)
    }
}

@Suite struct EncodedWordTests {
    @Test(arguments: [
        ("=?utf-8?q?J=C3=BCrgen?=", "Jürgen"),
        ("=?UTF-8?B?UGFzc3dvcnQgdmVyZ2Vzc2Vu?=", "Passwort vergessen"),
        ("=?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=", "Grüße aus Köln"),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
        ("=?utf-8?q?a?=\r\n =?utf-8?q?b?= c", "ab c"),
        ("Re: =?utf-8?q?Bestellung?= Nr. 5", "Re: Bestellung Nr. 5"),
        ("=?x-unknown?q?plain?=", "plain"),
        ("=?utf-8?x?bad?=", "=?utf-8?x?bad?="),
        ("=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
        ("=?windows-1252?q?=80_5?=", "€ 5"),
        ("=?utf-8*de?q?Hallo?=", "Hallo"),
        ("=?koi8-r?b?8NLJ18XU?=", "Привет"),
        ("=?utf-8?q?a b?= =?utf-8?q?c?=", "=?utf-8?q?a b?= c"),
        ("x =?utf-8?qq?a?= =?utf-8?q?b?=", "x =?utf-8?qq?a?= b"),
        ("=?=?utf-8?q?a?=", "=?a"),
        ("a=?b?c", "a=?b?c"),
        ("=?utf-8?q??=", ""),
    ])
    func decodes(input: String, expected: String) {
        #expect(EncodedWords.decode(input) == expected)
    }
}

@Suite struct AddressTests {
    @Test(arguments: [
        ("Jürgen Müller <j@example.de>", [MailAddress(name: "Jürgen Müller", address: "j@example.de")]),
        ("\"Müller, Jürgen\" <j@example.de>, b@example.org", [
            MailAddress(name: "Müller, Jürgen", address: "j@example.de"), MailAddress(name: nil, address: "b@example.org"),
        ]),
        ("j@example.de (Jürgen)", [MailAddress(name: "Jürgen", address: "j@example.de")]),
        ("=?utf-8?q?J=C3=BCrgen?= <j@example.de>", [MailAddress(name: "Jürgen", address: "j@example.de")]),
        ("Team: a@x.org, b@x.org;", [MailAddress(name: nil, address: "a@x.org"), MailAddress(name: nil, address: "b@x.org")]),
        ("<@relay.example:user@example.org>", [MailAddress(name: nil, address: "user@example.org")]),
        ("<>", []),
        ("", []),
    ])
    func parses(input: String, expected: [MailAddress]) {
        #expect(MailAddress.parseList(input) == expected)
    }

    @Test func domainIsLowercased() {
        #expect(MailAddress(address: "A@Example.DE").domain == "example.de")
    }
}

@Suite struct DateTests {
    @Test(arguments: [
        ("Sun, 22 Nov 2026 10:00:00 +0000", Int64(1_795_341_600)),
        ("22 Nov 2026 11:00:00 +0100", 1_795_341_600),
        ("Sun, 22 Nov 2026 05:00:00 EST", 1_795_341_600),
        ("Sun, 22 Nov 26 10:00 GMT", 1_795_341_600),
        ("Sun, 22 Nov 2026 10:00:00 +0000 (UTC)", 1_795_341_600),
    ])
    func parses(input: String, expected: Int64) {
        #expect(MailDate.parse(input) == expected)
    }

    @Test(arguments: ["", "yesterday", "32 Nov 2026 10:00:00", "Sun, 22 Foo 2026 10:00:00"])
    func rejects(input: String) {
        #expect(MailDate.parse(input) == nil)
    }
}

@Suite struct EnvelopeTests {
    @Test func readsSummaryHeaders() {
        let raw = "From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\r\nSubject: =?utf-8?q?Passwort?=\r\n\tzur\u{fc}cksetzen\r\n"
            + "Message-ID: <abc@example.de>\r\nIn-Reply-To: <x@y>\r\nReferences: <a@b> <x@y>\r\n\r\nbody"
        let e = MessageEnvelope(raw: Array(raw.utf8))
        #expect(e.from == MailAddress(name: "Jürgen", address: "j@example.de"))
        #expect(e.subject == "Passwort zurücksetzen")
        #expect(e.messageID == "abc@example.de")
        #expect(e.references == ["a@b", "x@y"])
        #expect(e.inReplyTo == ["x@y"])
        #expect(e.warnings.isEmpty)
    }

    @Test func controlCharactersInSubjectAreFolded() {
        let e = MessageEnvelope(raw: Array("Subject: =?utf-8?q?a=0D=0ABcc:_evil@x?=\r\n\r\n".utf8))
        #expect(e.subject == "a Bcc: evil@x")
        #expect(e.warnings.contains("message has no Message-ID"))
    }
}

@Suite struct TransferEncodingTests {
    @Test func base64IsLenient() {
        #expect(Base64.decodeLenient(Array("SGVs\r\nbG8=".utf8)) == Array("Hello".utf8))
        #expect(Base64.decodeLenient(Array("SGVsbG8".utf8)) == Array("Hello".utf8))
    }

    @Test func quotedPrintableSoftBreaksAndBadEscapes() {
        #expect(QuotedPrintable.decode(Array("a=3Db=\r\nc =ZZ".utf8)) == Array("a=bc =ZZ".utf8))
    }
}

/// A Subject of hundreds of kilobytes is decoded from its start only and kept to 2,000 characters, with a
/// warning; the rest of the parse does not pay for its length.
@Suite struct LongSubjectTests {
    @Test func aHugeSubjectIsCutWithAWarning() {
        let words = String(repeating: "=?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Kiel ", count: 8_000)  // about 300 KB
        let raw = Array("From: a@example.org\r\nSubject: \(words)\r\nMessage-ID: <x@y>\r\n\r\nHallo\r\n".utf8)
        let m = MIMEParser.parse(raw)
        #expect(m.envelope.subject.count == MessageEnvelope.maxSubject)
        #expect(m.envelope.subject.hasPrefix("Grüße aus Kiel Grüße aus Kiel"), "encoded words decoded, not cut in half")
        #expect(m.warnings.contains { $0.hasPrefix("Subject of ") && $0.hasSuffix("kept its first 2000 characters") })
        #expect(m.text.hasPrefix("Hallo"))
    }

    @Test func anOrdinarySubjectIsKeptWhole() {
        let m = MIMEParser.parse(Array("From: a@example.org\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\nx\r\n".utf8))
        #expect(m.envelope.subject == "Grüße" && !m.warnings.contains { $0.hasPrefix("Subject of") })
    }
}

/// An address field of hundreds of kilobytes is read from its first 64 KB, with a warning.
@Suite struct LongAddressFieldTests {
    @Test func aHugeToFieldIsCutWithAWarning() {
        let list = (0..<10_000).map { "user\($0)@example.org" }.joined(separator: ",\r\n ")  // about 250 KB, folded
        let raw = Array("From: a@example.org\r\nTo: \(list)\r\nSubject: x\r\n\r\nHallo\r\n".utf8)
        let m = MIMEParser.parse(raw)
        #expect(m.envelope.to.count > 2_000 && m.envelope.to.count < 4_000)
        #expect(m.envelope.to.allSatisfy { $0.address.hasPrefix("user") && $0.address.hasSuffix("@example.org") })
        #expect(m.warnings.contains { $0.hasPrefix("To field of ") })
    }

    @Test func anOrdinaryToFieldIsReadWhole() {
        let m = MIMEParser.parse(Array("From: a@example.org\r\nTo: b@example.org, \"C, D\" <c@example.org>\r\n\r\nx\r\n".utf8))
        #expect(m.envelope.to.map(\.address) == ["b@example.org", "c@example.org"])
        #expect(!m.warnings.contains { $0.contains("field of") })
    }
}

/// Byte-level helpers keep the results of the character-level code they replaced.
@Suite struct ByteLevelTests {
    @Test func trimmingKeepsACombiningMarkWithItsSpace() {
        #expect(" \t a b \r\n".trimmingASCIISpace() == "a b")
        #expect(" \u{301}x ".trimmingASCIISpace() == " \u{301}x")
        #expect(" \r\n ".trimmingASCIISpace() == "")
    }

    @Test func singleLineFoldsControlsAndUnicodeLineBreaks() {
        #expect(MessageEnvelope.singleLine("a\r\n\tb\u{2028}c\u{85} d\u{7F}") == "a b c  d")
        #expect(MessageEnvelope.singleLine("  plain  ") == "plain")
    }

    @Test func lineEndsBecomeLF() {
        #expect(TextExtractor.normalizeLineEnds("a\r\nb\rc\n\r\r\nd\r") == "a\nb\nc\n\n\nd\n")
        #expect(TextExtractor.normalizeLineEnds("no breaks") == "no breaks")
    }

    @Test func lenientUTF8RepairsOnlyTheBadBytes() {
        #expect(Charset.decodeUTF8Lenient([0x61, 0xC3, 0xBC, 0xFC, 0x62, 0xE2, 0x82, 0x41, 0xAC]) == "aüüb\u{E2}\u{201A}A\u{AC}")
        #expect(Charset.decodeWindows1252([0x41, 0x80, 0x42, 0xE9]) == "A€Bé")
    }

    @Test func messageIDsAndABoundaryWithAnEncodedWord() {
        #expect(MessageEnvelope.messageIDs(in: "<a@b> <c\r\n @d>  <>") == ["a@b", "c@d"])
        let raw = "Content-Type: multipart/mixed; boundary=\"=?utf-8?q?x?=\"\r\n\r\n--=?utf-8?q?x?=\r\n\r\nHallo\r\n--=?utf-8?q?x?=--\r\n"
        let m = MIMEParser.parse(Array(raw.utf8))
        #expect(m.root.contentType.boundary == "=?utf-8?q?x?=")
        #expect(m.text == "Hallo" && m.partCount == 2)
    }
}

/// The byte reading of Date fields gives what the character reading gives, on real and broken dates.
@Suite struct DateBytesTests {
    @Test(arguments: [
        "Tue, 4 Mar 2025 09:30:00 +0100", "Tue,4 Mar 2025 09:30:00 +0100", "4 March 2025 09:30 +0100",
        "Tue Mar  4 08:30:00 2025", "Tue, 04 Mar 2025 03:30:00 EST", "Tue, 04 Mar 2025 09:30:00 +01:00",
        "04-Mar-2025 09:30:00 +0100", "2025-03-04T08:30:00Z", " 2025-03-04 09:30:00 +0100 ", "Tue, 4 Mar 2025 09.30.00 +0100",
        "Tue, 4 Mar 2025 08:30:00 A", "Sun, 22 Nov 26 10:00 GMT", "Sun, 22 Nov 2026 10:00:00 +0000 (UTC)", "", "yesterday",
        "32 Nov 2026 10:00:00", "Sun, 22 Foo 2026 10:00:00", "Mon, 3 Mar 2025 10:00:00 ++123", "Mon, 3 Mar 2025 10:00:00 +-100",
        "Mon, 3 Mar 2025 25:00:00 +0000", "Mon, 3 Mar 2025 10:61 +0000", "3 Mar 99999999999999999999 10:00 +0000",
        "Mar 3 10:00:00 CET 2025", "Mon,, 3 -Mar- 2025 10:00:00 +0000", "Mon, 3 Mar 2025 10..00 +0000", "Mon, 3 Mar 2025\r10:00 PST",
        "mon 3 mar 2025 1.2.3", "3-Mar-2025", "Mon, 3 Mar 2025 10:00:00 -05:30", "Mon, 3 Mar +2025 -10:00 +0000", "x 3 Mar 2025 10:00",
    ])
    func sameAsByCharacters(input: String) {
        #expect(MailDate.parse(input) == MailDate.parseCharacters(input))
    }
}
