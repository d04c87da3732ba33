import Foundation
import Logging
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriageDaemon
@testable import TriageFiles

/// `stats` and the metrics file on a store whose figures are counted by hand.
@Suite struct StatsTests {
    static let t0: Int64 = 1_795_000_000  // 2026-11-18

    /// Seven tickets: automatic (the customer wrote again), draft approved, draft edited, draft rejected,
    /// refused by the loop guard, overdue without an answer, not due yet.
    static func fixtureStore() throws -> SQLiteTicketStore {
        let box = Box(t0)
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-stats-\(UUID().uuidString)/db.sqlite", now: { box.value })
        func msg(_ n: Int, from: String) -> FetchedMessage {
            let raw = Array("Return-Path: <\(from)>\r\nFrom: \(from)\r\nTo: support@example.com\r\nSubject: s\(n)\r\nMessage-ID: <s\(n)@x>\r\n\r\nText \(n)\r\n".utf8)
            return FetchedMessage(mailbox: "support", uidValidity: 1, uid: UInt32(n), raw: raw, size: raw.count, preBaseline: false, internalDate: t0)
        }
        _ = try store.record((1...7).map { msg($0, from: "c\($0)@kunde.example") },
                             cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 7, baselineUID: 0))
        let claimed = try store.claimUnprocessed(limit: 10, worker: "w", lease: 60)
        var ds = Fixtures.decisions(claimed)
        func service(_ group: String, due: Int64) -> ServiceDecision {
            ServiceDecision(group: group, policy: "\(group)/*", calendar: "always",
                            firstResponse: DueTime(calendar: "always", timeZone: "UTC", received: Date(timeIntervalSince1970: TimeInterval(t0)),
                                                   opens: Date(timeIntervalSince1970: TimeInterval(t0)), due: Date(timeIntervalSince1970: TimeInterval(due)),
                                                   skippedHolidays: [], leftOnReceivedDay: 0), acknowledge: false)
        }
        ds[0].ticket.state = .answered
        ds[0].reply = OutgoingAnswer(recipient: "c1@kunde.example", envelopeFrom: "", messageID: "auto.1.x@a.example", knowledgeEntry: "password-reset",
                                     raw: Array("Subject: a\r\n\r\nx\r\n".utf8))
        ds[0].service = service("vip", due: t0 + 3600)
        for i in 1...3 {
            ds[i].ticket.state = .awaitingApproval
            ds[i].draft = Draft(entry: "delivery-times", body: "Die Lieferung dauert zwei Tage.")
            ds[i].service = service("vip", due: t0 + 3600)
        }
        ds[4].reasons = [.loopGuard(.rateLimit(answers: 3, hours: 24))]
        ds[5].service = service("others", due: t0 + 600)
        ds[6].service = service("others", due: t0 + 86_400 * 30)
        for i in 0..<7 { ds[i].classification = nil }
        try store.apply(ds)
        let ids = claimed.map(\.id)
        let answer = OutgoingAnswer(recipient: "c2@kunde.example", envelopeFrom: "", messageID: "reply.2.y@a.example", knowledgeEntry: "delivery-times",
                                    raw: Array("Subject: b\r\n\r\ny\r\n".utf8))
        box.value = t0 + 1200
        try store.approveDraft(ticket: ids[1], agent: "anna", answer: answer, edited: false)  // 20 min: met
        box.value = t0 + 4000
        var edited = answer
        edited.messageID = "reply.3.z@a.example"
        try store.approveDraft(ticket: ids[2], agent: "anna", answer: edited, edited: true)  // after the hour: missed
        try store.rejectDraft(ticket: ids[3], agent: "ben", reason: "wrong country")
        // The first customer writes again two days after the automatic answer.
        box.value = t0 + 2 * 86_400
        let reply = Array("Return-Path: <c1@kunde.example>\r\nFrom: c1@kunde.example\r\nTo: support@example.com\r\nSubject: Re: s1\r\nIn-Reply-To: <auto.1.x@a.example>\r\nMessage-ID: <s8@x>\r\n\r\nHat nicht geholfen.\r\n".utf8)
        _ = try store.record([FetchedMessage(mailbox: "support", uidValidity: 1, uid: 8, raw: reply, size: reply.count, preBaseline: false, internalDate: box.value)],
                             cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 8, baselineUID: 0))
        let more = try store.claimUnprocessed(limit: 10, worker: "w", lease: 60)
        var join = Fixtures.decisions(more)[0]
        join.action = .joinThread(ticket: ids[0], informational: false)
        try store.apply([join])
        return store
    }

    @Test func figuresMatchTheHandCount() throws {
        let store = try Self.fixtureStore()
        let s = QueueStats.compute(try store.statsRows(), now: Self.t0 + 3 * 86_400)
        #expect(s.tickets == 7)
        let a = s.automation
        #expect(a.automatic == 1 && a.approvedUnchanged == 1 && a.approvedEdited == 1 && a.rejected == 1 && a.draftsPending == 0 && a.manual == 3)
        #expect(abs(a.rate - 2.0 / 7.0) < 1e-9)
        #expect(s.automaticAnswers == 1 && s.followedByReply == 1 && s.followedByReplyByEntry == ["password-reset": 1])
        // vip: automatic at once (met), approved after 20 min (met), edited after 66 min (missed), rejected and unanswered (missed).
        #expect(s.serviceLevels["vip"] == QueueStats.ServiceLevel(met: 2, missed: 2, pending: 0, compliance: 0.5, medianFirstResponseSeconds: 1200))
        // others: overdue without an answer (missed), due in a month (pending).
        #expect(s.serviceLevels["others"]?.missed == 1 && s.serviceLevels["others"]?.pending == 1 && s.serviceLevels["others"]?.compliance == 0)
        #expect(s.loopGuardRefusals == ["rate_limit": 1])
        #expect(s.rejectionReasons == ["delivery-times: wrong country": 1])
        #expect(s.months.map(\.month) == ["2026-11"] && s.months[0].tickets == 7)
        #expect(Corridor.defaults["automation_rate"]!.rating(a.rate) == "expected")
        #expect(Corridor.defaults["unhelpful_rate"]!.rating(1.0) == "below worst")
    }

    @Test func theMetricsFileIsPrometheusText() throws {
        let store = try Self.fixtureStore()
        let dir = NSTemporaryDirectory() + "mt-prom-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = MetricsFile.path(stateDir: dir)
        let s = QueueStats.compute(try store.statsRows(), now: Self.t0 + 3 * 86_400)
        let g = try store.queueGauges(now: Self.t0 + 3 * 86_400)
        try MetricsFile.write(MetricsFile.render(s, outbox: try store.outboxCounts(), waiting: g.waiting, overdue: g.overdue), to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("# TYPE mailtriage_automation_ratio gauge"))
        #expect(text.contains("mailtriage_handling{outcome=\"draft_edited\"} 1"))
        #expect(text.contains("mailtriage_sla_first_response{group=\"vip\",result=\"met\"} 2"))
        #expect(text.contains("mailtriage_queue_overdue{group=\"others\"} 1"))
        // Python's Prometheus client parses it: every family with its samples.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
            samples = sum(len(f.samples) for f in fams)
            print(len(fams), samples)
            """, path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(p.terminationStatus == 0)
        let families = text.components(separatedBy: "# TYPE ").count - 1
        let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
        #expect(printed == "\(families) \(samples)", "\(printed)")
    }

    @Test func shadowPrecisionComparesTheRecordedAnswerWithWhatTheAgentDid() throws {
        let store = try SQLiteTicketStore(path: NSTemporaryDirectory() + "mt-shadow-\(UUID().uuidString)/db.sqlite")
        let fetched = (1...4).map { i -> FetchedMessage in
            let raw = Array("Return-Path: <s\(i)@kunde.example>\r\nFrom: s\(i)@kunde.example\r\nTo: support@example.com\r\nSubject: Passwort\r\nMessage-ID: <sh\(i)@x>\r\n\r\nPasswort vergessen\r\n".utf8)
            return FetchedMessage(mailbox: "support", uidValidity: 1, uid: UInt32(i), raw: raw, size: raw.count, preBaseline: false)
        }
        _ = try store.record(fetched, cursor: MailboxCursor(mailbox: "support", uidValidity: 1, lastUID: 4, baselineUID: 0))
        let msgs = try store.claimUnprocessed(limit: 10, worker: "w", lease: 60)
        let answer = "Guten Tag, setzen Sie Ihr Passwort über den Link im Kundenbereich zurück. Der Link ist eine Stunde gültig."
        func mail(_ id: Int64, _ prefix: String, _ text: String, entry: String = "passwort-zuruecksetzen") -> OutgoingAnswer {
            OutgoingAnswer(recipient: "s@kunde.example", envelopeFrom: "", messageID: "\(prefix).\(id)@a.example", knowledgeEntry: entry,
                           raw: Array("Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(text)\r\n".utf8))
        }
        var ds = Fixtures.decisions(msgs)
        for i in 0..<4 {
            ds[i].classification = Classification(language: "de", category: "password", confidence: 0.99, degree: .automatic)
            ds[i].degree = .shadow
            ds[i].shadowReply = mail(msgs[i].id, "auto", answer)
        }
        try store.apply(ds)
        // 1: the agent sends the same answer; 2: something else; 3: the same, but it was an order question; 4: not answered yet.
        try store.reply(ticket: msgs[0].id, agent: "anna", answer: mail(msgs[0].id, "reply", "Hallo! " + answer))
        try store.reply(ticket: msgs[1].id, agent: "anna", answer: mail(msgs[1].id, "reply", "Ihr Konto war gesperrt, wir haben es entsperrt.",
                                                                         entry: OutgoingAnswer.agentEntry))
        try store.recategorize(ticket: msgs[2].id, category: "order_info", actor: "anna")
        try store.reply(ticket: msgs[2].id, agent: "anna", answer: mail(msgs[2].id, "reply", answer))
        let s = QueueStats.compute(try store.statsRows(), now: 0)
        let f = try #require(s.shadowPrecision["password"])
        #expect(f.cases == 3 && f.agreed == 1 && f.precision == 1.0 / 3.0, "\(f)")
        // The entry apart from the wording: 1 and 3 sent the recorded entry, 2 the agent's own words.
        #expect(f.sameEntry == 2 && f.sameEntryRate == 2.0 / 3.0, "\(f)")
        #expect(s.automation.shadow == 4)
    }
}

/// Retraining from what agents and customers did (issue 12).
@Suite struct RetrainTests {
    @Test func feedbackFromTheStore() throws {
        let store = try StatsTests.fixtureStore()
        let kinds = try store.trainingFeedback().map(\.kind)
        // Approved unchanged and rejected drafts, and the automatic answer the customer wrote back about;
        // the edited draft teaches nothing about the entry.
        #expect(kinds == [.approved(entry: "delivery-times"), .rejected(entry: "delivery-times"), .unhelpful(entry: "password-reset")])
        let examples = TrainingFeedback.examples(try store.trainingFeedback())
        #expect(examples.map(\.label) == ["delivery-times", AnswerModel.noEntry, AnswerModel.noEntry])
    }

    /// A configuration with a two-entry knowledge base in a new directory; returns the directory.
    static func setUp() throws -> String {
        let dir = NSTemporaryDirectory() + "mt-retrain-\(UUID().uuidString)"
        let kb = dir + "/kb"
        try FileManager.default.createDirectory(atPath: kb + "/order_info", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: kb + "/password", withIntermediateDirectories: true)
        try entry(kb, "delivery-times", "order_info", ["Wie lange dauert die Lieferung?", "Wann kommt meine Bestellung an?", "Lieferzeit nach Österreich"], "lieferzeit, lieferung")
        try entry(kb, "password-reset", "password", ["Ich habe mein Passwort vergessen", "Passwort zurücksetzen", "Wie bekomme ich ein neues Passwort?"], "passwort, vergessen")
        try """
            state_dir = "\(dir)/state"
            knowledge_base = "\(kb)"
            [[mailbox]]
            name = "support"
            url = "imaps://mail.example.com/INBOX"
            username = "support@example.com"
            password_file = "/dev/null"
            """.write(toFile: dir + "/mailtriage.toml", atomically: true, encoding: .utf8)
        return dir
    }

    static func entry(_ kb: String, _ id: String, _ category: String, _ questions: [String], _ keywords: String) throws {
        try "---\nid: \(id)\ncategory: \(category)\nlanguage: de\ntitle: \(id)\nquestions:\n\(questions.map { "  - \($0)" }.joined(separator: "\n"))\nkeywords: [\(keywords)]\n---\nHallo {{customer_name}}, so geht es.\n"
            .write(toFile: "\(kb)/\(category)/\(id).md", atomically: true, encoding: .utf8)
    }

    /// The daemon saves the model it trained; the next start loads it; a changed knowledge base trains it
    /// again; a model file this build cannot read is replaced, with a warning, instead of stopping the daemon.
    @Test func aModelTrainedAtStartUpIsSavedAndRetrainedWhenTheKnowledgeBaseChanges() throws {
        let dir = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/mailtriage.toml", model = ModelStore.path(stateDir: dir + "/state")
        let first = try SnapshotLoader.load(configPath: config, saveTrained: true)
        #expect(first.classifierSource?.hasPrefix("trained at start-up") == true && FileManager.default.fileExists(atPath: model))
        #expect(try SnapshotLoader.load(configPath: config, saveTrained: true).classifierSource == model)
        // Read-only users of the loader (replay, check-config) train but write nothing.
        try FileManager.default.removeItem(atPath: model)
        _ = try SnapshotLoader.load(configPath: config)
        #expect(!FileManager.default.fileExists(atPath: model))
        _ = try SnapshotLoader.load(configPath: config, saveTrained: true)
        try Self.entry(dir + "/kb", "invoice", "order_info", ["Wo finde ich meine Rechnung?", "Rechnung herunterladen"], "rechnung")
        let changed = try SnapshotLoader.load(configPath: config, saveTrained: true)
        #expect(changed.classifierSource?.hasPrefix("trained at start-up") == true)
        #expect(try ModelStore.load(model)?.answers?.entries.contains { $0.id == "invoice" } == true)
        try Data("MTCM\u{1}\0\0\0".utf8).write(to: URL(fileURLWithPath: model))
        let upgraded = try SnapshotLoader.load(configPath: config, saveTrained: true)
        #expect(upgraded.classifierSource?.hasPrefix("trained at start-up") == true)
        #expect(upgraded.warnings.contains { $0.description.contains("training from the knowledge base instead") })
    }

    /// The daemon classifies with the model as mapped from its file (the trained one after saving it); a file
    /// of the previous format is rewritten in the current one at start-up, and mapped from then on.
    @Test func theModelIsMappedFromItsFileAndThePreviousFormatRewritten() throws {
        let dir = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/mailtriage.toml", model = ModelStore.path(stateDir: dir + "/state")
        let trained = try SnapshotLoader.load(configPath: config, saveTrained: true)
        #expect(trained.classifierSource?.hasPrefix("trained at start-up") == true)
        #expect(trained.snapshot.classifier?.model.weightTable.isMapped == true)
        #expect(trained.snapshot.classifier?.model.answers?.model.weightTable.isMapped == true)
        let current = try #require(try ModelStore.load(model))
        try Data(current.serialized(format: 2)).write(to: URL(fileURLWithPath: model), options: .atomic)  // never into the mapped file
        let decodedBefore = try #require(try ModelStore.load(model))
        #expect(!decodedBefore.weightTable.isMapped)
        let upgraded = try SnapshotLoader.load(configPath: config, saveTrained: true)
        #expect(upgraded.classifierSource == model + " (rewritten in model format \(ClassifierModel.formatVersion))")
        #expect(upgraded.snapshot.classifier?.model.weightTable.isMapped == true)
        #expect(upgraded.snapshot.classifier?.model.weightTable == current.weightTable)
        #expect(try Data(contentsOf: URL(fileURLWithPath: model))[4] == UInt8(ClassifierModel.formatVersion))
        // Read-only users of the loader write nothing: a file of the previous format stays as it is.
        try Data(current.serialized(format: 2)).write(to: URL(fileURLWithPath: model), options: .atomic)  // never into the mapped file
        #expect(try SnapshotLoader.load(configPath: config).classifierSource == model)
        #expect(try Data(contentsOf: URL(fileURLWithPath: model))[4] == 2)
    }

    @Test func retrainsOnNewFeedbackAndKeepsThePreviousModel() throws {
        let dir = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try StatsTests.fixtureStore()
        let r = Retrainer(configPath: dir + "/mailtriage.toml", stateDir: nil, store: store, logger: Logger(label: "test"))
        let model = ModelStore.path(stateDir: dir + "/state")
        guard case .swapped(let n, _, _) = r.retrain() else { Issue.record("not retrained"); return }
        #expect(n == 3)
        #expect(FileManager.default.fileExists(atPath: model))
        let saved = try #require(try ModelStore.load(model))
        #expect(ModelTraining.figure(saved, "feedback") == 3)
        #expect(saved.answers?.entries.map(\.id).sorted() == ["delivery-times", "password-reset"])
        // Nothing new since: nothing to do. Forced: the running model is kept beside the new one.
        #expect(r.retrain() == .noNewFeedback)
        guard case .swapped = r.retrain(force: true) else { Issue.record("not retrained"); return }
        #expect(FileManager.default.fileExists(atPath: model + ".previous"))
    }
}
