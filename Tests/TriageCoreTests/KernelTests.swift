import Testing
@testable import TriageCore

/// The inner loops written for speed give what the plain loops give, to the bit.
@Suite struct KernelTests {
    /// Category by category, feature by feature: the loop the vector version replaces.
    static func plainLogits(_ v: FeatureVector, weights: [Float], bias: [Float]) -> [Float] {
        var out = bias
        for (k, i) in v.indices.enumerated() {
            for j in 0..<bias.count { out[j] += weights[Int(i) * bias.count + j] * v.values[k] }
        }
        return out
    }

    @Test(arguments: [1, 3, 8, 9, 11, 16, 17, 24])
    func logitsEqualThePlainLoop(categories c: Int) {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D &+ UInt64(c)
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        func float() -> Float { Float(Int64(bitPattern: next() % 2_000_001) - 1_000_000) / 123_457 }
        let rows = 97
        let weights = (0..<(rows * c)).map { _ in float() }
        let bias = (0..<c).map { _ in float() }
        for _ in 0..<50 {
            // The last rows too: there a row cannot be read as a whole vector.
            var indices = (0..<40).map { _ in Int32(next() % UInt64(rows)) }
            indices += [Int32(rows - 1), Int32(rows - 2), 0]
            let v = FeatureVector(indices: indices, values: indices.map { _ in float() })
            let fast = ClassifierModel.logits(v, weights: weights, bias: bias)
            let plain = Self.plainLogits(v, weights: weights, bias: bias)
            #expect(fast.map(\.bitPattern) == plain.map(\.bitPattern))
        }
    }

    /// Repeated words bump the same indices many times: each index is kept once, with its whole sum.
    @Test func featuresKeepEachIndexOnce() {
        var x = FeatureExtractor()
        let texts = [
            ("Passwort", "passwort passwort passwort Passwort, kennwortrücksetzung und passwörter, passwort"),
            ("", "ok ok ok ok ok ok ok ok"),
            ("order order", "where is my order order order 4711 4711"),
        ]
        for (subject, body) in texts {
            let v = x.features(subject: subject, body: body, language: "de")
            #expect(Set(v.indices).count == v.indices.count)
            #expect(v.values.allSatisfy { $0 != 0 })
            let norm = v.values.reduce(0) { $0 + $1 * $1 }
            #expect(abs(norm - 1) < 1e-5)
        }
        // The same text twice in a row: the scratch was left clean.
        let a = x.features(subject: "a", body: "passwort passwort vergessen", language: "de")
        let b = x.features(subject: "a", body: "passwort passwort vergessen", language: "de")
        #expect(a.indices == b.indices && a.values.map(\.bitPattern) == b.values.map(\.bitPattern))
    }
}
