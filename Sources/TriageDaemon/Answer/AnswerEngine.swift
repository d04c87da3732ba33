import Foundation
import TriageCore
import TriageMIME

/// Decides, for a new ticket the classifier marked automatic, whether and with which knowledge-base
/// entry it is answered: loop guard first (with the store's rate-limit counts), then the entry match,
/// then the composed reply. Everything that stops an answer is kept as a reason on the ticket.
public struct AnswerEngine: Sendable {
    public let loopGuard: LoopGuard
    public let matcher: KnowledgeMatcher
    public let answers: AnswersConfig
    public let envelopeSender: String
    public let messageIDDomain: String

    public init(config: TriageConfig, entries: [KnowledgeEntry]) throws {
        answers = config.answers
        envelopeSender = config.smtp?.envelopeSender ?? ""
        let firstDomain = config.mailboxes.compactMap(\.address).first.flatMap { $0.split(separator: "@").last.map(String.init) }
        messageIDDomain = config.answers.messageIDDomain ?? firstDomain ?? "mailtriage.invalid"
        var s = LoopGuard.Settings()
        s.ownAddresses = Set(config.mailboxes.compactMap(\.address))
        if !envelopeSender.isEmpty { s.ownAddresses.insert(envelopeSender.lowercased()) }
        s.ownMessageIDDomain = messageIDDomain
        if let r = config.answers.roleSenderPattern { s.roleSenderPattern = r }
        s.maxAnswersPerSender = config.answers.maxPerSender
        s.window = config.answers.window.components.seconds
        loopGuard = try LoopGuard(settings: s)
        matcher = KnowledgeMatcher(entries: entries)
    }

    /// The `[#123]` tag of a subject, if any.
    public static func ticketTag(_ subject: String) -> Int64? {
        guard let open = subject.range(of: "[#", options: .backwards) else { return nil }
        let digits = subject[open.upperBound...].prefix { $0.isNumber }
        guard !digits.isEmpty, subject[open.upperBound...].dropFirst(digits.count).first == "]" else { return nil }
        return Int64(digits)
    }

    /// Fills `ticket.answer` (and sets it `answered`) or records why not.
    public func decide(_ ticket: inout NewTicket, parsed: ParsedMessage, mailbox: MailboxConfig, recentAnswers: Int, now: Int64) {
        guard var c = ticket.classification, c.degree == .automatic else { return }
        guard let own = mailbox.address else {
            ticket.answerRefusals = ["mailbox \(mailbox.name) has no address configured"]
            return
        }
        let facts = LoopGuard.Facts(parsed: parsed, mailboxAddress: own, recentAnswersToSender: recentAnswers)
        let refusals = loopGuard.refusals(facts)
        if !refusals.isEmpty {
            ticket.answerRefusals = refusals
            c.degree = .manual
            c.reasons += refusals.map { "no automatic answer: \($0)" }
            ticket.classification = c
            return
        }
        let env = parsed.envelope
        let body = parsed.newText.isEmpty ? parsed.text : parsed.newText
        let match = matcher.match(subject: env.subject, body: body, category: c.category, language: c.language)
        guard let id = match.chosen, let entry = matcher.entry(id) else {
            ticket.answerRefusals = ["no clear knowledge-base answer: \(match.reason)"]
            c.degree = .semiAutomatic
            c.reasons.append("draft: \(match.reason); candidates \(match.candidates.map(\.id).joined(separator: ", "))")
            ticket.classification = c
            return
        }
        let to = env.replyTo.first ?? env.from!
        let from = MailAddress(name: mailbox.displayName, address: own)
        let values = answers.placeholders
        let originalID = env.messageID
        let references = env.references + (originalID.map { [$0] } ?? [])
        let subject = env.subject
        let domain = messageIDDomain
        let envelope = envelopeSender
        let customerName = to.name ?? ""
        ticket.state = .answered
        c.reasons.append("answered with \(entry.id) (\(match.reason))")
        ticket.classification = c
        ticket.answer = PendingAnswer(knowledgeEntry: entry.id) { ticketID in
            var v = values
            v["customer_name"] = customerName.isEmpty ? to.address : customerName
            v["ticket_id"] = "#\(ticketID)"
            v["subject"] = subject
            let text = AnswerTemplate.render(entry.body, values: v).text
            let token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let mid = ReplyComposer.messageID(ticket: ticketID, token: token, domain: domain)
            let raw = ReplyComposer().render(.init(
                from: from, to: MailAddress(name: to.name, address: to.address),
                subject: ReplyComposer.subject(original: subject, ticket: ticketID), messageID: mid,
                inReplyTo: originalID, references: references, date: now, body: text))
            return OutgoingAnswer(recipient: to.address, envelopeFrom: envelope, messageID: mid, knowledgeEntry: entry.id, raw: raw)
        }
    }
}
