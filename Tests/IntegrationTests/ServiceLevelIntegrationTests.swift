import Foundation
import GRDB
import Testing
import TriageCore
import TriageMIME
#if canImport(Glibc)
import Glibc
#endif

/// Service levels through the running daemon: a business-critical sender writes outside the team's hours,
/// gets an acknowledgement naming the expected answer time, the ticket is escalated once when overdue,
/// and not again after a restart.
@Suite(.serialized) struct ServiceLevelIntegrationTests {
    let pipeline: PipelineIntegrationTests
    var server: MailServer { pipeline.server }

    init() throws {
        pipeline = try PipelineIntegrationTests()
    }

    @Test func outsideHoursAcknowledgedThenEscalatedOnceAcrossARestart() throws {
        // A team that opens at the next full minute (at least 20 s from now) for ten minutes, in UTC.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let now = Date()
        let c = utc.dateComponents([.hour, .minute, .second], from: now)
        let skip = 60 - c.second! < 20 ? 2 : 1
        let opens = utc.date(byAdding: .minute, value: skip, to: utc.date(bySetting: .second, value: 0, of: now)!)!
        let o = utc.dateComponents([.hour, .minute], from: opens)
        let start = o.hour! * 60 + o.minute!, end = (start + 10) % 1440
        let window = String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let lead = "lead-\(tag)@example.com", customer = "einkauf@grosskunde-\(tag).example"
        let root = NSTemporaryDirectory() + "mt-sl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let levels = root + "/service-levels.toml"
        try """
            default_group = "others"
            [calendars.team]
            time_zone = "UTC"
            every_day = ["\(window)"]
            [groups.business-critical]
            domains = ["grosskunde-\(tag).example"]
            [groups.others]
            [[policy]]
            group = "business-critical"
            calendar = "team"
            first_response = "10s"
            warn_at = 0.5
            escalate_to = "\(lead)"
            acknowledge = true
            priority = "high"
            [[policy]]
            calendar = "team"
            first_response = "8h"
            """.write(toFile: levels, atomically: true, encoding: .utf8)
        let user = MailServer.newUser("sl")
        try server.deliver(user, [])
        let s = try pipeline.config([.init(name: "support", url: server.imapsURL, user: user, address: "support@example.com")],
                                    serviceLevels: levels)
        let check = try CLI.run(["check-config", "--config", s.configPath])
        #expect(check.status == 0 && check.stdout.contains("service-levels.toml: OK (1 calendar, 2 groups, 2 policies)"), "\(check.stdout)\(check.stderr)")
        #expect(try s.serveOnce().status == 0)
        let (process, _, errPath) = try CLI.start(["serve", "--config", s.configPath, "--log-level", "notice"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try server.deliver(user, [PipelineIntegrationTests.mail(from: customer, to: "support@example.com", subject: "Framework contract",
                                                                body: "Hello, please call me back about our framework contract for next year.",
                                                                messageID: "sl-\(tag)@grosskunde.example")])
        // The acknowledgement names the ticket and the time: ten seconds after the team opens.
        let ack = pipeline.waitUntil(20) { !pipeline.answers.captured(to: customer).isEmpty }
        #expect(ack, "no acknowledgement: \((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        let ticket = try #require(try pipeline.db(s).read { try Int64.fetchOne($0, sql: "SELECT id FROM ticket WHERE from_address = ?", arguments: [customer]) })
        let text = try #require(pipeline.answers.captured(to: customer).first).text
        let due = DueText.format(opens.addingTimeInterval(10), timeZone: "UTC", language: "en")
        #expect(text.contains("#\(ticket)") && text.contains(due), "expected \(due) in: \(text)")
        #expect(Date() < opens, "the test must run before the window opens")
        // Escalated once when overdue.
        let escalated = pipeline.waitUntil(Double(opens.timeIntervalSinceNow) + 30) { !pipeline.answers.captured(to: lead).isEmpty }
        #expect(escalated)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(stderr.contains("first answer overdue: escalated to \(lead)"), "\(stderr)")
        let mail = try #require(pipeline.answers.captured(to: lead).first)
        #expect(mail.envelope.subject.hasPrefix("[SLA] overdue: #\(ticket)") && mail.envelope.from?.address == "support@example.com")
        // A restart (and another cycle) escalates nothing again.
        #expect(try s.serveOnce().status == 0)
        #expect(try s.serveOnce().status == 0)
        usleep(500_000)
        #expect(pipeline.answers.captured(to: lead).count == 1)
        try pipeline.db(s).read { db in
            let kinds = try String.fetchAll(db, sql: "SELECT kind FROM event WHERE ticket_id = ? ORDER BY id", arguments: [ticket])
                .compactMap(EventKind.init(rawValue:))
            #expect(kinds.filter { $0 == .slaEscalated }.count == 1 && kinds.filter { $0 == .slaWarning }.count <= 1)
            #expect(kinds.filter { $0 == .ticketAcknowledged }.count == 1)
            #expect(try String.fetchOne(db, sql: "SELECT sla_group FROM ticket WHERE id = ?", arguments: [ticket]) == "business-critical")
        }
    }
}
