import Foundation
import Testing
import TriageCore
import TriageMIME
import TriageStore
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and broken input through the real daemon: the shapes of `make bench-hostile` delivered into Dovecot
/// between ordinary mail, and header-injection attempts answered (or not) through the real SMTP receiver.
@Suite(.serialized) struct HostileIntegrationTests {
    let server: MailServer
    let answers: AnswerIntegrationTests

    init() throws {
        server = try MailServer.fromEnvironment()
        answers = try AnswerIntegrationTests()
    }

    /// The hostile set of Benchmarks/hostile.py, each with a Message-ID of its own (the message of NUL bytes has
    /// none: it has no header at all).
    static func hostileSet(tag: String) -> [(name: String, raw: [UInt8])] {
        func header(_ name: String, _ extra: String = "") -> String {
            "Return-Path: <hostile-\(tag)@customer.example>\r\nFrom: hostile-\(tag)@customer.example\r\nTo: support@example.com\r\n"
                + "Subject: hostile \(name)\r\nMessage-ID: <\(name).\(tag)@customer.example>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n" + extra
        }
        let multipart = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%@\"\r\n\r\n"
        func mp(_ b: String) -> String { multipart.replacingOccurrences(of: "%@", with: b) }
        // 50 MB: a text part and a base64 attachment (its lines are all alike; only the size matters here).
        var big = Array((header("big-50mb", mp("b")) + "--b\r\nContent-Type: text/plain\r\n\r\nHello, see the attachment.\r\n--b\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n").utf8)
        let line = Array((String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", count: 2).prefix(76) + "\r\n").utf8)
        big.reserveCapacity(50 << 20 + 1024)
        while big.count < 50 << 20 { big += line }
        big += Array("--b--\r\n".utf8)
        var nested = header("nested-1000", mp("b0"))
        for i in 1...1000 { nested += "--b\(i - 1)\r\nContent-Type: multipart/mixed; boundary=\"b\(i)\"\r\n\r\n" }
        nested += "--b1000\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b1000--\r\n" + (0..<1000).reversed().map { "--b\($0)--\r\n" }.joined()
        var parts = header("parts-100k", mp("b"))
        parts.reserveCapacity(5 << 20)
        for i in 0..<100_000 { parts += "--b\r\nContent-Type: text/plain\r\n\r\npart \(i)\r\n" }
        parts += "--b--\r\n"
        return [
            ("big-50mb", big),
            ("nested-1000", Array(nested.utf8)),
            ("parts-100k", Array(parts.utf8)),
            ("header-line-1mb", Array(header("header-line-1mb", "X-Long: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\nbody\r\n").utf8)),
            ("nul-bytes", [UInt8](repeating: 0, count: 1 << 20)),
            ("header-only", Array(header("header-only").utf8)),
        ]
    }

    /// The daemon's peak resident memory so far (VmHWM), in KiB.
    static func peakRSS(_ pid: Int32) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let l = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(l.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
    }

    /// A cap on the daemon's peak memory while it takes in the hostile set: the daemon with its model and
    /// knowledge base takes about 95 MiB in a debug build (measured first, with ordinary mail only); on top of
    /// that one batch of raw mail (batch_bytes, 16 MiB here) is held while it is downloaded and recorded, and
    /// again while it is parsed, with the parser's limits on what is decoded. 160 MiB above the ordinary run
    /// leaves room for allocator slack; reading the 50 MB message whole or all 100,000 parts would not fit.
    static let extraPeakCapKiB = 160 * 1024

    @Test func theHostileSetBecomesTicketsWithWarningsWithoutStallingTheMailbox() throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let user = MailServer.newUser("h")
        try server.deliver(user, [])
        let s = try answers.setup(user: user, extraAnswers: "")
        let text = try String(contentsOfFile: s.configPath, encoding: .utf8)
            .replacingOccurrences(of: "poll_interval = \"1s\"", with: "poll_interval = \"1s\"\nbatch_bytes = \"16MiB\"")
        try text.write(toFile: s.configPath, atomically: true, encoding: .utf8)
        #expect(try s.serveOnce().status == 0)  // the first poll: a baseline, and the model trained and saved

        func ordinary(_ k: String) -> (String, [UInt8]) {
            let from = "ordinary-\(k)-\(tag)@customer.example"
            return (from, AnswerIntegrationTests.mail(from: from, name: "Anna Smith", subject: "Password reset",
                                                      body: AnswerIntegrationTests.enPassword, id: "ordinary-\(k)-\(tag)"))
        }
        let store = try SQLiteTicketStore(path: s.databasePath)

        // The running daemon with ordinary mail only: its peak memory so far is the baseline.
        let calm = ordinary("calm")
        try server.deliver(user, [calm.1])
        let (p, _, err) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "warning"])
        let calmDone = waitFor(120) { (try? store.counts().tickets) == 1 }
        let calmPeak = Self.peakRSS(p.processIdentifier) ?? 0

        // Then ordinary mail before and after the hostile set, which comes in one delivery.
        let set = Self.hostileSet(tag: tag)
        let before = ordinary("before"), after = ordinary("after")
        let started = Date()
        try server.deliver(user, [before.1] + set.map(\.raw) + [after.1])
        let expected = 1 + 1 + set.count + 1
        let allIn = waitFor(180) { (try? store.counts().tickets) == expected }
        let seconds = Date().timeIntervalSince(started)
        // The mailbox keeps moving: mail arriving afterwards is taken in by the same running daemon.
        let later = ordinary("later")
        try server.deliver(user, [later.1])
        let laterIn = waitFor(60) { (try? store.counts().tickets) == expected + 1 }
        let peak = Self.peakRSS(p.processIdentifier) ?? Int.max
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let log = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        print("hostile set through the daemon: \(String(format: "%.1f", seconds)) s; peak RSS \(peak / 1024) MiB with the hostile set, "
              + "\(calmPeak / 1024) MiB with ordinary mail only (cap: \(Self.extraPeakCapKiB / 1024) MiB more)")
        #expect(calmDone && allIn && laterIn, "\(String(log.suffix(3000)))")
        #expect(p.terminationStatus == 0, "the daemon must keep running and stop cleanly: \(String(log.suffix(3000)))")
        #expect(calmPeak > 0 && peak <= calmPeak + Self.extraPeakCapKiB, "peak RSS \(peak) KiB, ordinary \(calmPeak) KiB")

        // Every hostile message is a ticket with a warning; the 50 MB one is its header, with the reason.
        let tickets = try store.allTicketMessages()
        for (name, raw) in set {
            // (IMAP has no NUL in a message: Dovecot hands those bytes out as 0x80.)
            let t = tickets.first { name == "nul-bytes" ? !$0.message.raw.isEmpty && $0.message.raw.prefix(4096).allSatisfy { $0 == 0 || $0 == 0x80 }
                : String(decoding: $0.message.raw.prefix(4096), as: UTF8.self).contains("<\(name).\(tag)@customer.example>") }
            let ticket = try #require(t, "no ticket for \(name)")
            let summary = try #require(try store.tickets(TicketQuery(ids: [ticket.message.id])).first)
            #expect(!summary.warnings.isEmpty, "\(name): no warning")
            if name == "big-50mb" {
                #expect(ticket.message.truncated && ticket.message.raw.count < 4096, "the 50 MB message is stored as its header")
                #expect(ticket.decision?.reasons.contains(.headerOnly(size: ticket.message.size)) == true && ticket.message.size >= 50 << 20)
            } else {
                #expect(!ticket.message.truncated && ticket.message.raw.count == raw.count, "\(name) is stored whole")
            }
        }
        // The ordinary mail around the hostile set was answered as usual.
        for o in [calm, before, after, later] {
            #expect(answers.captured(to: o.0, expect: 1).count == 1, "\(o.0) was not answered")
        }
    }

    /// What may happen to one injection attempt.
    enum Outcome {
        /// One automatic answer, to the legitimate sender only, with clean headers.
        case answered
        /// No answer: the loop guard refused it (the classifier would have answered), for a reason of this kind.
        case refused(String)
    }

    /// Header injection and forged addresses on mail that would otherwise be answered automatically (the control
    /// with the same question is answered): nothing goes to our own mailbox or anywhere but the legitimate
    /// sender, no answer carries an injected header, and every attempt is a ticket.
    @Test func injectionAttemptsSendNothingAnywhereItShouldNot() throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let user = MailServer.newUser("j")
        try server.deliver(user, [])
        let s = try answers.setup(user: user)
        #expect(try s.serveOnce().status == 0)
        let victim = "victim-\(tag)@evil.example"
        func sender(_ k: String) -> String { "\(k)-\(tag)@customer.example" }
        /// The German password question with these fields; "<BAD>" becomes bytes that are not UTF-8.
        func mail(_ k: String, _ fields: [String], from: String? = nil, messageID: String? = nil) -> [UInt8] {
            let f = from ?? sender(k)
            var h = ["Return-Path: <\(f)>"] + fields
            if !fields.contains(where: { $0.hasPrefix("From:") }) { h.append("From: Kunde <\(f)>") }
            if !fields.contains(where: { $0.hasPrefix("To:") }) { h.append("To: Support <support@example.com>") }
            if !fields.contains(where: { $0.hasPrefix("Subject:") }) { h.append("Subject: Passwort vergessen") }
            h += ["Date: Sun, 22 Nov 2026 10:00:00 +0000", "Message-ID: <\(messageID ?? "\(k)-\(tag)@customer.example")>", "X-Case: \(k)-\(tag)",
                  "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
            let text = Array((h.joined(separator: "\r\n") + "\r\n\r\n" + AnswerIntegrationTests.dePassword + "\r\n").utf8)
            var out: [UInt8] = [], i = 0
            let bad = Array("<BAD>".utf8)
            while i < text.count {
                // A lone continuation byte, bytes never in UTF-8, a cut sequence, an overlong "/".
                if text[i...].starts(with: bad) { out += [0x80, 0xFF, 0xFE, 0xE2, 0x82, 0xC0, 0xAF]; i += bad.count } else { out.append(text[i]); i += 1 }
            }
            return out
        }

        // The control: answered; its answer's Message-ID is forged below.
        try server.deliver(user, [mail("control", [])])
        #expect(try s.serveOnce().status == 0)
        let controlAnswer = try #require(answers.captured(to: sender("control"), expect: 1).first)
        let ours = try #require(controlAnswer.envelope.messageID)

        let q = "=0D=0A"
        let b64 = Data("Kunde\r\nBcc: \(victim)\r\nX-Injected: yes".utf8).base64EncodedString()
        let cases: [(String, [String], Outcome, String?)] = [
            ("utf8", ["From: K<BAD>unde <\(sender("utf8"))>", "To: Sup<BAD>port <support@example.com>", "Subject: Passwort vergessen <BAD>",
                      "Reply-To: <BAD> <\(sender("utf8"))>", "Comments: <BAD>", "Keywords: <BAD>"], .answered, nil),
            ("subject", ["Subject: =?utf-8?q?Passwort_vergessen\(q)Bcc:_\(victim)?="], .answered, nil),
            ("from-name", ["From: =?utf-8?b?\(b64)?= <\(sender("from-name"))>"], .answered, nil),
            ("replyto-name", ["Reply-To: =?utf-8?q?Kunde\(q)To:_\(victim)?= <\(sender("replyto-name"))>"], .answered, nil),
            ("to-name", ["To: =?utf-8?q?Support\(q)Bcc:_\(victim)?= <support@example.com>"], .answered, nil),
            ("smuggling", ["From: =?utf-8?q?Kunde\(q).\(q)MAIL_FROM:<x@evil.example>\(q)RCPT_TO:<\(victim)>\(q)DATA?= <\(sender("smuggling"))>"],
             .answered, nil),
            ("name-is-address", ["From: =?utf-8?q?\(victim)?= <\(sender("name-is-address"))>"], .answered, nil),
            ("two-reply-to", ["Reply-To: \(sender("two-reply-to")), \(victim)"], .answered, nil),
            ("long-name", ["From: \"\(String(repeating: "Kunde ", count: 2000))\" <\(sender("long-name"))>"], .answered, nil),
            ("replyto-ours", ["Reply-To: support@example.com"], .refused("own_address"), nil),
            ("replyto-ours-variant", ["Reply-To: \"Support\" <Support+loop@Example.COM.>"], .refused("own_address"), nil),
            ("from-ours", ["From: Support <support@example.com>", "Reply-To: \(victim)"], .refused("own_address"), nil),
            ("folded-address", ["Reply-To: <\(sender("folded-address"))\r\n Bcc: \(victim)>"], .refused("unusable_address"), nil),
            ("comma-address", ["Reply-To: <\(sender("comma-address")),\(victim)>"], .refused("unusable_address"), nil),
            ("at-at-address", ["Reply-To: <\(victim)@customer.example>"], .refused("unusable_address"), nil),
            ("long-address", ["Reply-To: <\(String(repeating: "a", count: 300))@customer.example>"], .refused("unusable_address"), nil),
            ("forged-id", [], .refused("own_message"), ours),
            ("forged-reply", ["In-Reply-To: <\(ours)>", "References: <\(ours)>"], .refused("reply_to_our_answer"), nil),
        ]
        try server.deliver(user, cases.map { mail($0.0, $0.1, messageID: $0.3) })
        let r = try s.serveOnce()
        #expect(r.status == 0, "\(r.stderr)")

        // Every attempt is a ticket; the refused ones were refused by the guard, not by the classifier.
        let store = try SQLiteTicketStore(path: s.databasePath)
        let tickets = try store.allTicketMessages()
        for (k, _, outcome, _) in cases {
            let t = try #require(tickets.first { String(decoding: $0.message.raw, as: UTF8.self).contains("X-Case: \(k)-\(tag)\r\n") },
                                 "\(k): no ticket")
            let guardReasons = t.decision?.reasons.compactMap { r -> String? in if case .loopGuard(let g) = r { return g.kind } else { return nil } } ?? []
            switch outcome {
            case .answered:
                #expect(t.decision?.state == .answered, "\(k): \(String(describing: t.decision?.reasons))")
            case .refused(let kind):
                #expect(guardReasons.contains(kind), "\(k): \(guardReasons), \(String(describing: t.decision?.reasons))")
                #expect(t.decision?.state != .answered)
            }
        }

        // What went out: every answer to these mails goes to its legitimate sender alone, with clean headers.
        let dir = server.dir + "/smtp/captured/new"
        var sent: [String: Int] = [:]
        let caseOf = Dictionary(uniqueKeysWithValues: cases.map { ($0.3 ?? "\($0.0)-\(tag)@customer.example", $0.0) })
        let allowed: Set<String> = ["from", "to", "subject", "date", "message-id", "in-reply-to", "references", "mime-version", "content-type",
                                    "content-transfer-encoding", "auto-submitted", "x-auto-response-suppress", "precedence",
                                    "x-peer", "x-mailfrom", "x-rcptto", "received", "return-path"]
        for f in try FileManager.default.contentsOfDirectory(atPath: dir) {
            guard let d = FileManager.default.contents(atPath: dir + "/" + f) else { continue }
            let raw = [UInt8](d)
            let m = MIMEParser.parse(raw)
            let rcpt = m.headers["X-RcptTo"]?.lowercased() ?? ""
            #expect(!rcpt.contains(victim), "mail went to the victim: \(String(decoding: raw.prefix(2000), as: UTF8.self))")
            guard let irt = m.envelope.inReplyTo.first, let k = caseOf[irt] else { continue }
            sent[k, default: 0] += 1
            #expect(rcpt == sender(k), "\(k): sent to \(rcpt)")
            #expect(MailAddress.mailboxKey(rcpt) != "support@example.com")
            #expect(m.envelope.to.map(\.address) == [sender(k)], "\(k): To \(m.envelope.to)")
            // (The receiver stores what it got with LF line ends.)
            let text = String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            let head = text.components(separatedBy: "\n\n").first ?? ""
            #expect(head.utf8.allSatisfy { $0 < 0x80 && $0 != 0 && $0 != 0x0D }, "\(k): a header byte outside ASCII or a bare CR")
            let lines = head.components(separatedBy: "\n")
            #expect(lines.allSatisfy { $0.utf8.count <= 78 || $0.hasPrefix("X-") }, "\(k): a header line over 78 characters")
            // Every line is a continuation or a field we write (or the receiver adds).
            let starts = lines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("\t") }.map { String($0.prefix { $0 != ":" }).lowercased() }
            #expect(starts.allSatisfy(allowed.contains), "\(k): header lines \(starts)")
            let names = m.headers.fields.map { $0.name.lowercased() }
            #expect(names.filter { $0 == "to" }.count == 1 && !names.contains("bcc") && !names.contains("cc"), "\(k): \(names)")
            // The customer's name is one line of plain text in the answer: nothing in it starts a line of its own.
            let bodyLines = m.text.components(separatedBy: "\n")
            #expect(!bodyLines.contains { l in
                ["bcc:", "to:", "x-injected:", "mail from:", "rcpt to:"].contains { l.lowercased().hasPrefix($0) } || l == "." || l.lowercased() == "data"
            }, "\(k): \(m.text)")
        }
        for (k, _, outcome, _) in cases {
            if case .answered = outcome { #expect(sent[k] == 1, "\(k): \(sent[k] ?? 0) answers") } else { #expect(sent[k] == nil, "\(k) was answered") }
        }
    }
}

extension SQLiteTicketStore {
    /// Every ticket's first message with its decision, newest first (a test's small store).
    func allTicketMessages() throws -> [(message: StoredMessage, decision: DecisionRecord?)] {
        var out: [(message: StoredMessage, decision: DecisionRecord?)] = []
        try forEachTicketMessage { m, d in out.append((message: m, decision: d)) }
        return out
    }
}
