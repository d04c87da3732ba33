public import TriageCore

/// Small generated messages for tests.
public enum Fixtures {
    /// A plain-text message with a unique Message-ID derived from `n`.
    public static func message(_ n: Int, from: String = "customer@example.org", subject: String? = nil,
                               body: String = "Where is my order?", messageID: String? = nil) -> [UInt8]
    {
        let mid = messageID ?? "msg-\(n)@example.org"
        let text = "From: Customer \(n) <\(from)>\r\nTo: support@example.com\r\nSubject: \(subject ?? "Question \(n)")\r\n"
            + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <\(mid)>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\n\(body)\r\n"
        return Array(text.utf8)
    }
}

extension Fixtures {
    /// A configuration with one mailbox `support` answering as support@example.com.
    public static func config(mailboxes: [(String, String?)] = [("support", "support@example.com")], smtp: Bool = true) -> TriageConfig {
        var c = TriageConfig()
        c.mailboxes = mailboxes.map { name, address in
            var m = MailboxConfig(name: name, url: IMAPURL("imaps://127.0.0.1/INBOX")!, username: name, password: .file("/dev/null"))
            m.address = address
            return m
        }
        if smtp { c.smtp = SMTPConfig(url: "smtp://127.0.0.1") }
        c.answers.messageIDDomain = "answers.example.com"
        return c
    }

    /// A snapshot without classifier or knowledge base: every message becomes an open, manual ticket.
    public static func plainSnapshot(_ config: TriageConfig = Fixtures.config()) -> TriageSnapshot {
        try! TriageSnapshot(config: config, classifier: nil, knowledgeBase: nil)
    }

    /// Decisions for stored messages, as the processor makes them without store context.
    public static func decisions(_ messages: [StoredMessage], snapshot: TriageSnapshot = Fixtures.plainSnapshot()) -> [TriageDecision] {
        messages.map { TriageEngine.decide(IncomingMessage(stored: $0), snapshot: snapshot, context: DecisionContext(), now: 0) }
    }
}
