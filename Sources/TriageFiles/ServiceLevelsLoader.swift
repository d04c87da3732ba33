import Foundation
import TOMLKit
import TriageMIME
public import TriageCore

/// Reads `service-levels.toml`: calendars, holiday lists, target groups and policies. Every problem is
/// reported with file, line and key; unknown keys are warnings.
///
/// ```toml
/// default_group = "administrative"
///
/// [calendars.business-hours]
/// time_zone = "Europe/Berlin"
/// weekdays = ["08:00-17:00"]          # or mon, tue, ... sun, every_day; several windows a day allowed
/// holidays = ["de"]
///
/// [holidays.de]
/// "01-01" = "Neujahr"                 # every year
/// "easter+1" = "Ostermontag"          # relative to Easter Sunday
/// "2027-10-31" = "Reformationstag"    # once
///
/// [groups.business-critical]
/// domains = ["grosskunde.example"]    # also senders = [...], mailboxes = [...]
///
/// [[policy]]
/// group = "business-critical"         # omit for any group
/// category = "order_info"             # omit for any category
/// calendar = "business-hours"
/// first_response = "2h"               # working time
/// resolution = "16h"
/// warn_at = 0.8
/// escalate_to = "teamlead@example.com"
/// acknowledge = true
/// priority = "high"
/// degree = "semi_automatic"           # the most automation allowed: automatic, semi_automatic, shadow, manual
/// ```
public enum ServiceLevelsLoader {
    static let dayKeys: [String: [Int]] = [
        "sun": [1], "mon": [2], "tue": [3], "wed": [4], "thu": [5], "fri": [6], "sat": [7],
        "weekdays": [2, 3, 4, 5, 6], "every_day": [1, 2, 3, 4, 5, 6, 7],
    ]
    static let policyKeys = ["group", "category", "calendar", "first_response", "resolution", "warn_at", "escalate_to", "acknowledge",
                             "priority", "degree"]

    public static func load(path: String, categories: [String]) throws -> (levels: ServiceLevels, warnings: [ConfigDiagnostic]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(diagnostics: [ConfigDiagnostic(.error, file: path, line: nil, keyPath: "",
                                                             "cannot read the service-levels file (missing, unreadable or not UTF-8)")])
        }
        return try parse(text: text, file: path, categories: categories)
    }

    public static func parse(text: String, file: String, categories: [String]) throws -> (levels: ServiceLevels, warnings: [ConfigDiagnostic]) {
        let locator = TOMLKeyLocator(text: text)
        let table = try tomlTable(text, file: file)
        var diags: [ConfigDiagnostic] = []
        func report(_ severity: ConfigDiagnostic.Severity, _ path: [String], _ message: String) {
            diags.append(ConfigDiagnostic(severity, file: file, line: locator.line(for: path), keyPath: Validator.pathString(path), message))
        }
        func strings(_ v: any TOMLValueConvertible, _ path: [String]) -> [String] {
            if let s = v.string { return [s] }
            guard let a = v.array else { report(.error, path, "must be a string or an array of strings"); return [] }
            return a.compactMap { x in
                if let s = x.string { return s }
                report(.error, path, "must contain only strings")
                return nil
            }
        }
        for key in table.keys where !["default_group", "calendars", "holidays", "groups", "policy"].contains(key) {
            report(.warning, [key], "unknown key (ignored)")
        }
        var levels = ServiceLevels()

        // Holiday lists.
        var holidayLists: [String: [Holiday]] = [:]
        for (name, value) in table["holidays"]?.table ?? TOMLTable() {
            guard let list = value.table else { report(.error, ["holidays", name], "must be a table of \"date\" = \"name\""); continue }
            var out: [Holiday] = []
            for (key, v) in list {
                guard let title = v.string else { report(.error, ["holidays", name, key], "must be the holiday's name"); continue }
                guard let rule = holidayRule(key) else {
                    report(.error, ["holidays", name, key], "\"\(key)\" is not MM-DD, YYYY-MM-DD or easter+N / easter-N")
                    continue
                }
                out.append(Holiday(title, rule))
            }
            holidayLists[name] = out
        }

        // Calendars.
        for (name, value) in table["calendars"]?.table ?? TOMLTable() {
            let p = ["calendars", name]
            guard let t = value.table else { report(.error, p, "must be a table"); continue }
            for key in t.keys where dayKeys[key] == nil && !["time_zone", "holidays"].contains(key) {
                report(.warning, p + [key], "unknown key (ignored)")
            }
            var zone: TimeZone?
            let zoneName = t["time_zone"]?.string
            if let z = zoneName {
                zone = TimeZone(identifier: z)
                if zone == nil { report(.error, p + ["time_zone"], "unknown time zone \"\(z)\" (use a tz database name such as Europe/Berlin)") }
            } else {
                report(.error, p + ["time_zone"], "missing key: every calendar needs a time_zone")
            }
            var week: [Int: [TimeWindow]] = [:]
            var windowLine: [Int: [String]] = [:]
            for (key, days) in dayKeys.sorted(by: { $0.key < $1.key }) {
                guard let v = t[key] else { continue }
                for w in strings(v, p + [key]) {
                    guard let window = TimeWindow(w) else {
                        report(.error, p + [key], "\"\(w)\" is not a window HH:MM-HH:MM")
                        continue
                    }
                    for d in days {
                        week[d, default: []].append(window)
                        windowLine[d, default: []].append(key)
                    }
                }
            }
            // Overlapping windows (also across midnight into the next day) are an error.
            for d in 1...7 {
                var spans: [(Int, Int, String)] = []  // minutes of the week
                for (i, w) in (week[d] ?? []).enumerated() {
                    let base = (d - 1) * 1440
                    spans.append((base + w.start, base + (w.spansMidnight ? w.end + 1440 : w.end), windowLine[d]![i]))
                }
                let prev = d == 1 ? 7 : d - 1
                for (i, w) in (week[prev] ?? []).enumerated() where w.spansMidnight {
                    spans.append(((d - 1) * 1440, (d - 1) * 1440 + w.end, windowLine[prev]![i]))
                }
                spans.sort { $0.0 < $1.0 }
                for (a, b) in zip(spans, spans.dropFirst()) where b.0 < a.1 {
                    report(.error, p + [b.2], "windows overlap on \(["", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][d])")
                    break
                }
            }
            if week.isEmpty { report(.error, p, "calendar \"\(name)\" has no window (mon ... sun, weekdays or every_day)") }
            var holidays: [Holiday] = []
            if let h = t["holidays"] {
                for list in strings(h, p + ["holidays"]) {
                    if let l = holidayLists[list] { holidays += l } else {
                        report(.error, p + ["holidays"], "unknown holiday list \"\(list)\"; known: \(holidayLists.keys.sorted().joined(separator: ", "))")
                    }
                }
            }
            if let zone { levels.calendars[name] = BusinessCalendar(name: name, timeZone: zone, zoneName: zoneName, week: week, holidays: holidays) }
        }

        // Target groups.
        let groupTable = table["groups"]?.table ?? TOMLTable()
        for name in groupTable.keys.sorted() {
            guard let value = groupTable[name] else { continue }
            let p = ["groups", name]
            guard let t = value.table else { report(.error, p, "must be a table"); continue }
            for key in t.keys where !["senders", "domains", "mailboxes"].contains(key) { report(.warning, p + [key], "unknown key (ignored)") }
            levels.groups.append(TargetGroup(name: name, senders: Set(t["senders"].map { strings($0, p + ["senders"]) } ?? []),
                                             domains: t["domains"].map { strings($0, p + ["domains"]) } ?? [],
                                             mailboxes: Set(t["mailboxes"].map { strings($0, p + ["mailboxes"]) } ?? [])))
        }
        let groupNames = Set(levels.groups.map(\.name))
        if let d = table["default_group"] {
            if let s = d.string, groupNames.contains(s) || s.isEmpty == false { levels.defaultGroup = s } else {
                report(.error, ["default_group"], "must be a group name")
            }
            if let s = d.string, !groupNames.contains(s) {
                report(.error, ["default_group"], "unknown group \"\(s)\"; known: \(groupNames.sorted().joined(separator: ", "))")
            }
        }

        // Policies.
        var seen: [String: Int] = [:]
        for (i, item) in (table["policy"]?.array ?? TOMLArray()).enumerated() {
            let p = ["policy", "\(i)"]
            guard let t = item.table else { report(.error, p, "must be a table"); continue }
            for key in t.keys where !policyKeys.contains(key) { report(.warning, p + [key], "unknown key (ignored)") }
            var ok = true
            func fail(_ key: String, _ m: String) {
                report(.error, p + [key], m)
                ok = false
            }
            let group = t["group"]?.string
            if let g = group, !groupNames.contains(g) { fail("group", "unknown group \"\(g)\"; known: \(groupNames.sorted().joined(separator: ", "))") }
            let category = t["category"]?.string
            if let c = category, !categories.contains(c) { fail("category", "unknown category \"\(c)\"; known: \(categories.joined(separator: ", "))") }
            let calendar = t["calendar"]?.string ?? ""
            if calendar.isEmpty { fail("calendar", "missing key: every policy names a calendar") }
            else if levels.calendars[calendar] == nil && !(table["calendars"]?.table?.contains(key: calendar) ?? false) {
                fail("calendar", "unknown calendar \"\(calendar)\"; known: \((table["calendars"]?.table?.keys ?? []).sorted().joined(separator: ", "))")
            }
            func duration(_ key: String) -> Int64? {
                guard let v = t[key] else { return nil }
                guard let s = v.string, let d = DurationText.parse(s), d > .zero else {
                    fail(key, "must be a duration such as \"30m\", \"4h\" or \"2h30m\" (working time)")
                    return nil
                }
                return d.components.seconds
            }
            let first = duration("first_response")
            if t["first_response"] == nil { fail("first_response", "missing key: every policy needs a first_response time") }
            let resolution = duration("resolution")
            var warnAt = 0.8
            if let w = t["warn_at"] {
                if let d = w.double ?? w.int.map(Double.init), d > 0, d <= 1 { warnAt = d } else { fail("warn_at", "must be a number above 0 and at most 1 (0.8 = 80%)") }
            }
            let escalate = t["escalate_to"]?.string
            if let e = escalate, MailAddress.parseList(e).count != 1 || e.contains("\n") { fail("escalate_to", "must be one e-mail address") }
            var acknowledge = false
            if let a = t["acknowledge"] { if let b = a.bool { acknowledge = b } else { fail("acknowledge", "must be true or false") } }
            var degree: AutomationDegree?
            if let d = t["degree"] {
                if let s = d.string, let deg = AutomationDegree(rawValue: s) { degree = deg } else {
                    fail("degree", "must be one of \(AutomationDegree.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            let key = "\(group ?? "*")/\(category ?? "*")"
            if let before = seen[key] { fail(group == nil && category == nil ? "calendar" : (category == nil ? "group" : "category"),
                                             "a second policy for \(key) (the first is policy[\(before)])") }
            seen[key] = i
            if ok, let first {
                levels.policies.append(ServicePolicy(group: group, category: category, calendar: calendar, firstResponse: first,
                                                     resolution: resolution, warnAt: warnAt, escalateTo: escalate, acknowledge: acknowledge,
                                                     priority: t["priority"]?.string, degree: degree))
            }
        }
        if diags.contains(where: { $0.severity == .error }) { throw ConfigError(diagnostics: diags) }
        return (levels, diags)
    }

    /// `MM-DD` (yearly), `YYYY-MM-DD` (once), `easter+N` / `easter-N` (days from Easter Sunday).
    static func holidayRule(_ key: String) -> Holiday.Rule? {
        if key.hasPrefix("easter") {
            let rest = key.dropFirst(6)
            if rest.isEmpty { return .easter(offset: 0) }
            guard let n = Int(rest.hasPrefix("+") ? rest.dropFirst() : rest), abs(n) < 200 else { return nil }
            return .easter(offset: n)
        }
        let parts = key.split(separator: "-").map { Int($0) }
        guard parts.allSatisfy({ $0 != nil }) else { return nil }
        let n = parts.map { $0! }
        switch n.count {
        case 2 where (1...12).contains(n[0]) && (1...31).contains(n[1]): return .yearly(month: n[0], day: n[1])
        case 3 where n[0] > 1900 && (1...12).contains(n[1]) && (1...31).contains(n[2]): return .date(year: n[0], month: n[1], day: n[2])
        default: return nil
        }
    }
}
