import TriageMIME

/// Turns a stored message into a new ticket. Pure: the message is read leniently and never rejected;
/// anything odd becomes a warning a human will see.
public enum TicketFactory {
    /// After this many attempts the message is not parsed again: something in it made processing
    /// fail (or crash) before, so it goes to a human as it is.
    public static let maxAttempts = 3

    public static func ticket(for message: StoredMessage) -> NewTicket {
        ticket(for: message, classify: nil)
    }

    /// `classify` receives the parsed message and returns the classifier's verdict (nil: no classifier).
    public static func ticket(for message: StoredMessage, classify: ((ClassifierInput) -> Classification)?) -> NewTicket {
        ticket(for: message, parsed: nil, classify: classify)
    }

    /// As above, reusing a parse the caller already made.
    public static func ticket(for message: StoredMessage, parsed given: ParsedMessage?,
                              classify: ((ClassifierInput) -> Classification)?) -> NewTicket
    {
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
        let parsed = given ?? MIMEParser.parse(message.raw)
        let env = parsed.envelope
        warnings += parsed.warnings
        let subject = env.subject.isEmpty ? (message.fetchError != nil ? "(message not downloaded)" : "(no subject)") : env.subject
        var t = NewTicket(
            messageRowID: message.id,
            mailbox: message.mailbox,
            receivedAt: message.receivedAt,
            fromAddress: env.from?.address ?? "",
            fromName: env.from?.name,
            subject: subject,
            state: .open,
            autoEligible: !message.preBaseline && !message.truncated && message.fetchError == nil,
            warnings: warnings)
        let r = parsed.report
        if r.kind != .none { t.report = r.kind.rawValue } else if r.isList { t.report = "list" } else if r.isBulk { t.report = "bulk" }
        if let classify, message.fetchError == nil {
            var c = classify(ClassifierInput(subject: env.subject, body: parsed.newText.isEmpty ? parsed.text : parsed.newText,
                                             sender: env.from?.address ?? "", mailbox: message.mailbox))
            // Nothing automatic for machines, lists, or mail that was here before mailtriage or cut short.
            if c.degree != .manual && (r.isAutomated || !t.autoEligible) {
                c.degree = .manual
                c.reasons.append(r.isAutomated ? "machine-generated or list mail (\(t.report ?? "automated"))"
                                               : "not eligible for automatic handling (imported before the first poll, or incomplete)")
            }
            t.classification = c
        }
        return t
    }
}
