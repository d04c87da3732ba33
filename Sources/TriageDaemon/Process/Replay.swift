import Foundation
public import TriageCore
public import TriageStore
import TriageMIME

/// What a candidate configuration would change about stored tickets: every ticket's message decided again
/// with the candidate snapshot (the same `TriageEngine.decide`) and compared with the stored decision.
/// Nothing is written and nothing is sent. The tickets are read a page at a time, newest first, and the report
/// keeps counts and a few examples per kind of change: memory does not grow with the store.
public struct ReplayReport: Sendable, Codable, Equatable {
    public struct Change: Sendable, Codable, Equatable {
        public var ticket: Int64
        public var subject: String
        public var before: String
        public var after: String
    }

    /// The changes of one kind.
    public struct Kind: Sendable, Codable, Equatable {
        public var count = 0
        /// "before -> after" -> tickets; at most `maxMoves` distinct pairs, the rest counted under "(other)".
        public var moves: [String: Int] = [:]
        /// The first changes met (the newest tickets).
        public var examples: [Change] = []

        public init() {}
    }

    /// The kinds of change, in the order they are printed: the category, the degree (automatic,
    /// semi-automatic, shadow, manual), the knowledge-base entry put before the customer or an agent (the
    /// automatic answer, the draft, the shadow answer), the target group, the first-response due time.
    public static let kinds = ["category", "degree", "entry", "group", "due"]
    public static let maxMoves = 50

    public var tickets = 0
    public var changed = 0
    public var changes: [String: Kind] = [:]

    public init() {}

    /// Decides the tickets received on or after `since` again, at most `limit` of them (the most recent).
    public static func run(store: SQLiteTicketStore, snapshot: TriageSnapshot, since: Int64? = nil, limit: Int? = nil,
                           examples: Int = 5) throws -> ReplayReport
    {
        var report = ReplayReport()
        let f = ISO8601DateFormatter()
        try store.forEachTicketMessage(since: since, limit: limit) { message, stored in
            report.tickets += 1
            let incoming = IncomingMessage(stored: message)
            let d = TriageEngine.decide(incoming, snapshot: snapshot, context: DecisionContext(), now: message.receivedAt).record
            let subject = incoming.parsed?.envelope.subject ?? ""
            var any = false
            func compare(_ kind: String, _ a: String?, _ b: String?) {
                guard a != b else { return }
                any = true
                var k = report.changes[kind] ?? Kind()
                k.count += 1
                let pair = "\(a ?? "-") -> \(b ?? "-")"
                k.moves[k.moves[pair] != nil || k.moves.count < maxMoves ? pair : "(other)", default: 0] += 1
                if k.examples.count < examples { k.examples.append(Change(ticket: message.id, subject: subject, before: a ?? "-", after: b ?? "-")) }
                report.changes[kind] = k
            }
            compare("category", stored?.category, d.category)
            compare("degree", stored?.degree?.rawValue, d.degree?.rawValue)
            compare("entry", stored?.offeredEntry, d.offeredEntry)
            compare("group", stored?.service?.group, d.service?.group)
            compare("due", stored?.service?.firstResponse.map { f.string(from: $0.due) }, d.service?.firstResponse.map { f.string(from: $0.due) })
            if any { report.changed += 1 }
        }
        return report
    }
}
