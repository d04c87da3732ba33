import Foundation
import GRDB
import Testing
import TriageCore
#if canImport(Glibc)
import Glibc
#endif

/// Faults from issue 15, through the binary: an SMTP receiver that answers 4xx, then 5xx, then is gone;
/// Dovecot stopped in the middle of a poll and started again; a connection that stalls; the SQLite file
/// held by another process's write transaction. The misbehaving servers are `Tests/Servers/faults.py`;
/// the Dovecot that is stopped is a private one (`mailservers.sh dovecot-start`), never the shared one.
@Suite(.serialized) struct FaultIntegrationTests {
    let server: MailServer
    let answers: AnswerIntegrationTests

    init() throws {
        server = try MailServer.fromEnvironment()
        answers = try AnswerIntegrationTests()
    }

    static var servers: String { AnswerIntegrationTests.repo + "/Tests/Servers" }

    /// Waits for `tickets` tickets, ends `serve` with SIGTERM (it must exit 0) and returns its stderr.
    static func stopAfter(tickets: Int, _ s: TestSetup, _ process: Process, _ stderr: () -> String) -> String {
        let done = waitFor(30) { storeInt(s, "SELECT count(*) FROM ticket") == tickets }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let err = stderr()
        #expect(done, "\(err)")
        #expect(process.terminationStatus == 0)
        return err
    }

    /// `serve` at notice level (or `logLevel`) on the setup's config, once its first poll is recorded; the caller kills it.
    static func serveUntilFirstPoll(_ s: TestSetup, logLevel: String = "notice") throws -> (Process, () -> String) {
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", logLevel])
        let stderr = { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        #expect(waitFor(30) { storeInt(s, "SELECT count(*) FROM mailbox_cursor") == 1 }, "no first poll: \(stderr())")
        return (process, stderr)
    }

    // MARK: - SMTP: 4xx, 5xx, gone

    @Test func smtpRefusalsLeaveTheRightOutboxStates() throws {
        let smtp = try FaultServer(["smtp", "--cert", server.dir + "/tls/server.pem", "--key", server.dir + "/tls/server.key"])
        defer { smtp.stop() }
        let user = MailServer.newUser("fs")
        try server.deliver(user, [])
        let s = try answers.setup(user: user, smtpPort: smtp.port, extraAnswers: "max_retry_delay = \"2s\"")
        #expect(try s.serveOnce().status == 0)  // the first contact: nothing to answer
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "warning"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let tag = UUID().uuidString.prefix(6).lowercased()
        func customer(_ n: String) -> String { "\(n)-\(tag)@customer.example" }
        func ask(_ n: String) throws {
            try server.deliver(user, [AnswerIntegrationTests.mail(from: customer(n), subject: "Passwort vergessen", body: AnswerIntegrationTests.dePassword,
                                                                  messageID: "\(n)-\(tag)@customer.example")])
        }
        func outbox(_ n: String) -> (state: String, attempts: Int)? {
            storeRow(s, "SELECT state, attempts FROM outbox WHERE recipient = ?", [customer(n)]).map { ($0["state"], $0["attempts"]) }
        }
        func log() throws -> [SMTPTransaction] { try JSONDecoder().decode([SMTPTransaction].self, from: Data(smtp.control("log").utf8)) }
        func stderr() -> String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        // 4xx at MAIL, at RCPT and after the message: retried after the (capped) backoff, then sent once.
        #expect(try smtp.control("plan MAIL:451,RCPT:451,DOT:451") == "ok")
        try ask("temp")
        let sentAfterRetries = waitFor(40) { outbox("temp")?.state == OutboxState.sent.rawValue }
        #expect(sentAfterRetries, "\(stderr())")
        #expect(outbox("temp")?.attempts == 4)
        let first = try log()
        #expect(first.map(\.stage) == ["MAIL", "RCPT", "DOT", "accepted"], "\(first)")
        #expect(first.filter { $0.stage == "accepted" && $0.rcpt == [customer("temp")] }.count == 1)
        // Not retried at once: each retry waited for its time (2 s, cut to whole seconds: more than 1 s).
        let gaps = zip(first.dropFirst(), first).map { $0.t - $1.t }
        #expect(gaps.allSatisfy { $0 > 1.0 }, "\(gaps)")
        let ticketTemp = storeInt(s, "SELECT ticket_id FROM outbox WHERE recipient = ?", [customer("temp")]) ?? -1
        let retries = storeRows(s, "SELECT at, detail FROM event WHERE kind = ? AND ticket_id = ?", [EventKind.answerRetry.rawValue, ticketTemp])
        #expect(retries.count == 3)
        for r in retries {
            let detail = try JSONSerialization.jsonObject(with: Data((r["detail"] as String).utf8)) as? [String: String]
            let retryAt = Int64(detail?["retry_at"] ?? "") ?? 0
            #expect(retryAt - (r["at"] as Int64) == 2, "the retry delay is 30 s doubled per attempt, capped at max_retry_delay (2 s)")
        }
        #expect(storeInt(s, "SELECT count(*) FROM event WHERE kind = ? AND ticket_id = ?", [EventKind.answerSent.rawValue, ticketTemp]) == 1)

        // 5xx at RCPT and after the message: failed for good, the ticket back with a human, never tried again.
        #expect(try smtp.control("plan RCPT:550,DOT:554") == "ok")
        try ask("perm1")
        try ask("perm2")
        let failed = waitFor(30) { ["perm1", "perm2"].allSatisfy { outbox($0)?.state == OutboxState.failed.rawValue } }
        #expect(failed, "\(stderr())")
        for n in ["perm1", "perm2"] {
            #expect(outbox(n)?.attempts == 1)
            let t = storeRow(s, "SELECT id, state, degree FROM ticket WHERE from_address = ?", [customer(n)])
            #expect(t?["state"] == TicketState.open.rawValue && t?["degree"] == AutomationDegree.manual.rawValue, "\(String(describing: t))")
            #expect(storeInt(s, "SELECT count(*) FROM event WHERE kind = ? AND ticket_id = ?", [EventKind.answerFailed.rawValue, t?["id"] as Int64?]) == 1)
            // The server's refusal, not the whole SMTP conversation.
            let error = storeRow(s, "SELECT last_error FROM outbox WHERE recipient = ?", [customer(n)])?["last_error"] as String?
            #expect(error.map { ($0.contains("550") || $0.contains("554")) && !$0.contains("go ahead") && !$0.contains("\n") } == true, "\(error ?? "")")
        }

        // Gone (the port refuses): transient, retried, and sent once when a receiver listens again.
        #expect(try smtp.control("gone") == "ok")
        try ask("gone")
        let retriedWhileGone = waitFor(30) { (outbox("gone")?.attempts ?? 0) >= 2 }
        #expect(retriedWhileGone && outbox("gone")?.state == OutboxState.pending.rawValue, "\(stderr())")
        let attemptsWhileGone = outbox("gone")?.attempts ?? 0
        #expect(try smtp.control("back") == "ok")
        let sentWhenBack = waitFor(30) { outbox("gone")?.state == OutboxState.sent.rawValue }
        #expect(sentWhenBack, "\(stderr())")

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let all = try log()
        let accepted = all.filter { $0.stage == "accepted" }
        #expect(accepted.count == 2 && Set(accepted.flatMap(\.rcpt)) == [customer("temp"), customer("gone")], "\(all)")
        // The refused answers were tried once each, in the passes that followed as well.
        #expect(all.filter { $0.rcpt.contains(customer("perm1")) || $0.rcpt.contains(customer("perm2")) }.map(\.code).sorted() == [550, 554], "\(all)")
        #expect(storeRows(s, "SELECT state, count(*) AS n FROM outbox GROUP BY state ORDER BY state", []).map { "\($0["state"] as String)=\($0["n"] as Int)" }
                == ["failed=2", "sent=2"])
        let err = stderr()
        #expect(FaultIntegrationTests.lines(err).allSatisfy { $0.hasPrefix("20") }, "a log entry spans several lines: \(err)")
        let retryLines = FaultIntegrationTests.lines(err).filter { $0.contains("answer not sent yet, will retry") }.count
        let refusedLines = FaultIntegrationTests.lines(err).filter { $0.contains("answer refused by the server") }.count
        #expect(retryLines == 3 + attemptsWhileGone && refusedLines == 2, "\(err)")
        print("smtp faults: 4 answers; 4xx at MAIL/RCPT/DATA retried 3x (2 s apart at least 1 s), sent once; 5xx at RCPT/DATA failed 2, tried once each;"
            + " gone: \(attemptsWhileGone) transient attempts, sent once when back; receiver accepted \(accepted.count)")
    }

    // MARK: - Dovecot stopped in the middle of a poll

    @Test func dovecotStoppedInTheMiddleOfAPollAndRestarted() throws {
        let dovecot = try PrivateDovecot()
        defer { dovecot.remove() }
        let priv = dovecot.server
        let user = MailServer.newUser("dr")
        try priv.deliver(user, [])
        let s = try TestSetup(user: user, url: priv.imapsURL, caFile: priv.caFile, extra: "batch_size = 25\nmax_backoff = \"2s\"")
        let (process, stderr) = try Self.serveUntilFirstPoll(s)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let total = 1000, late = 20
        try deliverAtOnce(priv, user, (0..<total).map { testMessage($0, size: 5000) })  // one poll finds them all
        // Stop Dovecot (SIGTERM to its master, as systemctl stop does) once part of the mail is recorded.
        var seen = 0
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            seen = storeInt(s, "SELECT count(*) FROM message_location") ?? 0
            if seen >= 100 { break }
            usleep(5000)
        }
        try dovecot.stop()
        let atStop = storeInt(s, "SELECT count(*) FROM message_location") ?? 0
        #expect(seen >= 100 && atStop < total, "the poll had finished before Dovecot stopped (\(atStop) of \(total)): the test proves nothing")
        // Mail keeps arriving while the server is down; the daemon fails its polls and backs off meanwhile.
        try priv.deliver(user, (total..<(total + late)).map { testMessage($0, size: 5000) })
        #expect(waitFor(20) { stderr().contains("poll failed") }, "\(stderr())")
        usleep(5_000_000)  // the outage: several polls (1 s, then 2 s apart) fail
        try dovecot.start()
        let all = total + late
        let done = waitFor(45) { storeInt(s, "SELECT count(*) FROM ticket") == all }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let err = stderr()
        #expect(done, "\(storeInt(s, "SELECT count(*) FROM ticket") ?? -1) tickets of \(all): \(err)")
        #expect(process.terminationStatus == 0)
        let stored = storeInt(s, "SELECT count(*) FROM message"), distinct = storeInt(s, "SELECT count(DISTINCT message_id) FROM message")
        #expect(stored == all && distinct == all && storeInt(s, "SELECT count(*) FROM message_location") == all)
        #expect(storeInt(s, "SELECT count(*) FROM message WHERE fetch_error IS NOT NULL OR truncated != 0") == 0, "a message stored as unfetchable")
        #expect(storeInt(s, "SELECT count(*) FROM message_location WHERE server_action != 'done'") == 0)
        #expect(try priv.count(user, search: "KEYWORD $Triaged") == all)
        let failedLines = FaultIntegrationTests.lines(err).filter { $0.contains("poll failed") }
        let recovered = FaultIntegrationTests.lines(err).filter { $0.contains("mailbox reachable again") }
        let failedCycles = recovered.first.flatMap { FaultIntegrationTests.field($0, "failed_cycles") }.flatMap { Int($0) } ?? 0
        // Once per kind of error (the cut connection and the refused ones are one), not once per failed poll.
        #expect(recovered.count == 1 && failedCycles >= 3, "\(err)")
        #expect(!failedLines.isEmpty && failedLines.count == Set(failedLines.map(FaultIntegrationTests.errorKind)).count && failedLines.count < failedCycles,
                "\(failedLines)")
        let fetchFailures = storeInt(s, "SELECT count(*) FROM fetch_failure") ?? -1
        print("dovecot restart: stopped at \(atStop) of \(total) recorded, \(late) more arrived while down; \(failedCycles) failed polls,"
            + " \(failedLines.count) error lines (\(failedLines.map(FaultIntegrationTests.errorKind).joined(separator: ", "))), \(fetchFailures) downloads counted as failed;"
            + " recovered: \(stored ?? -1) stored, \(distinct ?? -1) distinct, 0 duplicates, 0 lost")
    }

    // MARK: - A connection that stalls

    @Test func aStalledConnectionTimesOutIsLoggedOnceAndRecovers() throws {
        let proxy = try FaultServer(["proxy", "--target", "127.0.0.1:\(server.imapsPort)"])
        defer { proxy.stop() }
        let user = MailServer.newUser("ps")
        try server.deliver(user, [])
        let s = try TestSetup(user: user, url: "imaps://127.0.0.1:\(proxy.port)/INBOX", caFile: server.caFile, extra: "max_backoff = \"2s\"")
        // Short timeouts: a reply is due within 2 s, a connection (TCP, TLS, login) within 3 s.
        let text = try String(contentsOfFile: s.configPath, encoding: .utf8)
            .replacingOccurrences(of: "connect_timeout = \"15s\"", with: "connect_timeout = \"3s\"")
            .replacingOccurrences(of: "response_timeout = \"10s\"", with: "response_timeout = \"2s\"")
        try text.write(toFile: s.configPath, atomically: true, encoding: .utf8)
        let (process, stderr) = try Self.serveUntilFirstPoll(s)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try server.deliver(user, (0..<5).map { testMessage($0) })
        #expect(waitFor(20) { storeInt(s, "SELECT count(*) FROM message") == 5 }, "\(stderr())")

        // The proxy stops forwarding: the kept connection's next command gets no reply, new connections no greeting.
        struct Stats: Decodable { var accepted: Int }
        func accepted() throws -> Int { try JSONDecoder().decode(Stats.self, from: Data(proxy.control("stats").utf8)).accepted }
        #expect(try proxy.control("stall") == "ok")
        let before = try accepted()
        try server.deliver(user, (5..<10).map { testMessage($0) })
        let stalledAt = Date()
        #expect(waitFor(20) { stderr().contains("poll failed") }, "\(stderr())")
        let firstError = Date().timeIntervalSince(stalledAt)
        // Three more attempts to connect while stalled (each times out after 3 s, then 2 s of backoff).
        let retried = try waitFor(30) { try accepted() >= before + 3 }
        #expect(retried)
        #expect(storeInt(s, "SELECT count(*) FROM message") == 5)
        #expect(try proxy.control("forward") == "ok")
        let err = Self.stopAfter(tickets: 10, s, process, stderr)
        #expect(storeInt(s, "SELECT count(*) FROM message") == 10 && storeInt(s, "SELECT count(DISTINCT message_id) FROM message") == 10)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == 10)
        let failedLines = FaultIntegrationTests.lines(err).filter { $0.contains("poll failed") }
        let recovered = FaultIntegrationTests.lines(err).filter { $0.contains("mailbox reachable again") }
        let failedCycles = recovered.first.flatMap { FaultIntegrationTests.field($0, "failed_cycles") }.flatMap { Int($0) } ?? 0
        #expect(recovered.count == 1 && failedCycles >= 3, "\(err)")
        // A timed-out command, then timed-out connections: one kind of error, one line, not one per attempt.
        #expect(!failedLines.isEmpty && failedLines.count == Set(failedLines.map(FaultIntegrationTests.errorKind)).count, "\(failedLines)")
        #expect(failedLines.allSatisfy { FaultIntegrationTests.errorKind($0) == "timeout" }, "\(failedLines)")
        print("stalled connection: first timeout logged after \(String(format: "%.1f", firstError)) s (response_timeout 2 s); \(failedCycles) failed polls,"
            + " \(failedLines.count) error lines; recovered: 10 stored once each")
    }

    // MARK: - SQLite held by another process

    @Test func aLongWriteTransactionOfAnotherProcessLosesNothing() throws {
        let user = MailServer.newUser("lk")
        try server.deliver(user, [])
        let s = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: "max_backoff = \"2s\"")
        let (process, stderr) = try Self.serveUntilFirstPoll(s)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // 6 s: shorter than the store's busy timeout (10 s): the daemon's writes wait, nothing fails.
        let short = try LockHolder(database: s.databasePath, seconds: 6)
        let locked = Date()
        try server.deliver(user, (0..<5).map { testMessage($0) })
        // Nothing can be recorded while the lock is held (the daemon polls every second and waits in its commit).
        usleep(UInt32(max(0, 4.5 - Date().timeIntervalSince(locked)) * 1_000_000))
        let whileShort = storeInt(s, "SELECT count(*) FROM message")
        let heldThen = short.process.isRunning
        try short.waitUntilReleased()
        #expect(heldThen && whileShort == 0, "stored while another process held the write lock")
        #expect(waitFor(20) { storeInt(s, "SELECT count(*) FROM ticket") == 5 }, "\(stderr())")
        #expect(!stderr().contains("poll failed") && !stderr().contains("processing failed"), "\(stderr())")

        // 14 s: longer than the store's busy timeout. GRDB lets one write at a time wait in SQLite's busy handler; the
        // daemon's first waiting write (the processor's claim or the poll's commit) fails after 10 s and is logged;
        // the next waits on and commits when the lock is gone. Nothing is recorded, nor flagged on the server, meanwhile.
        let long = try LockHolder(database: s.databasePath, seconds: 14)
        try server.deliver(user, (5..<10).map { testMessage($0) })
        func failures() -> [Substring] {
            FaultIntegrationTests.lines(stderr()).filter { $0.contains("poll failed") || $0.contains("processing failed") }
        }
        #expect(waitFor(20) { !failures().isEmpty }, "\(stderr())")
        let storedWhileLong = storeInt(s, "SELECT count(*) FROM message")
        let flaggedWhileLong = try server.count(user, search: "KEYWORD $Triaged")
        let heldLong = long.process.isRunning
        try long.waitUntilReleased()
        let err = Self.stopAfter(tickets: 10, s, process, stderr)
        #expect(heldLong && storedWhileLong == 5 && flaggedWhileLong == 5, "stored \(String(describing: storedWhileLong)), flagged \(flaggedWhileLong) while locked")
        #expect(storeInt(s, "SELECT count(*) FROM message") == 10 && storeInt(s, "SELECT count(DISTINCT message_id) FROM message") == 10)
        #expect(storeInt(s, "SELECT count(*) FROM ticket") == 10)
        #expect(storeInt(s, "SELECT count(*) FROM message WHERE processed_at IS NULL") == 0)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == 10)
        let failed = failures()
        let pollFailed = failed.filter { $0.contains("poll failed") }.count
        // One wait ran out (one line), the write queued behind it did not; each line says why.
        #expect(failed.count == 1 && failed.allSatisfy { $0.contains("database is locked") }, "\(err)")
        #expect(FaultIntegrationTests.lines(err).filter { $0.contains("mailbox reachable again") }.count == pollFailed, "\(err)")
        print("sqlite lock: 6 s hold: 0 of 5 stored while held, 5 after, no error; 14 s hold: \(failed.count) write gave up after the 10 s busy"
            + " timeout (\(pollFailed == 1 ? "the poll" : "the processor"), logged once), \(storedWhileLong ?? -1) stored and \(flaggedWhileLong) flagged"
            + " while held; 10 stored once each after")
    }

    // MARK: - Helpers

    /// Delivers like `MailServer.deliver`, but all messages appear in `new/` at once (written to `tmp/` first):
    /// a poll sees either none or all of them.
    func deliverAtOnce(_ server: MailServer, _ user: String, _ messages: [[UInt8]]) throws {
        try server.deliver(user, [])
        let md = "\(server.dir)/mail/\(user)/Maildir"
        var st = stat()
        guard stat(md, &st) == 0 else { throw SetupError("cannot stat \(md)") }
        var names: [String] = []
        for (i, m) in messages.enumerated() {
            let name = "\(Int(Date().timeIntervalSince1970)).M\(i)P\(getpid())_\(UUID().uuidString.prefix(6)).mailtriage-test"
            guard FileManager.default.createFile(atPath: "\(md)/tmp/\(name)", contents: Data(m)) else { throw SetupError("cannot write \(name)") }
            chown("\(md)/tmp/\(name)", st.st_uid, st.st_gid)
            names.append(name)
        }
        for name in names where rename("\(md)/tmp/\(name)", "\(md)/new/\(name)") != 0 { throw SetupError("cannot deliver \(name)") }
    }

    struct SMTPTransaction: Decodable {
        var stage: String
        var code: Int
        var rcpt: [String]
        var t: Double
    }

    /// A log's lines ("\r\n" counts: it is one `Character`, which splitting on "\n" would not cut).
    static func lines(_ log: String) -> [Substring] { log.split(whereSeparator: \.isNewline) }

    /// The kind of error a "poll failed" line reports, as the daemon tells them apart (by the error's code).
    static func errorKind(_ line: Substring) -> String {
        let l = line.lowercased()
        if l.contains("tls failed") { return "tls" }
        if l.contains("timeout") || l.contains("timed out") || l.contains("too slow") { return "timeout" }
        return "connection"
    }

    /// The value of `key=value` in a log line.
    static func field(_ line: Substring, _ key: String) -> String? {
        guard let r = line.range(of: key + "=") else { return nil }
        return String(line[r.upperBound...].prefix { !$0.isWhitespace })
    }
}

/// The store, read by the test while the daemon runs: nil while the file or the table is not there yet.
func storeRows(_ s: TestSetup, _ sql: String, _ arguments: [(any DatabaseValueConvertible)?] = []) -> [Row] {
    guard FileManager.default.fileExists(atPath: s.databasePath) else { return [] }
    var c = Configuration()
    c.readonly = true
    c.busyMode = .timeout(10)
    return (try? DatabaseQueue(path: s.databasePath, configuration: c).read { try Row.fetchAll($0, sql: sql, arguments: StatementArguments(arguments)) }) ?? []
}

func storeRow(_ s: TestSetup, _ sql: String, _ arguments: [(any DatabaseValueConvertible)?] = []) -> Row? {
    storeRows(s, sql, arguments).first
}

func storeInt(_ s: TestSetup, _ sql: String, _ arguments: [(any DatabaseValueConvertible)?] = []) -> Int? {
    storeRow(s, sql, arguments).flatMap { $0[0] as Int? }
}

/// One of the misbehaving servers of `Tests/Servers/faults.py` on a free loopback port, switched through its
/// control port. It ends with `stop()`, or by itself when the test process dies (its standard input closes).
final class FaultServer {
    let process = Process()
    let port: Int
    let controlPort: Int
    private let input = Pipe()

    init(_ arguments: [String]) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [FaultIntegrationTests.servers + "/faults.py"] + arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = try firstLine(of: output.fileHandleForReading)
        let words = line.split(separator: " ")
        guard words.count == 3, words[0] == "ready", let p = Int(words[1]), let c = Int(words[2]) else {
            process.terminate()
            throw SetupError("faults.py \(arguments.first ?? ""): \(line)")
        }
        port = p
        controlPort = c
    }

    /// Sends one command line; the server's one-line answer.
    @discardableResult
    func control(_ command: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupError("socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(controlPort).bigEndian)
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { throw SetupError("cannot reach the control port \(controlPort)") }
        let bytes = Array((command + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw SetupError("control: short write") }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        if process.isRunning { process.terminate() }
        if !waitFor(5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Another process holding the store's write lock (`BEGIN IMMEDIATE`, a write, then a long wait before COMMIT),
/// as a long write transaction of the CLI would.
struct LockHolder {
    let process = Process()
    let output = Pipe()

    init(database: String, seconds: Double) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [FaultIntegrationTests.servers + "/faults.py", "lock", database, "\(seconds)"]
        process.standardOutput = output
        try process.run()
        let line = try firstLine(of: output.fileHandleForReading)
        guard line == "locked" else { throw SetupError("faults.py lock: \(line)") }
    }

    func waitUntilReleased() throws {
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SetupError("faults.py lock failed") }
    }
}

/// A Dovecot of the test's own (`mailservers.sh dovecot-start` on free ports under a new directory), which it may
/// stop and start again without disturbing the shared one.
struct PrivateDovecot {
    let server: MailServer

    init() throws {
        let dir = NSTemporaryDirectory() + "mt-dovecot-\(UUID().uuidString.prefix(8))"
        server = MailServer(dir: dir, imapPort: try freePort(), imapsPort: try freePort())
        try start()
    }

    func script(_ command: String) throws {
        let env = ProcessInfo.processInfo.environment.merging(["IMAP_PORT": "\(server.imapPort)", "IMAPS_PORT": "\(server.imapsPort)"]) { $1 }
        let status = try runToEnd(["/bin/bash", FaultIntegrationTests.servers + "/mailservers.sh", command, server.dir], environment: env)
        guard status == 0 else { throw SetupError("mailservers.sh \(command) \(server.dir) failed (\(status))") }
    }

    func start() throws { try script("dovecot-start") }

    /// Like `systemctl stop dovecot`: SIGTERM at once to the master and every process it started (its process group;
    /// the master alone would leave open connections served), then waits until the ports are closed.
    func stop() throws {
        if let pid = (try? String(contentsOfFile: server.dir + "/run/master.pid", encoding: .utf8)).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(-pid, SIGTERM)
        }
        try script("dovecot-stop")
    }

    func remove() {
        try? script("dovecot-stop")
        try? FileManager.default.removeItem(atPath: server.dir)
    }
}

/// Runs a command to its end; its exit status. Not through Foundation's `Process`: this process blocks SIGTERM in its
/// threads, and a daemon the command leaves running (Dovecot) would inherit that mask and never stop; and
/// `waitUntilExit` was seen to hang after such a command.
func runToEnd(_ argv: [String], environment: [String: String]) throws -> Int32 {
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var files = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&files)
    defer { posix_spawn_file_actions_destroy(&files) }
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0)
    // No pipe of this process stays open in a daemon the command leaves running.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }
    let args = argv.map { strdup($0) } + [nil]
    let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (args + env).forEach { free($0) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, argv[0], &files, &attr, args, env)
    guard rc == 0 else { throw SetupError("cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw SetupError("waitpid: \(errno)") }
    }
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// A loopback port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard bound == 0 else { throw SetupError("bind: \(errno)") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// The first line a helper process writes (it blocks until the line or the end of its output).
func firstLine(of handle: FileHandle) throws -> String {
    var data = Data()
    while !data.contains(UInt8(ascii: "\n")) {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        data += chunk
    }
    guard let line = String(data: data, encoding: .utf8)?.split(separator: "\n").first else { throw SetupError("the helper process ended without a word") }
    return String(line)
}
