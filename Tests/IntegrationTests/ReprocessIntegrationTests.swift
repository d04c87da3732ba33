import Foundation
import GRDB
import Testing
import TriageCore
import TriageMIME
import TriageStore

/// `mailtriage reprocess` through the binary: a placeholder ticket (a message the daemon could not download)
/// is fetched again from the real Dovecot over IMAPS, decided, answered through the real SMTP receiver once.
@Suite(.serialized) struct ReprocessIntegrationTests {
    let pipeline: PipelineIntegrationTests
    var server: MailServer { pipeline.server }

    init() throws { pipeline = try PipelineIntegrationTests() }

    @Test func aPlaceholderIsFetchedAgainAndAnsweredOnce() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let user = MailServer.newUser("rp")
        try server.deliver(user, [])
        let s = try pipeline.config([.init(name: "support", url: server.imapsURL, user: user, address: "support@example.com")])
        #expect(try s.serveOnce().status == 0)  // the baseline
        let customer = "rp-\(tag)@customer.example"
        try server.deliver(user, [PipelineIntegrationTests.mail(from: customer, to: "support@example.com", subject: "Password reset",
                                                                body: AnswerIntegrationTests.enPassword, messageID: "rp-\(tag)@customer.example")])
        // The download failed (as after repeated server errors): the daemon's placeholder for UID 1.
        let (uidValidity, baseline) = try #require(try pipeline.db(s).read { db in
            try Row.fetchOne(db, sql: "SELECT uid_validity, baseline_uid FROM mailbox_cursor WHERE mailbox = 'support'")
                .map { (UInt32($0["uid_validity"] as Int64), UInt32($0["baseline_uid"] as Int64)) }
        })
        let store = try SQLiteTicketStore(path: s.databasePath)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: uidValidity, uid: 1, raw: [], size: 300,
                                             fetchError: "NO [UNAVAILABLE] simulated", preBaseline: false, internalDate: nil)],
                             cursor: MailboxCursor(mailbox: "support", uidValidity: uidValidity, lastUID: 1, baselineUID: baseline))
        #expect(try s.serveOnce().status == 0)
        let id = try #require(try pipeline.db(s).read { try Int64.fetchOne($0, sql: "SELECT id FROM ticket WHERE subject = '(message not downloaded)'") })
        #expect(pipeline.answers.captured(to: customer).isEmpty)

        let dry = try CLI.run(["reprocess", "--failed", "--dry-run", "--config", s.configPath])
        #expect(dry.status == 0 && dry.stdout.contains("#\(id): -/manual -> "), "\(dry.stdout)\(dry.stderr)")
        let r = try CLI.run(["reprocess", "--failed", "--config", s.configPath])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#\(id): fetched again; -/manual -> password/automatic: answer queued (password-reset)"), "\(r.stdout)")
        #expect(try s.serveOnce().status == 0)  // the daemon sends it
        let sent = try #require(pipeline.answers.captured(to: customer, expect: 1).first)
        #expect(sent.envelope.inReplyTo == ["rp-\(tag)@customer.example"] && sent.envelope.subject.hasSuffix("[#\(id)]"))
        try pipeline.db(s).read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT subject, category, state FROM ticket WHERE id = ?", arguments: [id]))
            #expect((row["subject"] as String) == "Password reset" && (row["category"] as String) == "password")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE ticket_id = ? AND kind = ?", arguments: [id, EventKind.ticketReprocessed.rawValue]) == 1)
        }

        // Again, by number: decided again, nothing sent twice; --failed finds nothing left.
        let again = try CLI.run(["reprocess", "\(id)", "--config", s.configPath])
        #expect(again.status == 0 && again.stdout.contains("no answer: the ticket was answered"), "\(again.stdout)\(again.stderr)")
        #expect(try s.serveOnce().status == 0)
        #expect(pipeline.answers.captured(to: customer, expect: 1).count == 1)
        #expect(try CLI.run(["reprocess", "--failed", "--config", s.configPath]).stdout.contains("no ticket to reprocess"))
        let missing = try CLI.run(["reprocess", "999999", "--config", s.configPath])
        #expect(missing.status == 1 && missing.stdout.contains("#999999: no such ticket"))
        #expect(try CLI.run(["reprocess", "--config", s.configPath]).status == 2)
    }
}
