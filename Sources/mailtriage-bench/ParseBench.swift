import ArgumentParser
import Foundation
import TriageMIME

/// Measures MIME parsing with text extraction over a directory tree of messages: each file is read,
/// parsed, its body text chosen and decoded, HTML converted, and quotes stripped. Files are read one at
/// a time, so peak memory follows the largest message, not the corpus.
struct ParseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "MIME parse throughput over a directory of messages (see Benchmarks/parse.sh).")

    @Argument(help: "Directory (searched recursively) or files.") var paths: [String]
    @Option(help: "Passes over the corpus; the best pass is reported.") var rounds = 5

    func run() throws {
        let files = collect(paths)
        guard !files.isEmpty else { throw ValidationError("no files under \(paths)") }
        var best = Double.infinity
        var bytes = 0
        var textChars = 0
        for _ in 0..<rounds {
            bytes = 0
            textChars = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for f in files {
                guard let data = FileManager.default.contents(atPath: f) else { continue }
                bytes += data.count
                let m = MIMEParser.parse([UInt8](data))
                textChars += m.text.utf8.count + m.newText.utf8.count
            }
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, secs)
        }
        print(String(format: "mailtriage: %d files, %.1f MB, best of %d: %.3f s, %.0f msg/s, %.1f MB/s (text %d bytes)",
                     files.count, Double(bytes) / 1e6, rounds, best, Double(files.count) / best, Double(bytes) / 1e6 / best, textChars))
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
