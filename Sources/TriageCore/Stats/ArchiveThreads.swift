/// What the daemon would know about earlier mail when an archived message arrived, rebuilt over the archive in
/// its order, so that `analyze` counts what the daemon would do with the archive as a stream:
/// - threading: a message whose In-Reply-To or References names a message seen earlier in the archive joins
///   that message's ticket when it comes from the ticket's customer (a follow-up, not a new ticket), or for
///   information when it is an automatic reply (an out-of-office, a bounce); from anyone else it is a new
///   ticket, as in `TriageEngine.decide`;
/// - the loop guard's per-sender limit: automatic mails (answers and acknowledgements) to an address within
///   the window; a message from an address that has had its share is refused, as the daemon refuses it.
///
/// Memory is bounded: at most `capacity` Message-IDs and `capacity` addresses are remembered, the least
/// recently used forgotten first (two generations of `capacity / 2`: a full generation becomes the old one and
/// the one before it is dropped; a hit in the old generation moves the entry back to the new one). A reply to
/// a message that many messages earlier counts as a new ticket.
public struct ArchiveThreads: Sendable {
    /// What threading and the limit need of one message (taken from its parse and decision on a worker).
    public struct Facts: Sendable {
        public var messageID: String?
        /// In-Reply-To, then References (at most 100).
        public var references: [String]
        /// From and Reply-To, lowercased: who the ticket belongs to.
        public var senders: Set<String>
        /// Where an answer would go (Reply-To, else From), lowercased.
        public var recipient: String
        /// An automatic reply, a bounce, a list: joins a ticket for information.
        public var automated: Bool
        /// Automatic mails the decision sends to `recipient` (the answer, the acknowledgement).
        public var mails: Int
        /// When it arrived (its Date), seconds since 1970.
        public var at: Int64

        public init(messageID: String?, references: [String], senders: Set<String>, recipient: String, automated: Bool, mails: Int, at: Int64) {
            self.messageID = messageID
            self.references = references
            self.senders = senders
            self.recipient = recipient
            self.automated = automated
            self.mails = mails
            self.at = at
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// A new ticket (possibly refused by the per-sender limit: the item says so).
        case newTicket
        /// A reply from the customer of an earlier message's ticket.
        case followUp
        /// An automatic reply about an earlier message's ticket, kept there for information.
        case automatedFollowUp
    }

    private var threads: RecentMap<[String]>
    private var sent: RecentMap<[Int64]>
    /// The loop guard's limit (nil: no answers are sent, so no limit applies) and window in seconds.
    let maxMails: Int?
    let window: Int64

    public init(capacity: Int = 100_000, maxMailsPerSender: Int?, window: Int64) {
        threads = RecentMap(capacity: capacity)
        sent = RecentMap(capacity: capacity)
        maxMails = maxMailsPerSender
        self.window = window
    }

    /// Applies what came before to `item` (in the archive's order): a follow-up is not a ticket; a new ticket
    /// from an address that has had `maxMails` automatic mails within the window is refused (`rate_limit`).
    public mutating func apply(_ item: inout AnalysisItem) -> Verdict {
        guard let f = item.thread else { return .newTicket }
        for ref in f.references {
            guard let customers = threads.get(ref) else { continue }
            let join: Verdict? = customers.contains(where: f.senders.contains) ? (f.automated ? .automatedFollowUp : .followUp)
                : f.automated ? .automatedFollowUp : nil
            if let join {
                if let id = f.messageID { threads.set(id, customers) }
                return join
            }
        }
        if let id = f.messageID { threads.set(id, f.senders.union(f.recipient.isEmpty ? [] : [f.recipient]).sorted()) }
        guard let max = maxMails, !f.recipient.isEmpty else { return .newTicket }
        var times = (sent.get(f.recipient) ?? []).filter { $0 > f.at - window && $0 <= f.at }
        if times.count >= max {
            if item.outcome != .refused && item.outcome != .failed {
                item.outcome = .refused
                item.refusal = "rate_limit"
                item.entry = nil
                item.gap = nil
            }
        } else if f.mails > 0 {
            times += Array(repeating: f.at, count: f.mails)
            sent.set(f.recipient, Array(times.suffix(max)))
        }
        return .newTicket
    }
}

/// A map that keeps about the `capacity` most recently used keys (two generations).
struct RecentMap<Value: Sendable>: Sendable {
    private var current: [String: Value] = [:]
    private var previous: [String: Value] = [:]
    let half: Int

    init(capacity: Int) { half = Swift.max(1, capacity / 2) }

    var count: Int { current.count + previous.count }

    mutating func get(_ key: String) -> Value? {
        if let v = current[key] { return v }
        guard let v = previous.removeValue(forKey: key) else { return nil }
        set(key, v)
        return v
    }

    mutating func set(_ key: String, _ value: Value) {
        if current.updateValue(value, forKey: key) == nil && current.count >= half {
            previous = current
            current = [:]
        }
    }
}
