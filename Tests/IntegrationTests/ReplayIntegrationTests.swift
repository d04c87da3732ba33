import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `mailtriage replay` through the binary, on a database the daemon filled from the real Dovecot: a candidate
/// configuration with one more rule moves exactly the tickets the rule is about, `--since` and `--limit` choose
/// the tickets, and the database's contents are the same before and after.
@Suite(.serialized) struct ReplayIntegrationTests {
    let pipeline: PipelineIntegrationTests
    var server: MailServer { pipeline.server }

    init() throws {
        pipeline = try PipelineIntegrationTests()
    }

    /// Every table's rows (blobs in base64) and the schema: the database's contents as text.
    static func dump(_ path: String) throws -> String {
        var c = Configuration()
        c.readonly = true
        c.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: c).read { db in
            var out = ""
            for r in try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master ORDER BY type, name") {
                let type: String = r["type"], name: String = r["name"]
                out += "## \(type) \(name)\n\((r["sql"] as String?) ?? "")\n"
                guard type == "table" else { continue }
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(name)\"") {
                    out += row.databaseValues.map { v -> String in
                        switch v.storage {
                        case .null: "NULL"
                        case .int64(let i): String(i)
                        case .double(let d): String(d)
                        case .string(let s): "'" + s + "'"
                        case .blob(let b): "x'" + b.base64EncodedString() + "'"
                        }
                    }.joined(separator: "|") + "\n"
                }
            }
            return out
        }
    }

    @Test func aRuleChangeMovesExactlyTheRuleTicketsAndWritesNothing() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let user = MailServer.newUser("rp")
        try server.deliver(user, [])
        let s = try pipeline.config([.init(name: "support", url: server.imapsURL, user: user, address: "support@example.com")])
        #expect(try s.serveOnce().status == 0)  // the first contact imports nothing

        // Two mails from October (their INTERNALDATE is the file's time in the Maildir), four from today; three
        // of them from the domain the candidate's rule is about.
        let moved = "moved-\(tag).example", kept = "kept-\(tag).example"
        func mail(_ n: Int, _ domain: String, _ subject: String, _ body: String) -> [UInt8] {
            PipelineIntegrationTests.mail(from: "c\(n)@\(domain)", to: "support@example.com", subject: subject, body: body, messageID: "rp\(n)-\(tag)@x")
        }
        let order = "Guten Tag, wann wird meine Bestellung geliefert? Ich habe vor einer Woche bestellt."
        try server.deliver(user, [mail(1, moved, "Password reset", AnswerIntegrationTests.enPassword),
                                  mail(2, kept, "Password reset", AnswerIntegrationTests.enPassword)])
        let fresh = server.dir + "/mail/\(user)/Maildir/new"
        let october = timeval(tv_sec: 1_790_000_000, tv_usec: 0)  // 2026-09-21
        for f in try FileManager.default.contentsOfDirectory(atPath: fresh) {
            var times = [october, october]
            #expect(utimes(fresh + "/" + f, &times) == 0)
        }
        try server.deliver(user, [mail(3, kept, "Passwort vergessen", AnswerIntegrationTests.dePassword), mail(4, kept, "Bestellung", order),
                                  mail(5, moved, "Passwort vergessen", AnswerIntegrationTests.dePassword), mail(6, moved, "Bestellung", order)])
        #expect(try s.serveOnce().status == 0)
        let tickets = try pipeline.db(s).read { db in
            try Row.fetchAll(db, sql: "SELECT id, from_address, received_at FROM ticket ORDER BY id").map {
                (id: $0["id"] as Int64, moved: ($0["from_address"] as String).hasSuffix("@" + moved), received: $0["received_at"] as Int64)
            }
        }
        #expect(tickets.count == 6)
        #expect(tickets.filter { $0.received < 1_790_000_100 }.count == 2, "two mails from September: \(tickets)")
        let movedIDs = Set(tickets.filter(\.moved).map(\.id))

        // The candidate: the running configuration with a rules file that has one rule more.
        let rules = s.root + "/candidate-rules.toml"
        try (try String(contentsOfFile: PipelineIntegrationTests.repo + "/config/rules.toml", encoding: .utf8)
            + "\n[[rule]]\nname = \"moved-domain\"\nsender = \"@\(moved)\"\nforce = \"other\"\n").write(toFile: rules, atomically: true, encoding: .utf8)
        let candidate = s.root + "/candidate.toml"
        try (try String(contentsOfFile: s.configPath, encoding: .utf8))
            .replacingOccurrences(of: "rules_file = \"\(PipelineIntegrationTests.repo)/config/rules.toml\"", with: "rules_file = \"\(rules)\"")
            .write(toFile: candidate, atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: candidate, encoding: .utf8).contains(rules))

        let before = try Self.dump(s.databasePath)
        #expect(before.contains("## table ticket") && before.components(separatedBy: "\n").count > 50)

        // The running configuration decides as before: nothing would change.
        let same = try CLI.run(["replay", "--config", s.configPath])
        #expect(same.status == 0 && same.stdout.hasPrefix("6 tickets decided again; 0 would change"), "\(same.stdout)\(same.stderr)")

        // The candidate moves the three tickets from the rule's domain, and only them; counts first, then examples.
        let text = try CLI.run(["replay", "--config", candidate])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("6 tickets decided again; 3 would change"), "\(text.stdout)")
        #expect(text.stdout.contains("\ncategory: 3\n"), "\(text.stdout)")
        for id in movedIDs { #expect(text.stdout.contains("    #\(id) "), "an example for #\(id): \(text.stdout)") }
        for t in tickets where !t.moved { #expect(!text.stdout.contains("#\(t.id) "), "#\(t.id) does not move: \(text.stdout)") }
        let j = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["replay", "--json", "--config", candidate]).stdout.utf8)) as? [String: Any])
        #expect(j["tickets"] as? Int == 6 && j["changed"] as? Int == 3, "\(j)")
        let changes = try #require(j["changes"] as? [String: [String: Any]])
        let category = try #require(changes["category"])
        #expect(category["count"] as? Int == 3)
        let examples = try #require(category["examples"] as? [[String: Any]])
        #expect(Set(examples.compactMap { ($0["ticket"] as? NSNumber)?.int64Value }) == movedIDs)
        #expect(examples.allSatisfy { $0["after"] as? String == "other" }, "\(examples)")
        for (kind, k) in changes {
            let ids = Set(((k["examples"] as? [[String: Any]]) ?? []).compactMap { ($0["ticket"] as? NSNumber)?.int64Value })
            #expect(ids.isSubset(of: movedIDs), "\(kind) changes only the rule's tickets: \(ids)")
        }

        // --since: today's four tickets, two of them the rule's; --limit: the most recent N.
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let since = try CLI.run(["replay", "--config", candidate, "--since", today])
        #expect(since.stdout.hasPrefix("4 tickets decided again; 2 would change"), "\(since.stdout)\(since.stderr)")
        let newest = tickets.map(\.id).sorted(by: >)
        for n in [1, 3, 5] {
            let expected = newest.prefix(n).filter(movedIDs.contains).count
            let r = try CLI.run(["replay", "--config", candidate, "--limit", "\(n)"])
            #expect(r.stdout.hasPrefix("\(n) ticket\(n == 1 ? "" : "s") decided again; \(expected) would change"), "\(r.stdout)\(r.stderr)")
        }

        // Nothing was written: every row is as it was. (A change through the CLI shows in the dump.)
        #expect(try Self.dump(s.databasePath) == before)
        #expect(try CLI.run(["queue", "note", "\(newest[0])", "checked", "--config", s.configPath, "--as", "anna"]).status == 0)
        #expect(try Self.dump(s.databasePath) != before)
    }
}
