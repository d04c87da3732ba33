public import Foundation
public import TriageCore
import TriageMIME

/// Reads training and evaluation data: the knowledge base, labelled files (JSONL or CSV with
/// `text,label`, optionally `subject`, `language`, `id`), and Maildir folders named after categories.
public enum TrainingData {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every entry of a knowledge base directory (`<category>/<entry>.md`) and its `_examples/` files.
    public static func knowledgeBase(at dir: String) throws -> (entries: [KnowledgeEntry], examples: [TrainingExample]) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw Problem(description: "\(dir): knowledge base directory not found")
        }
        var entries: [KnowledgeEntry] = []
        var examples: [TrainingExample] = []
        for sub in try fm.contentsOfDirectory(atPath: dir).sorted() {
            let path = (dir as NSString).appendingPathComponent(sub)
            guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { continue }
            if sub == "_examples" {
                for f in try fm.contentsOfDirectory(atPath: path).sorted() where f.hasSuffix(".jsonl") || f.hasSuffix(".csv") {
                    examples += try labelledFile((path as NSString).appendingPathComponent(f)).map {
                        var e = $0
                        e.source = "examples"
                        return e
                    }
                }
                continue
            }
            if sub.hasPrefix("_") { continue }  // _templates/ and other folders that are not categories
            for f in try fm.contentsOfDirectory(atPath: path).sorted() where f.hasSuffix(".md") {
                let p = (path as NSString).appendingPathComponent(f)
                guard let text = fm.contents(atPath: p).flatMap({ String(data: $0, encoding: .utf8) }) else {
                    throw Problem(description: "\(p): cannot read the file or it is not UTF-8")
                }
                entries.append(try KnowledgeEntry.parse(text, path: p))
            }
        }
        return (entries, examples)
    }

    /// A labelled file: `.jsonl` (one object per line) or `.csv` (header row with `text` and `label`).
    public static func labelledFile(_ path: String) throws -> [TrainingExample] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(description: "\(path): cannot read the file") }
        let name = (path as NSString).lastPathComponent
        if path.hasSuffix(".csv") {
            let rows = CSV.parse(String(decoding: data, as: UTF8.self))
            guard let header = rows.first, let ti = header.firstIndex(of: "text"), let li = header.firstIndex(of: "label") else {
                throw Problem(description: "\(path):1: the header must name the columns text and label")
            }
            let si = header.firstIndex(of: "subject"), gi = header.firstIndex(of: "language")
            return rows.dropFirst().enumerated().compactMap { (k, r) in
                guard r.count > max(ti, li) else { return nil }
                return TrainingExample(subject: si.flatMap { $0 < r.count ? r[$0] : nil } ?? "", body: r[ti], label: r[li],
                                       language: gi.flatMap { $0 < r.count ? r[$0] : nil }, source: name)
            }
        }
        return try jsonLines(data, path: path).map { (line, o) in
            guard let label = o["label"] as? String else { throw Problem(description: "\(path):\(line): missing \"label\"") }
            return try example(o, line: line, path: path, label: label, source: name)
        }
    }

    /// Objects of a JSON Lines file with their line numbers; blank lines are skipped.
    public static func jsonLines(_ data: Data, path: String) throws -> [(Int, [String: Any])] {
        var out: [(Int, [String: Any])] = []
        for (n, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw Problem(description: "\(path):\(n + 1): not a JSON object")
            }
            out.append((n + 1, o))
        }
        return out
    }

    static func example(_ o: [String: Any], line: Int, path: String, label: String, source: String) throws -> TrainingExample {
        let subject = o["subject"] as? String ?? ""
        guard let body = (o["text"] as? String) ?? (o["body"] as? String) else {
            throw Problem(description: "\(path):\(line): needs \"text\" or \"subject\"/\"body\"")
        }
        return TrainingExample(subject: subject, body: body, label: label, language: o["language"] as? String, source: source)
    }

    /// `dir/<category>/{cur,new}/*` (or files directly in `dir/<category>/`): each message's subject and new text.
    public static func maildir(_ dir: String, categories: [String]) throws -> [TrainingExample] {
        let fm = FileManager.default
        var out: [TrainingExample] = []
        for cat in categories {
            let base = (dir as NSString).appendingPathComponent(cat)
            var files: [String] = []
            for sub in ["cur", "new", ""] {
                let d = sub.isEmpty ? base : (base as NSString).appendingPathComponent(sub)
                guard let names = try? fm.contentsOfDirectory(atPath: d) else { continue }
                for n in names.sorted() {
                    let p = (d as NSString).appendingPathComponent(n)
                    var isDir: ObjCBool = false
                    if fm.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue { files.append(p) }
                }
            }
            for p in files {
                guard let data = fm.contents(atPath: p) else { continue }
                let m = MIMEParser.parse([UInt8](data))
                out.append(TrainingExample(subject: m.envelope.subject, body: m.newText.isEmpty ? m.text : m.newText, label: cat,
                                           source: "maildir"))
            }
        }
        return out
    }
}

/// RFC 4180 CSV: quoted fields with doubled quotes and line breaks inside.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var i = 0
        let b = Array(text.utf8)
        while i < b.count {
            let c = b[i]
            if inQuotes {
                if c == 0x22 {
                    if i + 1 < b.count && b[i + 1] == 0x22 { field.append(0x22); i += 1 } else { inQuotes = false }
                } else {
                    field.append(c)
                }
            } else if c == 0x22 {
                inQuotes = true
            } else if c == 0x2C {
                row.append(String(decoding: field, as: UTF8.self)); field = []
            } else if c == 0x0A || c == 0x0D {
                if c == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A { i += 1 }
                row.append(String(decoding: field, as: UTF8.self)); field = []
                rows.append(row); row = []
            } else {
                field.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { row.append(String(decoding: field, as: UTF8.self)); rows.append(row) }
        return rows
    }
}

/// Where the trained model lives and how it is written (atomically, next to the database).
public enum ModelStore {
    public static func path(stateDir: String) -> String { (stateDir as NSString).appendingPathComponent("classifier.model") }

    /// A summary line of a model the daemon trained itself (no `train`): retrained whole when the knowledge base changes.
    public static let trainedAtStartUp = "trained at start-up"

    /// The model at `path`, its weight tables read in place from a read-only mapping of the file (only the
    /// pages classification touches become resident); nil when there is no file. A damaged, truncated or
    /// unreadable file is a `TriageError` with code `.model`.
    public static func load(_ path: String) throws -> ClassifierModel? {
        guard let file = try ModelBytes.mapping(path) else { return nil }
        return try ClassifierModel(file: file)
    }

    /// The model with an answer model for these knowledge-base entries: the one it carries when it was
    /// trained from the same entries, otherwise one trained now (`retrained`) from the entries and the
    /// `other` examples.
    public static func withAnswers(_ model: ClassifierModel, entries: [KnowledgeEntry], examples: [TrainingExample])
        -> (model: ClassifierModel, retrained: Bool)
    {
        guard !entries.isEmpty else { return (model, false) }
        if let a = model.answers, a.fingerprint == AnswerModel.fingerprint(entries) { return (model, false) }
        var m = model
        m.answers = AnswerModel.train(entries: entries, examples: examples, morphology: model.morphology,
                                      subjectWeight: model.subjectWeight).0
        return (m, true)
    }

    /// Writes a new file beside the old one and renames it over: a classifier still reading the old model
    /// through its mapping keeps the old file's pages (a mapped file is never written in place).
    public static func save(_ model: ClassifierModel, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = path + ".tmp"
        try Data(model.serialized()).write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else {
            throw TriageError(.io, "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
