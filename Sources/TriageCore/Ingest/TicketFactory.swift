import TriageMIME

/// Turns a stored message into a new ticket. Pure: the message is read leniently and never rejected;
/// anything odd becomes a warning a human will see.
public enum TicketFactory {
    /// After this many attempts the message is not parsed again: something in it made processing
    /// fail (or crash) before, so it goes to a human as it is.
    public static let maxAttempts = 3

    public static func ticket(for message: StoredMessage) -> NewTicket {
        if message.attempts > maxAttempts {
            return NewTicket(
                messageRowID: message.id, mailbox: message.mailbox, receivedAt: message.receivedAt, fromAddress: "",
                fromName: nil, subject: "(message could not be processed)", state: .open, autoEligible: false,
                warnings: ["processing failed \(message.attempts - 1) times; the raw message is stored for a human"])
        }
        var warnings: [String] = []
        if let err = message.fetchError {
            warnings.append("the message could not be downloaded: \(err)")
        }
        if message.truncated {
            warnings.append("only the header was downloaded: the message is \(message.size) bytes, over the size limit")
        }
        let parsed = MIMEParser.parse(message.raw)
        let env = parsed.envelope
        warnings += parsed.warnings
        let subject = env.subject.isEmpty ? (message.fetchError != nil ? "(message not downloaded)" : "(no subject)") : env.subject
        return NewTicket(
            messageRowID: message.id,
            mailbox: message.mailbox,
            receivedAt: message.receivedAt,
            fromAddress: env.from?.address ?? "",
            fromName: env.from?.name,
            subject: subject,
            state: .open,
            autoEligible: !message.preBaseline && !message.truncated && message.fetchError == nil,
            warnings: warnings)
    }
}
