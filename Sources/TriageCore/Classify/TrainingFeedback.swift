import TriageMIME

/// What agents and customers taught us about a ticket, for retraining.
public enum FeedbackKind: Sendable, Equatable {
    /// An agent moved the ticket to this category.
    case recategorized(String)
    /// An agent approved the draft of this entry unchanged: the entry answers this mail.
    case approved(entry: String)
    /// An agent rejected the draft of this entry.
    case rejected(entry: String)
    /// The customer wrote again within 7 days of an automatic answer with this entry.
    case unhelpful(entry: String)
}

/// One piece of feedback with the raw message it is about.
public struct TrainingFeedback: Sendable {
    public var kind: FeedbackKind
    public var raw: [UInt8]

    public init(kind: FeedbackKind, raw: [UInt8]) {
        self.kind = kind
        self.raw = raw
    }

    /// Training examples from feedback: a new category trains the category model; an approved draft
    /// teaches the answer model that its entry answers such mail; a rejected draft or an answer the
    /// customer wrote back about teaches it that no entry does (precision first).
    public static func examples(_ feedback: [TrainingFeedback]) -> [TrainingExample] {
        feedback.map { f in
            let m = MIMEParser.parse(f.raw)
            let body = RequestText.of(m.newText.isEmpty ? m.text : m.newText)
            switch f.kind {
            case .recategorized(let c):
                return TrainingExample(subject: m.envelope.subject, body: body, label: c, source: "corrections")
            case .approved(let e):
                return TrainingExample(subject: m.envelope.subject, body: body, label: e, source: "approved drafts")
            case .rejected:
                return TrainingExample(subject: m.envelope.subject, body: body, label: AnswerModel.noEntry, source: "rejected drafts")
            case .unhelpful:
                return TrainingExample(subject: m.envelope.subject, body: body, label: AnswerModel.noEntry, source: "unhelpful answers")
            }
        }
    }
}
