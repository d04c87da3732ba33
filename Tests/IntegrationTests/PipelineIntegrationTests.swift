import Foundation
import GRDB
import Testing
import TriageCore
import TriageMIME
import TriageStore
import TriageTesting
#if canImport(Glibc)
import Glibc
#endif

/// The pipeline as a whole, through the binary against the real Dovecot and aiosmtpd: several mailboxes
/// into one processor, threading by sender, shutdown with a silent server, reload on SIGHUP, and
/// `classify` printing what the daemon decided.
@Suite(.serialized) struct PipelineIntegrationTests {
    let server: MailServer
    let answers: AnswerIntegrationTests

    init() throws {
        server = try MailServer.fromEnvironment()
        answers = try AnswerIntegrationTests()
    }

    static var repo: String { AnswerIntegrationTests.repo }

    struct Box {
        var name: String
        var url: String
        var user: String
        var address: String?
    }

    /// A config with several mailboxes, the shipped knowledge base and rules, and the test SMTP receiver.
    func config(_ boxes: [Box], rulesFile: String? = nil, serviceLevels: String? = nil) throws -> TestSetup {
        // The configuration below names the shipped knowledge base: its state directory starts with the shared model.
        let setup = try TestSetup(user: "unused", url: server.imapsURL, caFile: server.caFile, extra: SharedModel.knowledgeBase)
        var text = """
            state_dir = "\(setup.root)/state"
            poll_interval = "1s"
            knowledge_base = "\(Self.repo)/knowledge-base"
            \(serviceLevels.map { "service_levels = \"\($0)\"" } ?? "")
            [classifier]
            rules_file = "\(rulesFile ?? Self.repo + "/config/rules.toml")"
            [smtp]
            url = "smtp://localhost:\(answers.smtpPort)"
            ca_file = "\(server.caFile)"
            connect_timeout = "5s"
            [answers]
            message_id_domain = "answers.example.com"
            placeholders = { company = "Beispiel GmbH", shop_url = "https://shop.example.com", password_reset_url = "https://shop.example.com/reset", support_hours = "Mo-Fr 8-18 Uhr" }

            """
        for b in boxes {
            text += """
                [[mailbox]]
                name = "\(b.name)"
                url = "\(b.url)"
                username = "\(b.user)"
                password_file = "\(setup.root)/imap.password"
                ca_file = "\(server.caFile)"
                after_processing = "flag:$Triaged"
                connect_timeout = "60s"
                response_timeout = "60s"

                """
            if let a = b.address { text += "address = \"\(a)\"\ndisplay_name = \"\(b.name)\"\n" }
        }
        try text.write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        return setup
    }

    static func mail(from: String, to: String, subject: String, body: String, headers: String = "", messageID: String) -> [UInt8] {
        Array(("Return-Path: <\(from)>\r\nFrom: Kunde <\(from)>\r\nTo: <\(to)>\r\nSubject: \(subject)\r\n"
            + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <\(messageID)>\r\nMIME-Version: 1.0\r\n\(headers)"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(body)\r\n").utf8)
    }

    /// The test's own connection waits for a lock another process holds for a moment (the CLI, the daemon).
    func db(_ s: TestSetup) throws -> DatabaseQueue {
        var c = Configuration()
        c.busyMode = .timeout(10)
        return try DatabaseQueue(path: s.databasePath, configuration: c)
    }

    func waitUntil(_ seconds: Double, _ done: () throws -> Bool) rethrows -> Bool { try waitFor(seconds, done) }

    @Test func twoMailboxesAreDecidedWithTheirOwnSettingsAndNothingIsClaimedTwice() throws {
        let ua = MailServer.newUser("pa"), ub = MailServer.newUser("pb")
        try server.deliver(ua, [])
        try server.deliver(ub, [])
        let s = try config([Box(name: "support", url: server.imapsURL, user: ua, address: "support@example.com"),
                            Box(name: "sales", url: server.startTLSURL, user: ub, address: "sales@example.com")])
        #expect(try s.serveOnce().status == 0)  // the first contact imports nothing
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "warning"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let tag = UUID().uuidString.prefix(6).lowercased()
        var senders: [(String, String)] = []  // (sender, mailbox address)
        for round in 0..<3 {
            var a: [[UInt8]] = [], b: [[UInt8]] = []
            for k in 0..<3 {
                let sa = "a\(round)\(k)-\(tag)@customer.example", sb = "b\(round)\(k)-\(tag)@customer.example"
                a.append(Self.mail(from: sa, to: "support@example.com", subject: "Passwort vergessen", body: AnswerIntegrationTests.dePassword,
                                   messageID: "a\(round)\(k)-\(tag)@customer.example"))
                b.append(Self.mail(from: sb, to: "sales@example.com", subject: "Password reset", body: AnswerIntegrationTests.enPassword,
                                   messageID: "b\(round)\(k)-\(tag)@customer.example"))
                senders += [(sa, "support@example.com"), (sb, "sales@example.com")]
            }
            try server.deliver(ua, a)
            try server.deliver(ub, b)
            usleep(700_000)
        }
        let all = try waitUntil(60) { senders.allSatisfy { !answers.captured(to: $0.0).isEmpty } }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(all, "\(stderr)")
        #expect(process.terminationStatus == 0)
        // Every answer came from the address of the mailbox the question was sent to.
        for (sender, address) in senders {
            let got = answers.captured(to: sender)
            #expect(got.count == 1 && got.first?.envelope.from?.address == address, "\(sender)")
        }
        try db(s).read { db in
            // 18 messages, 18 tickets, each claimed once, each created once; no "not addressed" refusal.
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM message") == 18)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket") == 18)
            #expect(try Int.fetchAll(db, sql: "SELECT attempts FROM message").allSatisfy { $0 == 1 })
            let created = try Int64.fetchAll(db, sql: "SELECT message_row FROM event WHERE kind = ?", arguments: [EventKind.ticketCreated.rawValue])
            #expect(created.count == 18 && Set(created).count == 18)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE kind = ?", arguments: [EventKind.answerRefused.rawValue]) == 0)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE state = ?", arguments: [OutboxState.sent.rawValue]) == 18)
            let byMailbox = try Row.fetchAll(db, sql: "SELECT mailbox, count(*) AS n FROM ticket WHERE state = ? GROUP BY mailbox ORDER BY mailbox",
                                             arguments: [TicketState.answered.rawValue]).map { "\($0["mailbox"] as String)=\($0["n"] as Int)" }
            #expect(byMailbox == ["sales=9", "support=9"])
        }
        #expect(try server.count(ua, search: "KEYWORD $Triaged") == 9 && server.count(ub, search: "KEYWORD $Triaged") == 9)
    }

    @Test func aStrangerCitingAnotherCustomersAnswerGetsANewTicket() throws {
        let user = MailServer.newUser("st")
        try server.deliver(user, [])
        let s = try config([Box(name: "support", url: server.imapsURL, user: user, address: "support@example.com")])
        #expect(try s.serveOnce().status == 0)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let customer = "anna-\(tag)@customer.example", stranger = "mallory-\(tag)@evil.example"
        try server.deliver(user, [Self.mail(from: customer, to: "support@example.com", subject: "Passwort vergessen",
                                            body: AnswerIntegrationTests.dePassword, messageID: "q-\(tag)@customer.example")])
        #expect(try s.serveOnce().status == 0)
        let answer = try #require(answers.captured(to: customer, expect: 1).first)
        let answerID = try #require(answer.envelope.messageID)
        let ticket = try #require(try db(s).read { try Int64.fetchOne($0, sql: "SELECT id FROM ticket WHERE from_address = ?", arguments: [customer]) })
        let before = try db(s).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM event WHERE ticket_id = ?", arguments: [ticket]) }
        // The stranger cites our answer to Anna and uses her ticket tag.
        try server.deliver(user, [Self.mail(from: stranger, to: "support@example.com", subject: "Re: Passwort vergessen [#\(ticket)]",
                                            body: "Danke, aber das klappt nicht.", headers: "In-Reply-To: <\(answerID)>\r\nReferences: <\(answerID)>\r\n",
                                            messageID: "x-\(tag)@evil.example")])
        #expect(try s.serveOnce().status == 0)
        try db(s).read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT id, linked_ticket, state FROM ticket WHERE from_address = ?", arguments: [stranger]))
            #expect((row["id"] as Int64) != ticket && (row["linked_ticket"] as Int64?) == ticket)
            #expect(try String.fetchOne(db, sql: "SELECT state FROM ticket WHERE id = ?", arguments: [ticket]) == TicketState.answered.rawValue)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE ticket_id = ?", arguments: [ticket]) == before)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket_message WHERE ticket_id = ?", arguments: [ticket]) == 0)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE kind = ? AND ticket_id = ?",
                                     arguments: [EventKind.ticketLinked.rawValue, row["id"] as Int64]) == 1)
        }
        // Anna's own reply still joins her ticket and reopens it.
        try server.deliver(user, [Self.mail(from: customer, to: "support@example.com", subject: "Re: Passwort vergessen [#\(ticket)]",
                                            body: "Das hat nicht geholfen.", headers: "In-Reply-To: <\(answerID)>\r\n", messageID: "r-\(tag)@customer.example")])
        #expect(try s.serveOnce().status == 0)
        #expect(try db(s).read { try String.fetchOne($0, sql: "SELECT state FROM ticket WHERE id = ?", arguments: [ticket]) } == TicketState.open.rawValue)
    }

    @Test func sigtermEndsTheDaemonQuicklyWhileAServerStallsAndOtherMailboxesKeepPolling() throws {
        // A listener that accepts connections and never says a word.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        defer { close(fd) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let user = MailServer.newUser("sl")
        try server.deliver(user, [])
        let s = try config([Box(name: "silent", url: "imaps://127.0.0.1:\(port)/INBOX", user: user, address: "silent@example.com"),
                            Box(name: "support", url: server.imapsURL, user: user, address: "support@example.com")])
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "warning"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        usleep(1_500_000)
        let tag = UUID().uuidString.prefix(6).lowercased()
        for k in 0..<3 {
            try server.deliver(user, [Self.mail(from: "s\(k)-\(tag)@customer.example", to: "support@example.com", subject: "Frage \(k)",
                                                body: "Eine Frage zu meinem Vertrag \(k).", messageID: "s\(k)-\(tag)@customer.example")])
            usleep(800_000)
        }
        let polled = try waitUntil(20) {
            (try? db(s).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ticket") }) == 3
        }
        #expect(polled, "the other mailbox was not polled while one server stalled")
        let start = Date()
        kill(process.processIdentifier, SIGTERM)
        let stopped = waitUntil(5) { !process.isRunning }
        let took = Date().timeIntervalSince(start)
        #expect(stopped && took < 5, "SIGTERM took \(took) s: \((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        if stopped { #expect(process.terminationStatus == 0) }
    }

    @Test func theWatchdogIsFedOnlyWhileThePollsMakeProgress() throws {
        // A listener that accepts and never answers: the poll of that mailbox hangs.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        defer { close(fd) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let user = MailServer.newUser("wd")
        try server.deliver(user, [])
        let s = try config([Box(name: "support", url: server.imapsURL, user: user, address: "support@example.com"),
                            Box(name: "silent", url: "imaps://127.0.0.1:\(Int(UInt16(bigEndian: addr.sin_port)))/INBOX", user: user, address: nil)])
        // The silent server may take 30 s to connect, but a reply is due within 2 s: past 2 s + 5 s the poll is hung.
        var text = try String(contentsOfFile: s.configPath, encoding: .utf8)
        if let r = text.range(of: "name = \"silent\"") {
            text = text.replacingCharacters(in: r.lowerBound..<text.endIndex, with: String(text[r.lowerBound...])
                .replacingOccurrences(of: "connect_timeout = \"60s\"", with: "connect_timeout = \"30s\"")
                .replacingOccurrences(of: "response_timeout = \"60s\"", with: "response_timeout = \"2s\""))
        }
        try text.write(toFile: s.configPath, atomically: true, encoding: .utf8)
        let tag = UUID().uuidString.prefix(6).lowercased()
        try server.deliver(user, [Self.mail(from: "wd-\(tag)@customer.example", to: "support@example.com", subject: "Frage", body: "Eine Frage.",
                                            messageID: "wd-\(tag)@customer.example")])
        let notify = try NotifySocket(timeout: 3)
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "warning"],
                                                 environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var messages: [(Date, String)] = []
        // Start-up (reading the configuration, training the models when none is saved) ends with READY=1;
        // the polls start then, and the windows below count from there.
        let launched = Date()
        var ready = false
        while !ready && Date().timeIntervalSince(launched) < 90 {
            if let m = notify.receive() { ready = m.hasPrefix("READY=1") }
        }
        #expect(ready, "no READY=1: \((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        let start = Date()
        while Date().timeIntervalSince(start) < 13, let m = notify.receive() { messages.append((Date(), m)) }
        let early = messages.filter { $0.0.timeIntervalSince(start) < 5 }.map(\.1)
        let late = messages.filter { $0.0.timeIntervalSince(start) > 9 }.map(\.1)
        #expect(early.filter { $0.hasPrefix("WATCHDOG=1") }.count >= 3, "\(early)")
        #expect(!late.isEmpty && late.allSatisfy { !$0.contains("WATCHDOG=1") }, "\(late)")
        #expect(late.contains { $0.hasPrefix("STATUS=hung: mailbox silent without progress") }, "\(late)")
        // SIGTERM: STOPPING=1, exit 0, and the mail of the other mailbox is a ticket.
        kill(process.processIdentifier, SIGTERM)
        var stopping = false
        while let m = notify.receive() { if m.hasPrefix("STOPPING=1") { stopping = true; break } }
        process.waitUntilExit()
        #expect(stopping && process.terminationStatus == 0, "\((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(stderr.contains("no progress: the watchdog is not fed"), "\(stderr)")
        #expect(try db(s).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ticket") } == 1)
    }

    /// Once the mailbox has had its first round the daemon gives back the start-up's memory (the heap's free
    /// pages, the pages of code and data that only the start-up used), and again after a reload; what it
    /// needs afterwards comes back: mail arriving later is decided as before.
    @Test func theStartUpsMemoryIsGivenBackAndTheDaemonWorksOn() throws {
        let user = MailServer.newUser("mem")
        try server.deliver(user, [])
        let s = try config([Box(name: "support", url: server.imapsURL, user: user, address: "support@example.com")])
        #expect(try s.serveOnce().status == 0)  // the baseline and the trained model, saved
        let notify = try NotifySocket()
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "info"],
                                                 environment: ["NOTIFY_SOCKET": notify.path])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(notify.receive()?.hasPrefix("READY=1") == true)
        let log = { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        let released = waitUntil(60) { log().contains("memory given back after=start-up") }
        #expect(released, "\(log())")
        // The figures: pages of mapped files went (the start-up's code); the line names both.
        let line = log().split(separator: "\n").first { $0.contains("memory given back after=start-up") }.map(String.init) ?? ""
        let files = line.split(separator: " ").first { $0.hasPrefix("mapped_files_kib=") }.flatMap { Int($0.dropFirst("mapped_files_kib=".count)) }
        #expect((files ?? 0) > 0 && line.contains("heap_kib="), "\(line)")
        let sender = "mem-\(UUID().uuidString.prefix(6).lowercased())@customer.example"
        try server.deliver(user, [Self.mail(from: sender, to: "support@example.com", subject: "Passwort vergessen",
                                            body: AnswerIntegrationTests.dePassword, messageID: "mem-\(sender)")])
        let decided = try waitUntil(30) {
            (try? db(s).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ticket WHERE from_address = ?", arguments: [sender]) }) == 1
        }
        #expect(decided, "\(log())")
        kill(process.processIdentifier, SIGHUP)
        #expect(waitUntil(60) { log().contains("memory given back after=reload") }, "\(log())")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(log())")
    }

    @Test func sighupWithBrokenRulesKeepsTheOldRules() throws {
        let user = MailServer.newUser("hup")
        try server.deliver(user, [])
        let root = NSTemporaryDirectory() + "mt-hup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let rules = root + "/rules.toml"
        try FileManager.default.copyItem(atPath: Self.repo + "/config/rules.toml", toPath: rules)
        let s = try config([Box(name: "support", url: server.imapsURL, user: user, address: "support@example.com")], rulesFile: rules)
        #expect(try s.serveOnce().status == 0)
        let notify = try NotifySocket()
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "notice"],
                                                 environment: ["NOTIFY_SOCKET": notify.path])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(notify.receive()?.hasPrefix("READY=1") == true)
        try "[[rule]]\nname = \"ok\"\nany = [\"x\"]\n\n[[rule]]\nname = \"broken\"\nany = [\"unclosed\"\n".write(toFile: rules, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        var got: [String] = []
        while let m = notify.receive(), !m.hasPrefix("READY=1") { got.append(m) }
        #expect(got.contains { $0.hasPrefix("RELOADING=1") }, "\(got)")
        // Still running, on the old rules: a complaint still goes to a human.
        #expect(process.isRunning)
        let sender = "hup-\(UUID().uuidString.prefix(6).lowercased())@customer.example"
        try server.deliver(user, [Self.mail(from: sender, to: "support@example.com", subject: "Beschwerde: Passwort vergessen",
                                            body: AnswerIntegrationTests.dePassword + " Das ist eine Beschwerde, ich bin sehr unzufrieden.",
                                            messageID: "hup-\(sender)")])
        let decided = try waitUntil(20) {
            (try? db(s).read { try String.fetchOne($0, sql: "SELECT degree FROM ticket WHERE from_address = ?", arguments: [sender]) }) != nil
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(decided)
        #expect(stderr.contains("\(rules):") && stderr.contains("reload rejected"), "\(stderr)")
        let line = stderr.split(separator: "\n").first { $0.contains("\(rules):") }
        #expect(line.map { $0.contains("\(rules):6") || $0.contains("\(rules):5") || $0.contains("\(rules):7") } == true, "\(line ?? "")")
        let degree = try db(s).read { try String.fetchOne($0, sql: "SELECT degree FROM ticket WHERE from_address = ?", arguments: [sender]) }
        #expect(degree == AutomationDegree.manual.rawValue)
        #expect(answers.captured(to: sender).isEmpty)
        #expect(process.terminationStatus == 0)
    }

    @Test func classifyPrintsWhatTheDaemonDecided() throws {
        let user = MailServer.newUser("cl")
        try server.deliver(user, [])
        let s = try config([Box(name: "support", url: server.imapsURL, user: user, address: "support@example.com")])
        #expect(try s.serveOnce().status == 0)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let mails: [[UInt8]] = [
            Self.mail(from: "c1-\(tag)@customer.example", to: "support@example.com", subject: "Passwort vergessen", body: AnswerIntegrationTests.dePassword,
                      messageID: "c1-\(tag)@customer.example"),
            Self.mail(from: "c2-\(tag)@customer.example", to: "support@example.com", subject: "Password reset", body: AnswerIntegrationTests.enPassword,
                      messageID: "c2-\(tag)@customer.example"),
            Self.mail(from: "c3-\(tag)@customer.example", to: "someone@else.example", subject: "Password reset", body: AnswerIntegrationTests.enPassword,
                      messageID: "c3-\(tag)@customer.example"),
            Self.mail(from: "c4-\(tag)@customer.example", to: "support@example.com", subject: "Beschwerde", body: "Ich möchte mich über den Service beschweren.",
                      messageID: "c4-\(tag)@customer.example"),
            Self.mail(from: "noreply@\(tag).example", to: "support@example.com", subject: "Password reset", body: AnswerIntegrationTests.enPassword,
                      messageID: "c5-\(tag)@customer.example"),
        ]
        try server.deliver(user, mails)
        #expect(try s.serveOnce().status == 0)
        let stored = try db(s).read { db in
            try Row.fetchAll(db, sql: "SELECT from_address, decision FROM ticket ORDER BY id").map { ($0["from_address"] as String, $0["decision"] as String) }
        }
        #expect(stored.count == mails.count)
        for (i, m) in mails.enumerated() {
            let file = s.root + "/m\(i).eml"
            FileManager.default.createFile(atPath: file, contents: Data(m))
            let r = try CLI.run(["classify", "--config", s.configPath, "--mailbox", "support", "--json", file])
            #expect(r.status == 0, "\(r.stderr)")
            struct Out: Decodable { var decision: DecisionRecord }
            let printed = try JSONDecoder().decode(Out.self, from: Data(r.stdout.utf8)).decision
            let daemon = try JSONDecoder().decode(DecisionRecord.self, from: Data(stored[i].1.utf8))
            #expect(printed == daemon, "mail \(i)")
        }
        // The cases differ: answered, refused by the loop guard, a rule, a role sender.
        let degrees = try stored.map { try JSONDecoder().decode(DecisionRecord.self, from: Data($0.1.utf8)) }
        #expect(degrees.map(\.state) == [.answered, .answered, .open, .open, .open])
        #expect(degrees[2].loopGuard == [.notAddressedTo("support@example.com")])
    }
}
