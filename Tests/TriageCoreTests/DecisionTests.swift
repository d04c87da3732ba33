import Foundation
import Testing
import TriageMIME
import TriageTesting
@testable import TriageCore

/// `TriageEngine.decide` on fixture tables: every assertion is on typed values, not on English text.
@Suite struct EngineTests {
    static let passwordBody = "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?"

    static func mail(from: String = "kunde@example.org", to: String = "support@example.com", subject: String = "Passwort vergessen",
                     body: String = passwordBody, headers: String = "", messageID: String = "m1@example.org") -> [UInt8]
    {
        Array(("Return-Path: <\(from)>\r\nFrom: Kunde <\(from)>\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: <\(messageID)>\r\n"
            + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\(headers)Content-Type: text/plain; charset=utf-8\r\n\r\n\(body)\r\n").utf8)
    }

    static func stored(_ raw: [UInt8], mailbox: String = "support", id: Int64 = 7, pre: Bool = false, truncated: Bool = false,
                       attempts: Int = 1, error: String? = nil) -> IncomingMessage
    {
        IncomingMessage(stored: StoredMessage(id: id, mailbox: mailbox, raw: raw, size: raw.count, truncated: truncated, fetchError: error,
                                              preBaseline: pre, attempts: attempts, receivedAt: 1_795_341_600))
    }

    static let snapshot: TriageSnapshot = {
        var settings = ClassifierSettings()
        settings.categories = Toy.categories
        settings.defaultThresholds = Thresholds(auto: 0.5, draft: 0.3)
        settings.minimumCoverage = 0
        var config = Fixtures.config(mailboxes: [("support", "support@example.com"), ("sales", "sales@example.com"), ("bare", nil)])
        config.classifier.settings = settings
        let classifier = SharedClassifier(Classifier(model: Toy.model(), settings: settings), source: "toy")
        return try! TriageSnapshot(config: config, classifier: classifier, knowledgeBase: try! KnowledgeMatcherTests.entries())
    }()

    static func decide(_ m: IncomingMessage, _ context: DecisionContext = DecisionContext(renderReply: true, token: "tok"),
                       snapshot: TriageSnapshot = snapshot) -> TriageDecision
    {
        TriageEngine.decide(m, snapshot: snapshot, context: context, now: 1_795_341_700)
    }

    @Test func aClearQuestionIsAnsweredFromItsOwnMailbox() throws {
        let d = Self.decide(Self.stored(Self.mail(to: "sales@example.com"), mailbox: "sales"))
        #expect(d.action == .newTicket && d.degree == .automatic && d.ticket.state == .answered)
        #expect(d.loopGuard.isEmpty)
        #expect(d.knowledgeEntry == "passwort-zuruecksetzen")
        #expect(d.reasons.contains { if case .knowledge(.chosen(entry: "passwort-zuruecksetzen", _)) = $0 { true } else { false } })
        let reply = try #require(d.reply)
        let parsed = MIMEParser.parse(reply.raw)
        #expect(parsed.envelope.from?.address == "sales@example.com")
        #expect(reply.recipient == "kunde@example.org" && reply.messageID == "auto.7.tok@answers.example.com")
        #expect(parsed.envelope.inReplyTo == ["m1@example.org"] && parsed.envelope.subject == "Re: Passwort vergessen [#7]")
        // Pure: the same inputs give the same bytes.
        #expect(Self.decide(Self.stored(Self.mail(to: "sales@example.com"), mailbox: "sales")).reply == reply)
    }

    @Test func theSameMailInAnotherMailboxIsDecidedWithThatMailboxsSettings() {
        let d = Self.decide(Self.stored(Self.mail(to: "sales@example.com"), mailbox: "support"))
        #expect(d.loopGuard == [.notAddressedTo("support@example.com")])
        #expect(d.degree == .manual && d.reply == nil && d.ticket.state == .open)
        #expect(d.reasons.contains(.loopGuard(.notAddressedTo("support@example.com"))))
    }

    @Test func aMailboxWithoutAddressSendsNothing() {
        let d = Self.decide(Self.stored(Self.mail(to: "support@example.com"), mailbox: "bare"))
        #expect(d.degree == .manual && d.reply == nil)
        #expect(d.reasons.contains(.mailboxWithoutAddress("bare")))
    }

    @Test func withoutSMTPTheAnswerIsNotSent() throws {
        let s = try TriageSnapshot(config: Fixtures.config(smtp: false), classifier: Self.snapshot.classifier,
                                   knowledgeBase: try KnowledgeMatcherTests.entries())
        let d = Self.decide(Self.stored(Self.mail()), snapshot: s)
        #expect(d.degree == .automatic && d.reply == nil && d.ticket.state == .open)
        #expect(d.reasons.contains(.answersNotConfigured))
    }

    @Test func loopSignalsStopTheAnswer() {
        let auto = Self.decide(Self.stored(Self.mail(headers: "Auto-Submitted: auto-generated\r\n")))
        #expect(auto.degree == .manual && auto.reply == nil && auto.loopGuard.contains(.autoSubmitted("auto-generated")))
        let null = Array(String(decoding: Self.mail(), as: UTF8.self).replacingOccurrences(of: "Return-Path: <kunde@example.org>", with: "Return-Path: <>").utf8)
        let d = Self.decide(Self.stored(null))
        #expect(d.degree == .manual && d.reply == nil)
        #expect(d.reasons.contains(.loopGuard(.nullReturnPath)))
        let many = Self.decide(Self.stored(Self.mail()), DecisionContext(recentAnswersToSender: 3, renderReply: true))
        #expect(many.degree == .manual && many.reasons.contains(.loopGuard(.rateLimit(answers: 3, hours: 24))))
    }

    @Test func aReplyFromTheTicketsCustomerJoinsIt() {
        let c = ThreadCandidate(ticketID: 3, link: .ourAnswer, customers: ["Kunde@Example.org"])
        let d = Self.decide(Self.stored(Self.mail(subject: "Re: Passwort vergessen [#3]")), DecisionContext(threadCandidates: [c]))
        #expect(d.action == .joinThread(ticket: 3, informational: false))
        #expect(d.reasons == [.joinedThread(ticket: 3, via: .ourAnswer)])
    }

    @Test func aStrangerCitingAnotherCustomersTicketGetsANewLinkedTicket() {
        let c = ThreadCandidate(ticketID: 3, link: .ourAnswer, customers: ["anna@example.org"])
        let tag = ThreadCandidate(ticketID: 3, link: .subjectTag, customers: ["anna@example.org"])
        let d = Self.decide(Self.stored(Self.mail(from: "mallory@evil.example")), DecisionContext(threadCandidates: [c, tag]))
        #expect(d.action == .newTicket && d.linkedTicket == 3)
        #expect(d.reasons.first == .citesOtherCustomersTicket(ticket: 3, via: .ourAnswer))
        // The subject tag alone links nothing: anyone can type "[#3]".
        let tagOnly = Self.decide(Self.stored(Self.mail(from: "mallory@evil.example")), DecisionContext(threadCandidates: [tag]))
        #expect(tagOnly.action == .newTicket && tagOnly.linkedTicket == nil)
    }

    @Test func anAutoReplyToOurAnswerIsKeptForInformation() {
        let c = ThreadCandidate(ticketID: 3, link: .ourAnswer, customers: ["anna@example.org"])
        let ooo = Self.mail(from: "anna.assistant@example.org", subject: "Abwesenheitsnotiz", body: "Ich bin nicht im Büro.",
                            headers: "Auto-Submitted: auto-replied\r\n")
        let d = Self.decide(Self.stored(ooo), DecisionContext(threadCandidates: [c]))
        #expect(d.action == .joinThread(ticket: 3, informational: true))
        #expect(d.reasons == [.automaticReplyKept(ticket: 3, via: .ourAnswer)])
    }

    @Test func eligibilityComesFirst() {
        let pre = Self.decide(Self.stored(Self.mail(), pre: true))
        #expect(pre.degree == .manual && pre.reasons.contains(.importedBeforeFirstPoll) && !pre.ticket.autoEligible)
        let cut = Self.decide(Self.stored(Self.mail(), truncated: true))
        #expect(cut.degree == .manual && cut.reasons.first == .headerOnly(size: Self.mail().count))
        let gone = Self.decide(Self.stored([], error: "NO broken"))
        #expect(gone.degree == .manual && gone.ticket.subject == "(message not downloaded)" && gone.reasons == [.notDownloaded("NO broken")])
        let poison = Self.decide(Self.stored(Self.mail(), attempts: 4))
        #expect(poison.ticket.subject == "(message could not be processed)" && poison.reasons == [.processingFailed(attempts: 3)])
        #expect(poison.classification == nil && !poison.ticket.autoEligible)
    }

    @Test func machineMailIsNeverAnswered() {
        let d = Self.decide(Self.stored(Self.mail(headers: "List-Id: <news.example.org>\r\n")))
        #expect(d.degree == .manual && d.ticket.report == "list")
        #expect(d.reasons.contains(.machineMail("list")))
    }

    @Test(arguments: [("Re: Passwort [#42]", Int64(42)), ("AW: [#7] und [#42]", 42), ("Order #42", nil), ("[#] x", nil), ("[#12a]", nil),
                      ("[#99999999999999999999999]", nil)])
    func ticketTags(subject: String, tag: Int64?) {
        #expect(TriageEngine.ticketTag(subject) == tag)
    }

    @Test func typedReasonsRoundTripThroughJSON() throws {
        let d = Self.decide(Self.stored(Self.mail(to: "sales@example.com"), mailbox: "support"))
        let back = try JSONDecoder().decode(DecisionRecord.self, from: JSONEncoder().encode(d.record))
        #expect(back == d.record)
    }

    @Test func ticketTransitions() {
        #expect(TicketState.answered.applying(.customerReplied) == .open)
        #expect(TicketState.resolved.applying(.customerReplied) == .open)
        #expect(TicketState.open.applying(.customerReplied) == .open)
        #expect(TicketState.answered.applying(.answerRefused) == .open)
        #expect(OutboxState.pending.applying(.accepted) == .sent)
        #expect(OutboxState.pending.applying(.transientFailure(retryAt: 5)) == .pending)
        #expect(OutboxState.pending.applying(.permanentFailure) == .failed)
        #expect(OutboxState.sent.applying(.permanentFailure) == .sent)
    }
}

@Suite struct AgentTransitionTests {
    static let table: [(TicketState, AgentAction, TicketState?)] = [
        (.open, .claim, .claimed), (.awaitingApproval, .claim, .awaitingApproval), (.resolved, .claim, nil), (.claimed, .claim, .claimed),
        (.claimed, .unclaim, .open), (.open, .reply, .answered), (.claimed, .reply, .answered), (.waiting, .reply, .answered), (.resolved, .reply, nil),
        (.awaitingApproval, .approve, .answered), (.answered, .approve, nil), (.open, .approve, nil),
        (.awaitingApproval, .reject, .open), (.open, .reject, nil),
        (.claimed, .wait, .waiting), (.answered, .wait, .waiting), (.resolved, .wait, nil), (.waiting, .wait, nil),
        (.answered, .resolve, .resolved), (.open, .resolve, .resolved), (.resolved, .resolve, nil),
        (.resolved, .reopen, .open), (.waiting, .reopen, .open), (.open, .reopen, nil),
        (.resolved, .note, .resolved), (.open, .reassign, .open),
    ]

    @Test(arguments: AgentTransitionTests.table.indices)
    func agentActions(_ i: Int) {
        let (from, action, to) = Self.table[i]
        #expect(from.after(action) == to, "\(from) \(action)")
    }

    @Test func theCustomerWritingResumesTheClock() {
        #expect(TicketState.waiting.applying(.customerReplied) == .open)
        #expect(TicketState.claimed.applying(.customerReplied) == .claimed)
    }
}

@Suite struct ResumeTests {
    @Test func aCustomersReplyToAWaitingTicketResumesItsDueTime() throws {
        var snapshotConfig = Fixtures.config()
        snapshotConfig.mailboxes[0].address = "support@example.com"
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let office = BusinessCalendar(name: "office", timeZone: berlin,
                                      week: Dictionary(uniqueKeysWithValues: (2...6).map { ($0, [TimeWindow("08:00-17:00")!]) }))
        let snapshot = try TriageSnapshot(config: snapshotConfig, classifier: nil, knowledgeBase: nil,
                                          serviceLevels: ServiceLevels(calendars: ["office": office]))
        func at(_ s: String) -> Int64 {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = berlin
            f.dateFormat = "yyyy-MM-dd HH:mm"
            return Int64(f.date(from: s)!.timeIntervalSince1970)
        }
        // Due Monday 17:00, waiting since Monday 12:00 (five working hours left); the customer writes Tuesday 10:00.
        let paused = PausedClock(pausedAt: at("2026-12-07 12:00"), due: at("2026-12-07 17:00"), calendar: "office")
        let raw = EngineTests.mail(subject: "Re: Frage [#3]", body: "Hier die Angaben, die Sie wollten.")
        let m = IncomingMessage(stored: StoredMessage(id: 9, mailbox: "support", raw: raw, size: raw.count, truncated: false, fetchError: nil,
                                                      preBaseline: false, attempts: 1, receivedAt: at("2026-12-08 10:00")))
        let c = ThreadCandidate(ticketID: 3, link: .ourAnswer, customers: ["kunde@example.org"], paused: paused)
        let d = TriageEngine.decide(m, snapshot: snapshot, context: DecisionContext(threadCandidates: [c]), now: 0)
        #expect(d.action == .joinThread(ticket: 3, informational: false))
        #expect(d.resumedDue == at("2026-12-08 15:00"))
    }
}
