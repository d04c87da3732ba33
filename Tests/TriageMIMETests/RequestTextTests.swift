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
