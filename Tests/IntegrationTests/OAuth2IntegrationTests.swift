import Foundation
import Testing
import TriageCore
import TriageMIME
import TriageStore
#if canImport(Glibc)
import Glibc
#endif

/// OAuth2 logins through the binary: the real Dovecot with an oauth2 passdb that introspects tokens at the test
/// token server (Tests/Servers/oauth_server.py), and an SMTP receiver that takes only AUTH XOAUTH2
/// (Tests/Servers/smtp_oauth.py), all started by `make test`.
@Suite(.serialized) struct OAuth2IntegrationTests {
    let server: MailServer
    let oauthPort: Int
    let smtpOAuthPort: Int

    init() throws {
        server = try MailServer.fromEnvironment()
        let env = ProcessInfo.processInfo.environment
        oauthPort = Int(env["OAUTH_PORT"] ?? "") ?? server.imapPort + 300
        smtpOAuthPort = Int(env["SMTP_OAUTH_PORT"] ?? "") ?? (Int(env["SMTP_PORT"] ?? "") ?? 10025) + 1
    }

    var tokenURL: String { "https://127.0.0.1:\(oauthPort)/token" }

    /// A client of this test only (DIR/oauth/clients.d/NAME.json, written atomically) for `user`.
    /// `lifetime`: seconds for this client's access tokens (the server's default is an hour).
    func register(_ name: String, user: String, refreshToken: String? = nil, revoked: Bool = false, certificate: String? = nil,
                  lifetime: Int? = nil) throws {
        var client: [String: Any] = certificate.map { ["certificate": $0, "user": user, "revoked": revoked] }
            ?? ["secret": "\(name)-secret", "user": user, "revoked": revoked]
        if let lifetime { client["lifetime"] = lifetime }
        var json: [String: Any] = ["clients": [name: client]]
        if let refreshToken { json["refresh_tokens"] = [refreshToken: ["client": name, "user": user]] }
        let dir = server.dir + "/oauth/clients.d"
        let tmp = dir + "/.\(name).tmp"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: tmp))
        chmod(tmp, 0o644)
        _ = rename(tmp, dir + "/\(name).json")
    }

    func admin(_ path: String, form: String? = nil) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "--cacert", server.caFile] + (form.map { ["-d", $0] } ?? []) + ["https://127.0.0.1:\(oauthPort)\(path)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// The token server's counters for one client: requests at the token endpoint, and introspections of its
    /// tokens that were active and inactive (refused).
    func clientStats(_ client: String) throws -> (requests: Int, active: Int, inactive: Int) {
        let stats = try admin("/admin/stats")
        let requests = (stats["token_requests"] as? [String: Int])?[client] ?? 0
        let intro = (stats["introspections_by_client"] as? [String: [String: Int]])?[client] ?? [:]
        return (requests, intro["active"] ?? 0, intro["inactive"] ?? 0)
    }

    /// A directory of this test's own for secrets.
    func secretDir() throws -> String {
        let root = NSTemporaryDirectory() + "mt-oauth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    /// The `[...oauth2]` lines of a client-credentials client registered with `register`, its secret in `root`.
    func clientCredentials(_ client: String, root: String, scope: String = "imap") throws -> String {
        let secret = try secretFile(root, "\(client).secret", "\(client)-secret")
        return """
            grant = "client_credentials"
            token_url = "\(tokenURL)"
            client_id = "\(client)"
            client_secret_file = "\(secret)"
            scope = "\(scope)"
            ca_file = "\(server.caFile)"
            """
    }

    func secretFile(_ root: String, _ name: String, _ value: String) throws -> String {
        let path = root + "/" + name
        try (value + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    /// A configuration whose mailbox (and SMTP login) use OAuth2 with `oauth` as the token source.
    /// `extra`: top-level keys; `answers`: more `[answers]` keys.
    func setup(user: String, oauth: String, smtpOAuth: String? = nil, extra: String = "", answers: String = "") throws -> TestSetup {
        let s = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile)
        var text = """
            state_dir = "\(s.root)/state"
            poll_interval = "1s"
            \(extra)
            knowledge_base = "\(AnswerIntegrationTests.repo)/knowledge-base"
            [classifier]
            rules_file = "\(AnswerIntegrationTests.repo)/config/rules.toml"
            [answers]
            message_id_domain = "answers.example.com"
            placeholders = { company = "Beispiel GmbH", shop_url = "https://shop.example.com", password_reset_url = "https://shop.example.com/reset", support_hours = "Mo-Fr 8-18 Uhr" }
            \(answers)

            """
        if let smtpOAuth {
            text += """
                [smtp]
                url = "smtp://localhost:\(smtpOAuthPort)"
                username = "\(user)"
                ca_file = "\(server.caFile)"
                auth = "oauth2"
                [smtp.oauth2]
                \(smtpOAuth)

                """
        }
        text += """
            [[mailbox]]
            name = "support"
            url = "\(server.imapsURL)"
            username = "\(user)"
            ca_file = "\(server.caFile)"
            address = "support@example.com"
            after_processing = "flag:$Triaged"
            auth = "oauth2"
            [mailbox.oauth2]
            \(oauth)

            """
        try text.write(toFile: s.configPath, atomically: true, encoding: .utf8)
        return s
    }

    /// A new user with a client-credentials client of its own, and a configuration using it (`smtp`: for the
    /// answers too).
    func appOnly(_ prefix: String, scope: String = "imap", smtp: Bool = false, extra: String = "") throws -> (TestSetup, user: String, client: String) {
        let user = MailServer.newUser(prefix)
        let client = "\(prefix)-\(user)"
        try register(client, user: user)
        try server.deliver(user, [])
        let oauth = try clientCredentials(client, root: try secretDir(), scope: scope)
        return (try setup(user: user, oauth: oauth, smtpOAuth: smtp ? oauth : nil, extra: extra), user, client)
    }

    /// `serve` (the daemon) on the setup's config at info level; the caller ends it with `stop`.
    func daemon(_ s: TestSetup) throws -> (Process, log: () -> String) {
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "info"])
        return (process, { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" })
    }

    /// Ends the daemon with SIGTERM; it must exit 0.
    func stop(_ process: Process) {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    func outboxCount(_ s: TestSetup, _ state: OutboxState) -> Int {
        storeInt(s, "SELECT count(*) FROM outbox WHERE state = '\(state.rawValue)'") ?? -1
    }

    /// A password-reset request from `customer` (answered automatically).
    func ask(_ user: String, _ customer: String) throws {
        try server.deliver(user, [PipelineIntegrationTests.mail(from: customer, to: "support@example.com", subject: "Password reset",
                                                                body: AnswerIntegrationTests.enPassword, messageID: "\(UUID().uuidString)@customer.example")])
    }

    func capturedWithToken(to recipient: String) -> [ParsedMessage] {
        let dir = server.dir + "/smtp-oauth/captured/new"
        for _ in 0..<50 {
            let found = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { f -> ParsedMessage? in
                guard let d = FileManager.default.contents(atPath: dir + "/" + f) else { return nil }
                let m = MIMEParser.parse([UInt8](d))
                return m.headers["X-RcptTo"]?.lowercased() == recipient.lowercased() ? m : nil
            }
            if !found.isEmpty { return found }
            usleep(20_000)
        }
        return []
    }

    @Test func appOnlyLoginFetchesMailAndSendsTheAnswerWithAToken() throws {
        let (s, user, client) = try appOnly("oa", scope: "https://outlook.office365.com/.default", smtp: true)
        let check = try CLI.run(["check-config", "--connect", "--config", s.configPath])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("mailbox support: OK") && check.stdout.contains("OAuth2 client_credentials")
            && check.stdout.contains("smtp: OK"), "\(check.stdout)")
        #expect(try s.serveOnce().status == 0)  // the baseline
        let customer = "cust-\(user)@customer.example"
        try server.deliver(user, [PipelineIntegrationTests.mail(from: customer, to: "support@example.com", subject: "Password reset",
                                                                body: AnswerIntegrationTests.enPassword, messageID: "oa-\(user)@customer.example")])
        let run = try s.serveOnce()
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let sent = try #require(capturedWithToken(to: customer).first, "the answer went through the XOAUTH2 receiver: \(run.stderr)")
        #expect(sent.headers["X-Authenticated-User"] == user && sent.envelope.inReplyTo == ["oa-\(user)@customer.example"])
        #expect(!run.stderr.contains("\(client)-secret"), "the secret is never printed")
    }

    /// The running daemon's connection is cut and its token refused (expired at the provider before its
    /// `expires_in`): the next poll logs in again with a new token, without a failed poll.
    @Test func anExpiredTokenIsRenewedWithoutAFailedPoll() throws {
        let (s, user, _) = try appOnly("oe")
        #expect(try s.serveOnce().status == 0)  // the baseline (and the trained model, saved)
        let issuedBefore = (try admin("/admin/stats")["tokens_issued"] as? [String: Int])?["client_credentials"] ?? -1
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "info"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        usleep(4_000_000)  // started, logged in, polled (every second)
        // Every token issued so far is expired at the provider, and the daemon's IMAP session is cut.
        _ = try admin("/admin/expire", form: "all=1")
        let kick = Process()
        kick.executableURL = URL(fileURLWithPath: "/usr/bin/doveadm")
        kick.arguments = ["-c", server.dir + "/dovecot.conf", "kick", user]
        kick.standardOutput = FileHandle.nullDevice
        try kick.run()
        kick.waitUntilExit()
        try server.deliver(user, [PipelineIntegrationTests.mail(from: "e-\(user)@customer.example", to: "support@example.com", subject: "Frage",
                                                                body: "Eine Frage zu meiner Rechnung.", messageID: "oe-\(user)@customer.example")])
        let recorded = try waitFor(30) {
            try SQLiteTicketStoreCount.tickets(s.databasePath) >= 1
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let stderr = log()
        #expect(recorded, "\(stderr)")
        #expect(!stderr.contains("login denied") && !stderr.contains("failed") && !stderr.contains("cannot"), "no failed poll: \(stderr)")
        let issuedAfter = (try admin("/admin/stats")["tokens_issued"] as? [String: Int])?["client_credentials"] ?? -1
        #expect(issuedAfter >= issuedBefore + 2, "one token at start, a new one after the refusal (\(issuedBefore) -> \(issuedAfter))")
    }

    /// Certificate credentials (Entra ID style): a client assertion signed with the certificate's key, checked by
    /// the token server (signature, thumbprint, audience, lifetime, replay).
    @Test func certificateCredentialsLogIn() throws {
        let user = MailServer.newUser("oc")
        let client = "cert-\(user)"
        let root = NSTemporaryDirectory() + "mt-oauth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)  // the token server (an unprivileged user) reads the certificate
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", root + "/app.key", "-out", root + "/app.crt", "-days", "2",
                       "-subj", "/CN=mailtriage-test"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        chmod(root + "/app.key", 0o600)
        chmod(root + "/app.crt", 0o644)
        try register(client, user: user, certificate: root + "/app.crt")
        try server.deliver(user, [])
        let s = try setup(user: user, oauth: """
            grant = "client_credentials"
            token_url = "\(tokenURL)"
            client_id = "\(client)"
            client_certificate_file = "\(root)/app.crt"
            client_key_file = "\(root)/app.key"
            scope = "https://outlook.office365.com/.default"
            ca_file = "\(server.caFile)"
            """)
        let before = (try admin("/admin/stats")["client_assertions"] as? [String: Int])?["accepted"] ?? -1
        let check = try CLI.run(["check-config", "--connect", "--config", s.configPath])
        #expect(check.status == 0 && check.stdout.contains("mailbox support: OK"), "\(check.stdout)\(check.stderr)")
        try server.deliver(user, [PipelineIntegrationTests.mail(from: "c-\(user)@customer.example", to: "support@example.com", subject: "Frage",
                                                                body: "Eine Frage zur Rechnung.", messageID: "oc-\(user)@customer.example")])
        #expect(try s.serveOnce().status == 0)
        let run = try s.serveOnce()
        #expect(run.status == 0, "\(run.stderr)")
        let after = (try admin("/admin/stats")["client_assertions"] as? [String: Int])?["accepted"] ?? -1
        #expect(after >= before + 3, "an assertion for check-config and for each start (\(before) -> \(after))")
        #expect(!run.stderr.contains("PRIVATE KEY"), "the key is never printed")
    }

    @Test func aRotatedRefreshTokenIsStoredAndUsedNextTime() throws {
        let user = MailServer.newUser("or")
        let client = "rt-\(user)"
        try register(client, user: user, refreshToken: "rt1-\(user)")
        try server.deliver(user, [])
        let root = NSTemporaryDirectory() + "mt-oauth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let secret = try secretFile(root, "client.secret", "\(client)-secret")
        let refresh = try secretFile(root, "refresh.token", "rt1-\(user)")
        let s = try setup(user: user, oauth: """
            grant = "refresh_token"
            token_url = "\(tokenURL)"
            client_id = "\(client)"
            client_secret_file = "\(secret)"
            refresh_token_file = "\(refresh)"
            ca_file = "\(server.caFile)"
            """)
        let first = try s.serveOnce()
        #expect(first.status == 0, "\(first.stderr)")
        let stored = try String(contentsOfFile: refresh, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(stored != "rt1-\(user)" && !stored.isEmpty, "the provider's new refresh token is written back")
        let mode = (try FileManager.default.attributesOfItem(atPath: refresh)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        // The old token is spent (rotation): only the stored one can log in again.
        let second = try s.serveOnce()
        #expect(second.status == 0, "the second start uses the stored token: \(second.stderr)")
        try server.deliver(user, [PipelineIntegrationTests.mail(from: "x-\(user)@customer.example", to: "support@example.com", subject: "Frage",
                                                                body: "Eine Frage zur Rechnung.", messageID: "or-\(user)@customer.example")])
        let third = try s.serveOnce()
        #expect(third.status == 0 && third.stdout.contains("1 new"), "\(third.stdout)\(third.stderr)")
    }

    /// A revoked client: `serve --once` says so in one line; the daemon, over several polls while it stays
    /// revoked, logs it once and backs off (it asks the token endpoint far less often than it would poll), and
    /// fetches again once the client is restored.
    @Test func aRevokedClientGivesOneClearErrorAndBacksOff() throws {
        let (s, user, client) = try appOnly("ov", extra: "max_backoff = \"4s\"")
        #expect(try s.serveOnce().status == 0)
        _ = try admin("/admin/revoke", form: "client_id=\(client)")
        let run = try s.serveOnce()
        #expect(run.status != 0)
        let lines = run.stderr.split(separator: "\n").filter { $0.contains("invalid_client") }
        #expect(lines.count == 1, "one line with the provider's error: \(run.stderr)")
        #expect(lines.first?.contains("revoked") == true)
        let check = try CLI.run(["check-config", "--connect", "--config", s.configPath])
        #expect(check.status == 1 && check.stdout.contains("mailbox support: FAILED (OAuth2 client_credentials): token endpoint"), "\(check.stdout)")

        let before = try clientStats(client).requests
        let (process, log) = try daemon(s)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Every second without backoff: about 10 polls. With backoff (1 s, 2 s, 4 s, 4 s): 4 or 5.
        usleep(10_000_000)
        let asked = try clientStats(client).requests - before
        let whileRevoked = log()
        #expect(whileRevoked.split(separator: "\n").filter { $0.contains("invalid_client") }.count == 1, "one line for the outage: \(whileRevoked)")
        #expect(asked >= 2 && asked <= 6, "polls backed off: \(asked) token requests in 10 s")
        _ = try admin("/admin/restore", form: "client_id=\(client)")
        try ask(user, "ov-\(user)@customer.example")
        let recovered = try waitFor(30) { try SQLiteTicketStoreCount.tickets(s.databasePath) >= 1 }
        stop(process)
        let after = log()
        #expect(recovered && after.contains("mailbox reachable again"), "\(after)")
        #expect(after.split(separator: "\n").filter { $0.contains("invalid_client") }.count == 1, "\(after)")
    }

    /// Sending during a token outage (the SMTP login's client revoked while answers are queued): one error line
    /// with the provider's words, every answer stays queued with no attempt counted, passes back off, and each
    /// answer is sent exactly once when the client works again.
    @Test func sendingWaitsOutATokenOutageAndSendsEachAnswerOnce() throws {
        let user = MailServer.newUser("os")
        let imapClient = "osi-\(user)", smtpClient = "oss-\(user)"
        try register(imapClient, user: user)
        try register(smtpClient, user: user)
        try server.deliver(user, [])
        let root = try secretDir()
        let s = try setup(user: user, oauth: try clientCredentials(imapClient, root: root), smtpOAuth: try clientCredentials(smtpClient, root: root),
                          answers: "max_retry_delay = \"4s\"")
        #expect(try s.serveOnce().status == 0)  // the baseline
        _ = try admin("/admin/revoke", form: "client_id=\(smtpClient)")
        let customers = ["os1-\(user)@customer.example", "os2-\(user)@customer.example"]
        for c in customers { try ask(user, c) }
        let (process, log) = try daemon(s)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let queued = waitFor(60) { outboxCount(s, .pending) == 2 }
        #expect(queued, "\(log())")
        let before = try clientStats(smtpClient).requests
        usleep(8_000_000)  // passes every second without backoff; 1 s, 2 s, 4 s, 4 s with it
        let asked = try clientStats(smtpClient).requests - before
        let whileRevoked = log()
        #expect(outboxCount(s, .pending) == 2 && storeInt(s, "SELECT sum(attempts) FROM outbox") == 0, "answers kept as they were: \(whileRevoked)")
        let lines = whileRevoked.split(separator: "\n").filter { $0.contains("invalid_client") }
        #expect(lines.count == 1 && lines.first?.contains("revoked") == true, "one line for the outage: \(whileRevoked)")
        #expect(asked >= 1 && asked <= 5, "passes backed off: \(asked) token requests in 8 s")
        _ = try admin("/admin/restore", form: "client_id=\(smtpClient)")
        let sent = waitFor(60) { outboxCount(s, .sent) == 2 }
        stop(process)
        let after = log()
        #expect(sent && after.contains("sending answers again"), "\(after)")
        for c in customers { #expect(capturedWithToken(to: c).count == 1, "sent once to \(c)") }
        #expect(outboxCount(s, .failed) == 0 && after.split(separator: "\n").filter { $0.contains("invalid_client") }.count == 1, "\(after)")
    }

    /// Tokens that live 4 s: the daemon logs in to IMAP again with a fresh token shortly before each one ends,
    /// polling across several expiries without a failed poll and without a token ever refused. On the sending
    /// side a token refused by the server (expired at the provider; the idle connection closed by the receiver)
    /// is renewed with one retry and the answer goes out.
    @Test func shortLivedTokensAreRenewedBeforeTheyEnd() throws {
        let user = MailServer.newUser("ol")
        let imapClient = "oli-\(user)", smtpClient = "ols-\(user)"
        try register(imapClient, user: user, lifetime: 4)
        try register(smtpClient, user: user)
        try server.deliver(user, [])
        let root = try secretDir()
        let s = try setup(user: user, oauth: try clientCredentials(imapClient, root: root), smtpOAuth: try clientCredentials(smtpClient, root: root))
        #expect(try s.serveOnce().status == 0)  // the baseline
        let imapBefore = try clientStats(imapClient), smtpBefore = try clientStats(smtpClient)
        let (process, log) = try daemon(s)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try ask(user, "ol1-\(user)@customer.example")
        #expect(waitFor(60) { outboxCount(s, .sent) == 1 }, "\(log())")
        // Every token so far expires at the provider; the SMTP connection is closed after 3 s idle, so the next
        // answer logs in again with the cached token, which the receiver refuses.
        _ = try admin("/admin/expire", form: "all=1")
        usleep(9_000_000)  // two more IMAP token lifetimes, polled every second
        try ask(user, "ol2-\(user)@customer.example")
        let sent = waitFor(60) { outboxCount(s, .sent) == 2 }
        stop(process)
        let stderr = log()
        #expect(sent, "\(stderr)")
        #expect(!stderr.contains("failed") && !stderr.contains("denied") && !stderr.contains("cannot"), "no failed poll or send: \(stderr)")
        let imap = try clientStats(imapClient), smtp = try clientStats(smtpClient)
        #expect(imap.requests - imapBefore.requests >= 3, "IMAP tokens renewed: \(imap.requests - imapBefore.requests)")
        #expect(imap.inactive == imapBefore.inactive && imap.active - imapBefore.active >= 3, "each IMAP login with a live token: \(imap)")
        #expect(smtp.inactive - smtpBefore.inactive >= 1, "the receiver refused the expired token once: \(smtp)")
        #expect(smtp.requests - smtpBefore.requests == 2, "one token at the first answer, one on the retry: \(smtp)")
        for c in ["ol1-\(user)@customer.example", "ol2-\(user)@customer.example"] { #expect(capturedWithToken(to: c).count == 1) }
    }

    /// A refresh token from a systemd credential (read-only) with `refresh_token_store`: the rotated token is
    /// stored, and the next start takes it from the store instead of the spent one in the credential.
    @Test func aStoredRefreshTokenWinsOverTheCredential() throws {
        let user = MailServer.newUser("oq")
        let client = "rq-\(user)"
        try register(client, user: user, refreshToken: "rq1-\(user)")
        try server.deliver(user, [])
        let root = try secretDir()
        let credentials = root + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        _ = try secretFile(credentials, "refresh", "rq1-\(user)")
        let store = root + "/state-refresh.token"
        let s = try setup(user: user, oauth: """
            grant = "refresh_token"
            token_url = "\(tokenURL)"
            client_id = "\(client)"
            client_secret_file = "\(try secretFile(root, "client.secret", "\(client)-secret"))"
            refresh_token_credential = "refresh"
            refresh_token_store = "\(store)"
            ca_file = "\(server.caFile)"
            """)
        func serveOnce() throws -> CLI.Result {
            let (p, out, err) = try CLI.start(["serve", "--once", "--config", s.configPath], environment: ["CREDENTIALS_DIRECTORY": credentials])
            p.waitUntilExit()
            return CLI.Result(status: p.terminationStatus, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                              stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }
        let first = try serveOnce()
        #expect(first.status == 0, "\(first.stderr)")
        let stored = try String(contentsOfFile: store, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!stored.isEmpty && stored != "rq1-\(user)", "the rotated token is in the store")
        // The credential still holds the spent token: only the stored one logs in.
        let second = try serveOnce()
        #expect(second.status == 0, "the second start uses the stored token: \(second.stderr)")
        let rotatedAgain = try String(contentsOfFile: store, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rotatedAgain != stored && !rotatedAgain.isEmpty)
    }
}

/// The number of tickets in a test's database (read-only).
enum SQLiteTicketStoreCount {
    static func tickets(_ path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        return try SQLiteTicketStore.forReading(path).tickets(TicketQuery()).count
    }
}
