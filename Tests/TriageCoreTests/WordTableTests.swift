import Testing
@testable import TriageCore

/// The word table is a cache: everything read through it must equal what the bytes give directly.
@Suite struct WordTableTests {
    static let texts = [
        "Hallo, ich habe mein Passwort vergessen. Wie kann ich es zurücksetzen? Viele Grüße",
        "Where is my order 4711? It was supposed to arrive yesterday. Thanks",
        "Die Versandkosten in die Schweiz sind zu hoch, gibt es eine günstigere Versandart?",
        "status of order 732201349959",
        "Привет, как дела? Это не немецкий и не английский текст.",
        "ok",
        "",
        "passwort passwort passwort, kennwortrücksetzung und passwörter",
        // Long enough that the language head (320 bytes of body) ends inside a word.
        String(repeating: "Bestellung Rechnung Lieferung ", count: 10) + "Kundennummernverwaltung und weiteres",
        String(repeating: "delivery invoice parcel ", count: 13) + "internationalization of everything",
    ]

    static let detector: LanguageDetector = {
        let de = ["Ich habe mein Passwort vergessen und kann mich nicht anmelden", "Wo ist meine Bestellung, sie sollte gestern ankommen",
                  "Die Rechnung ist noch nicht da, bitte schicken Sie sie mir", "Wie hoch sind die Versandkosten in die Schweiz"]
        let en = ["I forgot my password and cannot sign in", "Where is my order, it should have arrived yesterday",
                  "The invoice has not arrived yet, please send it to me", "How much is shipping to Switzerland"]
        return LanguageDetector.train(de.map { ($0, "de") } + en.map { ($0, "en") })
    }()

    static func normalized(_ s: String, max: Int = 16 * 1024) -> [UInt8] {
        var out: [UInt8] = []
        TextNormalizer.append(s, to: &out, maxBytes: max)
        return out
    }

    @Test(arguments: texts)
    func languageFromTheTableEqualsLanguageFromTheBytes(body: String) {
        var x = FeatureExtractor(bits: 14)
        for subject in ["", "Frage zur Bestellung", "Question"] {
            let ns = Self.normalized(subject), nb = Self.normalized(body)
            var head = ns
            head.append(0x20)
            head += nb.prefix(Classifier.languageHeadBytes)
            // Twice: the second time every word comes from the table.
            for _ in 0..<2 {
                x.read(normalizedSubject: ns, normalizedBody: nb)
                #expect(x.language(Self.detector) == Self.detector.detect(normalized: head), "\(subject) | \(body)")
            }
        }
    }

    @Test func featuresAreTheSameFromAFullTableAndAfterItWasEmptied() {
        var a = FeatureExtractor(bits: 16)
        var b = FeatureExtractor(bits: 16)
        // `a` has seen every text (in both languages) before; `b` starts empty each time.
        for t in Self.texts { _ = a.features(subject: "x", body: t, language: "de"); _ = a.features(subject: "x", body: t, language: "en") }
        for t in Self.texts {
            for language in ["de", "en"] {
                b.table.removeAll()
                let u = a.features(subject: "Betreff", body: t, language: language), v = b.features(subject: "Betreff", body: t, language: language)
                #expect(u.indices == v.indices && u.values == v.values && u.words == v.words && u.stems == v.stems && u.alternates == v.alternates)
            }
        }
        // A word's stems differ by language and are kept apart.
        let de = a.features(subject: "", body: "Bestellungen", language: "de"), en = a.features(subject: "", body: "Bestellungen", language: "en")
        #expect(de.stems != en.stems)
    }

    @Test func aFullTableStartsAgainBetweenMessagesOnly() {
        var x = FeatureExtractor(bits: 14)
        var words = ""
        for k in 0..<(WordTable.limit + 10) { words += "w\(k) " }
        x.read(normalizedSubject: [], normalizedBody: Self.normalized(words, max: 1 << 22))
        // Every word of the message is still in the table while the message is being decided.
        #expect(x.table.count >= WordTable.limit + 10)
        #expect(x.bodyIDs.count == WordTable.limit + 10)
        #expect(x.table.bytes(x.bodyIDs.last!).elementsEqual(Array("w\(WordTable.limit + 9)".utf8)))
        x.read(normalizedSubject: [], normalizedBody: Self.normalized("neue Nachricht"))
        #expect(x.table.count == 2)
    }

    @Test func rulePhrasesMatchTheSameByMarksAndWordsAsByBytes() {
        var w = RuleCondition()
        w.any = ["passwort", "passw*", "pa*", "nicht fair", "das hilft mir nicht", "über mich gespeichert*", "where is my order",
                 "my order", "kennwort zurücksetzen", "rücksetz*", "x"]
        w.none = ["danke schön"]
        var s = RuleCondition()
        s.subjectAny = ["frage", "order status"]
        s.bodyAny = ["bestellung", "invoice*"]
        var a = RuleCondition()
        a.all = ["rechnung", "falsch"]
        let rules = [ClassificationRule(name: "any", when: w), ClassificationRule(name: "where", when: s), ClassificationRule(name: "all", when: a)]
        var next: Int32 = 0
        let compiled = rules.map { CompiledRule($0, nextID: &next) }
        let index = RuleIndex(compiled)
        var x = FeatureExtractor(bits: 14)
        let cases = Self.texts + [
            "Das ist nicht fair. Das hilft mir nicht weiter.", "Welche Daten haben Sie über mich gespeichert?", "Where is my order",
            "where is my order please", "Is my order here", "pass the salt", "Paris", "Die Rechnung ist falsch", "rechnung falsch danke schön",
            "x", "Kennwort zurücksetzen bitte", "Kennwort zurückgesetzt", "Rücksetzung", "invoices attached",
        ]
        for subject in ["", "Frage zur Bestellung", "Order status", "x"] {
            for body in cases {
                let input = ClassifierInput(subject: subject, body: body)
                let ns = Self.normalized(subject), nb = Self.normalized(body, max: 32 * 1024)
                x.read(normalizedSubject: ns, normalizedBody: nb)
                let fast = x.ruleText(subject: ns, body: nb, index: index), bytes = RuleText(input)
                for r in compiled {
                    #expect(r.matches(input, fast, language: "de") == r.matches(input, bytes, language: "de"), "\(r.rule.name): \(subject) | \(body)")
                    for n in r.needles {
                        #expect(fast.inEither(n) == bytes.inEither(n), "\(String(decoding: n.bytes, as: UTF8.self)): \(subject) | \(body)")
                    }
                }
            }
        }
    }
}
