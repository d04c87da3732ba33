/// Why a message was decided the way it was. Typed so that tests and tools compare values; rendered to
/// text only at the edges (`description`).
public enum DecisionReason: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Processing failed this many times before: the message goes to a human as it is.
    case processingFailed(attempts: Int)
    /// The message could not be downloaded (the server's error).
    case notDownloaded(String)
    /// Over the size limit: only its header was downloaded.
    case headerOnly(size: Int)
    /// In the folder before mailtriage first polled it (or before a UIDVALIDITY change).
    case importedBeforeFirstPoll
    /// A bounce, auto-reply, list or bulk mail ("delivery_status", "auto_reply", "list", ...).
    case machineMail(String)
    /// The message joined an existing ticket of the same customer.
    case joinedThread(ticket: Int64, via: ThreadLink)
    /// An automatic message (auto-reply, bounce) about one of our tickets, kept there for information.
    case automaticReplyKept(ticket: Int64, via: ThreadLink)
    /// It cites another customer's ticket: it gets a ticket of its own, linked to that one.
    case citesOtherCustomersTicket(ticket: Int64, via: ThreadLink)
    case noClassifier
    case classified(ClassificationReason)
    case loopGuard(LoopRefusal)
    /// The mailbox has no `address`: nothing can be sent from it.
    case mailboxWithoutAddress(String)
    case noKnowledgeBase
    case knowledge(MatchOutcome)
    /// Automatic answers are not configured (no `[smtp]`): the ticket waits for a human.
    case answersNotConfigured
    /// The target group and how it was found.
    case targetGroup(String, GroupMatch)
    /// The service-level policy that applies ("business-critical/*").
    case servicePolicy(String)
    case noServicePolicy
    /// The policy allows less automation than the classifier would.
    case policyLowered(from: AutomationDegree, to: AutomationDegree, policy: String)
    /// When the first answer is due, and why then.
    case due(DueTime)
    /// Shadow mode: this answer would have been sent; it is recorded, not sent.
    case shadowAnswer(String)
    /// The customer is told when to expect an answer.
    case acknowledged
    /// The group's backlog makes the service level's time unrealistic: the acknowledgement names this one.
    case backlogDelays(waiting: Int, answeredLastWeek: Int, promised: DueTime)
    /// Semi-automatic: a draft from this entry waits for an agent's approval.
    case draftPrepared(String)
    case noAcknowledgementTemplate(String)

    public var description: String {
        switch self {
        case .processingFailed(let n): return "processing failed \(n) times; the raw message is stored for a human"
        case .notDownloaded(let e): return "the message could not be downloaded: \(e)"
        case .headerOnly(let size): return "only the header was downloaded: the message is \(size) bytes, over the size limit"
        case .importedBeforeFirstPoll: return "not eligible for automatic handling: imported before the first poll"
        case .machineMail(let k): return "machine-generated or list mail (\(k))"
        case .joinedThread(let t, let via): return "joined ticket #\(t) (\(via.description))"
        case .automaticReplyKept(let t, let via): return "automatic reply kept on ticket #\(t) for information (\(via.description))"
        case .citesOtherCustomersTicket(let t, let via):
            return "cites ticket #\(t) (\(via.description)) of another sender: new ticket, linked"
        case .noClassifier: return "no classifier: no trained model and no knowledge base"
        case .classified(let r): return r.description
        case .loopGuard(let r): return "no automatic answer: \(r.description)"
        case .mailboxWithoutAddress(let m): return "mailbox \(m) has no address configured"
        case .noKnowledgeBase: return "no knowledge base configured"
        case .knowledge(.chosen(let e, let s)): return "answer: \(e) (score \(s))"
        case .knowledge(.predicted(let e, let p)): return "best entry: \(e), \(p)% sure"
        case .knowledge(let o): return "draft: \(o.description)"
        case .answersNotConfigured: return "automatic answers are not configured ([smtp]): waits for a human"
        case .targetGroup(let g, let how): return "target group \(g) (by \(how.rawValue))"
        case .servicePolicy(let p): return "service-level policy \(p)"
        case .noServicePolicy: return "no service-level policy applies"
        case .policyLowered(let from, let to, let p): return "policy \(p) allows \(to.rawValue), not \(from.rawValue)"
        case .due(let d): return d.description
        case .shadowAnswer(let e): return "shadow: would have answered with \(e); recorded, not sent"
        case .acknowledged: return "acknowledgement with the expected answer time"
        case .draftPrepared(let e): return "draft from \(e) waits for an agent's approval"
        case .backlogDelays(let w, let a, let p):
            return "backlog: \(w) tickets waiting, \(a) answered last week: the acknowledgement promises \(p.description)"
        case .noAcknowledgementTemplate(let l): return "no acknowledgement template for \(l) in the knowledge base's _templates/"
        }
    }
}

/// How a message was found to belong to a ticket.
public enum ThreadLink: String, Sendable, Equatable, Codable, CustomStringConvertible {
    /// In-Reply-To/References name one of our answers.
    case ourAnswer = "our_answer"
    /// In-Reply-To/References name a message stored on the ticket.
    case storedMessage = "stored_message"
    /// The subject carries the ticket's tag `[#n]`.
    case subjectTag = "subject_tag"

    public var description: String {
        switch self {
        case .ourAnswer: return "reply to our answer"
        case .storedMessage: return "reply to a message of the ticket"
        case .subjectTag: return "ticket tag in the subject"
        }
    }
}

extension DecisionReason {
    /// True for the reasons that stop an automatic answer the classifier would have allowed.
    public var refusesAnswer: Bool {
        switch self {
        case .loopGuard, .mailboxWithoutAddress, .noKnowledgeBase, .answersNotConfigured, .machineMail, .importedBeforeFirstPoll, .policyLowered:
            return true
        case .knowledge(let o):
            if case .chosen = o { return false }
            return true
        default:
            return false
        }
    }
}
