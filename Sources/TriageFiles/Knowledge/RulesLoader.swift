import Foundation
import TOMLKit
public import TriageCore

/// Reads the rules file (`rules.toml`): `[[rule]]` tables with conditions and actions. Every problem is
/// reported with file, line, rule name and message; unknown keys are warnings.
///
/// ```toml
/// [[rule]]
/// name = "complaint"
/// any = ["beschwerde", "complaint", "unverschämt*"]
/// force = "manual"            # or "other"
/// priority = "high"
///
/// [[rule]]
/// name = "password-words"
/// subject_any = ["passwort", "kennwort", "password"]
/// category = "password"
/// weight = 1.5                # added to the category's log-odds
/// ```
public enum RulesLoader {
    static let listKeys = ["any", "all", "not", "subject_any", "body_any", "regex", "subject_regex", "body_regex", "sender",
                           "mailbox", "language"]
    static let scalarKeys = ["name", "category", "weight", "force", "target_group", "priority", "description"]

    public static func load(path: String, categories: [String]) throws -> (rules: [ClassificationRule], warnings: [ConfigDiagnostic]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(diagnostics: [ConfigDiagnostic(.error, file: path, line: nil, keyPath: "",
                                                             "cannot read the rules file (missing, unreadable or not UTF-8)")])
        }
        return try parse(text: text, file: path, categories: categories)
    }

    public static func parse(text: String, file: String, categories: [String]) throws
        -> (rules: [ClassificationRule], warnings: [ConfigDiagnostic])
    {
        let locator = TOMLKeyLocator(text: text)
        var diags: [ConfigDiagnostic] = []
        let table = try tomlTable(text, file: file)
        for key in table.keys where key != "rule" {
            diags.append(ConfigDiagnostic(.warning, file: file, line: locator.line(for: [key]), keyPath: key, "unknown key (ignored)"))
        }
        var rules: [ClassificationRule] = []
        var names = Set<String>()
        let array = table["rule"]?.array
        if table["rule"] != nil && array == nil {
            diags.append(ConfigDiagnostic(.error, file: file, line: locator.line(for: ["rule"]), keyPath: "rule",
                                          "must be an array of [[rule]] tables"))
        }
        for (i, item) in (array ?? TOMLArray()).enumerated() {
            guard let t = item.table else {
                diags.append(ConfigDiagnostic(.error, file: file, line: locator.line(for: ["rule", "\(i)"]), keyPath: "rule[\(i)]",
                                              "must be a table"))
                continue
            }
            let name = t["name"]?.string ?? ""
            let label = name.isEmpty ? "rule[\(i)]" : "rule \"\(name)\""
            func err(_ key: String?, _ m: String) {
                let path = key.map { ["rule", "\(i)", $0] } ?? ["rule", "\(i)"]
                diags.append(ConfigDiagnostic(.error, file: file, line: locator.line(for: path), keyPath: label + (key.map { "." + $0 } ?? ""), m))
            }
            if name.isEmpty { err("name", "every rule needs a name") }
            else if !names.insert(name).inserted { err("name", "duplicate rule name") }
            for key in t.keys where !listKeys.contains(key) && !scalarKeys.contains(key) {
                diags.append(ConfigDiagnostic(.warning, file: file, line: locator.line(for: ["rule", "\(i)", key]),
                                              keyPath: label + "." + key, "unknown key (ignored)"))
            }
            func list(_ key: String) -> [String] {
                guard let v = t[key] else { return [] }
                if let s = v.string { return [s] }
                guard let a = v.array else { err(key, "must be a string or an array of strings"); return [] }
                var out: [String] = []
                for x in a {
                    if let s = x.string { out.append(s) } else { err(key, "must contain only strings") }
                }
                return out
            }
            func patterns(_ key: String) -> [RulePattern] {
                list(key).compactMap { p in
                    do { return try RulePattern(p) } catch {
                        err(key, "invalid regular expression \"\(p)\": \(error)")
                        return nil
                    }
                }
            }
            var when = RuleCondition()
            when.any = list("any"); when.all = list("all"); when.none = list("not")
            when.subjectAny = list("subject_any"); when.bodyAny = list("body_any")
            when.regex = patterns("regex"); when.subjectRegex = patterns("subject_regex"); when.bodyRegex = patterns("body_regex")
            when.senders = list("sender"); when.mailboxes = list("mailbox"); when.languages = list("language")
            for k in ["any", "all", "not", "subject_any", "body_any"] where list(k).contains(where: { TextNormalizer.normalize($0).isEmpty }) {
                err(k, "contains a phrase with no letters or digits")
            }
            if when.isEmpty { err(nil, "\(label) has no condition (it would match every message)") }
            if !(when.regex.isEmpty && when.subjectRegex.isEmpty && when.bodyRegex.isEmpty)
                && when.any.isEmpty && when.all.isEmpty && when.subjectAny.isEmpty && when.bodyAny.isEmpty
                && when.senders.isEmpty && when.mailboxes.isEmpty
            {
                diags.append(ConfigDiagnostic(.warning, file: file, line: locator.line(for: ["rule", "\(i)"]), keyPath: label,
                                              "a regular expression runs on every message: add an `any` (or `subject_any`, `body_any`) of words it needs so it runs only on mail that has them"))
            }
            var rule = ClassificationRule(name: name, when: when)
            if let c = t["category"] {
                if let s = c.string, categories.contains(s) { rule.category = s }
                else { err("category", "unknown category \(c.string.map { "\"\($0)\"" } ?? "value"); known: \(categories.joined(separator: ", "))") }
            }
            if let w = t["weight"] {
                if let d = w.double { rule.weight = d } else if let n = w.int { rule.weight = Double(n) }
                else { err("weight", "must be a number") }
            }
            if let f = t["force"] {
                if let s = f.string, let force = ClassificationRule.Force(rawValue: s) { rule.force = force }
                else { err("force", "must be \"manual\" or \"other\"") }
            }
            if let g = t["target_group"] { if let s = g.string { rule.targetGroup = s } else { err("target_group", "must be a string") } }
            if let p = t["priority"] { if let s = p.string { rule.priority = s } else { err("priority", "must be a string") } }
            if rule.category == nil && rule.force == nil && rule.targetGroup == nil && rule.priority == nil {
                err(nil, "\(label) has no action (category, force, target_group or priority)")
            }
            rules.append(rule)
        }
        if diags.contains(where: { $0.severity == .error }) { throw ConfigError(diagnostics: diags) }
        return (rules, diags)
    }
}
