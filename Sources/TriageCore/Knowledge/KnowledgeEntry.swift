/// One FAQ entry of the knowledge base: `knowledge-base/<category>/<entry>.md`, front matter between
/// `---` lines and a Markdown answer used as a plain-text template.
///
/// ```
/// ---
/// id: password-reset-en
/// category: password
/// language: en
/// title: Resetting a forgotten password
/// questions:
///   - I forgot my password
///   - How can I reset my password?
/// keywords: [password, reset, forgotten]
/// audiences: [shop]          (optional: who it is written for; mailboxes with `audiences` use only theirs)
/// ---
/// Hello {{customer_name}}, ...
/// ```
public struct KnowledgeEntry: Sendable, Equatable {
    public var id: String
    public var category: String
    public var language: String
    public var title: String
    public var questions: [String]
    public var keywords: [String]
    /// Who the answer is written for ("shop", "it-desk", ...); empty: everyone. A mailbox that names its
    /// audiences answers only with entries for one of them (or for everyone).
    public var audiences: [String] = []
    public var body: String
    /// Where it was read from (for messages).
    public var path: String

    /// Every problem is reported with the file and line.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var message: String
        public var description: String { "\(path):\(line): \(message)" }
    }

    public init(id: String, category: String, language: String, title: String, questions: [String], keywords: [String],
                body: String, path: String)
    {
        self.id = id
        self.category = category
        self.language = language
        self.title = title
        self.questions = questions
        self.keywords = keywords
        self.body = body
        self.path = path
    }

    /// Parses one entry file. Missing required fields are errors; the caller checks categories.
    public static func parse(_ text: String, path: String) throws -> KnowledgeEntry {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { l -> Substring in
            l.hasSuffix("\r") ? l.dropLast() : l
        }
        guard lines.first?.trimmingCharacters() == "---" else {
            throw ParseError(path: path, line: 1, message: "the entry must start with a front matter block (---)")
        }
        guard let end = lines.indices.dropFirst().first(where: { lines[$0].trimmingCharacters() == "---" }) else {
            throw ParseError(path: path, line: 1, message: "the front matter block is not closed with ---")
        }
        var scalars: [String: (String, Int)] = [:]
        var lists: [String: [String]] = [:]
        var currentList: String?
        for n in 1..<end {
            let raw = lines[n]
            let t = raw.trimmingCharacters()
            if t.isEmpty || t.hasPrefix("#") { continue }
            if t.hasPrefix("- ") || t == "-" {
                guard let key = currentList else {
                    throw ParseError(path: path, line: n + 1, message: "list item without a key")
                }
                lists[key, default: []].append(unquote(String(t.dropFirst(1)).trimmingCharacters()))
                continue
            }
            guard let colon = t.firstIndex(of: ":") else {
                throw ParseError(path: path, line: n + 1, message: "expected \"key: value\"")
            }
            let key = String(t[..<colon]).trimmingCharacters().lowercased()
            let value = String(t[t.index(after: colon)...]).trimmingCharacters()
            if value.isEmpty {
                currentList = key
                lists[key] = lists[key] ?? []
            } else if value.hasPrefix("[") && value.hasSuffix("]") {
                currentList = nil
                lists[key] = value.dropFirst().dropLast().split(separator: ",").map { unquote($0.trimmingCharacters()) }
                    .filter { !$0.isEmpty }
            } else {
                currentList = nil
                scalars[key] = (unquote(value), n + 1)
            }
        }
        func required(_ k: String) throws -> String {
            guard let v = scalars[k]?.0, !v.isEmpty else {
                throw ParseError(path: path, line: 1, message: "missing field \"\(k)\"")
            }
            return v
        }
        let body = lines[(end + 1)...].joined(separator: "\n").trimmingCharacters()
        guard !body.isEmpty else { throw ParseError(path: path, line: end + 2, message: "the answer text is empty") }
        let questions = lists["questions"] ?? lists["sample_questions"] ?? []
        guard !questions.isEmpty else { throw ParseError(path: path, line: 1, message: "missing field \"questions\" (sample questions)") }
        var entry = KnowledgeEntry(id: try required("id"), category: try required("category"), language: try required("language"),
                                   title: try required("title"), questions: questions, keywords: lists["keywords"] ?? [],
                                   body: body, path: path)
        entry.audiences = lists["audiences"] ?? scalars["audiences"].map { [$0.0] } ?? []
        if let bad = entry.audiences.first(where: { !isAudienceName($0) }) {
            throw ParseError(path: path, line: 1, message: "\"\(bad)\" is not an audience name (letters, digits, \"-\" and \"_\")")
        }
        return entry
    }

    /// Letters, digits, "-" and "_".
    public static func isAudienceName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    /// Whether a mailbox for `audiences` (empty: everyone) may answer with this entry.
    public func serves(_ audiences: [String]) -> Bool {
        audiences.isEmpty || self.audiences.isEmpty || self.audiences.contains(where: audiences.contains)
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, let l = s.last, f == l, f == "\"" || f == "'" {
            return String(s.dropFirst().dropLast())
        }
        return s
    }

    /// Anchor phrases per category from a set of entries: their keywords.
    public static func anchors(_ entries: [KnowledgeEntry]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for e in entries {
            for k in e.keywords where !out[e.category, default: []].contains(k) { out[e.category, default: []].append(k) }
        }
        return out
    }

    /// The training examples this entry contributes: its questions, and its title with the keywords.
    public var trainingExamples: [TrainingExample] {
        var out = questions.map { TrainingExample(body: $0, label: category, language: language, source: "knowledge-base") }
        out.append(TrainingExample(subject: title, body: keywords.joined(separator: " "), label: category, language: language,
                                   source: "knowledge-base"))
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
