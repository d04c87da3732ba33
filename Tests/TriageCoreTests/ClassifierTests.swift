import Testing
@testable import TriageCore

@Suite struct NormalizerTests {
    @Test(arguments: [
        ("Passwort zurücksetzen", "passwort zuruecksetzen"),
        ("Passwort zuruecksetzen", "passwort zuruecksetzen"),
        ("KENNWORTRÜCKSETZUNG", "kennwortruecksetzung"),
        ("Grüße, Straße & Café", "gruesse strasse cafe"),
        ("don't   stop—now!", "dont stop now"),
        ("Łódź", "lodz"),
        ("Привет", "привет"),
        ("  ", ""),
    ])
    func normalizes(input: String, expected: String) {
        #expect(TextNormalizer.normalize(input) == expected)
    }
}

@Suite struct FeatureTests {
    @Test func sameTextSameFeaturesAndUnitLength() {
        var x = FeatureExtractor(bits: 12)
        let a = x.features(subject: "Passwort", body: "Ich habe mein Passwort vergessen")
        let b = x.features(subject: "Passwort", body: "Ich habe mein Passwort vergessen")
        #expect(a.indices == b.indices && a.values == b.values)
        let norm = a.values.reduce(0) { $0 + $1 * $1 }
        #expect(abs(norm - 1) < 1e-4)
        #expect(a.words.count == 6)
    }

    @Test func umlautSpellingsShareFeatures() {
        var x = FeatureExtractor(bits: 14)
        let a = x.features(subject: "", body: "zurücksetzen")
        let b = x.features(subject: "", body: "zuruecksetzen")
        #expect(Set(a.indices) == Set(b.indices))
    }

    @Test func compoundsShareCharacterGramsWithTheirParts() {
        var x = FeatureExtractor(bits: 16)
        let compound = Set(x.features(subject: "", body: "Kennwortrücksetzung").indices)
        let part = Set(x.features(subject: "", body: "Kennwort").indices)
        #expect(compound.intersection(part).count >= 3)
    }

    @Test func subjectWeighsMore() {
        var x = FeatureExtractor(bits: 14, subjectWeight: 2)
        let v = x.features(subject: "invoice", body: "hello")
        let inv = FeatureExtractor.wordIndex("invoice".utf8, bits: 14)
        let hel = FeatureExtractor.wordIndex("hello".utf8, bits: 14)
        let vi = v.values[v.indices.firstIndex(of: inv)!], vh = v.values[v.indices.firstIndex(of: hel)!]
        #expect(vi > vh * 1.5)
    }
}

/// A small labelled set in both languages, enough to learn from.
enum Toy {
    static let data: [(String, String, String)] = [
        ("password", "en", "I forgot my password"), ("password", "en", "reset my password please"),
        ("password", "en", "my account is locked, password wrong"), ("password", "en", "cannot log in, need a new password"),
        ("password", "de", "Ich habe mein Passwort vergessen"), ("password", "de", "Bitte Kennwort zurücksetzen"),
        ("password", "de", "Mein Konto ist gesperrt, Passwort falsch"), ("password", "de", "neues Passwort bitte"),
        ("order_info", "en", "where is my order"), ("order_info", "en", "my parcel has not arrived yet"),
        ("order_info", "en", "please send the invoice for my order"), ("order_info", "en", "when will my order be delivered"),
        ("order_info", "de", "Wo ist meine Bestellung"), ("order_info", "de", "Mein Paket ist nicht angekommen"),
        ("order_info", "de", "Bitte schicken Sie die Rechnung zur Bestellung"), ("order_info", "de", "Wann wird meine Bestellung geliefert"),
        ("other", "en", "I want to complain about your service"), ("other", "en", "we offer marketing services for your company"),
        ("other", "en", "the server is down since this morning"), ("other", "en", "please call me about the contract"),
        ("other", "de", "Ich möchte mich über Ihren Service beschweren"), ("other", "de", "Wir bieten Marketing für Ihr Unternehmen"),
        ("other", "de", "Der Server ist seit heute früh ausgefallen"), ("other", "de", "Bitte rufen Sie mich wegen des Vertrags an"),
    ]

    static var examples: [TrainingExample] {
        data.map { TrainingExample(body: $0.2, label: $0.0, language: $0.1, source: "toy") }
    }

    static let categories = ["order_info", "password", "other"]

    static func model(anchors: [String: [String]] = [:]) -> ClassifierModel {
        var o = TrainingOptions()
        o.bits = 14
        o.folds = 3
        return Trainer.train(examples, categories: categories, anchors: anchors, options: o).0
    }
}

@Suite struct LanguageTests {
    @Test(arguments: [
        ("Ich habe mein Passwort vergessen und kann mich nicht anmelden", "de"),
        ("Guten Tag, wo ist meine Bestellung? Vielen Dank", "de"),
        ("I forgot my password and cannot log in to my account", "en"),
        ("Hello, where is my order? Thanks a lot", "en"),
        ("ok", "unknown"),
        ("こんにちは、パスワードを忘れました。よろしくお願いします。", "unknown"),
        ("Bonjour, je voudrais savoir quand ma commande sera livrée chez moi", "unknown"),
        // Digits are not a foreign script; too close to call by letters, the function words decide.
        ("status of order 732201349959", "en"),
        ("Пароль забыл, помогите пожалуйста восстановить", "unknown"),
    ])
    func detects(text: String, expected: String) {
        #expect(Toy.model().language.detect(text) == expected)
    }
}

@Suite struct TrainerTests {
    @Test func learnsAndIsDeterministic() {
        let (m1, report) = Trainer.train(Toy.examples, categories: Toy.categories, options: {
            var o = TrainingOptions(); o.bits = 14; o.folds = 3; return o
        }())
        let m2 = Toy.model()
        #expect(m1.weights == m2.weights)
        #expect(report.examples == Toy.data.count)
        #expect(report.temperature > 0.1 && report.temperature < 8)
        var c = Classifier(model: m1, settings: ClassifierSettings())
        #expect(c.classify(ClassifierInput(subject: "Passwort", body: "Ich habe mein Kennwort vergessen")).category == "password")
        #expect(c.classify(ClassifierInput(subject: "", body: "Where is my parcel?")).category == "order_info")
        #expect(c.classify(ClassifierInput(subject: "", body: "Ich möchte mich beschweren")).category == "other")
    }

    @Test func unknownLabelsAreDropped() {
        let ex = Toy.examples + [TrainingExample(body: "x", label: "nonsense", source: "t")]
        #expect(Trainer.train(ex, categories: Toy.categories, options: { var o = TrainingOptions(); o.bits = 12; o.folds = 0; return o }()).1.examples == Toy.data.count)
    }

    @Test func modelFileRoundTripsAndRejectsDamage() throws {
        var m = Toy.model(anchors: ["password": ["passwort", "password"]])
        m.summary.append("note: test")
        let bytes = m.serialized()
        let back = try ClassifierModel(bytes: bytes)
        #expect(back.weights == m.weights && back.bias == m.bias && back.categories == m.categories)
        #expect(back.anchors == m.anchors && back.idf == m.idf && back.summary == m.summary && back.temperature == m.temperature)
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: Array(bytes.prefix(100))) }
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: Array("not a model".utf8)) }
        var wrongVersion = bytes
        wrongVersion[4] = 99
        #expect(throws: TriageError.self) { try ClassifierModel(bytes: wrongVersion) }
    }
}

@Suite struct DecisionTests {
    static func settings(_ rules: [ClassificationRule] = [], auto: Double = 0.5) -> ClassifierSettings {
        var s = ClassifierSettings()
        s.categories = Toy.categories
        s.defaultThresholds = Thresholds(auto: auto, draft: 0.3)
        s.minimumCoverage = 0
        s.rules = rules
        return s
    }

    @Test func degreesFollowThresholdsLanguageAndOther() {
        var c = Classifier(model: Toy.model(), settings: Self.settings())
        let ok = c.classify(ClassifierInput(subject: "Password", body: "I forgot my password, please reset it"))
        #expect(ok.category == "password" && ok.degree == .automatic, "\(ok)")
        var strict = Classifier(model: Toy.model(), settings: Self.settings(auto: 1.01))
        #expect(strict.classify(ClassifierInput(subject: "Password", body: "I forgot my password, please reset it")).degree == .semiAutomatic)
        let other = c.classify(ClassifierInput(subject: "", body: "I want to complain about your service"))
        #expect(other.category == "other" && other.degree == .manual)
        let french = c.classify(ClassifierInput(subject: "", body: "Bonjour, je voudrais savoir pourquoi mon mot de passe ne marche pas du tout"))
        #expect(french.language == "unknown" && french.degree == .manual)
        #expect(french.category == "other" || french.reasons.contains(.languageNotServed("unknown")))
    }

    @Test func anchorsGateAutomaticAnswers() {
        let m = Toy.model(anchors: ["password": ["kennwort"]])
        var c = Classifier(model: m, settings: Self.settings())
        let r = c.classify(ClassifierInput(subject: "Password", body: "I forgot my password, please reset it"))
        #expect(r.category == "password")
        #expect(!r.anchored && r.degree == .semiAutomatic)
        #expect(r.reasons.contains(.noKnowledgeKeyword(category: "password")))
        let de = c.classify(ClassifierInput(subject: "Kennwort", body: "Ich habe mein Kennwort vergessen"))
        #expect(de.anchored && de.degree == .automatic)
    }

    @Test func keywordPhrasesNeedTheirWordsNotTheirFunctionWords() {
        // "close my account": "close" and "account" in any form; "my" is not needed.
        let close = FeatureExtractor.keywordForms("close my account")
        #expect(close.contains { $0.count == 2 })
        let m = Toy.model(anchors: ["password": ["reset my password"]])
        var c = Classifier(model: m, settings: Self.settings())
        let r = c.classify(ClassifierInput(subject: "Password", body: "I forgot the password, please reset it"))
        #expect(r.anchored, "\(r)")
        // A phrase with only one other word needs all of its words: "expect my" is not "expect".
        #expect(FeatureExtractor.keywordForms("expect my").allSatisfy { $0.count == 2 })
        #expect(FeatureExtractor.keywordForms("where is my").allSatisfy { $0.count == 3 })
    }

    @Test func rulesForceAndWeigh() throws {
        var legal = RuleCondition()
        legal.any = ["anwalt", "lawyer"]
        var vip = RuleCondition()
        vip.senders = ["*.bigcustomer.example"]
        var manualWords = RuleCondition()
        manualWords.subjectRegex = [try RulePattern("^urgent[: ]")]
        let rules = [
            ClassificationRule(name: "legal", when: legal, force: .other, priority: "high"),
            ClassificationRule(name: "vip", when: vip, targetGroup: "business_critical"),
            ClassificationRule(name: "urgent", when: manualWords, force: .manual),
        ]
        var c = Classifier(model: Toy.model(), settings: Self.settings(rules))
        let r = c.classify(ClassifierInput(subject: "Password", body: "Mein Anwalt sagt, ich soll mein Passwort zurücksetzen"))
        #expect(r.category == "other" && r.degree == .manual && r.forced && r.priority == "high" && r.rules == ["legal"])
        let v = c.classify(ClassifierInput(subject: "Password", body: "I forgot my password", sender: "ceo@eu.bigcustomer.example"))
        #expect(v.targetGroup == "business_critical" && v.rules == ["vip"])
        let u = c.classify(ClassifierInput(subject: "URGENT: password", body: "I forgot my password"))
        #expect(u.category == "password" && u.degree == .manual && u.forced)
    }

    @Test func ruleConditionsCombine() throws {
        var w = RuleCondition()
        w.all = ["rechnung", "falsch"]
        w.none = ["danke"]
        w.languages = ["de"]
        w.mailboxes = ["billing"]
        let rule = CompiledRule(ClassificationRule(name: "r", when: w, category: "order_info", weight: 2))
        func match(_ body: String, mailbox: String = "billing", lang: String = "de") -> Bool {
            let input = ClassifierInput(subject: "", body: body, mailbox: mailbox)
            return rule.matches(input, RuleText(input), language: lang)
        }
        #expect(match("Die Rechnung ist falsch"))
        #expect(!match("Die Rechnung ist richtig"))
        #expect(!match("Die Rechnung ist falsch, danke"))
        #expect(!match("Die Rechnung ist falsch", mailbox: "support"))
        #expect(!match("Die Rechnung ist falsch", lang: "en"))
        var prefix = RuleCondition()
        prefix.any = ["passw*"]
        let p = CompiledRule(ClassificationRule(name: "p", when: prefix, category: "password"))
        let input = ClassifierInput(subject: "", body: "Passwörter vergessen")
        #expect(p.matches(input, RuleText(input), language: "de"))
        let no = ClassifierInput(subject: "", body: "Ein Kompass wird gesucht")
        #expect(!p.matches(no, RuleText(no), language: "de"))
    }

    @Test func invalidRegexIsReported() throws {
        let error = try #require(throws: TriageError.self) { try RulePattern("(unclosed") }
        #expect(error.message.contains("offset 9"), "\(error.message)")
    }

    @Test func patternsAreUnicodeAwareAndCaseInsensitive() throws {
        let outage = try RulePattern(#"\bst(ö|oe)rung\b"#)
        #expect(outage.matches("Seit heute STÖRUNG im Netz"))
        #expect(!outage.matches("Störungsmeldung"))  // no word boundary inside a compound
        #expect(try RulePattern(#"\bgrüße\b"#).matches("Viele GRÜßE, Anna"))
        #expect(try RulePattern(#"(\w+\s+){0,3}?nicht(?!\s+werden)"#).matches("geht leider nicht"))
        #expect(try !RulePattern(#"zugestellt(?!\s+werden)"#).matches("soll morgen zugestellt werden"))
    }

    @Test func patternsReadTheFirst32KBAndCutBetweenCharacters() throws {
        // One byte, then two-byte letters: the 32 KB limit falls inside the last ä, which is left out whole.
        let filler = "x" + String(repeating: "ä", count: RulePattern.maxTextBytes / 2)
        #expect(!(try RulePattern("kündigung").matches(filler + " kündigung")))
        #expect(try RulePattern("kündigung").matches("kündigung " + filler))
        #expect(try RulePattern("ä$").matches(filler))
        #expect(try RulePattern(#"^xä+$"#).matches(filler))
    }
}

@Suite struct WordHashSetTests {
    @Test func containsExactlyTheWordsOfTheText() {
        let text = Array("das passwort ist weg und das konto gesperrt a b c".utf8)
        let set = RuleText.wordHashes(text)
        for w in ["das", "passwort", "weg", "konto", "gesperrt", "a", "c"] { #expect(set.contains(LanguageDetector.wordHash(w.utf8)), "\(w)") }
        for w in ["pass", "passworte", "d", "kontos", ""] { #expect(!set.contains(LanguageDetector.wordHash(w.utf8)), "\(w)") }
        // The most words a text can hold (one letter each) fit, and a zero hash is a member like any other.
        let dense = Array(String(repeating: "x ", count: 5000).utf8) + Array((0..<2000).map { "w\($0)" }.joined(separator: " ").utf8)
        let big = RuleText.wordHashes(dense)
        #expect(big.contains(LanguageDetector.wordHash("w1999".utf8)) && !big.contains(LanguageDetector.wordHash("w2000".utf8)))
        var z = WordHashSet(capacityFor: 1)
        #expect(!z.contains(0))
        z.insert(0)
        #expect(z.contains(0))
    }
}

@Suite struct KnowledgeEntryTests {
    static let good = """
        ---
        id: pw-en
        category: password
        language: en
        title: Resetting a password
        questions:
          - I forgot my password
          - "How do I reset it?"
        keywords: [password, reset]
        ---
        Hello {{customer_name}},
        open {{password_reset_url}}.
        """

    @Test func audiences() throws {
        let text = Self.good.replacing("keywords: [password, reset]", with: "keywords: [password, reset]\naudiences: [shop, it-desk]")
        let e = try KnowledgeEntry.parse(text, path: "kb/password/pw-en.md")
        #expect(e.audiences == ["shop", "it-desk"])
        #expect(e.serves([]) && e.serves(["shop"]) && e.serves(["software", "it-desk"]) && !e.serves(["software"]))
        #expect(try KnowledgeEntry.parse(Self.good, path: "kb/x.md").serves(["software"]))  // an entry for everyone
        #expect(throws: KnowledgeEntry.ParseError.self) {
            try KnowledgeEntry.parse(Self.good.replacing("keywords: [password, reset]", with: "keywords: [x]\naudiences: [\"a b\"]"), path: "kb/x.md")
        }
    }

    @Test func parsesFrontMatterAndBody() throws {
        let e = try KnowledgeEntry.parse(Self.good, path: "kb/password/pw-en.md")
        #expect(e.id == "pw-en" && e.category == "password" && e.language == "en" && e.title == "Resetting a password")
        #expect(e.questions == ["I forgot my password", "How do I reset it?"])
        #expect(e.keywords == ["password", "reset"])
        #expect(e.body.hasPrefix("Hello {{customer_name}},"))
        #expect(e.trainingExamples.count == 3)
        #expect(KnowledgeEntry.anchors([e]) == ["password": ["password", "reset"]])
    }

    @Test(arguments: [
        ("no front matter", "Hello", "front matter"),
        ("---\nid: x\n", "", "not closed"),
        ("---\ncategory: password\nlanguage: en\ntitle: t\nquestions: [a]\n---\nbody", "", "missing field \"id\""),
        ("---\nid: x\ncategory: password\nlanguage: en\ntitle: t\n---\nbody", "", "questions"),
        ("---\nid: x\ncategory: password\nlanguage: en\ntitle: t\nquestions: [a]\n---\n", "", "answer text is empty"),
        ("---\nid: x\n  - stray\n---\nbody", "", "list item without a key"),
    ])
    func rejects(text: String, extra: String, message: String) {
        do {
            _ = try KnowledgeEntry.parse(text + extra, path: "kb/x.md")
            Issue.record("accepted a bad entry")
        } catch let e as KnowledgeEntry.ParseError {
            #expect(e.description.hasPrefix("kb/x.md:"))
            #expect(e.message.contains(message), "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// Stems, compounds and the answer model (issue 12).
@Suite struct MorphologyTests {
    @Test func stemsInflections() {
        let m = Morphology()
        #expect(m.terms("passwords password", language: "en") == ["password", "password"])
        #expect(m.terms("bestellungen bestellung", language: "de") == ["bestell", "bestell"])
    }

    @Test func splitsKnownCompounds() {
        let m = Morphology(texts: [("Passwort zurücksetzen, Versand und Kosten", "de")])
        let terms = m.terms(TextNormalizer.normalize("Passwortzurücksetzung Versandkosten"), language: "de")
        // The compound's own stem first, then its parts' stems.
        #expect(terms.contains("passwort") && terms.contains("versand") && terms.contains("kost"))
        #expect(Morphology().terms("versandkosten", language: "de") == ["versandkost"])
    }

    @Test func familiarByStem() {
        let (model, _) = Trainer.train([TrainingExample(body: "Ich habe mein Passwort vergessen", label: "password", language: "de", source: "t"),
                                        TrainingExample(body: "Wo ist meine Bestellung", label: "order_info", language: "de", source: "t")],
                                       categories: ["password", "order_info"], options: { var o = TrainingOptions(); o.folds = 0; return o }())
        var x = model.makeExtractor()
        // "Passwörter" and "Bestellungen" were never seen as words, but their stems were.
        #expect(model.coverage(x.features(subject: "", body: "Passwortes Bestellungen", language: "de")) == 1)
        #expect(model.coverage(x.features(subject: "", body: "Rasenmäher Gartenschlauch", language: "de")) == 0)
        // Order numbers and dates are neither familiar nor unfamiliar.
        #expect(model.coverage(x.features(subject: "", body: "Bestellung 100045873 12.3.2026", language: "de")) == 1)
    }

    static let entries = [
        KnowledgeEntry(id: "reset", category: "password", language: "en", title: "Reset a forgotten password",
                       questions: ["I forgot my password", "How do I reset my password?", "password reset link please",
                                   "cannot remember my password", "need a new password, forgot the old one"],
                       keywords: ["forgot", "reset"], body: "Use the link.", path: "reset.md"),
        KnowledgeEntry(id: "locked", category: "password", language: "en", title: "Account locked",
                       questions: ["my account is locked", "locked out after too many attempts", "account blocked, please unlock",
                                   "too many failed logins, now locked", "unlock my account"],
                       keywords: ["locked", "unlock"], body: "Wait 30 minutes.", path: "locked.md"),
        KnowledgeEntry(id: "track", category: "order_info", language: "en", title: "Track a parcel",
                       questions: ["where is my parcel", "tracking number for my order", "how do I track my delivery",
                                   "has my order shipped yet", "parcel tracking link"],
                       keywords: ["tracking", "parcel"], body: "See your account.", path: "track.md"),
    ]

    @Test func answerModelPicksTheEntry() {
        let others = ["please cancel my order and refund me", "the app crashes when I open it", "I want to complain about the delivery driver",
                      "delete all my personal data under GDPR", "grant me admin rights"]
            .map { TrainingExample(body: $0, label: Category.other, language: "en", source: "t") }
        let (category, _) = Trainer.train(MorphologyTests.entries.flatMap(\.trainingExamples) + others,
                                          categories: ["password", "order_info", Category.other])
        let (answers, report) = AnswerModel.train(entries: MorphologyTests.entries, examples: others, morphology: category.morphology,
                                                  subjectWeight: category.subjectWeight)
        #expect(report.examples == 3 * 6 + 5)
        var x = category.makeExtractor()
        let p = answers.predict(x.features(subject: "Forgotten password", body: "I have forgotten my password, how can I reset it?", language: "en"),
                                language: "en", category: "password")
        #expect(p?.entry == "reset")
        #expect(p?.category == "password")
        #expect((p?.probability ?? 0) > (p?.runnerUpProbability ?? 1))
        #expect((p?.share ?? 0) > 0.5 && (p?.share ?? 0) >= (p?.probability ?? 1))
        // No German entry: nothing to predict for German text.
        #expect(answers.predict(x.features(subject: "", body: "Passwort vergessen", language: "de"), language: "de", category: "password") == nil)
        // The model file keeps the answer model.
        var withAnswers = category
        withAnswers.answers = answers
        let back = try? ClassifierModel(bytes: withAnswers.serialized())
        #expect(back?.answers?.entries == answers.entries)
        #expect(back?.answers?.fingerprint == AnswerModel.fingerprint(MorphologyTests.entries))
        #expect(back?.morphology == category.morphology)
    }
}

/// Labelled examples (`train --data`, agents' corrections) that join an entry add their category's telling words
/// to its knowledge-base keywords.
@Suite struct LearnedKeywordTests {
    static func example(_ text: String, _ label: String) -> TrainingExample {
        TrainingExample(body: text, label: label, language: "en", source: "t")
    }

    @Test func aWordOfManyJoinedExamplesOfOneCategoryIsLearnt() {
        let joined = ["my parcel is overdue", "the parcel is overdue since monday", "overdue delivery of order 4711",
                      "where is my shipment", "shipment 99 still missing"].map { Self.example($0, "track") }
        let none = ["the invoice is overdue and wrong", "complaint about the driver", "my shipment arrived broken"]
            .map { Self.example($0, AnswerModel.noEntry) }
        let learnt = AnswerModel.learnedKeywords(joined: joined, all: joined + none) { $0 == "track" ? "order_info" : Category.other }
        // "parcel": 2 joined examples (fewer than 3); "overdue": 3 joined, but 1 of its 4 texts is `none` (75% < 90%);
        // "shipment": 2 joined and 1 `none`. "delivery" and "order" once. Function words, numbers: never.
        #expect(learnt.isEmpty, "\(learnt)")
        let more = joined + ["parcel overdue again", "parcel not here"].map { Self.example($0, "track") }
        let learnt2 = AnswerModel.learnedKeywords(joined: more, all: more + none) { $0 == "track" ? "order_info" : Category.other }
        #expect(learnt2 == ["order_info": ["parcel"]], "\(learnt2)")
        #expect(AnswerModel.learnedKeywords(joined: [], all: none) { _ in "x" }.isEmpty)
    }

    @Test func trainingWithLabelledExamplesLearnsKeywordsTheClassifierAccepts() {
        let others = ["please cancel my order and refund me", "the app crashes when I open it", "I want to complain about the delivery driver",
                      "delete all my personal data", "grant me admin rights", "my invoice is wrong, correct it"]
            .map { TrainingExample(body: $0, label: Category.other, language: "en", source: "t") }
        // An operator's category-labelled examples in words the entries' keywords do not have ("whereabouts").
        let labelled = ["whereabouts of my parcel, tracking please", "whereabouts of my order, has it shipped",
                        "the whereabouts of my delivery, tracking number?", "tracking the whereabouts of my parcel"]
            .map { TrainingExample(body: $0, label: "order_info", language: "en", source: "ops.jsonl") }
        var (model, _) = Trainer.train(MorphologyTests.entries.flatMap(\.trainingExamples) + others + labelled,
                                       categories: ["password", "order_info", Category.other],
                                       anchors: KnowledgeEntry.anchors(MorphologyTests.entries))
        let answers = AnswerModel.train(entries: MorphologyTests.entries, examples: others + labelled, morphology: model.morphology,
                                        subjectWeight: model.subjectWeight).0
        #expect(answers.model.anchors["order_info"]?.contains("whereabouts") == true, "\(answers.model.anchors)")
        #expect(answers.model.anchors["password"] == nil)
        model.answers = answers
        // The learnt words survive the model file and count as the category's keywords.
        let back = try? ClassifierModel(bytes: model.serialized())
        #expect(back?.answers?.model.anchors == answers.model.anchors)
        var settings = ClassifierSettings()
        settings.categories = ["password", "order_info", Category.other]
        settings.minimumCoverage = 0
        var c = Classifier(model: model, settings: settings)
        let r = c.classify(ClassifierInput(subject: "", body: "whereabouts of my new order?"))
        #expect(r.category != "order_info" || r.anchored, "\(r)")
        #expect(c.anchors["order_info"]?.count ?? 0 > KnowledgeEntry.anchors(MorphologyTests.entries)["order_info"]?.count ?? 0)
    }
}

/// The decision by the answer (issue 12): automatic only when one entry is sure enough.
@Suite struct AnswerDecisionTests {
    static func classifier(auto: Double) -> Classifier {
        let others = ["please cancel my order and refund me", "the app crashes when I open it", "I want to complain about the delivery driver",
                      "delete all my personal data", "grant me admin rights", "my invoice is wrong, correct it"]
            .map { TrainingExample(body: $0, label: Category.other, language: "en", source: "t") }
        var (model, _) = Trainer.train(MorphologyTests.entries.flatMap(\.trainingExamples) + others,
                                       categories: ["password", "order_info", Category.other],
                                       anchors: KnowledgeEntry.anchors(MorphologyTests.entries))
        model.answers = AnswerModel.train(entries: MorphologyTests.entries, examples: others, morphology: model.morphology,
                                          subjectWeight: model.subjectWeight).0
        var settings = ClassifierSettings()
        settings.categories = ["password", "order_info", Category.other]
        settings.defaultThresholds = Thresholds(auto: auto, draft: 0.3)
        return Classifier(model: model, settings: settings)
    }

    @Test func aSureEntryIsAnsweredAnUnsureOneDrafted() {
        var c = Self.classifier(auto: 0.5)
        let sure = c.classify(ClassifierInput(subject: "Forgot my password", body: "I forgot my password, please send me a reset link"))
        #expect(sure.category == "password" && sure.degree == .automatic && sure.answer?.entry == "reset", "\(sure.reasons)")
        #expect(sure.reasons.contains { if case .answer(entry: "reset", _) = $0 { return true } else { return false } })
        // The same mail with a bar no model reaches: the entry is kept for the draft, the reason says how sure it was.
        var strict = Self.classifier(auto: 1.01)
        let unsure = strict.classify(ClassifierInput(subject: "Forgot my password", body: "I forgot my password, please send me a reset link"))
        #expect(unsure.degree == .semiAutomatic && unsure.answer?.entry == "reset")
        #expect(unsure.reasons.contains { if case .answerUnsure(entry: "reset", _, needed: 101) = $0 { return true } else { return false } })
    }

    /// A mailbox that names its audiences answers only with entries for them (or for everyone): the twin
    /// written for another business is never its answer, and what the model gave that twin is not counted.
    @Test func aMailboxAnswersOnlyWithItsAudiencesEntries() {
        var entries = MorphologyTests.entries
        entries[0].audiences = ["shop"]
        var staff = entries[0]
        staff.id = "windows-reset"
        staff.audiences = ["it-desk"]
        staff.questions = ["I forgot my Windows password", "reset my computer password", "cannot log in to my PC, forgot the password",
                           "new Windows password please", "forgot my password for the laptop login"]
        staff.keywords = ["windows", "forgot"]
        entries.insert(staff, at: 1)
        let others = ["please cancel my order and refund me", "the app crashes when I open it", "grant me admin rights"]
            .map { TrainingExample(body: $0, label: Category.other, language: "en", source: "t") }
        var (model, _) = Trainer.train(entries.flatMap(\.trainingExamples) + others, categories: ["password", "order_info", Category.other],
                                       anchors: KnowledgeEntry.anchors(entries))
        model.answers = AnswerModel.train(entries: entries, examples: others, morphology: model.morphology, subjectWeight: model.subjectWeight).0
        var settings = ClassifierSettings()
        settings.categories = ["password", "order_info", Category.other]
        settings.defaultThresholds = Thresholds(auto: 0.5, draft: 0.3)
        var shop = MailboxConfig(name: "shop", url: IMAPURL("imaps://h/INBOX")!, username: "u", password: nil)
        shop.audiences = ["shop"]
        var desk = shop
        desk.name = "desk"
        desk.audiences = ["it-desk"]
        settings.audiences(entries: entries, mailboxes: [shop, desk])
        #expect(settings.mailboxEntries["shop"] == ["reset", "locked", "track"])
        #expect(settings.mailboxEntries["desk"] == ["windows-reset", "locked", "track"])
        var c = Classifier(model: model, settings: settings)
        let text = "I forgot my password and need to reset it"
        let all = c.classify(ClassifierInput(subject: "", body: text))
        let atShop = c.classify(ClassifierInput(subject: "", body: text, mailbox: "shop"))
        let atDesk = c.classify(ClassifierInput(subject: "", body: text, mailbox: "desk"))
        #expect(atShop.answer?.entry == "reset" && atShop.answer?.runnerUp != "windows-reset", "\(atShop.reasons)")
        #expect(atDesk.answer?.entry != "reset", "\(atDesk.reasons)")
        // Without the twin in the softmax the shop's entry is surer than among all entries.
        #expect((atShop.answer?.probability ?? 0) >= (all.answer?.entry == "reset" ? all.answer!.probability : 0))
        // A mailbox without audiences (or unknown) uses every entry.
        let other = c.classify(ClassifierInput(subject: "", body: text, mailbox: "elsewhere"))
        #expect(other.answer == all.answer)
    }

    @Test func entriesAreKeptTogetherByLanguage() {
        var de = MorphologyTests.entries[0]
        de.id = "reset-de"
        de.language = "de"
        de.questions = ["Ich habe mein Passwort vergessen", "Passwort zurücksetzen", "neues Passwort bitte"]
        let entries = [MorphologyTests.entries[0], de, MorphologyTests.entries[1]]
        let (model, _) = Trainer.train(entries.flatMap(\.trainingExamples), categories: ["password", Category.other])
        let answers = AnswerModel.train(entries: entries, examples: [], morphology: model.morphology, subjectWeight: model.subjectWeight).0
        #expect(answers.entries.map(\.id) == ["reset", "locked", "reset-de"])
        #expect(answers.runs["en"] == 0..<2 && answers.runs["de"] == 2..<3)
    }
}
