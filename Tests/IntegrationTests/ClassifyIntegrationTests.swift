import Foundation
import Testing
import TriageCore
import TriageStore

/// Classification end to end: `serve --once` with the shipped knowledge base and rules against the real
/// Dovecot, then the queue and the CLI commands through the binary.
@Suite(.serialized) struct ClassifyIntegrationTests {
    let server: MailServer
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    init() throws {
        server = try MailServer.fromEnvironment()
    }

    static func mail(_ id: String, from: String, subject: String, body: String, extra: String = "") -> [UInt8] {
        Array(("From: \(from)\r\nTo: support@example.com\r\nSubject: \(subject)\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            + "Message-ID: <\(id)-\(UUID().uuidString)@example.org>\r\nMIME-Version: 1.0\r\n\(extra)"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(body)\r\n").utf8)
    }

    @Test func newMailIsClassifiedIntoTheQueue() throws {
        let user = MailServer.newUser("c")
        try server.deliver(user, [])  // the mailbox exists before the first poll; mail after it is eligible
        let setup = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: """
            knowledge_base = "\(Self.repo)/knowledge-base"
            [classifier]
            rules_file = "\(Self.repo)/config/rules.toml"
            """, sharedModel: false)  // the first start trains the model and saves it
        let check = try CLI.run(["check-config", "--config", setup.configPath])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("rules.toml: OK"))
        #expect(check.stdout.contains("knowledge-base: OK"))
        #expect(!FileManager.default.fileExists(atPath: setup.root + "/state/classifier.model"))
        let first = try setup.serveOnce()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: setup.root + "/state/classifier.model"), "the first start saves the model it trained")

        try server.deliver(user, [
            Self.mail("pw", from: "Jürgen <j@example.de>", subject: "Passwort vergessen",
                      body: "Hallo, ich habe mein Passwort vergessen und komme nicht mehr in mein Kundenkonto. Bitte um Hilfe."),
            Self.mail("xl", from: "Ann <ann@example.com>", subject: "Excel question",
                      body: "Hi, how do I freeze the top row in Excel so it stays visible when I scroll?"),
            Self.mail("cmp", from: "Max <max@example.de>", subject: "Beschwerde",
                      body: "Ich möchte mich beschweren: Ihr Service ist eine Frechheit, mein Anwalt ist informiert."),
            Self.mail("ooo", from: "Eva <eva@example.de>", subject: "Automatische Antwort: Passwort vergessen",
                      body: "Ich bin bis Montag nicht im Büro.", extra: "Auto-Submitted: auto-replied\r\n"),
        ])
        let second = try setup.serveOnce()
        #expect(second.status == 0, "\(second.stderr)")
        let store = try SQLiteTicketStore(path: setup.databasePath)
        let tickets = try store.tickets(TicketQuery())
        #expect(tickets.count == 4)
        func ticket(_ subject: String) -> TicketSummary? { tickets.first { $0.subject == subject } }
        #expect(ticket("Passwort vergessen")?.category == "password")
        #expect(ticket("Passwort vergessen")?.language == "de")
        #expect(ticket("Excel question")?.category == "office")
        #expect(ticket("Excel question")?.language == "en")
        #expect(ticket("Beschwerde")?.category == "other")
        #expect(ticket("Beschwerde")?.degree == .manual)
        let ooo = ticket("Automatische Antwort: Passwort vergessen")
        #expect(ooo?.report == "auto_reply")
        #expect(ooo?.degree == .manual)

        let list = try CLI.run(["queue", "list", "--config", setup.configPath])
        #expect(list.status == 0)
        #expect(list.stdout.contains("password"))
        #expect(list.stdout.contains("(auto_reply)"))

        // An agent's correction is recorded and feeds the next training.
        let excel = try #require(ticket("Excel question"))
        let fix = try CLI.run(["queue", "recategorize", "\(excel.id)", "general", "--as", "tester", "--config", setup.configPath])
        #expect(fix.status == 0, "\(fix.stderr)")
        #expect(try store.tickets(TicketQuery()).first { $0.id == excel.id }?.category == "general")
        let bad = try CLI.run(["queue", "recategorize", "999999", "general", "--config", setup.configPath])
        #expect(bad.status == 1 && bad.stderr.contains("no ticket 999999"))
        let train = try CLI.run(["train", "--config", setup.configPath])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("source corrections: 1"), "\(train.stdout)")
        #expect(FileManager.default.fileExists(atPath: setup.root + "/state/classifier.model"))
    }

    @Test func trainClassifyAndEvalThroughTheBinary() throws {
        let dir = NSTemporaryDirectory() + "mt-cls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let kb = Self.repo + "/knowledge-base", rules = Self.repo + "/config/rules.toml"
        let train = try CLI.run(["train", "--knowledge-base", kb, "--rules", rules, "--state-dir", dir])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("cross-validated accuracy"))
        #expect(FileManager.default.fileExists(atPath: dir + "/classifier.model"))

        let text = try CLI.run(["classify", "--state-dir", dir, "--rules", rules, "--json", "--text",
                                "Wie kann ich in Outlook eine Signatur einfügen?"])
        #expect(text.status == 0, "\(text.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(text.stdout.utf8)) as? [String: Any]
        #expect(obj?["category"] as? String == "office")
        #expect(obj?["language"] as? String == "de")

        let input = dir + "/in.jsonl"
        try """
            {"id": 1, "text": "I forgot my password, how do I reset it?"}
            {"id": "b", "subject": "Rechnung", "body": "Bitte schicken Sie mir die Rechnung zu meiner Bestellung."}

            """.write(toFile: input, atomically: true, encoding: .utf8)
        let bulk = try CLI.run(["classify", "--state-dir", dir, "--rules", rules, "--jsonl", input])
        #expect(bulk.status == 0, "\(bulk.stderr)")
        let lines = bulk.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 2)
        #expect(lines.first?["id"] as? String == "1" && lines.first?["category"] as? String == "password")
        #expect(lines.last?["category"] as? String == "order_info" && lines.last?["language"] as? String == "de")
        #expect(lines.allSatisfy { $0["confidence"] is Double && $0["degree"] is String })

        let eval = try CLI.run(["eval", "--state-dir", dir, "--rules", rules, "--data", Self.repo + "/Benchmarks/data/own-holdout.jsonl"])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("confusion"))
        #expect(eval.stdout.contains("shipped"))

        let eml = dir + "/m.eml"
        try Data(Self.mail("f", from: "a@example.org", subject: "Where is my order?", body: "My parcel has not arrived yet.")).write(to: URL(fileURLWithPath: eml))
        let file = try CLI.run(["classify", "--state-dir", dir, "--rules", rules, eml])
        #expect(file.status == 0)
        #expect(file.stdout.contains("category:   order_info"))
    }
}
