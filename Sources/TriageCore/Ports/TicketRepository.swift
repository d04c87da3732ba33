/// How far a mailbox has been imported: everything up to `lastUID` under `uidValidity` is in the store.
public struct MailboxCursor: Sendable, Equatable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var lastUID: UInt32
    /// Messages with a UID up to this one were in the folder before mailtriage first saw it (or before
    /// a UIDVALIDITY change): they become tickets but are never answered automatically.
    public var baselineUID: UInt32

    public init(mailbox: String, uidValidity: UInt32, lastUID: UInt32, baselineUID: UInt32) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.lastUID = lastUID
        self.baselineUID = baselineUID
    }
}

/// One message as fetched from a mailbox, ready to be recorded.
public struct FetchedMessage: Sendable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var uid: UInt32
    /// The raw bytes: the whole message, or only its header when it was over the size limit.
    public var raw: [UInt8]
    /// The size the server reported for the whole message.
    public var size: Int
    public var truncated: Bool
    /// Set when the message could not be fetched at all after repeated tries; `raw` is then empty.
    public var fetchError: String?
    public var preBaseline: Bool
    /// Arrival at the server (INTERNALDATE), seconds since 1970, if known.
    public var internalDate: Int64?
    public var dedupeKey: String

    public init(mailbox: String, uidValidity: UInt32, uid: UInt32, raw: [UInt8], size: Int, truncated: Bool = false,
                fetchError: String? = nil, preBaseline: Bool, internalDate: Int64? = nil)
    {
        self.internalDate = internalDate
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
        self.raw = raw
        self.size = size
        self.truncated = truncated
        self.fetchError = fetchError
        self.preBaseline = preBaseline
        self.dedupeKey = fetchError == nil ? DedupeKey.compute(raw) : "unfetchable:\(mailbox):\(uidValidity):\(uid)"
    }
}

/// What recording one fetched message did.
public enum RecordOutcome: Sendable, Equatable {
    /// A new message row (id) was stored.
    case stored(messageID: Int64)
    /// The same message was already stored (same Message-ID and body): no new ticket.
    case duplicate(of: Int64)
    /// This (mailbox, UIDVALIDITY, UID) was already recorded: nothing was written.
    case alreadyRecorded
}

/// A stored message that has not become a ticket yet.
public struct StoredMessage: Sendable {
    public var id: Int64
    public var mailbox: String
    public var raw: [UInt8]
    public var size: Int
    public var truncated: Bool
    public var fetchError: String?
    public var preBaseline: Bool
    public var attempts: Int
    /// Seconds since 1970 when the message reached the server (INTERNALDATE) or, failing that, was fetched.
    public var receivedAt: Int64

    public init(id: Int64, mailbox: String, raw: [UInt8], size: Int, truncated: Bool, fetchError: String?,
                preBaseline: Bool, attempts: Int, receivedAt: Int64)
    {
        self.id = id
        self.mailbox = mailbox
        self.raw = raw
        self.size = size
        self.truncated = truncated
        self.fetchError = fetchError
        self.preBaseline = preBaseline
        self.attempts = attempts
        self.receivedAt = receivedAt
    }
}

/// The persistent state shared by the daemon and the CLI. All methods are synchronous and each one
/// is one transaction; implementations must be safe to call from several tasks.
public protocol TicketRepository: Sendable {
    func cursor(mailbox: String) throws -> MailboxCursor?
    /// Stores a new or re-baselined cursor and an audit event saying why.
    func saveCursor(_ cursor: MailboxCursor, reason: String) throws
    /// Which of `uids` are already recorded for this mailbox and UIDVALIDITY.
    func recordedUIDs(mailbox: String, uidValidity: UInt32, among uids: [UInt32]) throws -> Set<UInt32>
    /// Records a batch of fetched messages and advances the cursor, atomically.
    func record(_ batch: [FetchedMessage], cursor: MailboxCursor) throws -> [RecordOutcome]
    /// Counts a failed fetch of one UID and returns how often it has failed so far.
    func noteFetchFailure(mailbox: String, uidValidity: UInt32, uid: UInt32, error: String) throws -> Int
    /// UIDs recorded in the store whose flag or move on the server is still to be done.
    func pendingServerActions(mailbox: String, uidValidity: UInt32) throws -> [UInt32]
    func markServerActionsDone(mailbox: String, uidValidity: UInt32, uids: [UInt32]) throws
    /// Tickets for the queue, ordered by the given order.
    func tickets(_ query: TicketQuery) throws -> [TicketSummary]
}

/// The processing side of the store: the one processor claims recorded messages, asks what a decision
/// needs, and applies decisions.
public protocol ProcessingRepository: Sendable {
    /// Claims up to `limit` unprocessed messages of at most `maxBytes` raw bytes together (at least one
    /// message) for `worker` for `lease` seconds, oldest first; each claim counts one processing attempt.
    /// Messages another worker holds are skipped; the worker's own unfinished claims are taken again.
    func claimUnprocessed(limit: Int, maxBytes: Int, worker: String, lease: Int64) throws -> [StoredMessage]
    /// Gives back `worker`'s claims on `ids` without counting the attempt (the store failed, not the message).
    func unclaim(_ ids: [Int64], worker: String) throws
    /// Releases the claims of workers that are gone; returns how many messages were released.
    func releaseClaims(isAlive: (String) -> Bool) throws -> Int
    /// Tickets the message may belong to, with the addresses each belongs to.
    func threadCandidates(_ query: ThreadQuery) throws -> [ThreadCandidate]
    /// Automatic answers queued for `recipient` since `since` (seconds since 1970).
    func answersSent(to recipient: String, since: Int64) throws -> Int
    /// Applies decisions (tickets, events, outbox rows, joined messages) in one transaction.
    func apply(_ decisions: [TriageDecision]) throws
    /// Per target group: tickets waiting for a first answer, and first answers people gave in the last 7 days.
    func groupBacklog(now: Int64) throws -> [String: GroupBacklog]
}

/// A ticket whose first answer is soon due (warning) or overdue (breach).
public struct SLAAlarm: Sendable, Equatable {
    public enum Level: String, Sendable, Codable { case warning, breach }
    public var level: Level
    public var ticketID: Int64
    public var mailbox: String
    public var subject: String
    public var from: String
    public var group: String?
    public var policy: String?
    /// The first-response due time, seconds since 1970.
    public var due: Int64
    public var escalateTo: String?

    public init(level: Level, ticketID: Int64, mailbox: String, subject: String, from: String, group: String?, policy: String?, due: Int64,
                escalateTo: String?)
    {
        self.level = level
        self.ticketID = ticketID
        self.mailbox = mailbox
        self.subject = subject
        self.from = from
        self.group = group
        self.policy = policy
        self.due = due
        self.escalateTo = escalateTo
    }
}

/// What the SLA watch needs from the store.
public protocol SLARepository: Sendable {
    /// Tickets due for a warning or an escalation that has not been made.
    func slaAlarms(now: Int64, limit: Int) throws -> [SLAAlarm]
    /// Records it (and queues the escalation mail) once; false when it was already recorded.
    func recordSLA(_ alarm: SLAAlarm, escalation: OutgoingAnswer?) throws -> Bool
}

/// The outbox of automatic answers.
public protocol OutboxRepository: Sendable {
    /// Pending answers due by `now` (every pending one when nil), oldest first.
    func dueAnswers(now: Int64?, limit: Int) throws -> [OutboxItem]
    /// Commits that a send of `item` begins (before the SMTP transaction); throws when it cannot be recorded,
    /// and then nothing is sent.
    func answerSendStarting(_ item: OutboxItem) throws
    /// Takes back a begun send that never reached the message (the login or the token failed): no attempt is
    /// counted and it does not show as interrupted.
    func answerSendNotStarted(_ item: OutboxItem) throws
    /// Records one send attempt: accepted, retry later, or refused for good (the ticket goes back to a human).
    func answerOutcome(_ item: OutboxItem, _ outcome: SendOutcome, error: String?) throws
}

/// Hands a message to a mail server.
public protocol MailSender: Sendable {
    /// Returns the server's reply code; throws `TriageError` (transient or not).
    func send(_ message: [UInt8], from: String, to recipients: [String]) async throws -> Int
    /// Aborts a transfer in progress and refuses new ones (shutdown). Returns at once.
    func abortTransfers()
}

extension MailSender {
    public func abortTransfers() {}
}

extension ProcessingRepository {
    /// Claims up to `limit` unprocessed messages, whatever their size.
    public func claimUnprocessed(limit: Int, worker: String, lease: Int64) throws -> [StoredMessage] {
        try claimUnprocessed(limit: limit, maxBytes: Int.max, worker: worker, lease: lease)
    }
}
