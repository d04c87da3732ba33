import Foundation
import Logging
import Testing
import TriageCore
import TriageMIME
import TriageStore
import TriageTesting
@testable import TriageDaemon
@testable import TriageFiles

/// Service levels: the shipped file, check-config's messages, the decision's group/policy/due, shadow mode,
/// acknowledgements, and the SLA watch on the mock clock.
@Suite struct ServiceLevelTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let file = """
        default_group = "administrative"
        [calendars.office]
        time_zone = "Europe/Vienna"
        weekdays = ["08:00-17:00"]
        holidays = ["at"]
        [calendars.always]
        time_zone = "UTC"
        every_day = ["00:00-24:00"]
        [holidays.at]
        "easter+1" = "Ostermontag"
        "12-25" = "Christtag"
        [groups.business-critical]
        domains = ["grosskunde.example"]
        [groups.administrative]
        [[policy]]
        group = "business-critical"
        calendar = "office"
        first_response = "2h"
        escalate_to = "lead@example.com"
        acknowledge = true
        priority = "high"
        degree = "semi_automatic"
        [[policy]]
        category = "password"
        calendar = "always"
        first_response = "30m"
        degree = "shadow"
        [[policy]]
        calendar = "office"
        first_response = "8h"
        """

    static let vienna = TimeZone(identifier: "Europe/Vienna")!

    static func at(_ s: String, _ zone: TimeZone) -> Date {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.date(from: s)!
    }

    static func local(_ d: Date, _ zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }

    static func levels() throws -> ServiceLevels { try ServiceLevelsLoader.parse(text: file, file: "sl.toml", categories: Category.defaults).levels }

    @Test func theShippedFileLoads() throws {
        let (levels, warnings) = try ServiceLevelsLoader.load(path: Self.repo + "/config/service-levels.toml", categories: Category.defaults)
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(Set(levels.calendars.keys) == ["business-hours", "extended-hours", "business-hours-at", "around-the-clock"])
        #expect(levels.calendars["business-hours-at"]?.holidays.count == 13)
        #expect(levels.policies.count == 4 && levels.defaultGroup == "administrative")
    }

    struct Broken: Sendable, CustomStringConvertible {
        var old: String, new: String, key: String, line: Int, message: String
        var description: String { key }
    }

    static let broken: [Broken] = [
        Broken(old: "calendar = \"office\"", new: "calendar = \"offce\"", key: "policy[0].calendar", line: 17, message: "unknown calendar \"offce\""),
        Broken(old: "weekdays = [\"08:00-17:00\"]", new: "weekdays = [\"08:00-17:00\", \"16:00-18:00\"]", key: "calendars.office.weekdays", line: 4,
               message: "windows overlap"),
        Broken(old: "group = \"business-critical\"\ncalendar", new: "group = \"vip\"\ncalendar", key: "policy[0].group", line: 16,
               message: "unknown group \"vip\""),
        Broken(old: "time_zone = \"Europe/Vienna\"", new: "time_zone = \"Europe/Wien\"", key: "calendars.office.time_zone", line: 3,
               message: "unknown time zone"),
        Broken(old: "first_response = \"2h\"", new: "first_response = \"soon\"", key: "policy[0].first_response", line: 18,
               message: "must be a duration"),
        Broken(old: "\"12-25\" = \"Christtag\"", new: "\"12-32\" = \"Christtag\"", key: "holidays.at.12-32", line: 11, message: "is not MM-DD"),
    ]

    @Test(arguments: ServiceLevelTests.broken)
    func checkConfigNamesFileLineAndKey(_ c: Broken) throws {
        let (old, new, key, line, message) = (c.old, c.new, c.key, c.line, c.message)
        let text = Self.file.replacingOccurrences(of: old, with: new)
        #expect(text != Self.file)
        do {
            _ = try ServiceLevelsLoader.parse(text: text, file: "sl.toml", categories: Category.defaults)
            Issue.record("accepted: \(new)")
        } catch let e as ConfigError {
            let d = try #require(e.diagnostics.first { $0.severity == .error })
            #expect(d.file == "sl.toml" && d.keyPath == key && d.line == line && d.message.contains(message), "\(d)")
        }
    }

    @Test func aWindowAcrossMidnightMayNotOverlapTheNextMorning() {
        let text = Self.file.replacingOccurrences(of: "weekdays = [\"08:00-17:00\"]", with: "mon = [\"20:00-09:00\"]\ntue = [\"08:00-17:00\"]")
        #expect(throws: ConfigError.self) { try ServiceLevelsLoader.parse(text: text, file: "sl.toml", categories: Category.defaults) }
    }

    // MARK: - The decision

    static func snapshot(smtp: Bool = true) throws -> TriageSnapshot {
        var config = Fixtures.config(smtp: smtp)
        let kb = try TrainingData.knowledgeBase(at: repo + "/knowledge-base")
        let (model, _) = Trainer.train(kb.entries.flatMap(\.trainingExamples) + kb.examples, categories: Category.defaults,
                                       anchors: KnowledgeEntry.anchors(kb.entries))
        config.answers.placeholders = ["company": "Beispiel GmbH", "shop_url": "https://shop.example.com",
                                       "password_reset_url": "https://shop.example.com/reset", "support_hours": "Mo-Fr 8-18"]
        let classifier = SharedClassifier(Classifier(model: model, settings: config.classifier.settings), source: "test")
        return try TriageSnapshot(config: config, classifier: classifier, knowledgeBase: kb.entries, serviceLevels: try levels(),
                                  templates: SnapshotLoader.templates(in: repo + "/knowledge-base"))
    }

    static func message(from: String, subject: String, body: String, received: String) -> IncomingMessage {
        let raw = Array(("Return-Path: <\(from)>\r\nFrom: Kunde <\(from)>\r\nTo: support@example.com\r\nSubject: \(subject)\r\n"
            + "Message-ID: <\(UUID().uuidString)@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(body)\r\n").utf8)
        return IncomingMessage(stored: StoredMessage(id: 41, mailbox: "support", raw: raw, size: raw.count, truncated: false, fetchError: nil,
                                                     preBaseline: false, attempts: 1, receivedAt: Int64(Self.at(received, Self.vienna).timeIntervalSince1970)))
    }

    static let password = "Hallo, ich habe mein Passwort vergessen und komme nicht mehr in mein Konto. Wie kann ich es zurücksetzen?"

    @Test func aBusinessCriticalSenderOutsideHoursGetsAnAcknowledgementWithTheDueTime() throws {
        let s = try Self.snapshot()
        // Thursday before Easter 2027, 16:40 in Vienna: 20 minutes today, Monday is Easter Monday.
        let m = Self.message(from: "einkauf@grosskunde.example", subject: "Frage zur Lieferung",
                             body: "Guten Tag, bitte rufen Sie mich wegen unseres Rahmenvertrags zurück.", received: "2027-03-25 16:40")
        let d = TriageEngine.decide(m, snapshot: s, context: DecisionContext(renderReply: true, token: "t"), now: 0)
        let sd = try #require(d.service)
        #expect(sd.group == "business-critical" && sd.groupMatch == .domain && sd.policy == "business-critical/*" && sd.priority == "high")
        let due = try #require(sd.firstResponse)
        #expect(Self.local(due.due, Self.vienna) == "2027-03-26 09:40")
        #expect(d.reasons.contains(.due(due)) && d.reasons.contains(.acknowledged))
        let ack = try #require(d.acknowledgement)
        #expect(ack.recipient == "einkauf@grosskunde.example" && ack.knowledgeEntry == OutgoingAnswer.acknowledgementEntry)
        let text = MIMEParser.parse(ack.raw).text
        #expect(text.contains("#41") && text.contains("Freitag, 26. März 2027, 09:40 Uhr"), "\(text)")
        #expect(d.reply == nil && d.ticket.state == .open)
    }

    @Test func aBacklogMakesTheAcknowledgementPromiseLater() throws {
        let s = try Self.snapshot()
        let m = Self.message(from: "einkauf@grosskunde.example", subject: "Frage zur Lieferung",
                             body: "Guten Tag, bitte rufen Sie mich wegen unseres Rahmenvertrags zurück.", received: "2026-12-01 10:00")
        // 18 tickets ahead; 45 answered by people last week, in 45 office hours: one an hour, so 18 working hours.
        var context = DecisionContext(renderReply: true, token: "t")
        context.backlog = ["business-critical": GroupBacklog(waiting: 18, answeredLastWeek: 45)]
        let now = Int64(Self.at("2026-12-01 10:00", Self.vienna).timeIntervalSince1970)
        let d = TriageEngine.decide(m, snapshot: s, context: context, now: now)
        let sla = try #require(d.service?.firstResponse)
        #expect(Self.local(sla.due, Self.vienna) == "2026-12-01 12:00")  // the policy: 2 h
        let later = try #require(d.promisedLater)
        // Office hours 08-17: 45 working hours in the 7 days before Tuesday 10:00; 18 waiting at 1 an hour = 18 h -> Thursday 10:00.
        #expect(Self.local(later.due, Self.vienna) == "2026-12-03 10:00")
        #expect(d.reasons.contains(.backlogDelays(waiting: 18, answeredLastWeek: 45, promised: later)))
        let text = MIMEParser.parse(try #require(d.acknowledgement).raw).text
        #expect(text.contains("Donnerstag, 3. Dezember 2026, 10:00 Uhr"), "\(text)")
        // Without a pace (nobody answered last week) the service level's time stands.
        context.backlog = ["business-critical": GroupBacklog(waiting: 18, answeredLastWeek: 0)]
        #expect(TriageEngine.decide(m, snapshot: s, context: context, now: now).promisedLater == nil)
    }

    @Test func aPolicyOnlyLowersTheDegree() throws {
        let s = try Self.snapshot()
        let vip = TriageEngine.decide(Self.message(from: "a@grosskunde.example", subject: "Passwort vergessen", body: Self.password,
                                                   received: "2026-12-01 10:00"), snapshot: s, context: DecisionContext(renderReply: true), now: 0)
        #expect(vip.classification?.degree == .automatic && vip.degree == .semiAutomatic && vip.reply == nil)
        #expect(vip.reasons.contains(.policyLowered(from: .automatic, to: .semiAutomatic, policy: "business-critical/*")))
        // Shadow for password mail of everyone else: decided and recorded, never sent.
        let other = TriageEngine.decide(Self.message(from: "b@kunde.example", subject: "Passwort vergessen", body: Self.password,
                                                     received: "2026-12-01 10:00"), snapshot: s, context: DecisionContext(renderReply: true), now: 0)
        #expect(other.degree == .shadow && other.reply == nil && other.ticket.state == .awaitingApproval)
        #expect(other.draft?.entry == other.knowledgeEntry, "the would-be answer is the agent's draft")
        let shadow = try #require(other.shadowReply)
        #expect(shadow.knowledgeEntry == other.knowledgeEntry && other.reasons.contains(.shadowAnswer(other.knowledgeEntry!)))
        #expect(Self.local(try #require(other.service?.firstResponse).due, Self.vienna) == "2026-12-01 10:30")
    }

    // MARK: - The watch

    @Test func theWatchWarnsAndEscalatesOnceAlsoAfterARestart() async throws {
        let dir = NSTemporaryDirectory() + "mt-sla-\(UUID().uuidString)"
        let clock = MockClock()
        let t0: Int64 = 1_800_000_000
        let now: @Sendable () -> Int64 = { t0 + clock.now.offset.components.seconds }
        let store = try SQLiteTicketStore(path: dir + "/db.sqlite", now: now)
        let raw = Array("Return-Path: <a@grosskunde.example>\r\nFrom: a@grosskunde.example\r\nTo: support@example.com\r\nSubject: Vertrag\r\nMessage-ID: <v1@x>\r\n\r\nBitte um Rückruf.\r\n".utf8)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 1, raw: raw, size: raw.count, preBaseline: false, internalDate: t0)],
                             cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        let msgs = try store.claimUnprocessed(limit: 5, worker: "w", lease: 60)
        var d = Fixtures.decisions(msgs)[0]
        let start = Date(timeIntervalSince1970: TimeInterval(t0))
        d.service = ServiceDecision(group: "business-critical", groupMatch: .domain, policy: "business-critical/*", priority: "high",
                                    calendar: "always", firstResponse: BusinessCalendar.always().adding(3600, to: start),
                                    warnAt: start.addingTimeInterval(2700), escalateTo: "lead@example.com", acknowledge: false)
        try store.apply([d])
        let snapshots = SnapshotStore(try Self.snapshot())
        var watch = SLAWatchService(store: store, snapshots: snapshots, interval: .seconds(60), clock: clock, logger: Logger(label: "test"))
        watch.now = now
        #expect(try await watch.pass() == 0)
        clock.advance(by: .seconds(2700))
        #expect(try await watch.pass() == 1)  // the warning at 75%
        #expect(try await watch.pass() == 0)
        clock.advance(by: .seconds(900))
        #expect(try await watch.pass() == 1)  // the breach: escalated
        #expect(try await watch.pass() == 0)
        // A restart: a new store and watch on the same database escalate nothing again.
        let again = try SQLiteTicketStore(path: dir + "/db.sqlite", now: now)
        var watch2 = SLAWatchService(store: again, snapshots: snapshots, interval: .seconds(60), clock: clock, logger: Logger(label: "test"))
        watch2.now = now
        clock.advance(by: .seconds(3600))
        #expect(try await watch2.pass() == 0)
        let due = try again.dueAnswers(now: nil, limit: 10)
        #expect(due.count == 1 && due[0].recipient == "lead@example.com")
        let mail = MIMEParser.parse(due[0].raw)
        #expect(mail.envelope.subject == "[SLA] overdue: #\(msgs[0].id) Vertrag" && mail.text.contains("a@grosskunde.example"))
    }

    @Test func aNewCategoryMovesTheDueTime() throws {
        let levels = try Self.levels()
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-recat-\(UUID().uuidString)/db.sqlite")
        let received = Int64(Self.at("2026-12-01 10:00", Self.vienna).timeIntervalSince1970)
        let raw = Array("From: b@kunde.example\r\nTo: support@example.com\r\nSubject: x\r\nMessage-ID: <r1@x>\r\n\r\nhi\r\n".utf8)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 1, raw: raw, size: raw.count, preBaseline: false,
                                             internalDate: received)], cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        let msgs = try store.claimUnprocessed(limit: 1, worker: "w", lease: 60)
        var d = Fixtures.decisions(msgs)[0]
        d.service = levels.decide(sender: "b@kunde.example", mailbox: "support", category: "other", ruleGroup: nil, rulePriority: nil,
                                  receivedAt: received).service
        try store.apply([d])
        let before = try #require(try store.tickets(TicketQuery()).first?.firstResponseDue)
        #expect(Self.local(Date(timeIntervalSince1970: TimeInterval(before)), Self.vienna) == "2026-12-02 09:00")  // 8 working hours: 7 today, 1 tomorrow
        let facts = try #require(try store.serviceFacts(ticket: msgs[0].id))
        #expect(facts.from == "b@kunde.example" && facts.ruleGroup == nil)
        let moved = levels.decide(sender: facts.from, mailbox: facts.mailbox, category: "password", ruleGroup: facts.ruleGroup,
                                  rulePriority: facts.priority, receivedAt: facts.receivedAt).service
        try store.recategorize(ticket: msgs[0].id, category: "password", actor: "anna", service: moved)
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.category == "password" && t.group == "administrative")
        #expect(Self.local(Date(timeIntervalSince1970: TimeInterval(t.firstResponseDue!)), Self.vienna) == "2026-12-01 10:30")
    }

    @Test func waitingPausesAndTheCustomersReplyResumesThroughTheProcessor() throws {
        let levels = try Self.levels()
        let dir = NSTemporaryDirectory() + "mt-wait-\(UUID().uuidString)"
        var clockNow = Int64(Self.at("2026-12-07 09:00", Self.vienna).timeIntervalSince1970)
        let box = Box(clockNow)
        let store = try SQLiteTicketStore(path: dir + "/db.sqlite", now: { box.value })
        let first = Array("Return-Path: <k@kunde.example>\r\nFrom: k@kunde.example\r\nTo: support@example.com\r\nSubject: Frage\r\nMessage-ID: <w1@kunde.example>\r\n\r\nEine Frage zum Vertrag.\r\n".utf8)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 1, raw: first, size: first.count, preBaseline: false,
                                             internalDate: clockNow)], cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 1, baselineUID: 0))
        let snapshot = try TriageSnapshot(config: Fixtures.config(), classifier: nil, knowledgeBase: nil, serviceLevels: levels)
        var processor = MessageProcessor(store: store, snapshots: SnapshotStore(snapshot), worker: "w", batchSize: 5, logger: Logger(label: "t"))
        processor.now = { box.value }
        _ = try processor.drain()
        let id = try #require(try store.tickets(TicketQuery()).first?.id)
        // 8 working hours on the office calendar (08:00-17:00): Monday 09:00 -> Monday 17:00.
        #expect(Self.local(Date(timeIntervalSince1970: TimeInterval(try #require(try store.tickets(TicketQuery()).first?.firstResponseDue))), Self.vienna)
            == "2026-12-07 17:00")
        clockNow = Int64(Self.at("2026-12-07 12:00", Self.vienna).timeIntervalSince1970)
        box.value = clockNow
        try store.wait(ticket: id, agent: "anna")
        #expect(try store.tickets(TicketQuery()).first?.state == .waiting)
        // The customer writes back on Wednesday 10:00: five working hours were left at the pause.
        clockNow = Int64(Self.at("2026-12-09 10:00", Self.vienna).timeIntervalSince1970)
        box.value = clockNow
        let reply = Array("Return-Path: <k@kunde.example>\r\nFrom: k@kunde.example\r\nTo: support@example.com\r\nSubject: Re: Frage [#\(id)]\r\nIn-Reply-To: <w1@kunde.example>\r\nMessage-ID: <w2@kunde.example>\r\n\r\nHier die Angaben.\r\n".utf8)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 2, raw: reply, size: reply.count, preBaseline: false,
                                             internalDate: clockNow)], cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 2, baselineUID: 0))
        let r = try processor.drain()
        #expect(r.joined == 1)
        let t = try #require(try store.tickets(TicketQuery()).first)
        #expect(t.state == .open)
        #expect(Self.local(Date(timeIntervalSince1970: TimeInterval(try #require(t.firstResponseDue))), Self.vienna) == "2026-12-09 15:00")
    }
}

@Suite struct ReplayTests {
    @Test func aRuleChangeMovesExactlyTheExpectedTicketsAndWritesNothing() throws {
        let base = try ServiceLevelTests.snapshot()
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-replay-\(UUID().uuidString)/db.sqlite")
        let mails: [(String, String, String)] = [
            ("a@kunde.example", "Passwort vergessen", ServiceLevelTests.password),
            ("b@kunde.example", "Bestellung", "Guten Tag, wann wird meine Bestellung geliefert?"),
            ("c@kunde.example", "Beschwerde", "Ich möchte mich über den Service beschweren."),
        ]
        let fetched = mails.enumerated().map { i, m in
            let raw = Array("Return-Path: <\(m.0)>\r\nFrom: \(m.0)\r\nTo: support@example.com\r\nSubject: \(m.1)\r\nMessage-ID: <r\(i)@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(m.2)\r\n".utf8)
            return FetchedMessage(mailbox: "support", uidValidity: 1, uid: UInt32(i + 1), raw: raw, size: raw.count, preBaseline: false)
        }
        _ = try store.record(fetched, cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 3, baselineUID: 0))
        _ = try MessageProcessor(store: store, snapshots: SnapshotStore(base), worker: "w", batchSize: 10, logger: Logger(label: "t")).drain()
        let before = try store.counts()
        // Unchanged configuration: nothing moves.
        #expect(try ReplayReport.run(store: store, snapshot: base).changed == 0)
        // A rule sending password mail to a person.
        var config = base.config
        var rule = ClassificationRule(name: "passwords-to-people", when: RuleCondition())
        rule.when.any = ["passwort"]
        rule.force = .manual
        config.classifier.settings.rules = [rule]
        let classifier = SharedClassifier(Classifier(model: base.classifier!.model, settings: config.classifier.settings), source: "test")
        let candidate = try TriageSnapshot(config: config, classifier: classifier, knowledgeBase: try KnowledgeMatcherTestsEntries.load(),
                                           serviceLevels: base.serviceLevels, templates: base.templates)
        let r = try ReplayReport.run(store: store, snapshot: candidate)
        #expect(r.tickets == 3 && r.changed == 1, "\(r)")
        let ids = try store.tickets(TicketQuery()).map(\.id)
        #expect(r.changes["degree"]?.examples.map(\.ticket) == [ids[0]] && r.changes["degree"]?.examples.first?.after == AutomationDegree.manual.rawValue)
        #expect(r.changes["degree"]?.count == 1 && r.changes["degree"]?.moves == ["shadow -> manual": 1], "\(r)")
        // The shadow answer's entry is no longer offered: a change of entry as well.
        #expect(r.changes["entry"]?.count == 1 && r.changes["entry"]?.examples.first?.after == "-", "\(r)")
        #expect(r.changes["category"] == nil)
        // Nothing was written.
        let after = try store.counts()
        #expect(after.tickets == before.tickets && after.events == before.events && after.messages == before.messages)
    }

    /// The tickets are read newest first, a page at a time: every ticket once, whatever the page size; `limit`
    /// takes the most recent.
    @Test(arguments: [1, 2, 3, 100])
    func ticketsAreReadInPagesNewestFirst(pageSize: Int) throws {
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-replay-\(UUID().uuidString)/db.sqlite")
        let fetched = (1...5).map { i in
            let raw = Array("From: c\(i)@kunde.example\r\nTo: support@example.com\r\nSubject: s\(i)\r\nMessage-ID: <p\(i)@x>\r\n\r\nText\r\n".utf8)
            return FetchedMessage(mailbox: "support", uidValidity: 1, uid: UInt32(i), raw: raw, size: raw.count, preBaseline: false,
                                  internalDate: 1_795_000_000 + Int64(i) * 86_400)
        }
        _ = try store.record(fetched, cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 5, baselineUID: 0))
        _ = try MessageProcessor(store: store, snapshots: SnapshotStore(try ServiceLevelTests.snapshot()), worker: "w", batchSize: 10,
                                 logger: Logger(label: "t")).drain()
        let ids = try store.tickets(TicketQuery()).map(\.id)
        func read(since: Int64? = nil, limit: Int? = nil) throws -> [Int64] {
            var out: [Int64] = []
            try store.forEachTicketMessage(since: since, limit: limit, pageSize: pageSize) { m, d in
                #expect(d != nil, "the stored decision comes along")
                out.append(m.id)
            }
            return out
        }
        #expect(try read() == ids.reversed())
        #expect(try read(limit: 2) == Array(ids.reversed().prefix(2)))
        #expect(try read(limit: 0).isEmpty)
        #expect(try read(since: 1_795_000_000 + 4 * 86_400) == Array(ids.reversed().prefix(2)), "received on or after the 4th day")
        #expect(try read(since: 1_795_000_000 + 2 * 86_400, limit: 10) == Array(ids.reversed().prefix(4)))
    }
}

enum KnowledgeMatcherTestsEntries {
    static func load() throws -> [KnowledgeEntry] { try TrainingData.knowledgeBase(at: ServiceLevelTests.repo + "/knowledge-base").entries }
}

/// A value tests change while a store reads it as its clock.
final class Box: @unchecked Sendable {
    var value: Int64
    init(_ v: Int64) { value = v }
}
