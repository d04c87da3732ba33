import Foundation
public import TriageCore
public import TriageStore
import TriageMIME

/// What a candidate configuration would change about stored tickets: every ticket's message decided again
/// with the candidate snapshot (the same `TriageEngine.decide`) and compared with the stored decision.
/// Nothing is written and nothing is sent.
public struct ReplayReport: Sendable, Codable, Equatable {
    public struct Change: Sendable, Codable, Equatable {
        public var ticket: Int64
        public var subject: String
        public var before: String
        public var after: String
    }

    public var tickets = 0
    public var changed = 0
    /// "category", "degree", "answer", "group", "due" -> the changes of that kind.
    public var changes: [String: [Change]] = [:]

    public init() {}

    public static func run(store: SQLiteTicketStore, snapshot: TriageSnapshot, since: Int64? = nil, limit: Int? = nil) throws -> ReplayReport {
        var report = ReplayReport()
        for (message, stored) in try store.ticketMessages(since: since, limit: limit) {
            report.tickets += 1
            let incoming = IncomingMessage(stored: message)
            let d = TriageEngine.decide(incoming, snapshot: snapshot, context: DecisionContext(), now: message.receivedAt).record
            let subject = incoming.parsed?.envelope.subject ?? ""
            var any = false
            func compare(_ kind: String, _ a: String?, _ b: String?) {
                guard a != b else { return }
                any = true
                report.changes[kind, default: []].append(Change(ticket: message.id, subject: subject, before: a ?? "-", after: b ?? "-"))
            }
            compare("category", stored?.category, d.category)
            compare("degree", stored?.degree?.rawValue, d.degree?.rawValue)
            compare("answer", stored?.degree == .automatic ? stored?.knowledgeEntry : nil, d.degree == .automatic ? d.knowledgeEntry : nil)
            compare("group", stored?.service?.group, d.service?.group)
            let f = ISO8601DateFormatter()
            compare("due", stored?.service?.firstResponse.map { f.string(from: $0.due) }, d.service?.firstResponse.map { f.string(from: $0.due) })
            if any { report.changed += 1 }
        }
        return report
    }
}
