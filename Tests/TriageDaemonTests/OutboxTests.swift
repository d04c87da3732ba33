import Foundation
import Logging
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriageDaemon

/// A mail server that answers as told: accepts, fails for now, or refuses for good.
actor ScriptedSender: MailSender {
    var script: [TriageError?]
    var delivered: [[UInt8]] = []

    init(_ script: [TriageError?]) { self.script = script }

    func send(_ message: [UInt8], from: String, to recipients: [String]) throws -> Int {
        let next = script.isEmpty ? nil : script.removeFirst()
        if let next { throw next }
        delivered.append(message)
        return 250
    }

    func count() -> Int { delivered.count }
}

@Suite struct OutboxTests {
    /// A store with one answered ticket whose answer waits in the outbox.
    static func storeWithAnswer() throws -> (SQLiteTicketStore, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mt-outbox-\(UUID().uuidString)").path
        let store = try SQLiteTicketStore(path: dir + "/db.sqlite")
        let raw = Array("From: a@customer.example\r\nTo: support@example.com\r\nSubject: x\r\nMessage-ID: <m1@customer.example>\r\n\r\nhi\r\n".utf8)
        let cursor = MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 1, raw: raw, size: raw.count, preBaseline: false)], cursor: cursor)
        let msg = try #require(try store.claimUnprocessed(limit: 1, worker: "test", lease: 60).first)
        var d = try #require(Fixtures.decisions([msg]).first)
        d.ticket.state = .answered
        d.reply = OutgoingAnswer(recipient: "a@customer.example", envelopeFrom: "", messageID: "auto.\(msg.id).t@answers.example.com",
                                 knowledgeEntry: "pw-en", raw: Array("Subject: answer \(msg.id)\r\n\r\nbody\r\n".utf8))
        try store.apply([d])
        return (store, dir)
    }

    static func outbox(_ store: SQLiteTicketStore, _ sender: ScriptedSender, clock: @escaping @Sendable () -> Int64) -> OutboxSender {
        var o = OutboxSender(store: store, sender: sender, maxRetryDelay: .seconds(3600), logger: Logger(label: "test"))
        o.now = clock
        return o
    }

    @Test func transientFailuresBackOffThenSendOnce() async throws {
        let (store, dir) = try Self.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sender = ScriptedSender([TriageError(.connection, "connection refused", transient: true),
                                     TriageError(.timeout, "timed out", transient: true)])
        let t0 = Int64(Date().timeIntervalSince1970)
        let first = try await Self.outbox(store, sender) { t0 }.runOnce()
        #expect(first.retrying == 1 && first.sent == 0)
        // Not due yet: the first retry waits 30 s.
        #expect(try await Self.outbox(store, sender) { t0 + 10 }.runOnce() == OutboxReport())
        let second = try await Self.outbox(store, sender) { t0 + 31 }.runOnce()
        #expect(second.retrying == 1)
        // The next wait doubles.
        #expect(try await Self.outbox(store, sender) { t0 + 31 + 59 }.runOnce() == OutboxReport())
        let third = try await Self.outbox(store, sender) { t0 + 31 + 61 }.runOnce()
        #expect(third.sent == 1)
        #expect(try await Self.outbox(store, sender) { t0 + 10_000 }.runOnce() == OutboxReport())
        #expect(await sender.count() == 1)
        #expect(try store.outboxCounts() == [.sent: 1])
        #expect(try store.tickets(TicketQuery()).first?.state == .answered)
    }

    /// A refused login, token or TLS handshake is no answer's fault: the pass stops and the answer stays queued
    /// as it was (no attempt counted, no error on the ticket).
    @Test(arguments: [TriageError(.authentication, "SMTP smtp://x: login denied (server said: 535 5.7.8)"),
                      TriageError(.credential, "token endpoint https://t.example/token: invalid_client (HTTP 401)"),
                      TriageError(.credential, "token endpoint https://t.example/token: Couldn't connect to server", transient: true),
                      TriageError(.tls, "SMTP smtp://x: TLS failed: certificate expired")])
    func aLoginFailureLeavesTheAnswerQueued(error: TriageError) async throws {
        let (store, dir) = try Self.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sender = ScriptedSender([error])
        let r = try await Self.outbox(store, sender) { Int64(Date().timeIntervalSince1970) }.runOnce(all: true)
        #expect(r.outage == error && r.sent + r.failed + r.retrying == 0)
        #expect(try store.outboxCounts() == [.pending: 1])
        #expect(try store.dueAnswers(now: nil, limit: 10).map(\.attempts) == [0])
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.state == .answered && t.answerError == nil)
        #expect(try await Self.outbox(store, sender) { Int64(Date().timeIntervalSince1970) }.runOnce(all: true).sent == 1)
    }

    @Test func permanentRefusalReturnsTheTicketToTheQueue() async throws {
        let (store, dir) = try Self.storeWithAnswer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sender = ScriptedSender([TriageError(.serverRefused, "550 5.1.1 mailbox unknown")])
        let r = try await Self.outbox(store, sender) { Int64(Date().timeIntervalSince1970) }.runOnce(all: true)
        #expect(r.failed == 1 && r.sent == 0)
        #expect(try store.outboxCounts() == [.failed: 1])
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.state == .open && t.degree == .manual)
        #expect(t.answerState == .failed && t.answerError == "550 5.1.1 mailbox unknown")
        // A failed answer is not retried and does not count towards the sender's rate limit.
        #expect(try await Self.outbox(store, sender) { Int64(Date().timeIntervalSince1970) }.runOnce(all: true) == OutboxReport())
        #expect(try store.answersSent(to: "a@customer.example", since: 0) == 0)
    }
}
