import ArgumentParser
import Foundation
import TriageMIME

/// Measures MIME parsing with text extraction over a directory tree of messages: each file is read,
/// parsed, its body text chosen and decoded, HTML converted, and quotes stripped. Files are read one at
/// a time, so peak memory follows the largest message, not the corpus. Each file's parse is also timed
/// (best over the passes, the read left out) and the slowest file per byte is reported.
struct ParseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "MIME parse throughput over a directory of messages (see Benchmarks/parse.sh).")

    @Argument(help: "Directory (searched recursively) or files.") var paths: [String]
    @Option(help: "Passes over the corpus; the best pass is reported.") var rounds = 5
    @Option(help: "Smallest file considered for the slowest-file report (a smaller file's time is per-message overhead, which msg/s shows).")
    var slowestMinBytes = 10_000
    @Flag(help: "Print what each file parses to (envelope, text, new text, attachments, report, warnings) instead of timing: diff the output of two builds to check that a change keeps behaviour.")
    var dump = false

    func run() throws {
        let files = collect(paths)
        guard !files.isEmpty else { throw ValidationError("no files under \(paths)") }
        if dump {
            for f in files {
                guard let data = FileManager.default.contents(atPath: f) else { continue }
                print(Self.describe(MIMEParser.parse([UInt8](data)), file: f))
            }
            return
        }
        var best = Double.infinity
        var bytes = 0
        var textChars = 0
        var fileBest = [UInt64](repeating: .max, count: files.count)  // nanoseconds, best pass
        var fileSize = [Int](repeating: 0, count: files.count)
        for _ in 0..<rounds {
            bytes = 0
            textChars = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for (i, f) in files.enumerated() {
                guard let data = FileManager.default.contents(atPath: f) else { continue }
                bytes += data.count
                fileSize[i] = data.count
                let t0 = DispatchTime.now().uptimeNanoseconds
                let m = MIMEParser.parse([UInt8](data))
                textChars += m.text.utf8.count + m.newText.utf8.count
                fileBest[i] = min(fileBest[i], DispatchTime.now().uptimeNanoseconds - t0)
            }
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, secs)
        }
        print(String(format: "mailtriage: %d files, %.1f MB, best of %d: %.3f s, %.0f msg/s, %.1f MB/s (text %d bytes)",
                     files.count, Double(bytes) / 1e6, rounds, best, Double(files.count) / best, Double(bytes) / 1e6 / best, textChars))
        // Lowest bytes per nanosecond among the files large enough for their size to dominate their time.
        let candidates = files.indices.filter { fileSize[$0] >= slowestMinBytes && fileBest[$0] != .max }
        func rate(_ i: Int) -> Double { Double(fileSize[i]) / Double(max(fileBest[i], 1)) }
        if let s = candidates.min(by: { rate($0) < rate($1) }) {
            let secs = Double(max(fileBest[s], 1)) / 1e9
            print("  slowest file of \(slowestMinBytes) bytes or more: \(files[s]), \(fileSize[s]) bytes, "
                + String(format: "%.1f MB/s (%.3f ms, best of %d)", Double(fileSize[s]) / 1e6 / secs, secs * 1e3, rounds))
        }
    }

    /// One line per field, strings escaped, so a difference between two builds shows as a line of `diff`.
    static func describe(_ m: ParsedMessage, file: String) -> String {
        let e = m.envelope
        func q(_ s: String?) -> String { s.map { String(reflecting: $0) } ?? "nil" }
        func addr(_ a: MailAddress?) -> String { a.map { "\(q($0.name)) \(q($0.address))" } ?? "nil" }
        var lines = ["== \(file)",
                     "message-id \(q(e.messageID))",
                     "from \(addr(e.from))",
                     "reply-to \(e.replyTo.map(addr).joined(separator: " | "))",
                     "to \(e.to.map(addr).joined(separator: " | "))",
                     "subject \(q(e.subject))",
                     "date \(e.date.map(String.init) ?? "nil")",
                     "in-reply-to \(e.inReplyTo.map(q).joined(separator: " "))",
                     "references \(e.references.map(q).joined(separator: " "))",
                     "source \(m.textSource.rawValue) parts \(m.partCount) depth \(m.depth)",
                     "text \(q(m.text))",
                     "new-text \(q(m.newText))"]
        for a in m.attachments {
            lines.append("attachment \(a.part) \(q(a.name)) \(a.mimeType) \(a.size) \(q(a.disposition)) tnef \(a.isTNEF)")
        }
        lines.append("report \(m.report.kind.rawValue) list \(m.report.isList) bulk \(m.report.isBulk) \(m.report.signals.joined(separator: ","))")
        lines += m.warnings.map { "warning \(q($0))" }
        return lines.joined(separator: "\n")
    }

    func collect(_ paths: [String]) -> [String] {
        var out: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            if !isDir.boolValue { out.append(p); continue }
            let e = FileManager.default.enumerator(atPath: p)
            while let rel = e?.nextObject() as? String {
                let full = (p as NSString).appendingPathComponent(rel)
                var d: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &d), !d.boolValue { out.append(full) }
            }
        }
        return out.sorted()
    }
}
