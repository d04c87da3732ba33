import Foundation
import GRDB
import Testing
import TriageCore
import TriageMIME
#if canImport(Glibc)
import Glibc
#endif

/// Agents work the queue through the binary while tickets come from the real Dovecot and replies go out
/// through the real SMTP receiver.
@Suite(.serialized) struct QueueIntegrationTests {
    let pipeline: PipelineIntegrationTests
    var server: MailServer { pipeline.server }

    init() throws {
        pipeline = try PipelineIntegrationTests()
    }

    /// A mailbox with service levels: mail from `vip-<tag>.example` is semi-automatic (drafts), or `degree`.
    func setup(_ tag: String, degree: String = "semi_automatic") throws -> (TestSetup, String) {
        let root = NSTemporaryDirectory() + "mt-q-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let levels = root + "/service-levels.toml"
        try """
            default_group = "everyone"
            [calendars.always]
            time_zone = "Europe/Berlin"
            every_day = ["00:00-24:00"]
            [groups.vip]
            domains = ["vip-\(tag).example"]
            [groups.everyone]
            [[policy]]
            group = "vip"
            calendar = "always"
            first_response = "1h"
            degree = "\(degree)"
            priority = "high"
            [[policy]]
            calendar = "always"
            first_response = "4h"
            """.write(toFile: levels, atomically: true, encoding: .utf8)
        let user = MailServer.newUser("q")
        try server.deliver(user, [])
        let s = try pipeline.config([.init(name: "support", url: server.imapsURL, user: user, address: "support@example.com")],
                                    serviceLevels: levels)
        #expect(try s.serveOnce().status == 0)
        return (s, user)
    }

    func queue(_ s: TestSetup, _ args: [String], as agent: String = "anna") throws -> CLI.Result {
        try CLI.run(["queue"] + args + ["--config", s.configPath, "--as", agent])
    }

    func ticket(_ s: TestSetup, from: String) throws -> Int64 {
        try #require(try pipeline.db(s).read { try Int64.fetchOne($0, sql: "SELECT id FROM ticket WHERE from_address = ?", arguments: [from]) })
    }

    func state(_ s: TestSetup, _ id: Int64) throws -> String? {
        try pipeline.db(s).read { try String.fetchOne($0, sql: "SELECT state FROM ticket WHERE id = ?", arguments: [id]) }
    }

    @Test func aTicketFromArrivalToResolved() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag)
        let customer = "kunde-\(tag)@customer.example"
        try server.deliver(user, [PipelineIntegrationTests.mail(from: customer, to: "support@example.com", subject: "Rückfrage zum Vertrag",
                                                                body: "Guten Tag, können Sie mir die Kündigungsfrist meines Vertrags nennen?",
                                                                messageID: "q1-\(tag)@customer.example")])
        #expect(try s.serveOnce().status == 0)
        let id = try ticket(s, from: customer)
        let list = try queue(s, ["list"])
        #expect(list.status == 0 && list.stdout.contains("Rückfrage zum Vertrag") && list.stdout.contains("\(id)"), "\(list.stdout)\(list.stderr)")
        #expect(try queue(s, ["claim", "\(id)"]).status == 0)
        #expect(try state(s, id) == TicketState.claimed.rawValue)
        let file = s.root + "/reply.txt"
        try "Guten Tag,\n\ndie Kündigungsfrist beträgt drei Monate zum Monatsende.\n\nViele Grüße\nAnna\n".write(toFile: file, atomically: true, encoding: .utf8)
        let reply = try queue(s, ["reply", "\(id)", "--message-file", file])
        #expect(reply.status == 0, "\(reply.stderr)")
        #expect(try s.serveOnce().status == 0)  // the daemon sends it
        let sent = try #require(pipeline.answers.captured(to: customer, expect: 1).first)
        #expect(sent.envelope.inReplyTo == ["q1-\(tag)@customer.example"] && sent.envelope.subject == "Re: Rückfrage zum Vertrag [#\(id)]")
        #expect(sent.headers["Auto-Submitted"] == nil && sent.text.contains("drei Monate"))
        #expect(sent.envelope.from?.address == "support@example.com")
        #expect(try queue(s, ["resolve", "\(id)", "--note", "Frist genannt"]).status == 0)
        #expect(try state(s, id) == TicketState.resolved.rawValue)
        let show = try CLI.run(["queue", "show", "\(id)", "--config", s.configPath])
        #expect(show.status == 0 && show.stdout.contains("drei Monate") && show.stdout.contains("ticket.resolved") && show.stdout.contains("anna"))
        let kinds = try pipeline.db(s).read { try String.fetchAll($0, sql: "SELECT kind || '/' || actor FROM event WHERE ticket_id = ? ORDER BY id", arguments: [id]) }
        #expect(kinds.contains("\(EventKind.ticketClaimed.rawValue)/anna") && kinds.contains("\(EventKind.agentReplied.rawValue)/anna")
            && kinds.contains("\(EventKind.ticketResolved.rawValue)/anna"), "\(kinds)")
        // Resolved twice: refused.
        #expect(try queue(s, ["resolve", "\(id)"]).status == 1)
    }

    @Test func draftsAreApprovedOrRejectedAndClaimsAreExclusive() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag)
        let a = "a@vip-\(tag).example", b = "b@vip-\(tag).example", c = "c-\(tag)@customer.example"
        try server.deliver(user, [
            PipelineIntegrationTests.mail(from: a, to: "support@example.com", subject: "Passwort vergessen", body: AnswerIntegrationTests.dePassword,
                                          messageID: "qa-\(tag)@vip.example"),
            PipelineIntegrationTests.mail(from: b, to: "support@example.com", subject: "Password reset", body: AnswerIntegrationTests.enPassword,
                                          messageID: "qb-\(tag)@vip.example"),
            PipelineIntegrationTests.mail(from: c, to: "support@example.com", subject: "Frage", body: "Ich habe eine Frage zu Ihrem Angebot.",
                                          messageID: "qc-\(tag)@customer.example"),
        ])
        #expect(try s.serveOnce().status == 0)
        let ta = try ticket(s, from: a), tb = try ticket(s, from: b), tc = try ticket(s, from: c)
        #expect(try state(s, ta) == TicketState.awaitingApproval.rawValue && state(s, tb) == TicketState.awaitingApproval.rawValue)
        #expect(pipeline.answers.captured(to: a).isEmpty)  // semi-automatic: nothing sent before approval
        // Drafts first in the queue.
        let json = try queue(s, ["list", "--json"])
        let ids = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
        #expect(Array(ids.prefix(2)).sorted() == [Int(ta), Int(tb)].sorted() && ids.contains(Int(tc)), "\(json.stdout)")
        // Approved as it is: sent, threaded.
        let approve = try queue(s, ["approve", "\(ta)"])
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(try queue(s, ["approve", "\(ta)"], as: "ben").status == 1)  // twice: refused
        #expect(try s.serveOnce().status == 0)
        let sent = try #require(pipeline.answers.captured(to: a, expect: 1).first)
        #expect(sent.envelope.subject.hasSuffix("[#\(ta)]") && sent.text.contains("Passwort"))
        #expect(try state(s, ta) == TicketState.answered.rawValue)
        // Rejected with a reason: nothing sent, the reason kept.
        let reject = try queue(s, ["reject", "\(tb)", "--reason", "the customer uses single sign-on, no password"])
        #expect(reject.status == 0, "\(reject.stderr)")
        #expect(try state(s, tb) == TicketState.open.rawValue && pipeline.answers.captured(to: b).isEmpty)
        let reason = try pipeline.db(s).read { try String.fetchOne($0, sql: "SELECT reason FROM draft WHERE ticket_id = ?", arguments: [tb]) }
        #expect(reason == "the customer uses single sign-on, no password")
        // Approved after editing in $EDITOR: the edited text goes out, the draft counts as edited.
        let d = "d@vip-\(tag).example"
        try server.deliver(user, [PipelineIntegrationTests.mail(from: d, to: "support@example.com", subject: "Passwort vergessen",
                                                                body: AnswerIntegrationTests.dePassword, messageID: "qd-\(tag)@vip.example")])
        #expect(try s.serveOnce().status == 0)
        let td = try ticket(s, from: d)
        let editor = s.root + "/editor.sh"
        try "#!/bin/sh\nprintf 'Guten Tag,\\n\\nwir haben Ihr Konto entsperrt.\\n' > \"$1\"\n".write(toFile: editor, atomically: true, encoding: .utf8)
        chmod(editor, 0o755)
        let (p, _, errPath) = try CLI.start(["queue", "approve", "\(td)", "--edit", "--config", s.configPath, "--as", "anna"],
                                            environment: ["EDITOR": editor, "VISUAL": editor])
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        #expect(try s.serveOnce().status == 0)
        #expect(try #require(pipeline.answers.captured(to: d, expect: 1).first).text.contains("Konto entsperrt"))
        #expect(try pipeline.db(s).read { try String.fetchOne($0, sql: "SELECT state FROM draft WHERE ticket_id = ?", arguments: [td]) }
            == DraftState.edited.rawValue)
        // Two agents: the second claim is refused with who holds it; --steal takes it over, recorded.
        #expect(try queue(s, ["claim", "\(tc)"], as: "anna").status == 0)
        let second = try queue(s, ["claim", "\(tc)"], as: "ben")
        #expect(second.status == 1 && second.stderr.contains("held by anna"), "\(second.stderr)")
        #expect(try queue(s, ["resolve", "\(tc)"], as: "ben").status == 1)
        #expect(try queue(s, ["claim", "\(tc)", "--steal"], as: "ben").status == 0)
        let stolen = try pipeline.db(s).read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM event WHERE ticket_id = ? AND kind = ? AND actor = ?",
                             arguments: [tc, EventKind.ticketClaimStolen.rawValue, "ben"])
        }
        #expect(stolen == 1)
        // Usage errors exit with 2.
        #expect(try queue(s, ["claim"]).status == 2)
    }

    @Test func shadowPrecisionInStatsIsWhatTheAgentsDidWithTheRecordedAnswers() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag, degree: "shadow")
        let customers = (1...5).map { "s\($0)@vip-\(tag).example" }
        try server.deliver(user, customers.enumerated().map { i, c in
            PipelineIntegrationTests.mail(from: c, to: "support@example.com", subject: i % 2 == 0 ? "Passwort vergessen" : "Password reset",
                                          body: i % 2 == 0 ? AnswerIntegrationTests.dePassword : AnswerIntegrationTests.enPassword,
                                          messageID: "sh\(i)-\(tag)@vip.example")
        })
        #expect(try s.serveOnce().status == 0)
        let ids = try customers.map { try ticket(s, from: $0) }
        for id in ids {
            let row = try pipeline.db(s).read { try Row.fetchOne($0, sql: "SELECT degree, state, category FROM ticket WHERE id = ?", arguments: [id]) }
            #expect(row?["degree"] == AutomationDegree.shadow.rawValue && row?["state"] == TicketState.awaitingApproval.rawValue
                && row?["category"] == "password", "\(String(describing: row))")
        }
        #expect(customers.allSatisfy { pipeline.answers.captured(to: $0).isEmpty }, "shadow mode sends nothing")
        // 1 and 4 approved as they are; 2 rewritten in $EDITOR; 3 rejected; 5 not handled yet.
        #expect(try queue(s, ["approve", "\(ids[0])"]).status == 0)
        #expect(try queue(s, ["approve", "\(ids[3])"]).status == 0)
        let editor = s.root + "/editor.sh"
        try "#!/bin/sh\nprintf 'Hello,\\n\\nyour account was locked after too many attempts; we have unlocked it.\\n' > \"$1\"\n"
            .write(toFile: editor, atomically: true, encoding: .utf8)
        chmod(editor, 0o755)
        let (p, _, errPath) = try CLI.start(["queue", "approve", "\(ids[1])", "--edit", "--config", s.configPath, "--as", "anna"],
                                            environment: ["EDITOR": editor, "VISUAL": editor])
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        #expect(try queue(s, ["reject", "\(ids[2])", "--reason", "single sign-on account"]).status == 0)
        #expect(try s.serveOnce().status == 0)
        #expect(pipeline.answers.captured(to: customers[0], expect: 1).count == 1 && pipeline.answers.captured(to: customers[1], expect: 1).count == 1)

        let stats = try CLI.run(["stats", "--json", "--config", s.configPath])
        #expect(stats.status == 0, "\(stats.stderr)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        let shadow = try #require(((j["stats"] as? [String: Any])?["shadowPrecision"] as? [String: Any])?["password"] as? [String: Any], "\(stats.stdout)")
        #expect(shadow["cases"] as? Int == 4 && shadow["agreed"] as? Int == 2 && shadow["precision"] as? Double == 0.5, "\(shadow)")
        // The entry apart from the wording: the edited draft kept it, the rejected one did not.
        #expect(shadow["sameEntry"] as? Int == 3 && shadow["sameEntryRate"] as? Double == 0.75, "\(shadow)")
        let text = try CLI.run(["stats", "--config", s.configPath])
        #expect(text.stdout.contains("shadow mode") && text.stdout.contains("2 of 4 agreed: precision 50.0%; same entry 3 of 4 (75.0%)"), "\(text.stdout)")
    }

    @Test func aReassignmentIsUsedByTheNextTraining() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag)
        let customer = "r-\(tag)@customer.example"
        try server.deliver(user, [PipelineIntegrationTests.mail(from: customer, to: "support@example.com", subject: "Tabelle",
                                                                body: "Wie friere ich in meiner Tabelle die erste Zeile ein, damit sie beim Scrollen stehen bleibt?",
                                                                messageID: "r-\(tag)@customer.example")])
        #expect(try s.serveOnce().status == 0)
        let id = try ticket(s, from: customer)
        let r = try queue(s, ["reassign", "\(id)", "--category", "office", "--group", "vip"])
        #expect(r.status == 0 && r.stdout.contains("recorded for training"), "\(r.stdout)\(r.stderr)")
        try pipeline.db(s).read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT category, sla_group, priority, first_response_due, received_at FROM ticket WHERE id = ?",
                                                    arguments: [id]))
            #expect((row["category"] as String) == "office" && (row["sla_group"] as String) == "vip" && (row["priority"] as String) == "high")
            #expect((row["first_response_due"] as Int64) - (row["received_at"] as Int64) == 3600)  // the vip policy: 1 h around the clock
        }
        let train = try CLI.run(["train", "--config", s.configPath])
        #expect(train.status == 0 && train.stdout.contains("source corrections: 1"), "\(train.stdout)\(train.stderr)")
    }

    /// The table shows the head of the queue and says how many tickets there are; --limit 0 and JSON show all.
    @Test func theTableShowsTheHeadOfALongQueue() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag)
        try server.deliver(user, (1...3).map { i in
            PipelineIntegrationTests.mail(from: "head\(i)-\(tag)@customer.example", to: "support@example.com", subject: "Frage \(i)",
                                          body: "Eine Frage zur Bestellung \(i).", messageID: "head\(i)-\(tag)@customer.example")
        })
        #expect(try s.serveOnce().status == 0)
        func rows(_ r: CLI.Result) -> Int { r.stdout.split(separator: "\n").filter { $0.contains("-\(tag)@customer.example") }.count }
        let head = try queue(s, ["list", "--limit", "2"])
        #expect(head.status == 0 && rows(head) == 2, "\(head.stdout)")
        #expect(head.stdout.contains("2 of 3 tickets"), "\(head.stdout)")
        let all = try queue(s, ["list", "--limit", "0"])
        #expect(rows(all) == 3 && !all.stdout.contains(" of 3 tickets"), "\(all.stdout)")
        let json = try queue(s, ["list", "--json"])
        let items = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any]
        #expect(items?.count == 3)
    }

    @Test func anAgentWhoCanOnlyReadTheDatabaseListsShowsAndCountsButCannotChange() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag)
        try server.deliver(user, [PipelineIntegrationTests.mail(from: "ro-\(tag)@customer.example", to: "support@example.com", subject: "Größenänderung",
                                                                body: "Eine Frage zur Bestellung.", messageID: "ro-\(tag)@customer.example")])
        #expect(try s.serveOnce().status == 0)
        // The tests run as root (as CI does); the agent is `nobody`, who may read but not write the state directory.
        #expect(getuid() == 0, "this test runs the agent as another user and needs root")
        let dir = s.root + "/state"
        for p in [s.root, dir] { chmod(p, 0o755) }
        for f in (try FileManager.default.contentsOfDirectory(atPath: dir)) { chmod(dir + "/" + f, 0o644) }
        chmod(s.configPath, 0o644)
        let bin = NSTemporaryDirectory() + "mt-bin-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: try CLI.binary, toPath: bin)
        chmod(bin, 0o755)
        defer { try? FileManager.default.removeItem(atPath: bin) }
        func asNobody(_ args: [String]) throws -> CLI.Result {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", bin] + args + ["--config", s.configPath]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return CLI.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        }
        let list = try asNobody(["queue", "list"])
        #expect(list.status == 0 && list.stdout.contains("Größenänderung"), "\(list.stdout)\(list.stderr)")
        let id = try ticket(s, from: "ro-\(tag)@customer.example")
        #expect(try asNobody(["queue", "show", "\(id)"]).status == 0)
        #expect(try asNobody(["stats", "--json"]).status == 0)
        let claim = try asNobody(["queue", "claim", "\(id)", "--as", "nobody"])
        #expect(claim.status == 1 && claim.stderr.contains("needs write access"), "\(claim.stderr)")
    }

    /// Display columns as a terminal shows them: two for East Asian wide characters, one for umlauts.
    static func columns(_ s: Substring) -> Int {
        s.unicodeScalars.reduce(0) { n, u in
            let v = u.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFF00...0xFF60).contains(v)
            return n + (u.properties.generalCategory == .nonspacingMark ? 0 : wide ? 2 : 1)
        }
    }

    @Test func listAndShowInARealTerminalAt80And120Columns() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (s, user) = try setup(tag)
        let long = "Bestellung " + String(repeating: "mit sehr langem Betreff über Größen, Farben und Rücksendungen ", count: 4).prefix(189)
        try server.deliver(user, [
            PipelineIntegrationTests.mail(from: "jürgen-\(tag)@customer.example", to: "support@example.com", subject: "Größenänderung für Jürgen Weiß",
                                          body: "Eine Frage zur Größe.", messageID: "t1-\(tag)@customer.example"),
            PipelineIntegrationTests.mail(from: "long-\(tag)@customer.example", to: "support@example.com", subject: String(long),
                                          body: "Eine lange Frage.", messageID: "t2-\(tag)@customer.example"),
            PipelineIntegrationTests.mail(from: "wide-\(tag)@customer.example", to: "support@example.com", subject: "注文について Bestellung",
                                          body: "Eine Frage.", messageID: "t3-\(tag)@customer.example"),
        ])
        #expect(try s.serveOnce().status == 0)
        let bin = try CLI.binary
        /// Runs `command` in a detached tmux session of `width` x `height`, waits until the pane shows `until`,
        /// and returns the pane's text; one shell script, which also ends the session (and so the tmux server).
        /// It waits up to a minute: on a loaded CI machine the command can take seconds to draw.
        func terminal(_ command: String, width: Int, height: Int, until: String) throws -> String {
            let session = "mt\(width)x\(height)\(UUID().uuidString.prefix(6))"
            let script = """
                tmux new-session -d -s \(session) -x \(width) -y \(height) "LANG=C.UTF-8 \(command); sleep 120"
                for i in $(seq 1 1200); do
                  tmux capture-pane -p -t \(session) -S -200 | grep -q '\(until)' && break
                  sleep 0.05
                done
                tmux capture-pane -p -t \(session) -S -200
                tmux kill-session -t \(session)
                """
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        for width in [80, 120] {
            let screen = try terminal("\(bin) queue list --config \(s.configPath)", width: width, height: 30, until: "注文")
            let lines = screen.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            let header = try #require(lines.first { $0.hasPrefix("ID") }, "\(screen)")
            let subjectColumn = Self.columns(header[..<(try #require(header.range(of: "SUBJECT"), "\(screen)")).lowerBound])
            let rows = lines.filter { $0.first?.isNumber == true }
            #expect(rows.count == 3, "\(screen)")
            for row in rows {
                #expect(Self.columns(row) <= width, "wider than \(width): \(row)")
                // The subject starts in the same column in every row, whatever came before it.
                var col = 0, idx = row.startIndex
                while idx < row.endIndex && col < subjectColumn { col += Self.columns(row[idx...idx]); idx = row.index(after: idx) }
                #expect(col == subjectColumn && row[row.index(before: idx)] == " " && row[idx] != " ", "misaligned at \(width): \(row)")
            }
            #expect(rows.contains { $0.contains("Größenänderung für") }, "\(screen)")
            #expect(rows.contains { $0.contains("…") && $0.contains("Bestellung mit sehr") }, "the long subject is cut: \(screen)")
        }
        let id = try ticket(s, from: "jürgen-\(tag)@customer.example")
        let screen = try terminal("\(bin) queue show \(id) --config \(s.configPath)", width: 80, height: 60, until: "History")
        #expect(screen.contains("#\(id) Größenänderung für Jürgen Weiß") && screen.contains("Decision") && screen.contains("History"), "\(screen)")
    }
}
