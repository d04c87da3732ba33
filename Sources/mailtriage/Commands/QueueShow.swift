import ArgumentParser
import Foundation
import TriageCore
import TriageMIME
import TriageStore

extension Queue {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A ticket: its messages and our answers, the decision with its reasons, the draft, the service level and the history.")
        @OptionGroup var db: QueueDatabase
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            let store = try SQLiteTicketStore.forReading(try db.existingPath())
            guard let d = try store.detail(ticket: id) else {
                printErr("mailtriage: no ticket \(id)")
                throw ExitCode(1)
            }
            print(TicketView.render(d, now: Int64(Date().timeIntervalSince1970), terminal: Terminal.current))
        }
    }
}

/// `queue show`: plain text, sections a person reads top to bottom.
enum TicketView {
    static func time(_ t: Int64, zone: String? = nil) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? .current
        f.dateFormat = "EEE yyyy-MM-dd HH:mm"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    static func render(_ d: TicketDetail, now: Int64, terminal: Terminal) -> String {
        let t = d.summary
        let b = terminal.colour ? Terminal.bold : "", r = terminal.colour ? Terminal.reset : ""
        var out: [String] = []
        func heading(_ s: String) { out.append(""); out.append("\(b)\(s)\(r)") }
        out.append("\(b)#\(t.id) \(t.subject)\(r)")
        out.append("from:      \(t.fromName.map { "\($0) <\(t.from)>" } ?? t.from)")
        out.append("mailbox:   \(t.mailbox)    received \(time(t.receivedAt))")
        out.append("state:     \(t.state.rawValue)\(d.assignee.map { ", held by \($0)" } ?? "")")
        out.append("category:  \(t.category ?? "-")\(t.confidence.map { String(format: " (%.0f%%)", $0 * 100) } ?? "")    degree: \(t.degree?.rawValue ?? "-")    language: \(t.language ?? "-")")
        if !t.warnings.isEmpty { out.append("warnings:  \(t.warnings.joined(separator: "; "))") }

        if let s = d.decision?.service {
            heading("Service level")
            let moved = t.group != s.group
            out.append("group:     \(t.group ?? "-")\(moved ? " (reassigned)" : s.groupMatch.map { " (by \($0.rawValue))" } ?? "")    priority: \(t.priority ?? "-")")
            if !moved { out.append("policy:    \(s.policy ?? "-")\(s.calendar.map { ", calendar \($0)" } ?? "")") }
            if let due = s.firstResponse {
                out.append("\(moved ? "at arrival" : "due:      ") \(due.description)")
                if let current = t.firstResponseDue, TicketState.awaitingResponse.contains(t.state) {
                    out.append("now:       \(QueueTable.due(t, now: now) == "-" ? "-" : QueueTable.due(t, now: now)) (first answer due \(time(current, zone: due.timeZone)))")
                }
            }
            if let e = s.escalateTo { out.append("escalates to \(e)") }
        }

        for (i, m) in d.messages.enumerated() {
            let p = MIMEParser.parse(m.raw)
            heading(i == 0 ? "Message (\(time(m.receivedAt)))" : "Reply from \(p.envelope.from?.address ?? "?") (\(time(m.receivedAt)))\(m.informational ? ", automatic, kept for information" : "")")
            out.append((p.newText.isEmpty ? p.text : p.newText).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for a in d.outbox {
            let p = MIMEParser.parse(a.raw)
            let what = a.entry == OutgoingAnswer.acknowledgementEntry ? "Acknowledgement" : a.entry == OutgoingAnswer.escalationEntry ? "Escalation"
                : a.entry == OutgoingAnswer.agentEntry ? "Reply" : "Answer (\(a.entry))"
            heading("\(what) to \(a.recipient), \(a.state.rawValue) (\(time(a.at)))\(a.error.map { ": \($0)" } ?? "")")
            out.append(p.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for dr in d.drafts {
            heading("Draft from \(dr.entry): \(dr.state.rawValue)\(dr.agent.map { " by \($0)" } ?? "")\(dr.reason.map { ": \($0)" } ?? "")")
            if dr.state == .pending { out.append(dr.body.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        if let dec = d.decision {
            heading("Decision")
            if !dec.loopGuard.isEmpty { out.append("loop guard: \(dec.loopGuard.map(\.description).joined(separator: "; "))") }
            for reason in dec.reasons { out.append("- \(reason.description)") }
            if !dec.candidates.isEmpty {
                out.append("knowledge base: " + dec.candidates.map { "\($0.id) \(String(format: "%.2f", $0.score))" }.joined(separator: ", "))
            }
        }
        heading("History")
        for e in d.events {
            let detail = e.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            out.append("\(time(e.at))  \(e.kind)  \(e.actor)\(detail.isEmpty ? "" : "  " + detail)")
        }
        return out.joined(separator: "\n")
    }
}
