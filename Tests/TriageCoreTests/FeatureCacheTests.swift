import Foundation
import Testing
@testable import TriageCore

/// The stem cache and the half-precision answer weights: fast paths that must give what the slow paths give.
@Suite struct FeatureCacheTests {
    static let texts = [
        ("Passwort vergessen", "Ich habe mein Passwort vergessen und die Kennwortrücksetzung funktioniert nicht.", "de"),
        ("Versandkosten", "Wie hoch sind die Versandkosten in die Schweiz? Bestellnummer 100045873.", "de"),
        ("Where is my parcel", "My parcels have not arrived, the tracking numbers show nothing since Monday.", "en"),
        ("", "Reset passwords for all accounts, passwords expired yesterday", "en"),
        ("Rechnungen", "Bitte schicken Sie mir die Rechnungen der letzten Bestellungen als PDF.", "de"),
    ]

    static func same(_ a: FeatureVector, _ b: FeatureVector) -> Bool {
        a.indices == b.indices && a.values == b.values && a.words == b.words && a.alternates == b.alternates && a.stems == b.stems
    }

    /// A warm cache (the same extractor over many texts, the texts twice) gives exactly the features of a
    /// fresh extractor that stems every word.
    @Test func cachedFeaturesEqualFreshOnes() {
        let model = ModelFileTests.model
        var warm = model.makeExtractor()
        for round in 0..<2 {
            for (s, b, l) in Self.texts {
                var fresh = model.makeExtractor()
                let expected = fresh.features(subject: s, body: b, language: l)
                #expect(Self.same(warm.features(subject: s, body: b, language: l), expected), "round \(round): \(s)")
            }
        }
        #expect(warm.stemCache.count > 20)
        // The same word in the other language is another entry (another stemmer).
        var x = model.makeExtractor()
        let de = x.features(subject: "", body: "Bestellungen", language: "de")
        let en = x.features(subject: "", body: "Bestellungen", language: "en")
        #expect(x.stemCache.count == 2)
        var y = model.makeExtractor()
        #expect(Self.same(en, y.features(subject: "", body: "Bestellungen", language: "en")))
        #expect(Self.same(de, y.features(subject: "", body: "Bestellungen", language: "de")))
    }

    @Test func stemCacheFindsWhatItHoldsThroughGrowth() {
        var cache = StemCache()
        var rng = SplitMix(seed: 7)
        var stored: [(UInt64, StemForms)] = []
        for k in 0..<5000 {
            var f = StemForms()
            f.append(UInt32(k))
            if k % 3 == 0 { f.append(UInt32(k * 7)) }
            let key = rng.next()
            cache.insert(key, f)
            stored.append((key, f))
        }
        #expect(cache.count == 5000)
        for (key, f) in stored {
            let got = cache.find(key)
            #expect(got?.count == f.count && got?[0] == f[0] && got?[1] == f[1])
        }
        #expect(cache.find(12345) == nil)
        // Replacing keeps the count.
        var g = StemForms()
        g.append(99)
        cache.insert(stored[0].0, g)
        #expect(cache.count == 5000 && cache.find(stored[0].0)?[0] == 99)
        cache.removeAll()
        #expect(cache.count == 0 && cache.find(stored[1].0) == nil)
    }

    @Test func halfPrecisionRoundTrip() {
        for v: Float in [0, 1, -1, 0.5, 3.14159, -2.71828, 1e-3, -7.5e-4, 0x1p-14, 1000, 65504] {
            let h = WeightTable.half(v)
            let back = WeightTable.single(h)
            #expect(abs(back - v) <= abs(v) * 0x1p-11, "\(v) -> \(back)")
            #expect(WeightTable.half(back) == h)
        }
        // Below the smallest normal binary16: zero (with its sign); beyond the largest: the largest.
        #expect(WeightTable.single(WeightTable.half(1e-5)) == 0 && WeightTable.single(WeightTable.half(-1e-6)) == 0)
        #expect(WeightTable.single(WeightTable.half(1e6)) == 65504 && WeightTable.single(WeightTable.half(-1e6)) == -65504)
        #expect(WeightTable.single(WeightTable.half(.nan)) == 0)
        // Ties to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
        #expect(WeightTable.single(WeightTable.half(1 + 0x1p-11)) == 1)
        #expect(WeightTable.single(WeightTable.half(1 + 3 * 0x1p-11)) == 1 + 0x1p-9)
    }

    /// The answer model keeps its weights in half precision: each within 2^-11 of the trained value (or
    /// below 2^-14), and its logits within 1e-3 of the single-precision ones on real features.
    @Test func halfPrecisionAnswerWeightsStayClose() throws {
        let model = ModelFileTests.model
        let answers = try #require(model.answers)
        #expect(answers.model.weightTable.precision == .half)
        let examples = AnswerModel.trainingData(entries: MorphologyTests.entries, examples: ModelFileTests.others)
        var o = TrainingOptions()
        o.bits = AnswerModel.bits
        o.subjectWeight = model.subjectWeight
        o.morphology = model.morphology
        let single = Trainer.train(examples, categories: answers.entries.map(\.id) + [AnswerModel.noEntry], options: o).0
        #expect(single.weightTable.precision == .single)
        #expect(single.weightTable.halved() == answers.model.weightTable)
        let w = single.weights, h = answers.model.weights
        #expect(zip(w, h).allSatisfy { abs($0 - $1) <= max(abs($0) * 0x1p-11, 0x1p-14) })
        var x = model.makeExtractor()
        for (s, b, l) in Self.texts {
            let mask = Int32((1 << AnswerModel.bits) - 1)
            let f = x.features(subject: s, body: b, language: l)
            var v = FeatureVector(indices: f.indices.map { $0 & mask }, values: f.values)
            single.weigh(&v)
            let a = single.logits(v), q = answers.model.logits(v)
            #expect(zip(a, q).allSatisfy { abs($0 - $1) < 1e-3 }, "\(s)")
        }
    }
}
