import ArgumentParser
import Foundation
import TriageMIME

/// Shows what mailtriage reads from a message: headers, structure, report kind, text and new text.
struct Parse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse a message file (or - for stdin) and show what mailtriage reads from it.",
        discussion: "Useful to see why a ticket looks odd: every repair and every limit hit is listed as a warning.")

    @Argument(help: ArgumentHelp("The message (.eml), or - for standard input.", valueName: "file"))
    var file: String

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print the MIME tree.") var tree = false

    struct Output: Codable {
        var messageID: String?
        var from: MailAddress?
        var replyTo: [MailAddress]
        var to: [MailAddress]
        var subject: String
        var date: Int64?
        var inReplyTo: [String]
        var references: [String]
        var report: MessageReport
        var attachments: [ParsedMessage.Attachment]
        var textSource: ParsedMessage.TextSource
        var text: String
        var newText: String
        var parts: Int
        var depth: Int
        var warnings: [String]
    }

    func run() throws {
        let data: Data
        do {
            data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            printErr("mailtriage: cannot read \(file): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        let m = MIMEParser.parse([UInt8](data))
        let e = m.envelope
        let out = Output(messageID: e.messageID, from: e.from, replyTo: e.replyTo, to: e.to, subject: e.subject, date: e.date,
                         inReplyTo: e.inReplyTo, references: e.references, report: m.report, attachments: m.attachments,
                         textSource: m.textSource, text: m.text, newText: m.newText, parts: m.partCount, depth: m.depth,
                         warnings: m.warnings)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(out), as: UTF8.self))
            return
        }
        func addr(_ a: MailAddress?) -> String {
            guard let a else { return "-" }
            return a.name.map { "\($0) <\(a.address)>" } ?? a.address
        }
        print("Message-ID: \(e.messageID ?? "-")")
        print("From:       \(addr(e.from))")
        print("To:         \(e.to.map { addr($0) }.joined(separator: ", "))")
        print("Subject:    \(e.subject)")
        print("Report:     \(m.report.kind.rawValue)\(m.report.isList ? " (list)" : "")\(m.report.isBulk ? " (bulk)" : "")\(m.report.signals.isEmpty ? "" : ": " + m.report.signals.joined(separator: "; "))")
        print("Parts:      \(m.partCount), depth \(m.depth), text from \(m.textSource.rawValue)")
        for a in m.attachments {
            print("Attachment: part \(a.part) \(a.mimeType) \(a.size) bytes\(a.name.map { " \"\($0)\"" } ?? "")\(a.isTNEF ? " (TNEF)" : "")")
        }
        for w in m.warnings { print("Warning:    \(w)") }
        if tree {
            print("")
            printTree(m.root, indent: "")
        }
        print("\n--- text ---\n\(m.text)\n--- new text ---\n\(m.newText)")
    }

    func printTree(_ p: MIMEPart, indent: String) {
        let name = p.filename.map { " \"\($0)\"" } ?? ""
        print("\(indent)\(p.path.isEmpty ? "message" : p.path) \(p.contentType.mimeType) \(p.transferEncoding) \(p.bodyRange.count) bytes\(name)")
        for c in p.children { printTree(c, indent: indent + "  ") }
    }
}
