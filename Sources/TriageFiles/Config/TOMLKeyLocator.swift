/// Finds the line of a key in TOML text, so that errors found after decoding can still name a line.
/// It understands `[table]`, `[[array.of.tables]]` and `key = value` lines, which is all our files use;
/// when it cannot tell, it returns nil and the message names only the key path.
public struct TOMLKeyLocator: Sendable {
    struct Entry {
        var table: [String]  // e.g. ["mailbox#1"] for the second [[mailbox]]
        var key: String?
        var line: Int
    }

    private var entries: [Entry] = []

    public init(text: String) {
        var table: [String] = []
        var arrayCounts: [String: Int] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("[[") {
                let name = TOMLKeyLocator.headerName(line.dropFirst(2))
                let n = arrayCounts[name, default: -1] + 1
                arrayCounts[name] = n
                table = name.split(separator: ".").map(String.init)
                if table.isEmpty { table = [""] }  // "[[]]": not TOML, but no line is left unread for it
                table[table.count - 1] += "#\(n)"
                entries.append(Entry(table: table, key: nil, line: i + 1))
            } else if line.hasPrefix("[") {
                // A sub-table of an array element (`[mailbox.oauth2]` after `[[mailbox]]`) belongs to the latest element.
                let parts = TOMLKeyLocator.headerName(line.dropFirst()).split(separator: ".").map(String.init)
                table = parts.enumerated().map { k, part in
                    guard k < parts.count - 1, let n = arrayCounts[parts[0...k].joined(separator: ".")] else { return part }
                    return part + "#\(n)"
                }
                entries.append(Entry(table: table, key: nil, line: i + 1))
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                var key = line[..<eq].trimmingCharacters(in: " \t")
                if key.hasPrefix("\"") && key.hasSuffix("\"") && key.count >= 2 { key = String(key.dropFirst().dropLast()) }
                entries.append(Entry(table: table, key: key, line: i + 1))
            }
        }
    }

    static func headerName(_ s: Substring) -> String {
        let name = s.prefix(while: { $0 != "]" })
        return name.split(separator: ".").map { $0.trimmingCharacters(in: " \t\"") }.joined(separator: ".")
    }

    /// The line of `path` (e.g. ["mailbox", "1", "url"]); for a table or array element, its header line.
    public func line(for path: [String]) -> Int? {
        var table: [String] = []
        var key: String?
        var i = 0
        while i < path.count {
            if i + 1 < path.count, let idx = Int(path[i + 1]) {
                table.append("\(path[i])#\(idx)")
                i += 2
            } else if i == path.count - 1 {
                key = path[i]
                i += 1
            } else {
                table.append(path[i])
                i += 1
            }
        }
        if let key, let e = entries.first(where: { $0.table == table && $0.key == key }) { return e.line }
        if let key, let e = entries.first(where: { $0.key == nil && ($0.table == table + [key] || $0.table == table + ["\(key)#0"]) }) {
            return e.line
        }
        return entries.first(where: { $0.key == nil && $0.table == table })?.line
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var sub = Substring(self)
        while let f = sub.first, set.contains(f) { sub.removeFirst() }
        while let l = sub.last, set.contains(l) { sub.removeLast() }
        return String(sub)
    }
}
