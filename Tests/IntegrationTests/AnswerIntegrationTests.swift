import Foundation
import Testing
import TriageCore
import TriageMIME
import TriageStore
#if canImport(Glibc)
import Glibc
#endif

/// Automatic answers end to end: the binary polls the real Dovecot, classifies, answers through the real
/// aiosmtpd (STARTTLS, test CA), and threads the customer's reply.
@Suite(.serialized) struct AnswerIntegrationTests {
    let server: MailServer
    let smtpPort: Int
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    init() throws {
        server = try MailServer.fromEnvironment()
        smtpPort = Int(ProcessInfo.processInfo.environment["SMTP_PORT"] ?? "") ?? 10025
    }

    func setup(user: String, smtpPort port: Int? = nil, extraAnswers: String = "") throws -> TestSetup {
        try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: """
            knowledge_base = "\(Self.repo)/knowledge-base"
            [classifier]
            rules_file = "\(Self.repo)/config/rules.toml"
            [smtp]
            url = "smtp://localhost:\(port ?? smtpPort)"
            ca_file = "\(server.caFile)"
            connect_timeout = "5s"
            [answers]
            message_id_domain = "answers.example.com"
            placeholders = { company = "Beispiel GmbH", shop_url = "https://shop.example.com", password_reset_url = "https://shop.example.com/reset", support_hours = "Mo-Fr 8-18 Uhr" }
            \(extraAnswers)
            """, mailboxExtra: """
            address = "support@example.com"
            display_name = "Beispiel Support"
            """)
    }

    static func mail(from: String, name: String = "Kunde", subject: String, body: String, headers: String = "",
                     id: String = UUID().uuidString, messageID: String? = nil) -> [UInt8]
    {
        Array(("Return-Path: <\(from)>\r\nFrom: \(name) <\(from)>\r\nTo: Support <support@example.com>\r\nSubject: \(subject)\r\n"
            + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <\(messageID ?? id + "@customer.example")>\r\nMIME-Version: 1.0\r\n\(headers)"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(body)\r\n").utf8)
    }

    static let dePassword = "Hallo, ich habe mein Passwort vergessen und komme nicht mehr in mein Konto. Wie kann ich es zurücksetzen?"
    static let enPassword = "Hello, I forgot my password and cannot log in any more. How can I reset my password?"

    /// Captured messages (aiosmtpd Maildir) sent to `recipient`.
    func captured(to recipient: String, expect n: Int? = nil) -> [ParsedMessage] {
        var out: [ParsedMessage] = []
        for _ in 0..<50 {
            out = server.captured { $0.lowercased() == recipient.lowercased() }
            if n == nil || out.count >= n! { break }
            usleep(20_000)
        }
        return out
    }

    func store(_ s: TestSetup) throws -> SQLiteTicketStore { try SQLiteTicketStore(path: s.databasePath) }

    @Test func germanAndEnglishPasswordMailsAreAnsweredAndRepliesThreaded() throws {
        let user = MailServer.newUser("a")
        try server.deliver(user, [])
        let s = try setup(user: user)
        #expect(try s.serveOnce().status == 0)
        let de = "de-\(UUID().uuidString.prefix(8).lowercased())@customer.example"
        let en = "en-\(UUID().uuidString.prefix(8).lowercased())@customer.example"
        try server.deliver(user, [
            Self.mail(from: de, name: "Jürgen Weiß", subject: "Passwort vergessen", body: Self.dePassword, id: "de1"),
            Self.mail(from: en, name: "Anna Smith", subject: "Password reset", body: Self.enPassword, id: "en1"),
        ])
        let r = try s.serveOnce()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("outbox: 2 sent"), "\(r.stdout)")

        let deAnswer = try #require(captured(to: de, expect: 1).first)
        let enAnswer = try #require(captured(to: en, expect: 1).first)
        let tickets = try store(s).tickets(TicketQuery())
        let deTicket = try #require(tickets.first { $0.from == de })
        #expect(deTicket.state == .answered)
        for (answer, ticket, lang) in [(deAnswer, deTicket, "de"), (enAnswer, try #require(tickets.first { $0.from == en }), "en")] {
            let h = answer.headers
            #expect(h["From"] == "\"Beispiel Support\" <support@example.com>")
            #expect(answer.envelope.to.first?.address == (lang == "de" ? de : en))
            #expect(answer.envelope.subject.hasSuffix("[#\(ticket.id)]"))
            #expect(answer.envelope.subject.hasPrefix("Re: "))
            #expect(answer.envelope.inReplyTo == ["\(lang)1@customer.example"])
            #expect(answer.envelope.references == ["\(lang)1@customer.example"])
            #expect(answer.envelope.messageID?.hasSuffix("@answers.example.com") == true)
            #expect(answer.envelope.messageID?.hasPrefix("auto.\(ticket.id).") == true)
            #expect(h["Date"] != nil && h["MIME-Version"] == "1.0")
            #expect(h["Content-Type"] == "text/plain; charset=utf-8")
            #expect(h["Content-Transfer-Encoding"] == "quoted-printable")
            #expect(h["Auto-Submitted"] == "auto-replied")
            #expect(h["X-Auto-Response-Suppress"] == "All")
            #expect(h["X-MailFrom"] == "<>")  // the null envelope sender (RFC 3834)
            #expect(answer.text.contains("https://shop.example.com/reset"))
            #expect(!answer.text.contains("{{"))
        }
        #expect(deAnswer.text.contains("Hallo Jürgen Weiß"))
        #expect(deAnswer.text.contains("Passwort"))
        #expect(enAnswer.text.contains("Hello Anna Smith"))

        // The customer answers the automatic reply: same ticket, back in the manual queue.
        let answerID = try #require(deAnswer.envelope.messageID)
        try server.deliver(user, [Self.mail(from: de, name: "Jürgen Weiß", subject: "Re: \(deAnswer.envelope.subject)",
                                            body: "Das hat leider nicht geholfen, der Link kommt nicht an.",
                                            headers: "In-Reply-To: <\(answerID)>\r\nReferences: <de1@customer.example> <\(answerID)>\r\n")])
        // An out-of-office reply to our answer is kept for information only.
        try server.deliver(user, [Self.mail(from: en, name: "Anna Smith", subject: "Automatic reply: \(enAnswer.envelope.subject)",
                                            body: "I am out of the office.", headers: "Auto-Submitted: auto-replied\r\nIn-Reply-To: <\(enAnswer.envelope.messageID!)>\r\n")])
        let r2 = try s.serveOnce()
        #expect(r2.status == 0, "\(r2.stderr)")
        let after = try store(s).tickets(TicketQuery())
        #expect(after.count == 2, "the reply must not open a new ticket")
        #expect(after.first { $0.id == deTicket.id }?.state == .open)
        #expect(after.first { $0.from == en }?.state == .answered)
        #expect(captured(to: de).count == 1 && captured(to: en).count == 1, "no second automatic answer")
    }

    @Test func noAutomaticAnswersToMachinesListsLoopsOrOurselves() throws {
        let user = MailServer.newUser("l")
        try server.deliver(user, [])
        let s = try setup(user: user)
        #expect(try s.serveOnce().status == 0)
        let bounceDir = Self.repo + "/../shared/datasets/mime/sisimai_set_of_emails/maildir_bsd"
        let bounces = try FileManager.default.contentsOfDirectory(atPath: bounceDir).sorted().map {
            try [UInt8](Data(contentsOf: URL(fileURLWithPath: bounceDir + "/" + $0)))
        }
        #expect(bounces.count > 300)
        let c = "loop-\(UUID().uuidString.prefix(6).lowercased())"
        var loops: [[UInt8]] = []
        for (k, h) in ["Auto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-generated\r\n", "Precedence: bulk\r\n",
                       "Precedence: list\r\n", "Precedence: junk\r\n", "Precedence: auto_reply\r\n", "List-Id: <x.example.org>\r\n",
                       "List-Unsubscribe: <mailto:u@example.org>\r\n", "X-Auto-Response-Suppress: All\r\n", "X-Autoreply: yes\r\n",
                       "X-Autorespond: yes\r\n", "X-Autoresponder: yes\r\n"].enumerated()
        {
            loops.append(Self.mail(from: "\(c)-\(k)@customer.example", subject: "Passwort vergessen", body: Self.dePassword, headers: h))
        }
        for role in ["mailer-daemon", "postmaster", "noreply", "no-reply", "list-request", "owner-list"] {
            loops.append(Self.mail(from: "\(role)@\(c).example", subject: "Passwort vergessen", body: Self.dePassword))
        }
        // A null return path, our own address, and our own answer delivered back into the mailbox.
        loops.append(Array(String(decoding: Self.mail(from: "\(c)-null@customer.example", subject: "Passwort vergessen", body: Self.dePassword), as: UTF8.self)
            .replacingOccurrences(of: "Return-Path: <\(c)-null@customer.example>", with: "Return-Path: <>").utf8))
        loops.append(Self.mail(from: "support@example.com", subject: "Passwort vergessen", body: Self.dePassword))
        loops.append(Self.mail(from: "\(c)-own@customer.example", subject: "Passwort vergessen", body: Self.dePassword,
                               messageID: "auto.1.abc@answers.example.com"))
        try server.deliver(user, bounces + loops)
        let r = try s.serveOnce()
        #expect(r.status == 0, "\(r.stderr)")
        let st = try store(s)
        let counts = try st.outboxCounts()
        #expect(counts.values.reduce(0, +) == 0, "\(counts)")
        // Every message was processed: a ticket of its own or joined to one (duplicates in the corpus).
        #expect(try st.claimUnprocessed(limit: 1, worker: "test", lease: 1).isEmpty)
        #expect(try st.counts().tickets >= loops.count)
        // The refusals are recorded with their reasons.
        #expect(try st.tickets(TicketQuery()).allSatisfy { $0.state != .answered })
    }

    @Test func oneSenderIsAnsweredAtMostThreeTimesADay() throws {
        let user = MailServer.newUser("r")
        try server.deliver(user, [])
        let s = try setup(user: user)
        #expect(try s.serveOnce().status == 0)
        let sender = "rate-\(UUID().uuidString.prefix(8).lowercased())@customer.example"
        try server.deliver(user, (0..<10).map { k in
            Self.mail(from: sender, subject: "Passwort vergessen \(k)", body: Self.dePassword)
        })
        let r = try s.serveOnce()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(captured(to: sender, expect: 3).count == 3)
        #expect(try store(s).outboxCounts()[.sent] == 3)
        #expect(try store(s).tickets(TicketQuery()).filter { $0.state == .answered }.count == 3)
    }

    @Test func answersWaitWhileTheServerIsDownAndGoOutExactlyOnce() throws {
        let user = MailServer.newUser("d")
        try server.deliver(user, [])
        let down = try setup(user: user, smtpPort: 1)  // nothing listens there
        #expect(try down.serveOnce().status == 0)
        let sender = "down-\(UUID().uuidString.prefix(8).lowercased())@customer.example"
        try server.deliver(user, [Self.mail(from: sender, subject: "Password reset", body: Self.enPassword)])
        for _ in 0..<2 {
            let r = try down.serveOnce()
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("outbox: 0 sent, 1 waiting for a retry"), "\(r.stdout)")
        }
        #expect(captured(to: sender).isEmpty)
        // The server is back: same state directory, the real port.
        let text = try String(contentsOfFile: down.configPath, encoding: .utf8).replacingOccurrences(of: "localhost:1\"", with: "localhost:\(smtpPort)\"")
        try text.write(toFile: down.configPath, atomically: true, encoding: .utf8)
        let up = try down.serveOnce()
        #expect(up.stdout.contains("outbox: 1 sent"), "\(up.stdout)")
        let again = try down.serveOnce()
        #expect(again.stdout.contains("outbox: 0 sent, 0 waiting"), "\(again.stdout)")
        #expect(captured(to: sender, expect: 1).count == 1)
        #expect(try store(down).outboxCounts() == [.sent: 1])
    }

    @Test func theRunningDaemonAnswersAndStopsCleanly() throws {
        let user = MailServer.newUser("s")
        try server.deliver(user, [])
        let s = try setup(user: user)
        #expect(try s.serveOnce().status == 0)
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "warning"])
        let sender = "daemon-\(UUID().uuidString.prefix(8).lowercased())@customer.example"
        try server.deliver(user, [Self.mail(from: sender, name: "Anna Smith", subject: "Password reset", body: Self.enPassword)])
        var got: [ParsedMessage] = []
        let deadline = Date().addingTimeInterval(30)
        while got.isEmpty && Date() < deadline && process.isRunning {
            got = captured(to: sender)
            usleep(100_000)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(got.count == 1, "\((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        #expect(process.terminationStatus == 0)
        #expect(try store(s).outboxCounts() == [.sent: 1])
    }

    @Test func injectionAttemptsProduceNoExtraHeaders() throws {
        let user = MailServer.newUser("i")
        try server.deliver(user, [])
        let s = try setup(user: user)
        #expect(try s.serveOnce().status == 0)
        let sender = "inj-\(UUID().uuidString.prefix(8).lowercased())@customer.example"
        try server.deliver(user, [
            Self.mail(from: sender, name: "=?utf-8?q?Eve=0D=0ABcc:_victim@evil.example?=", subject: "=?utf-8?q?Passwort_vergessen=0D=0ABcc:_victim2@evil.example?=",
                      body: Self.dePassword + " Bitte schicken Sie mir den Link zum Zurücksetzen des Passworts, ich habe das Kennwort vergessen und mein Konto ist gesperrt."),
        ])
        let r = try s.serveOnce()
        #expect(r.status == 0, "\(r.stderr)")
        let answer = try #require(captured(to: sender, expect: 1).first)
        #expect(answer.headers["Bcc"] == nil)
        #expect(answer.headers.fields.filter { $0.name.lowercased() == "to" }.count == 1)
        #expect(answer.envelope.to.map(\.address) == [sender])
        #expect(captured(to: "victim@evil.example").isEmpty && captured(to: "victim2@evil.example").isEmpty)
        #expect(!answer.text.contains("\nBcc:"))
    }
}
