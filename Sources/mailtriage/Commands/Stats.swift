import ArgumentParser
import Foundation
import TriageCore
import TriageStore

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "How the team is doing: volumes, automation, unhelpful answers, service levels, refusals, drafts; beside the target corridors.",
        discussion: "Corridors come from [stats.corridors] in mailtriage.toml (worst, expected, very good). The daemon writes the same figures to mailtriage.prom in the state directory for Prometheus.")

    @OptionGroup var db: QueueDatabase
    @Option(help: ArgumentHelp("Only tickets received on or after this day (YYYY-MM-DD, UTC).", valueName: "date")) var since: String?
    @Option(help: "Only tickets of this target group.") var group: String?
    @Flag(help: "Print JSON.") var json = false

    struct Output: Encodable {
        var since: String?
        var group: String?
        var stats: QueueStats
        var corridors: [String: Corridor]
    }

    func run() throws {
        let start = try since.map(utcDay)
        let store = try SQLiteTicketStore.forReading(try db.existingPath())
        let corridors = (db.database == nil ? try? loadConfig(db.global, mailboxes: false, logger: nil).corridors : nil) ?? Corridor.defaults
        let s = QueueStats.compute(try store.statsRows(since: start, group: group), now: Int64(Date().timeIntervalSince1970))
        if json {
            print(try jsonString(Output(since: since, group: group, stats: s, corridors: corridors), pretty: true))
            return
        }
        print(StatsView.render(s, corridors: corridors, since: since, group: group))
    }
}

/// `--since 2026-11-01`: the start of that day (UTC), seconds since 1970.
func utcDay(_ text: String) throws -> Int64 {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd"
    guard let d = f.date(from: text) else { throw ValidationError("--since must be a day, YYYY-MM-DD") }
    return Int64(d.timeIntervalSince1970)
}

enum StatsView {
    static func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }

    static func list(_ d: [String: Int]) -> String {
        d.isEmpty ? "-" : d.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func corridor(_ c: Corridor?, _ v: Double?) -> String {
        guard let c, let v else { return "" }
        return "  corridor \(pct(c.worst)) / \(pct(c.expected)) / \(pct(c.veryGood)): \(c.rating(v))"
    }

    static func render(_ s: QueueStats, corridors: [String: Corridor], since: String?, group: String?) -> String {
        var out = ["\(s.tickets) tickets\(since.map { " since \($0)" } ?? "")\(group.map { ", group \($0)" } ?? "")", ""]
        out.append("volume")
        out.append("  by category  \(list(s.byCategory))")
        out.append("  by group     \(list(s.byGroup))")
        out.append("  by language  \(list(s.byLanguage))")
        out.append("")
        let a = s.automation
        out.append("handling")
        out.append("  automatic                  \(a.automatic)")
        out.append("  drafts approved unchanged  \(a.approvedUnchanged)")
        out.append("  drafts approved edited     \(a.approvedEdited)")
        out.append("  drafts rejected            \(a.rejected)")
        out.append("  drafts waiting             \(a.draftsPending)")
        out.append("  manual                     \(a.manual)\(a.shadow > 0 ? " (shadow recorded an answer for \(a.shadow))" : "")")
        out.append("  automation rate            \(pct(a.rate))\(corridor(corridors["automation_rate"], a.rate))")
        out.append("")
        out.append("unhelpful answers: \(s.followedByReply) of \(s.automaticAnswers) automatic answers were followed by the customer writing again within 7 days (\(pct(s.unhelpfulRate)))\(corridor(corridors["unhelpful_rate"], s.unhelpfulRate))")
        if !s.followedByReplyByEntry.isEmpty { out.append("  by entry: \(list(s.followedByReplyByEntry))") }
        out.append("")
        out.append("service levels (first response)")
        if s.serviceLevels.isEmpty { out.append("  no tickets with a due time") }
        for (g, v) in s.serviceLevels.sorted(by: { $0.key < $1.key }) {
            let median = v.medianFirstResponseSeconds.map { DurationText.format(.seconds(max(60, $0) / 60 * 60)) } ?? "-"
            out.append("  \(g.padding(toLength: 20, withPad: " ", startingAt: 0)) met \(v.met), missed \(v.missed), not due yet \(v.pending); compliance \(pct(v.compliance)); median first response \(median)\(corridor(corridors["sla_compliance"], v.compliance))")
        }
        out.append("")
        if !s.shadowPrecision.isEmpty {
            out.append("shadow mode (what mailtriage would have sent, against what the agents did)")
            for (c, f) in s.shadowPrecision.sorted(by: { $0.key < $1.key }) {
                out.append("  \(c.padding(toLength: 12, withPad: " ", startingAt: 0)) \(f.agreed) of \(f.cases) agreed: precision \(pct(f.precision)); same entry \(f.sameEntry) of \(f.cases) (\(pct(f.sameEntryRate)))")
            }
            out.append("")
        }
        out.append("loop guard refusals: \(list(s.loopGuardRefusals))")
        out.append("draft rejections: \(list(s.rejectionReasons))")
        if !s.months.isEmpty {
            out.append("")
            out.append("per month   tickets  automation                 SLA compliance             unhelpful")
            for m in s.months {
                func cell(_ v: Double?, _ name: String) -> String {
                    let text = pct(v) + (v.flatMap { x in corridors[name].map { " " + $0.rating(x) } } ?? "")
                    return text.padding(toLength: 27, withPad: " ", startingAt: 0)
                }
                out.append("  \(m.month)   \(String(m.tickets).padding(toLength: 7, withPad: " ", startingAt: 0))  \(cell(m.automationRate, "automation_rate"))\(cell(m.slaCompliance, "sla_compliance"))\(pct(m.unhelpfulRate))")
            }
        }
        return out.joined(separator: "\n")
    }
}
