import Foundation
import Testing
@testable import TriageCore
import TriageFiles

/// The shipped rules over the realistic mail of ../shared: the classifier's fast path (words from the
/// table, phrases marked by the rule index and matched on the word sequence) decides every rule and every
/// phrase as the byte search does.
@Suite struct RuleFastPathTests {
    @Test func shippedRulesMatchTheSameOnRealisticMail() throws {
        let rules = try RulesLoader.load(path: repoRoot.appendingPathComponent("config/rules.toml").path, categories: Category.defaults).rules
        var next: Int32 = 0
        let compiled = rules.map { CompiledRule($0, nextID: &next) }
        let index = RuleIndex(compiled)
        let path = repoRoot.appendingPathComponent("../shared/datasets/realistic/mails.jsonl").path
        let lines = try #require(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }, "no \(path)")
        var x = FeatureExtractor()
        var mails = 0, matched = 0
        for line in lines.split(separator: "\n") {
            let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let input = ClassifierInput(subject: o["subject"] as? String ?? "", body: o["body"] as? String ?? "")
            var ns: [UInt8] = [], nb: [UInt8] = []
            TextNormalizer.append(input.subject, to: &ns)
            TextNormalizer.append(input.body, to: &nb, maxBytes: 32 * 1024)
            x.read(normalizedSubject: ns, normalizedBody: nb)
            let fast = x.ruleText(subject: ns, body: nb, index: index), bytes = RuleText(input)
            mails += 1
            for r in compiled {
                let m = r.matches(input, fast, language: "de")
                #expect(m == r.matches(input, bytes, language: "de"), "\(r.rule.name): \(o["id"] ?? "")")
                if m { matched += 1 }
                for n in r.needles where fast.inEither(n) != bytes.inEither(n) {
                    Issue.record("\(String(decoding: n.bytes, as: UTF8.self)) in \(o["id"] ?? "")")
                }
            }
        }
        #expect(mails >= 400)
        #expect(matched > 50, "the rules should fire on some of this mail")
    }
}
