import Foundation
import Testing

/// `mailtriage analyze` through the binary: an archive built here (Maildir, mbox, a folder of .eml files) with
/// known contents, the shared MIME corpus, the CSV, the progress line on a terminal, and the HTML page in a
/// real headless browser.
@Suite(.serialized) struct AnalyzeIntegrationTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let shared = repo + "/../shared"

    /// A model trained once for these tests (training takes a few seconds).
    static let model: String = {
        let dir = NSTemporaryDirectory() + "mt-analyze-model-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try? CLI.run(["train", "--knowledge-base", repo + "/knowledge-base", "--rules", repo + "/config/rules.toml", "--model", dir + "/model"])
        return dir + "/model"
    }()

    static var classifierArgs: [String] {
        ["--knowledge-base", repo + "/knowledge-base", "--rules", repo + "/config/rules.toml", "--model", model]
    }

    static func mail(from: String, subject: String, date: String, body: String, extra: String = "", id: String? = nil) -> String {
        "Return-Path: <\(from)>\nFrom: Kim Kunde <\(from)>\nTo: support@example.com\nSubject: \(subject)\nDate: \(date)\n"
            + "Message-ID: <\(id ?? UUID().uuidString + "@example.org")>\nMIME-Version: 1.0\n\(extra)Content-Type: text/plain; charset=utf-8\n\n\(body)\n"
    }

    static let reset = "Hello,\n\nI forgot my password and cannot log in to my account. How can I reset my password?\n\nThanks\nKim"

    static let bounce = """
        Return-Path: <>
        From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
        To: support@example.com
        Subject: Undelivered Mail Returned to Sender
        Date: Tue, 10 Feb 2026 09:00:00 +0000
        Message-ID: <bounce-1@mx.example.net>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

        --b1
        Content-Type: text/plain

        Your message could not be delivered.
        --b1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; gone@example.net
        Action: failed
        Status: 5.1.1
        --b1--

        """

    /// Maildir (3: a question, a bounce, an auto-reply), an mbox (4, one body line quoted ">From "), a folder with
    /// two .eml files, a README (skipped) and a .eml that is no mail (failed): 10 messages.
    static func archive() throws -> String {
        let root = NSTemporaryDirectory() + "mt-analyze-\(UUID().uuidString)"
        let fm = FileManager.default
        for d in ["maildir/cur", "maildir/new", "maildir/tmp", "eml"] { try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true) }
        try mail(from: "kim@kunde.example", subject: "Password", date: "Mon, 12 Jan 2026 10:00:00 +0100", body: reset)
            .write(toFile: root + "/maildir/cur/1.host:2,S", atomically: true, encoding: .utf8)
        try bounce.write(toFile: root + "/maildir/cur/2.host:2,S", atomically: true, encoding: .utf8)
        try mail(from: "max@kunde.example", subject: "Abwesenheitsnotiz: Ihre Anfrage", date: "Tue, 13 Jan 2026 10:00:00 +0100",
                 body: "Ich bin bis Montag nicht im Büro.", extra: "Auto-Submitted: auto-replied\n")
            .write(toFile: root + "/maildir/new/3.host", atomically: true, encoding: .utf8)
        var mbox = ""
        for (i, month) in ["Jan", "Feb", "Feb", "Mar"].enumerated() {
            mbox += "From sender\(i)@kunde.example Mon Jan  5 10:00:00 2026\n"
            var body = i == 1 ? "Where is my order? I ordered last week.\n>From here on I wait.\nRegards" : reset
            if i == 3 { body = "Ich habe eine Frage zu Ihrer Rechnung vom letzten Monat." }
            mbox += mail(from: "sender\(i)@kunde.example", subject: "Question \(i)", date: "Thu, 0\(i + 1) \(month) 2026 10:00:00 +0000", body: body) + "\n"
        }
        try mbox.write(toFile: root + "/export.mbox", atomically: true, encoding: .utf8)
        try mail(from: "ann@kunde.example", subject: "Passwort vergessen", date: "Fri, 06 Mar 2026 08:00:00 +0100",
                 body: "Hallo,\n\nich habe mein Passwort vergessen. Wie kann ich es zurücksetzen?\n\nGruß\nAnn")
            .write(toFile: root + "/eml/a.eml", atomically: true, encoding: .utf8)
        try mail(from: "bob@kunde.example", subject: "Lieferung", date: "Sat, 07 Mar 2026 08:00:00 +0100",
                 body: "Wann kommt meine Lieferung an?")
            .write(toFile: root + "/eml/b.eml", atomically: true, encoding: .utf8)
        try "This folder holds exported mail.\n".write(toFile: root + "/eml/README.txt", atomically: true, encoding: .utf8)
        try Data([0, 1, 2, 3, 0xFF, 0xFE, 10, 10, 0, 0]).write(to: URL(fileURLWithPath: root + "/eml/broken.eml"))
        return root
    }

    static func json(_ s: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    @Test func countsAKnownArchiveTheSameWithOneOrTwoWorkers() throws {
        let root = try Self.archive()
        let one = try CLI.run(["analyze", "--json", "--workers", "1"] + Self.classifierArgs + [root])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stderr.isEmpty, "no progress line when standard error is not a terminal: \(one.stderr)")
        let r = try Self.json(one.stdout)
        #expect(r["messages"] as? Int == 10)
        #expect(r["files"] as? Int == 7)
        let skipped = try #require(r["skippedFiles"] as? [String])
        #expect(skipped.count == 1 && skipped[0].hasSuffix("README.txt"))
        let o = try #require(r["outcomes"] as? [String: Int])
        #expect(o["total"] == 10)
        #expect(o["failed"] == 1)
        #expect(o["refused"] == 2, "the bounce and the auto-reply: \(o)")
        #expect((o["automatic"] ?? 0) >= 2, "the English password requests: \(o)")
        #expect((o["automatic"] ?? 0) + (o["semi_automatic"] ?? 0) + (o["manual"] ?? 0) + (o["shadow"] ?? 0) == 7)
        // Months from the Date fields: Jan (Maildir 2 + mbox 1), Feb (bounce + mbox 2), Mar (mbox 1 + eml 2).
        let months = try #require(r["months"] as? [[String: Any]])
        let byMonth = Dictionary(uniqueKeysWithValues: months.map { ($0["name"] as? String ?? "", ($0["counts"] as? [String: Int])?["total"] ?? 0) })
        #expect(byMonth["2026-01"] == 3 && byMonth["2026-02"] == 3 && byMonth["2026-03"] == 3, "\(byMonth)")
        #expect(byMonth["(no date)"] == 1)
        let entries = try #require(r["entries"] as? [[String: Any]])
        #expect(entries.contains { $0["entry"] as? String == "password-reset" && ($0["answers"] as? Int ?? 0) >= 2 }, "\(entries)")
        let problems = try #require(r["problems"] as? [[String: Any]])
        #expect(problems.contains { ($0["source"] as? String ?? "").hasSuffix("broken.eml") && $0["outcome"] as? String == "failed" })

        // Two threads decide in parallel; the report is the same (but for the time it took).
        let two = try CLI.run(["analyze", "--json", "--workers", "2"] + Self.classifierArgs + [root])
        var a = r, b = try Self.json(two.stdout)
        a["seconds"] = nil
        b["seconds"] = nil
        #expect(NSDictionary(dictionary: a).isEqual(to: b))
    }

    @Test func csvMatchesTheJSONAndQuotesFormulas() throws {
        let root = try Self.archive()
        try Self.mail(from: "eve@kunde.example", subject: "=HYPERLINK(\"http://evil.example\",\"x\"), please", date: "Sat, 07 Mar 2026 09:00:00 +0100",
                      body: "A question about something nobody has written an answer for yet, a rare topic.")
            .write(toFile: root + "/eml/c.eml", atomically: true, encoding: .utf8)
        let csv = try CLI.run(["analyze", "--csv"] + Self.classifierArgs + [root])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.components(separatedBy: "\r\n")
        #expect(lines[0] == "section,name,messages,automatic,semi_automatic,shadow,manual,refused,failed,detail")
        let total = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(total[0] == "total" && total[2] == "11" && total[8] == "1")
        #expect(lines.contains { $0.hasPrefix("month,2026-03,4,") })
        #expect(!csv.stdout.contains(",=HYPERLINK"), "a cell never starts with a formula")
    }

    @Test func sharedCorpusIsReadWhole() throws {
        let corpus = Self.shared + "/datasets/mime"
        let r = try CLI.run(["analyze", "--json"] + Self.classifierArgs + [corpus])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let messages = try #require(j["messages"] as? Int)
        // Every file is a message, an mbox or skipped; the corpus's two mbox files hold more than one each.
        let files = try #require(j["files"] as? Int)
        let skipped = try #require(j["skippedFiles"] as? [String])
        let all = try FileManager.default.subpathsOfDirectory(atPath: corpus).filter { p in
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: corpus + "/" + p, isDirectory: &d) && !d.boolValue && !(p as NSString).lastPathComponent.hasPrefix(".")
        }
        #expect(files + skipped.count == all.count)
        #expect(messages > files, "mbox files hold several messages")
        let o = try #require(j["outcomes"] as? [String: Int])
        // Every message is a new ticket or a follow-up to an earlier one.
        let tickets = try #require(j["tickets"] as? Int)
        #expect(tickets + (j["followUps"] as? Int ?? -1) + (j["automatedFollowUps"] as? Int ?? -1) == messages)
        #expect(o.filter { $0.key != "total" }.values.reduce(0, +) == tickets && o["total"] == tickets)
        let cats = try #require(j["categories"] as? [[String: Any]])
        #expect(cats.map { ($0["counts"] as? [String: Int])?["total"] ?? 0 }.reduce(0, +) == tickets)
        #expect((o["refused"] ?? 0) > 100, "the corpus is mostly bounces and machine mail")
    }

    @Test func progressLineOnlyOnATerminal() throws {
        let root = try Self.archive()
        // `script` gives the command a terminal; its output is what a user would see.
        let log = root + "/typescript"
        let cmd = ([try CLI.binary, "analyze"] + Self.classifierArgs + [root]).map { "'\($0)'" }.joined(separator: " ")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", cmd + " >/dev/null", log]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let seen = try String(contentsOfFile: log, encoding: .utf8)
        #expect(seen.contains("10 messages") && seen.contains("ETA") && seen.contains("100%"), "\(seen)")
    }

    @Test func htmlPageInAHeadlessBrowser() throws {
        let root = try Self.archive()
        let page = root + "/report.html"
        let r = try CLI.run(["analyze", "--html", page] + Self.classifierArgs + [root, Self.shared + "/datasets/mime/sisimai_set_of_emails/mailbox"])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(!html.contains("<script") && !html.contains(" src=") && !html.contains(" href=") && !html.contains("url("),
                "self-contained: no scripts, nothing loaded")

        let browser = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "Debian's chromium is needed (Tests/Servers/install-deps.sh installs it)")
        func open(_ file: String, png: String, width: Int) throws -> (dom: String, console: [String]) {
            func run(_ args: [String]) throws -> (String, String) {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: browser)
                p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--log-level=0",
                               "--user-data-dir=\(root)/chromium-profile"] + args + ["file://" + file]
                let out = Pipe(), err = Pipe()
                p.standardOutput = out
                p.standardError = err
                try p.run()
                let o = out.fileHandleForReading.readDataToEndOfFile()
                let e = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
            }
            let (_, shotLog) = try run(["--window-size=\(width),2400", "--screenshot=\(png)"])
            let (dom, domLog) = try run(["--dump-dom"])
            let console = (shotLog + domLog).split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
            return (dom, console)
        }
        // The check can fail: a page with a script error shows it.
        let bad = root + "/bad.html"
        try "<!DOCTYPE html><html><body><p>x</p><script>missingFunction();</script></body></html>".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(try open(bad, png: root + "/bad.png", width: 400).console.contains { $0.contains("missingFunction") })

        for (width, name) in [(412, "phone"), (1280, "desktop")] {
            let png = root + "/report-\(name).png"
            let (dom, console) = try open(page, png: png, width: width)
            #expect(console.isEmpty, "console messages: \(console)")
            for id in ["chart-handling", "chart-categories", "chart-months", "gaps"] { #expect(dom.contains("id=\"\(id)\""), "\(id) rendered") }
            #expect(dom.components(separatedBy: "<rect").count > 10, "the charts have bars")
            // The screenshot is a real picture of the page: a PNG of the window's width.
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: png)))
            #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let w = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
            #expect(w == width)
            #expect(bytes.count > 20_000, "a page with charts is not a blank picture (\(bytes.count) bytes)")
        }
    }

    /// The archive as a stream, as the daemon would have seen it: a customer's reply to an earlier message joins
    /// its ticket, an out-of-office about it is kept there, someone else citing it gets a ticket of their own,
    /// and with answers configured the per-sender limit refuses the third password answer to one address in a day.
    @Test func followUpsAndThePerSenderLimitCountAsInTheDaemon() throws {
        let root = NSTemporaryDirectory() + "mt-analyze-threads-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let first = "q1-\(UUID().uuidString)@kunde.example"
        var mbox = ""
        func add(_ m: String) { mbox += "From x@kunde.example Mon Jan  5 10:00:00 2026\n" + m + "\n" }
        add(Self.mail(from: "kim@kunde.example", subject: "Password", date: "Mon, 05 Jan 2026 10:00:00 +0000", body: Self.reset, id: first))
        add(Self.mail(from: "kim@kunde.example", subject: "Re: Password", date: "Mon, 05 Jan 2026 11:00:00 +0000",
                      body: "Thanks, that worked.", extra: "In-Reply-To: <\(first)>\nReferences: <\(first)>\n"))
        add(Self.mail(from: "max@kunde.example", subject: "Out of office: Password", date: "Mon, 05 Jan 2026 11:05:00 +0000",
                      body: "I am out of the office until Monday.", extra: "Auto-Submitted: auto-replied\nIn-Reply-To: <\(first)>\n"))
        add(Self.mail(from: "eve@kunde.example", subject: "Fwd: Password", date: "Mon, 05 Jan 2026 12:00:00 +0000", body: Self.reset,
                      extra: "References: <\(first)>\n"))
        for h in 13...15 {
            add(Self.mail(from: "ann@kunde.example", subject: "Password", date: "Mon, 05 Jan 2026 \(h):00:00 +0000", body: Self.reset))
        }
        try mbox.write(toFile: root + "/export.mbox", atomically: true, encoding: .utf8)

        let plain = try CLI.run(["analyze"] + Self.classifierArgs + [root + "/export.mbox"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.hasPrefix("7 messages in 1 file ("), "\(plain.stdout)")
        #expect(plain.stdout.contains("5 new tickets; 2 follow-ups to earlier mail of the archive (1 from the customer, 1 automatic reply kept for information)"),
                "\(plain.stdout)")
        let j = try Self.json(try CLI.run(["analyze", "--json"] + Self.classifierArgs + [root + "/export.mbox"]).stdout)
        #expect(j["messages"] as? Int == 7 && j["tickets"] as? Int == 5 && j["followUps"] as? Int == 1 && j["automatedFollowUps"] as? Int == 1)
        let o = try #require(j["outcomes"] as? [String: Int])
        #expect(o["total"] == 5 && o["automatic"] == 5 && o["refused"] == 0, "without answers configured nothing is sent, so no limit: \(o)")

        // With an SMTP server and at most two automatic mails per sender and day.
        let config = root + "/mailtriage.toml"
        try """
            state_dir = "\(root)/state"
            [smtp]
            url = "smtp://127.0.0.1:2525"
            [answers]
            max_per_sender = 2
            [[mailbox]]
            name = "support"
            url = "imaps://127.0.0.1:993/INBOX"
            username = "support@example.com"
            password_file = "/dev/null"
            address = "support@example.com"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let limited = try CLI.run(["analyze", "--json", "--config", config] + Self.classifierArgs + [root + "/export.mbox"])
        #expect(limited.status == 0, "\(limited.stderr)")
        let l = try Self.json(limited.stdout)
        let lo = try #require(l["outcomes"] as? [String: Int])
        #expect(lo["total"] == 5 && lo["automatic"] == 4 && lo["refused"] == 1, "\(lo)")
        let refusals = try #require(l["refusals"] as? [[String: Any]])
        #expect(refusals.count == 1 && refusals[0]["name"] as? String == "rate_limit" && refusals[0]["count"] as? Int == 1, "\(refusals)")
    }
}

