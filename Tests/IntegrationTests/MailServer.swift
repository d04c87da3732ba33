import Foundation
import TriageCore
import TriageMIME
@testable import TriageMail
#if canImport(Glibc)
import Glibc
#endif

/// The real Dovecot and SMTP receiver that `make test` (Tests/Servers/mailservers.sh) starts on 127.0.0.1.
/// Each test takes its own fresh user (any name logs in with the password "test").
struct MailServer {
    let dir: String
    let imapPort: Int
    let imapsPort: Int
    var caFile: String { dir + "/tls/ca.pem" }

    static func fromEnvironment() throws -> MailServer {
        let env = ProcessInfo.processInfo.environment
        guard let dir = env["MAILTEST_DIR"], FileManager.default.fileExists(atPath: dir + "/dovecot.conf") else {
            throw SetupError("MAILTEST_DIR is not set to a running test server directory: run the tests with `make test`")
        }
        return MailServer(dir: dir, imapPort: Int(env["IMAP_PORT"] ?? "") ?? 10143, imapsPort: Int(env["IMAPS_PORT"] ?? "") ?? 10993)
    }

    static func newUser(_ prefix: String = "t") -> String { "\(prefix)\(UUID().uuidString.prefix(12).lowercased())" }

    var imapsURL: String { "imaps://127.0.0.1:\(imapsPort)/INBOX" }
    var startTLSURL: String { "imap://localhost:\(imapPort)/INBOX" }

    /// Delivers messages into the user's INBOX as unseen Maildir files owned by Dovecot's user.
    func deliver(_ user: String, _ messages: [[UInt8]]) throws {
        let base = "\(dir)/mail/\(user)"
        let md = base + "/Maildir"
        var st = stat()
        guard stat(dir + "/mail", &st) == 0 else { throw SetupError("cannot stat \(dir)/mail") }
        for sub in ["", "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"] {
            try FileManager.default.createDirectory(atPath: base + sub, withIntermediateDirectories: true)
            chown(base + sub, st.st_uid, st.st_gid)
        }
        let stamp = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        for (i, m) in messages.enumerated() {
            let name = "\(stamp / 1_000_000).M\(stamp % 1_000_000)P\(getpid())Q\(i)_\(UUID().uuidString.prefix(6)).mailtriage-test"
            let tmp = "\(md)/tmp/\(name)"
            guard FileManager.default.createFile(atPath: tmp, contents: Data(m)) else { throw SetupError("cannot write \(tmp)") }
            chown(tmp, st.st_uid, st.st_gid)
            guard rename(tmp, "\(md)/new/\(name)") == 0 else { throw SetupError("cannot deliver \(name)") }
        }
    }

    /// A separate IMAP connection for checking the server's side of things.
    func inspector(_ user: String, folder: String = "INBOX") throws -> IMAPConnection {
        try IMAPConnection(settings: .init(
            url: IMAPURL("imaps://127.0.0.1:\(imapsPort)/\(folder)")!, username: user, password: "test", caFile: caFile,
            connectTimeout: .seconds(10), responseTimeout: .seconds(30)))
    }

    /// What the SMTP receiver stored (its Maildir) for recipients (`X-RcptTo`) that `recipient` accepts.
    func captured(recipient: (String) -> Bool) -> [ParsedMessage] {
        let dir = dir + "/smtp/captured/new"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { f in
            guard let d = FileManager.default.contents(atPath: dir + "/" + f) else { return nil }
            let m = MIMEParser.parse([UInt8](d))
            return m.headers["X-RcptTo"].map(recipient) == true ? m : nil
        }
    }

    func count(_ user: String, search: String, folder: String = "INBOX") throws -> Int {
        let c = try inspector(user, folder: folder)
        return IMAPResponse.searchResults(try c.command("UID SEARCH \(search)", selected: true)).count
    }
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A generated message of about `size` bytes with a unique Message-ID.
func testMessage(_ n: Int, size: Int = 1200, tag: String = UUID().uuidString) -> [UInt8] {
    let head = "From: Customer \(n) <customer\(n)@example.org>\r\nTo: support@example.com\r\nSubject: Order question \(n)\r\n"
        + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <it-\(n)-\(tag)@example.org>\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    let line = "Hallo, wo ist meine Bestellung \(n)? Where is my order? Grüße\r\n"
    var body = ""
    while head.utf8.count + body.utf8.count < size { body += line }
    return Array((head + body).utf8)
}

/// Runs the mailtriage binary built for the tests (MAILTRIAGE_BIN, set by `make test`).
struct CLI {
    static var binary: String {
        get throws {
            if let b = ProcessInfo.processInfo.environment["MAILTRIAGE_BIN"], FileManager.default.isExecutableFile(atPath: b) { return b }
            let guess = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("mailtriage").path
            if FileManager.default.isExecutableFile(atPath: guess) { return guess }
            throw SetupError("the mailtriage binary was not found: set MAILTRIAGE_BIN or run `make test`")
        }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    static func start(_ args: [String], environment: [String: String] = [:]) throws -> (Process, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary)
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = NSTemporaryDirectory() + "mt-out-\(UUID().uuidString)"
        let err = out + ".err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        try p.run()
        return (p, out, err)
    }

    static func run(_ args: [String]) throws -> Result {
        let (p, out, err) = try start(args)
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// A config file and state directory for one test.
struct TestSetup {
    let root: String
    let configPath: String
    var databasePath: String { root + "/state/mailtriage.sqlite" }

    /// `sharedModel`: when `extra` configures the repository's knowledge base, the state directory starts with
    /// the model a first start trains from it (`SharedModel`) instead of training it again; false for a test
    /// about that training.
    init(user: String, url: String, after: String = "flag:$Triaged", caFile: String?, password: String = "test",
         extra: String = "", mailboxExtra: String = "", sharedModel: Bool = true) throws
    {
        root = NSTemporaryDirectory() + "mt-it-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let pw = root + "/imap.password"
        try (password + "\n").write(toFile: pw, atomically: true, encoding: .utf8)
        chmod(pw, 0o600)
        configPath = root + "/mailtriage.toml"
        var text = """
            state_dir = "\(root)/state"
            poll_interval = "1s"
            \(extra)

            [[mailbox]]
            name = "support"
            url = "\(url)"
            username = "\(user)"
            password_file = "\(pw)"
            after_processing = "\(after)"
            connect_timeout = "15s"
            response_timeout = "10s"

            """
        if let caFile { text += "ca_file = \"\(caFile)\"\n" }
        text += mailboxExtra + "\n"
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        if sharedModel, extra.contains(SharedModel.knowledgeBase), let model = SharedModel.file {
            try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: model, toPath: root + "/state/classifier.model")
        }
    }

    func serveOnce(_ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["serve", "--once", "--config", configPath] + extra)
    }
}

/// The model the daemon trains and saves on its first start from the repository's knowledge base (default
/// classifier settings: no test changes the categories), trained once per test run by such a start
/// (`serve --once`) and copied into the state directory of every other test that configures that knowledge
/// base: the debug daemon needs about a minute for it on a loaded machine.
enum SharedModel {
    static let knowledgeBase = "knowledge_base = \"\(AnswerIntegrationTests.repo)/knowledge-base\""

    /// nil when that start failed: each test then trains for itself.
    static let file: String? = {
        guard let server = try? MailServer.fromEnvironment() else { return nil }
        let user = MailServer.newUser("model")
        guard (try? server.deliver(user, [])) != nil,
              let s = try? TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: knowledgeBase, sharedModel: false),
              (try? s.serveOnce())?.status == 0
        else { return nil }
        let path = s.root + "/state/classifier.model"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()
}

/// Polls `done` every 100 ms for up to `seconds`; its last answer.
func waitFor(_ seconds: Double, _ done: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try done() { return true }
        usleep(100_000)
    }
    return try done()
}
