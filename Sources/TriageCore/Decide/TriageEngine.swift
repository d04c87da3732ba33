public import TriageMIME
import Foundation

/// The one decision about a message, made the same way by the daemon, `classify`, `eval`, `analyze` and
/// `replay`. Pure: everything it needs comes in as values (the message, the active configuration, what
/// the store knows, the time), and everything it decides goes out as one `TriageDecision`.
///
/// Order: eligibility (download, size, attempts), loop guard, threading, language and category, the
/// knowledge-base match, the degree, and the reply.
public enum TriageEngine {
    /// After this many attempts the message is not parsed again: something in it made processing fail
    /// (or crash) before, so it goes to a human as it is.
    public static let maxAttempts = 3

    public static func decide(_ m: IncomingMessage, snapshot: TriageSnapshot, context: DecisionContext, now: Int64) -> TriageDecision {
        let s = m.stored
        if s.attempts > maxAttempts {
            var d = TriageDecision(messageRowID: s.id, mailbox: s.mailbox, action: .newTicket, ticket: NewTicket(
                messageRowID: s.id, mailbox: s.mailbox, receivedAt: s.receivedAt, fromAddress: "", fromName: nil,
                subject: "(message could not be processed)", state: .open, autoEligible: false,
                warnings: [DecisionReason.processingFailed(attempts: s.attempts - 1).description]))
            d.degree = .manual
            d.reasons = [.processingFailed(attempts: s.attempts - 1)]
            d.service = serviceLevel(d.ticket, classification: nil, snapshot: snapshot, reasons: &d.reasons)?.0
            return d
        }
        var reasons: [DecisionReason] = []
        var warnings: [String] = []
        if let err = s.fetchError {
            reasons.append(.notDownloaded(err))
            warnings.append(DecisionReason.notDownloaded(err).description)
        }
        if s.truncated {
            reasons.append(.headerOnly(size: s.size))
            warnings.append(DecisionReason.headerOnly(size: s.size).description)
        }
        let parsed = m.parsed
        let env = parsed?.envelope
        warnings += parsed?.warnings ?? []
        let rawSubject = env?.subject ?? m.textOnly?.subject ?? ""
        let subject = rawSubject.isEmpty ? (s.fetchError != nil ? "(message not downloaded)" : "(no subject)") : rawSubject
        var ticket = NewTicket(
            messageRowID: s.id, mailbox: s.mailbox, receivedAt: s.receivedAt,
            fromAddress: env?.from?.address ?? m.textOnly?.sender ?? "", fromName: env?.from?.name, subject: subject,
            state: .open, autoEligible: !s.preBaseline && !s.truncated && s.fetchError == nil, warnings: warnings)
        let report = parsed?.report ?? MessageReport()
        if report.kind != .none { ticket.report = report.kind.rawValue } else if report.isList { ticket.report = "list" }
        else if report.isBulk { ticket.report = "bulk" }
        var d = TriageDecision(messageRowID: s.id, mailbox: s.mailbox, action: .newTicket, ticket: ticket)

        // Loop guard: computed for every message with headers, so that every tool shows it.
        let mailbox = snapshot.mailbox(s.mailbox)
        if let parsed {
            d.loopGuard = snapshot.loopGuard.refusals(.init(parsed: parsed, mailboxAddress: mailbox?.address,
                                                            recentAnswersToSender: context.recentAnswersToSender))
        }

        // Threading: a reply joins its ticket only when it comes from that ticket's customer. Automatic
        // mail about our answer (an out-of-office, a bounce) is kept there for information.
        if parsed != nil {
            let senders = m.senders
            for c in context.threadCandidates {
                if !c.customers.isDisjoint(with: senders) {
                    d.action = .joinThread(ticket: c.ticketID, informational: report.isAutomated)
                    // The customer answered while we waited on them: the clock runs again with the time that was left.
                    if !report.isAutomated, let p = c.paused, let cal = snapshot.serviceLevels?.calendars[p.calendar] {
                        let at = Date(timeIntervalSince1970: TimeInterval(s.receivedAt))
                        d.resumedDue = cal.resuming(due: Date(timeIntervalSince1970: TimeInterval(p.due)),
                                                    pausedAt: Date(timeIntervalSince1970: TimeInterval(p.pausedAt)), resumedAt: at)
                            .map { Int64($0.due.timeIntervalSince1970.rounded()) }
                    }
                    d.reasons = reasons + [report.isAutomated ? .automaticReplyKept(ticket: c.ticketID, via: c.link)
                                                              : .joinedThread(ticket: c.ticketID, via: c.link)]
                    return d
                }
                if report.isAutomated && c.link != .subjectTag {
                    d.action = .joinThread(ticket: c.ticketID, informational: true)
                    d.reasons = reasons + [.automaticReplyKept(ticket: c.ticketID, via: c.link)]
                    return d
                }
                if d.linkedTicket == nil && c.link != .subjectTag {
                    d.linkedTicket = c.ticketID
                    reasons.append(.citesOtherCustomersTicket(ticket: c.ticketID, via: c.link))
                }
            }
        }

        // Language and category.
        guard s.fetchError == nil, let input = m.classifierInput, let classifier = snapshot.classifier else {
            if s.fetchError == nil && m.classifierInput != nil { reasons.append(.noClassifier) }
            d.degree = .manual
            d.service = serviceLevel(d.ticket, classification: nil, snapshot: snapshot, reasons: &reasons)?.0
            d.reasons = reasons
            return d
        }
        let c = classifier.classify(input, explain: context.explain)
        d.classification = c
        reasons += c.reasons.map { .classified($0) }
        var degree = c.degree
        if degree != .manual && report.isAutomated {
            degree = .manual
            reasons.append(.machineMail(ticket.report ?? "automated"))
        }
        if degree != .manual && s.preBaseline {
            degree = .manual
            reasons.append(.importedBeforeFirstPoll)
        }
        if degree != .manual && !ticket.autoEligible { degree = .manual }
        // What the classifier alone would send; shadow mode records exactly that.
        let wouldSend = degree == .automatic

        // Service level: group, policy and due times; a policy only ever lowers the degree. Machine mail
        // (bounces, auto-replies, lists) is kept for a person to look at, but nobody is late for it.
        let level = report.isAutomated ? nil : serviceLevel(d.ticket, classification: c, snapshot: snapshot, reasons: &reasons)
        d.service = level?.0
        if let policy = level?.1, let cap = policy.degree, cap.rank < degree.rank {
            reasons.append(.policyLowered(from: degree, to: cap, policy: policy.key))
            degree = cap
        }
        if degree == .shadow && !wouldSend { degree = .manual }

        // The answer: loop guard, then a clear knowledge-base entry, then the reply.
        if degree == .automatic || degree == .shadow {
            if let mailbox, mailbox.address == nil {
                degree = .manual
                reasons.append(.mailboxWithoutAddress(mailbox.name))
            } else if mailbox == nil && context.renderReply {
                degree = .manual
                reasons.append(.mailboxWithoutAddress(s.mailbox))
            } else if m.textOnly == nil && !d.loopGuard.isEmpty {
                degree = .manual
                reasons += d.loopGuard.map { .loopGuard($0) }
            }
        }
        if degree != .manual, let matcher = snapshot.matcher {
            var match: KnowledgeMatcher.Result
            if let a = c.answer, a.category == c.category, matcher.entry(a.entry) != nil {
                // The answer model decided: its entry (and its runner-up) are the candidates, and its entry is
                // the answer when it is sure. (BM25 is for a classifier without an answer model.)
                func rounded(_ p: Double) -> Double { (p * 1000).rounded() / 1000 }
                var candidates = [KnowledgeMatcher.Candidate(id: a.entry, score: rounded(a.probability))]
                if let r = a.runnerUp, matcher.entry(r) != nil { candidates.append(KnowledgeMatcher.Candidate(id: r, score: rounded(a.runnerUpProbability))) }
                match = KnowledgeMatcher.Result(chosen: nil, candidates: candidates, outcome: .noEntry(category: c.category, language: c.language))
                match.chosen = c.degree == .automatic ? a.entry : nil
                match.outcome = c.degree == .automatic ? .chosen(entry: a.entry, score: (a.probability * 100).rounded() / 100)
                    : .predicted(entry: a.entry, percent: Int((a.probability * 100).rounded(.down)))
            } else {
                match = matcher.match(subject: input.subject, body: input.body, category: c.category, language: c.language)
            }
            d.candidates = match.candidates
            d.knowledgeEntry = match.chosen
            // (The answer model's unsure pick is already among the classification's reasons.)
            let predicted: Bool = { if case .predicted = match.outcome { return true } else { return false } }()
            if (degree == .automatic || degree == .shadow || match.chosen == nil) && !predicted { reasons.append(.knowledge(match.outcome)) }
            if degree == .automatic, match.chosen == nil { degree = .semiAutomatic }
            if degree == .shadow, match.chosen == nil { degree = .manual }
        } else if degree == .automatic {
            degree = .semiAutomatic
            reasons.append(.noKnowledgeBase)
        }
        let from = mailbox.flatMap { mb in mb.address.map { MailAddress(name: mb.displayName, address: $0) } }
        if degree == .automatic || degree == .shadow, let id = d.knowledgeEntry, let entry = snapshot.matcher?.entry(id) {
            if !snapshot.answersEnabled {
                reasons.append(.answersNotConfigured)
            } else if degree == .shadow {
                reasons.append(.shadowAnswer(id))
                if context.renderReply, let from, let parsed {
                    d.shadowReply = reply(entry: entry, to: parsed, ticketID: s.id, from: from, snapshot: snapshot, token: context.token, now: now)
                }
            } else {
                d.ticket.state = .answered
                if context.renderReply, let from, let parsed {
                    d.reply = reply(entry: entry, to: parsed, ticketID: s.id, from: from, snapshot: snapshot, token: context.token, now: now)
                }
            }
        }

        // Semi-automatic: a draft for an agent, from the clear entry or the best candidate. Shadow: the answer
        // that would have gone out is the agent's draft, so that approving it unchanged, editing or rejecting it
        // is the team's own judgement of it (the shadow figures in `stats`).
        if degree == .shadow, snapshot.answersEnabled, let id = d.knowledgeEntry, let entry = snapshot.matcher?.entry(id) {
            d.draft = Draft(entry: id, body: draftText(entry, to: parsed, fallbackName: ticket.fromAddress, ticketID: s.id, snapshot: snapshot))
            d.ticket.state = .awaitingApproval
        }
        if degree == .semiAutomatic, snapshot.answersEnabled, m.textOnly != nil || (d.loopGuard.isEmpty && from != nil),
           let id = d.knowledgeEntry ?? d.candidates.first?.id, let entry = snapshot.matcher?.entry(id)
        {
            d.draft = Draft(entry: id, body: draftText(entry, to: parsed, fallbackName: ticket.fromAddress, ticketID: s.id, snapshot: snapshot))
            d.ticket.state = .awaitingApproval
            reasons.append(.draftPrepared(id))
        }

        // The acknowledgement: a queued ticket learns when to expect an answer (loop guard and limits apply).
        if d.ticket.state != .answered, let service = d.service, service.acknowledge, let due = service.firstResponse, snapshot.answersEnabled,
           ticket.autoEligible, m.textOnly == nil, d.loopGuard.isEmpty, from != nil || !context.renderReply
        {
            let language = ["de", "en"].contains(c.language) ? c.language : "en"
            if let template = snapshot.templates["acknowledgement-\(language)"] ?? snapshot.templates["acknowledgement-en"] {
                reasons.append(.acknowledged)
                // Promise only what can be kept: with the group's backlog at its recent pace, when is it our turn?
                var promise = due
                if let group = service.group, let b = context.backlog[group], let name = service.calendar,
                   let later = realisticDue(b, calendar: snapshot.serviceLevels?.calendars[name], received: ticket.receivedAt, now: now), later.due > due.due
                {
                    promise = later
                    d.promisedLater = later
                    reasons.append(.backlogDelays(waiting: b.waiting, answeredLastWeek: b.answeredLastWeek, promised: later))
                }
                if context.renderReply, let from, let parsed {
                    d.acknowledgement = acknowledgement(template, to: parsed, ticketID: s.id, from: from, due: promise, language: language,
                                                        snapshot: snapshot, token: context.token, now: now)
                }
            } else {
                reasons.append(.noAcknowledgementTemplate(language))
            }
        }
        d.degree = degree
        d.reasons = reasons
        return d
    }

    /// The target group, the policy and the due times of a new ticket, with their reasons.
    static func serviceLevel(_ ticket: NewTicket, classification c: Classification?, snapshot: TriageSnapshot,
                             reasons: inout [DecisionReason]) -> (ServiceDecision, ServicePolicy?)?
    {
        guard let levels = snapshot.serviceLevels else { return nil }
        let r = levels.decide(sender: ticket.fromAddress, mailbox: ticket.mailbox, category: c?.category, ruleGroup: c?.targetGroup,
                              rulePriority: c?.priority, receivedAt: ticket.receivedAt)
        reasons += r.reasons
        return (r.service, r.policy)
    }

    /// When the group can answer at the pace of the last seven days with `backlog.waiting` tickets ahead; nil
    /// without a pace to go by (nothing answered by people last week) or without a calendar.
    public static func realisticDue(_ backlog: GroupBacklog, calendar: BusinessCalendar?, received: Int64, now: Int64) -> DueTime? {
        guard let calendar, backlog.waiting > 0, backlog.answeredLastWeek > 0 else { return nil }
        let end = Date(timeIntervalSince1970: TimeInterval(max(now, received)))
        let week = calendar.workingTime(from: end.addingTimeInterval(-7 * 86_400), to: end)
        guard week > 0 else { return nil }
        let wait = Int64((Double(backlog.waiting) * Double(week) / Double(backlog.answeredLastWeek)).rounded(.up))
        return calendar.adding(wait, to: end)
    }

    /// The acknowledgement to `message`: its ticket number and when to expect an answer, in its language.
    public static func acknowledgement(_ template: String, to message: ParsedMessage, ticketID: Int64, from: MailAddress, due: DueTime,
                                       language: String, snapshot: TriageSnapshot, token: String, now: Int64) -> OutgoingAnswer?
    {
        automaticReply(template, to: message, ticketID: ticketID, from: from,
                       extra: ["due": DueText.format(due.due, timeZone: due.timeZone, language: language)],
                       entry: OutgoingAnswer.acknowledgementEntry, snapshot: snapshot, token: token, now: now)
    }

    /// An entry's answer with the placeholders filled for this customer: the text of a draft.
    public static func draftText(_ entry: KnowledgeEntry, to message: ParsedMessage?, fallbackName: String, ticketID: Int64,
                                 snapshot: TriageSnapshot) -> String
    {
        let env = message?.envelope
        let to = env.flatMap { $0.replyTo.first ?? $0.from }
        var values = snapshot.config.answers.placeholders
        values["customer_name"] = (to?.name ?? "").isEmpty ? (to?.address ?? fallbackName) : to!.name!
        values["ticket_id"] = "#\(ticketID)"
        values["subject"] = env?.subject ?? ""
        return AnswerTemplate.render(entry.body, values: values).text
    }

    /// The automatic answer with `entry` to `message`, as the bytes to send. Pure: token and date come in.
    public static func reply(entry: KnowledgeEntry, to message: ParsedMessage, ticketID: Int64, from: MailAddress,
                             snapshot: TriageSnapshot, token: String, now: Int64) -> OutgoingAnswer?
    {
        automaticReply(entry.body, to: message, ticketID: ticketID, from: from, extra: [:], entry: entry.id, snapshot: snapshot, token: token,
                       now: now)
    }

    /// A template filled for the customer and composed as our automatic reply: threaded, tagged, marked automatic.
    static func automaticReply(_ template: String, to message: ParsedMessage, ticketID: Int64, from: MailAddress, extra: [String: String],
                               entry: String, snapshot: TriageSnapshot, token: String, now: Int64) -> OutgoingAnswer?
    {
        let env = message.envelope
        guard let to = env.replyTo.first ?? env.from else { return nil }
        var values = snapshot.config.answers.placeholders.merging(extra) { $1 }
        values["customer_name"] = (to.name ?? "").isEmpty ? to.address : to.name!
        values["ticket_id"] = "#\(ticketID)"
        values["subject"] = env.subject
        let text = AnswerTemplate.render(template, values: values).text
        let mid = ReplyComposer.messageID(ticket: ticketID, token: token, domain: snapshot.messageIDDomain)
        let raw = ReplyComposer().render(.init(
            from: from, to: MailAddress(name: to.name, address: to.address),
            subject: ReplyComposer.subject(original: env.subject, ticket: ticketID), messageID: mid,
            inReplyTo: env.messageID, references: env.references + (env.messageID.map { [$0] } ?? []), date: now, body: text))
        return OutgoingAnswer(recipient: to.address, envelopeFrom: snapshot.config.smtp?.envelopeSender ?? "", messageID: mid,
                              knowledgeEntry: entry, raw: raw)
    }

    /// The `[#123]` tag of a subject, if any (the last one).
    public static func ticketTag(_ subject: String) -> Int64? {
        let u = Array(subject.utf8)
        var i = u.count - 2
        while i >= 0 {
            if u[i] == UInt8(ascii: "["), u[i + 1] == UInt8(ascii: "#") {
                var j = i + 2
                var n: Int64 = 0
                while j < u.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(u[j]), n < Int64.max / 10 - 10 {
                    n = n * 10 + Int64(u[j] - UInt8(ascii: "0"))
                    j += 1
                }
                return j > i + 2 && j < u.count && u[j] == UInt8(ascii: "]") ? n : nil
            }
            i -= 1
        }
        return nil
    }
}
