public import Foundation
public import TriageCore

/// `analyze --csv` and `--html`: the report as a spreadsheet table and as one self-contained web page.
public enum AnalysisRendering {
    static let outcomes = AnalysisItem.Outcome.allCases

    // MARK: CSV

    /// One table: `section,name,messages,automatic,semi_automatic,shadow,manual,refused,failed,detail`. Sections:
    /// total, category, language, group, month (counts per outcome, of new tickets); follow_up (customer,
    /// automatic: messages joining an earlier message's ticket); entry (messages = uses, automatic = answers,
    /// semi_automatic = drafts); gap (messages = estimated, detail = category, language and example subjects).
    public static func csv(_ r: AnalysisReport) -> String {
        var out = "section,name,messages,automatic,semi_automatic,shadow,manual,refused,failed,detail\r\n"
        func row(_ section: String, _ name: String, _ c: OutcomeCounts) {
            out += ([section, name, "\(c.total)"] + outcomes.map { "\(c[$0])" } + [""]).map(field).joined(separator: ",") + "\r\n"
        }
        row("total", "all", r.outcomes)
        for (name, n) in [("customer", r.followUps), ("automatic", r.automatedFollowUps)] {
            out += ["follow_up", name, "\(n)", "", "", "", "", "", "", ""].map(field).joined(separator: ",") + "\r\n"
        }
        for x in r.categories { row("category", x.name, x.counts) }
        for x in r.languages { row("language", x.name, x.counts) }
        for x in r.groups { row("group", x.name, x.counts) }
        for x in r.months { row("month", x.name, x.counts) }
        for e in r.entries {
            out += ["entry", e.entry, "\(e.answers + e.drafts)", "\(e.answers)", "\(e.drafts)", "", "", "", "", ""].map(field).joined(separator: ",") + "\r\n"
        }
        for g in r.gaps {
            let detail = "\(g.category), \(g.language): " + g.examples.joined(separator: " | ")
            out += ["gap", g.words.joined(separator: " "), "\(g.messages)", "", "", "", "", "", "", detail].map(field).joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// RFC 4180 quoting; a cell starting with = + - @ gets a leading apostrophe, so a spreadsheet does not run
    /// a subject as a formula.
    static func field(_ s: String) -> String {
        var v = s
        if let f = v.first, "=+-@".contains(f), Double(v) == nil { v = "'" + v }
        v = v.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if v.contains(",") || v.contains("\"") { return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return v
    }

    // MARK: HTML

    static let colors: [AnalysisItem.Outcome: String] = [
        .automatic: "#2e7d32", .semiAutomatic: "#81c784", .shadow: "#9575cd", .manual: "#90a4ae", .refused: "#ffb74d", .failed: "#e57373",
    ]

    static func esc(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default: o.append(ch)
            }
        }
        return o
    }

    static func num(_ n: Int) -> String {
        let s = String(n)
        guard n >= 10_000 else { return s }
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    /// One page, no scripts and nothing loaded from elsewhere: summary, a chart of the handling, a chart of the
    /// categories by handling, the monthly volume, languages and groups, the entries used most, the knowledge
    /// gaps and the messages with problems. Sized for a phone as well as a desktop.
    public static func html(_ r: AnalysisReport, title: String = "mailtriage: archive analysis", generated: Date = Date()) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>\(esc(title))</title>
            <style>
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1c2833;background:#f6f8fa}
            main{max-width:960px;margin:0 auto;padding:12px}
            h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
            .cards{display:flex;flex-wrap:wrap;gap:8px}
            .card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;flex:1 1 140px}
            .card b{display:block;font-size:1.4em}
            .chart{width:100%;max-width:\(chartMaxWidth)px;height:auto;background:#fff;border:1px solid #d0d7de;border-radius:6px;display:block}
            .legend span{display:inline-block;margin-right:12px;font-size:.9em}
            .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
            .scroll{overflow-x:auto}
            table{border-collapse:collapse;width:100%;background:#fff;font-size:.92em}
            th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
            td.n,th.n{text-align:right}
            small{color:#57606a}
            </style></head><body><main>
            <h1>\(esc(title))</h1>
            <p><small>\(num(r.messages)) \(English.noun(r.messages, "message")) in \(num(r.files)) \(English.noun(r.files, "file")), \
            \(String(format: "%.1f", Double(r.bytes) / 1_048_576)) MiB, decided with the current configuration in \(String(format: "%.1f", r.seconds)) s; \
            \(num(r.tickets)) new \(English.noun(r.tickets, "ticket")), \(num(r.followUps + r.automatedFollowUps)) \
            \(English.noun(r.followUps + r.automatedFollowUps, "follow-up")) to earlier mail of the archive (\(num(r.automatedFollowUps)) automatic); \
            generated \(esc(ISO8601DateFormatter().string(from: generated))).</small></p>

            """
        h += "<div class=\"cards\">"
        h += card("messages", num(r.messages))
        h += card("new tickets", num(r.tickets), sub: "\(num(r.followUps + r.automatedFollowUps)) \(English.noun(r.followUps + r.automatedFollowUps, "follow-up"))")
        for o in outcomes where o != .shadow || r.outcomes.shadow > 0 {
            h += card(label(o), "\(String(format: "%.1f", r.percent(r.outcomes[o])))%", sub: num(r.outcomes[o]))
        }
        h += card("agent hours saved a month", String(format: "%.1f", r.savings.hoursPerMonth),
                  sub: "\(String(format: "%g", r.savings.minutesPerTicket)) min a ticket, drafts \(Int(r.savings.draftShare * 100))%")
        h += "</div>\n"

        h += "<h2>Handling</h2>\n" + legend()
        h += barChart(id: "chart-handling", rows: outcomes.filter { r.outcomes[$0] > 0 }.map { o in
            var c = OutcomeCounts()
            c.add(o, count: r.outcomes[o])
            return (shortLabel(o), c)
        })
        h += "<h2>Categories</h2>\n"
        h += barChart(id: "chart-categories", rows: r.categories.map { ($0.name, $0.counts) })
        h += "<h2>Volume by month</h2>\n"
        h += monthChart(r.months)
        if !r.refusals.isEmpty {
            h += "<p><small>Refused by the loop guard: " + r.refusals.prefix(8).map { "\(esc($0.name)) \(num($0.count))" }.joined(separator: ", ") + "</small></p>\n"
        }
        h += "<h2>Languages</h2>\n" + table(r.languages, r.messages)
        h += "<h2>Target groups</h2>\n" + table(r.groups, r.messages)

        h += "<h2>Knowledge-base entries used most</h2>\n"
        if r.entries.isEmpty { h += "<p>No entry would be used.</p>\n" } else {
            h += "<div class=\"scroll\"><table><tr><th>entry</th><th class=\"n\">automatic answers</th><th class=\"n\">drafts</th></tr>"
            for e in r.entries { h += "<tr><td>\(esc(e.entry))</td><td class=\"n\">\(num(e.answers))</td><td class=\"n\">\(num(e.drafts))</td></tr>" }
            h += "</table></div>\n"
        }

        h += "<h2 id=\"gaps\">Knowledge gaps</h2>\n<p>\(num(r.gapMessages)) \(English.noun(r.gapMessages, "question")) from people \(r.gapMessages == 1 ? "has" : "have") no entry that answers them well. The most common, by their words:</p>\n"
        if r.gaps.isEmpty { h += "<p>No recurring question without an entry.</p>\n" } else {
            h += "<div class=\"scroll\"><table id=\"gaps-table\"><tr><th>asked about</th><th class=\"n\">messages</th><th>category</th><th>language</th><th>for example</th></tr>"
            for g in r.gaps {
                h += "<tr><td>\(esc(g.words.joined(separator: ", ")))</td><td class=\"n\">~\(num(g.messages))</td><td>\(esc(g.category))</td>"
                h += "<td>\(esc(g.language))</td><td>\(g.examples.map { esc($0.isEmpty ? "(no subject)" : $0) }.joined(separator: "<br>"))</td></tr>"
            }
            h += "</table></div>\n"
        }

        if !r.problems.isEmpty || !r.unreadable.isEmpty {
            h += "<h2>Problems</h2>\n<p>\(num(r.outcomes.failed)) \(English.noun(r.outcomes.failed, "message")) could not be read, "
                + "\(num(r.warned)) \(r.warned == 1 ? "was" : "were") read with repairs"
            h += r.unreadable.isEmpty ? ".</p>\n" : "; \(English.count(r.unreadable.count, "file")) could not be opened.</p>\n"
            h += "<div class=\"scroll\"><table><tr><th>message</th><th>handling</th><th>problem</th></tr>"
            for p in r.problems { h += "<tr><td>\(esc(p.source))</td><td>\(esc(label(p.outcome)))</td><td>\(esc(p.problem))</td></tr>" }
            for u in r.unreadable { h += "<tr><td colspan=\"2\">\(esc(u))</td><td>unreadable file</td></tr>" }
            h += "</table></div>\n"
        }
        h += "</main></body></html>\n"
        return h
    }

    static func label(_ o: AnalysisItem.Outcome) -> String {
        switch o {
        case .automatic: "automatic"
        case .semiAutomatic: "semi-automatic (draft)"
        case .shadow: "shadow"
        case .manual: "manual"
        case .refused: "refused by the loop guard"
        case .failed: "could not be read"
        }
    }

    /// The handling chart's row names (the legend above it has the long ones).
    static func shortLabel(_ o: AnalysisItem.Outcome) -> String {
        switch o {
        case .semiAutomatic: "draft"
        case .refused: "loop guard"
        case .failed: "unreadable"
        default: label(o)
        }
    }

    static func card(_ title: String, _ value: String, sub: String? = nil) -> String {
        "<div class=\"card\"><small>\(esc(title))</small><b>\(esc(value))</b>" + (sub.map { "<small>\(esc($0))</small>" } ?? "") + "</div>"
    }

    static func legend() -> String {
        "<p class=\"legend\">" + outcomes.map { "<span><i style=\"background:\(colors[$0] ?? "#999")\"></i>\(esc(label($0)))</span>" }.joined() + "</p>\n"
    }

    /// The charts' coordinates: drawn for a phone's width (a 400 px screen less the page's margins shows them at
    /// 0.96 of their size, so 13 units are 12.5 px) and grown at most to `chartMaxWidth` on a larger screen.
    static let chartWidth = 400.0
    static let chartMaxWidth = 560
    static let labelSize = 13
    static let axisSize = 12

    /// Horizontal bars, one per row, each split by handling.
    static func barChart(id: String, rows: [(String, OutcomeCounts)]) -> String {
        let width = chartWidth, labelW = 124.0, barH = 22.0, gap = 8.0
        let maxTotal = Double(rows.map(\.1.total).max() ?? 1)
        let height = Double(rows.count) * (barH + gap) + gap
        var s = "<svg class=\"chart\" id=\"\(id)\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(max(height, 30)))\">"
        for (i, (name, c)) in rows.enumerated() {
            let y = gap + Double(i) * (barH + gap)
            let shown = name.count > 16 ? String(name.prefix(15)) + "…" : name
            s += "<text x=\"4\" y=\"\(y + barH * 0.7)\" font-size=\"\(labelSize)\"><title>\(esc(name))</title>\(esc(shown))</text>"
            var x = labelW
            for o in outcomes where c[o] > 0 {
                let w = (width - labelW - 52) * Double(c[o]) / maxTotal
                s += "<rect x=\"\(fmt(x))\" y=\"\(y)\" width=\"\(fmt(max(w, 1)))\" height=\"\(barH)\" fill=\"\(colors[o] ?? "#999")\"><title>\(esc(name)): \(esc(label(o))) \(c[o])</title></rect>"
                x += w
            }
            s += "<text x=\"\(fmt(x + 4))\" y=\"\(y + barH * 0.7)\" font-size=\"\(labelSize)\">\(num(c.total))</text>"
        }
        return s + "</svg>\n"
    }

    /// Vertical bars per month: all mail, the automatic part darker.
    static func monthChart(_ months: [AnalysisReport.Row]) -> String {
        let dated = months.filter { !$0.name.hasPrefix("(") }
        guard !dated.isEmpty else { return "<p>No message has a readable date.</p>\n" }
        let width = chartWidth, height = 200.0, bottom = 30.0, left = 8.0
        let maxTotal = Double(dated.map(\.counts.total).max() ?? 1)
        let slot = (width - left - 10) / Double(dated.count)
        var s = "<svg class=\"chart\" id=\"chart-months\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        s += "<text x=\"4\" y=\"14\" font-size=\"\(axisSize)\">\(num(Int(maxTotal))) \(English.noun(Int(maxTotal), "message"))</text>"
        s += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#57606a\"/>"
        // A label ("2026-03") is about 50 units wide: at most six of them.
        let every = max(1, (dated.count + 5) / 6)
        for (i, m) in dated.enumerated() {
            let x = left + Double(i) * slot + slot * 0.1
            let w = max(slot * 0.8, 1)
            let hAll = (height - bottom - 20) * Double(m.counts.total) / maxTotal
            let hAuto = (height - bottom - 20) * Double(m.counts.automatic) / maxTotal
            s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(height - bottom - hAll))\" width=\"\(fmt(w))\" height=\"\(fmt(hAll))\" fill=\"\(colors[.manual] ?? "#999")\"><title>\(esc(m.name)): \(English.count(m.counts.total, "message"))</title></rect>"
            if hAuto > 0 {
                s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(height - bottom - hAuto))\" width=\"\(fmt(w))\" height=\"\(fmt(hAuto))\" fill=\"\(colors[.automatic] ?? "#2e7d32")\"><title>\(esc(m.name)): \(m.counts.automatic) automatic</title></rect>"
            }
            if i % every == 0 {
                let center = min(max(left + (Double(i) + 0.5) * slot, 30), width - 30)
                s += "<text x=\"\(fmt(center))\" y=\"\(fmt(height - bottom + 16))\" font-size=\"\(axisSize)\" text-anchor=\"middle\">\(esc(m.name))</text>"
            }
        }
        return s + "</svg>\n<p class=\"legend\"><span><i style=\"background:\(colors[.manual] ?? "")\"></i>all messages</span><span><i style=\"background:\(colors[.automatic] ?? "")\"></i>automatic</span></p>\n"
    }

    static func table(_ rows: [AnalysisReport.Row], _ total: Int) -> String {
        var s = "<div class=\"scroll\"><table><tr><th></th><th class=\"n\">messages</th>" + outcomes.map { "<th class=\"n\">\(esc(label($0)))</th>" }.joined() + "</tr>"
        for r in rows {
            s += "<tr><td>\(esc(r.name))</td><td class=\"n\">\(num(r.counts.total))</td>" + outcomes.map { "<td class=\"n\">\(num(r.counts[$0]))</td>" }.joined() + "</tr>"
        }
        return s + "</table></div>\n"
    }

    static func fmt(_ d: Double) -> String { String(format: "%.1f", d) }
}
