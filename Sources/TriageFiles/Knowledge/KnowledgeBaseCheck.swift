public import TriageCore

/// Consistency checks of a knowledge base for `check-config`.
public enum KnowledgeBaseCheck {
    public static let languages = ["de", "en"]

    /// `placeholders`: the operator's values from `[answers]`; nil skips the placeholder check.
    public static func problems(_ entries: [KnowledgeEntry], categories: [String], placeholders: Set<String>? = nil) -> [ConfigDiagnostic] {
        var out: [ConfigDiagnostic] = []
        if let known = placeholders {
            for e in entries {
                for p in AnswerTemplate.placeholders(in: e.body) where !AnswerTemplate.builtIn.contains(p) && !known.contains(p) {
                    out.append(ConfigDiagnostic(.error, file: e.path, line: nil, keyPath: "{{\(p)}}",
                                                "unknown placeholder: give it a value in [answers] placeholders or remove it"))
                }
            }
        }
        var ids: [String: String] = [:]
        for e in entries {
            if !categories.contains(e.category) || e.category == Category.other {
                out.append(ConfigDiagnostic(.error, file: e.path, line: nil, keyPath: "category",
                                            "unknown or non-automatable category \"\(e.category)\""))
            }
            if !languages.contains(e.language) {
                out.append(ConfigDiagnostic(.error, file: e.path, line: nil, keyPath: "language", "language must be de or en"))
            }
            if let other = ids[e.id] {
                out.append(ConfigDiagnostic(.error, file: e.path, line: nil, keyPath: "id", "duplicate id \"\(e.id)\" (also in \(other))"))
            }
            ids[e.id] = e.path
            let twins = entries.filter { $0.category == e.category && $0.language != e.language }
            if twins.isEmpty {
                out.append(ConfigDiagnostic(.warning, file: e.path, line: nil, keyPath: "language",
                                            "no entry of category \(e.category) in the other language"))
            }
            if let dir = e.path.split(separator: "/").dropLast().last, String(dir) != e.category {
                out.append(ConfigDiagnostic(.warning, file: e.path, line: nil, keyPath: "category",
                                            "entry of category \(e.category) lies in folder \(dir)"))
            }
        }
        for cat in categories where cat != Category.other {
            let inCat = entries.filter { $0.category == cat }
            for lang in languages where !inCat.isEmpty && !inCat.contains(where: { $0.language == lang }) {
                out.append(ConfigDiagnostic(.warning, file: "knowledge base", line: nil, keyPath: cat,
                                            "no \(lang) entry in this category: \(lang) mail of this kind will not be answered"))
            }
        }
        return out
    }
}
