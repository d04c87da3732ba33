import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import TriageCore

/// The figures as a Prometheus text file in the state directory, for node_exporter's textfile collector:
/// written to a temporary file and renamed, so a scrape never reads half a file.
public enum MetricsFile {
    public static func path(stateDir: String) -> String { (stateDir as NSString).appendingPathComponent("mailtriage.prom") }

    /// The exposition text: `# HELP`, `# TYPE` and samples, labels escaped.
    public static func render(_ s: QueueStats, outbox: [OutboxState: Int], waiting: [String: Int], overdue: [String: Int],
                              acknowledgementsBeyondServiceLevel: Int = 0) -> String
    {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples.sorted(by: { $0.0.map(\.1).joined() < $1.0.map(\.1).joined() }) {
                let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(l) \(format(value))\n"
            }
        }
        family("mailtriage_tickets", "gauge", "Tickets in the store by category.", s.byCategory.map { ([("category", $0.key)], Double($0.value)) })
        family("mailtriage_tickets_by_group", "gauge", "Tickets in the store by target group.", s.byGroup.map { ([("group", $0.key)], Double($0.value)) })
        family("mailtriage_tickets_by_language", "gauge", "Tickets in the store by language.", s.byLanguage.map { ([("language", $0.key)], Double($0.value)) })
        let a = s.automation
        family("mailtriage_handling", "gauge", "Tickets by how they were handled.", [
            ([("outcome", "automatic")], Double(a.automatic)), ([("outcome", "draft_approved")], Double(a.approvedUnchanged)),
            ([("outcome", "draft_edited")], Double(a.approvedEdited)), ([("outcome", "draft_rejected")], Double(a.rejected)),
            ([("outcome", "draft_pending")], Double(a.draftsPending)), ([("outcome", "manual")], Double(a.manual)),
        ])
        family("mailtriage_shadow_answers", "gauge", "Manual tickets for which shadow mode recorded an answer.", [([], Double(a.shadow))])
        family("mailtriage_automation_ratio", "gauge", "Share of tickets answered without a person's edit (automatic and drafts approved unchanged).",
               [([], a.rate)])
        family("mailtriage_automatic_answers_followed_by_reply", "gauge",
               "Automatic answers after which the customer wrote again within 7 days, by knowledge-base entry.",
               s.followedByReplyByEntry.map { ([("entry", $0.key)], Double($0.value)) })
        family("mailtriage_sla_first_response", "gauge", "First responses by target group: met, missed, or not due yet.",
               s.serviceLevels.flatMap { g, v in
                   [([("group", g), ("result", "met")], Double(v.met)), ([("group", g), ("result", "missed")], Double(v.missed)),
                    ([("group", g), ("result", "pending")], Double(v.pending))]
               })
        family("mailtriage_sla_median_first_response_seconds", "gauge", "Median time to the first response by target group.",
               s.serviceLevels.compactMap { g, v in v.medianFirstResponseSeconds.map { ([("group", g)], Double($0)) } })
        family("mailtriage_shadow_precision", "gauge",
               "Shadow mode: share of the recorded answers that agreed with what the agent did, by category.",
               s.shadowPrecision.compactMap { c, f in f.precision.map { ([("category", c)], $0) } })
        family("mailtriage_loop_guard_refusals", "gauge", "Automatic answers the loop guard refused, by reason.",
               s.loopGuardRefusals.map { ([("reason", $0.key)], Double($0.value)) })
        family("mailtriage_outbox", "gauge", "Outbox rows by state.", OutboxState.allCases.map { ([("state", $0.rawValue)], Double(outbox[$0] ?? 0)) })
        family("mailtriage_queue_waiting", "gauge", "Tickets waiting for a first answer, by target group.", waiting.map { ([("group", $0.key)], Double($0.value)) })
        family("mailtriage_acknowledgements_beyond_service_level", "gauge",
               "Acknowledgements that named a later time than the service level because of the backlog.",
               [([], Double(acknowledgementsBeyondServiceLevel))])
        family("mailtriage_queue_overdue", "gauge", "Tickets whose first answer is overdue, by target group.", overdue.map { ([("group", $0.key)], Double($0.value)) })
        return out
    }

    /// Writes `text` to `path` atomically (temporary file in the same directory, then rename).
    /// A full disk or quota (ENOSPC, EDQUOT) fails with `.diskFull`.
    public static func write(_ text: String, to path: String) throws {
        let tmp = path + ".tmp.\(getpid())"
        func failed(_ what: String) -> TriageError {
            let e = errno
            unlink(tmp)
            return TriageError(TriageError.code(forWriteErrno: e, fallback: .io), "cannot \(what) \(tmp): \(String(cString: strerror(e)))",
                               transient: true)
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failed("create") }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = failed("write")
                close(fd)
                throw e
            }
            done += n
        }
        guard close(fd) == 0 else { throw failed("write") }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw TriageError(.io, "cannot rename \(tmp) to \(path)")
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}
