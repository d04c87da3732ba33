public import TriageMIME

/// An agent's reply (or an approved draft) to a ticket's message: threaded, with the ticket tag, from the
/// mailbox's address, and not marked as automatic. Pure: token and date come in.
public enum AgentReply {
    public static func compose(to message: ParsedMessage, ticketID: Int64, from: MailAddress, body: String, entry: String,
                               snapshot: TriageSnapshot, token: String, now: Int64) -> OutgoingAnswer?
    {
        let env = message.envelope
        guard let to = env.replyTo.first ?? env.from else { return nil }
        let mid = ReplyComposer.agentMessageID(ticket: ticketID, token: token, domain: snapshot.messageIDDomain)
        var reply = ReplyComposer.Reply(
            from: from, to: MailAddress(name: to.name, address: to.address), subject: ReplyComposer.subject(original: env.subject, ticket: ticketID),
            messageID: mid, inReplyTo: env.messageID, references: env.references + (env.messageID.map { [$0] } ?? []), date: now, body: body)
        reply.automatic = false
        // A person's reply: bounces go back to the mailbox (not the null sender of automatic answers).
        return OutgoingAnswer(recipient: to.address, envelopeFrom: from.address, messageID: mid, knowledgeEntry: entry,
                              raw: ReplyComposer().render(reply))
    }
}
