public import Foundation

/// An opening window of one weekday, in minutes from local midnight. `end <= start` means the window
/// runs past midnight into the next day (22:00-06:00).
public struct TimeWindow: Sendable, Equatable, Codable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Parses `HH:MM-HH:MM` (24:00 allowed as an end).
    public init?(_ text: String) {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let a = TimeWindow.minutes(parts[0]), let b = TimeWindow.minutes(parts[1]), a < 1440, a != b else { return nil }
        start = a
        end = b
    }

    static func minutes(_ s: String) -> Int? {
        let hm = s.split(separator: ":")
        guard hm.count == 2, hm[0].count <= 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m),
              h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    public var spansMidnight: Bool { end <= start }

    public var description: String {
        func f(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
        return "\(f(start))-\(f(end))"
    }
}

/// A day off: a fixed date, a date every year, or a day relative to Easter Sunday (Good Friday is -2,
/// Easter Monday 1, Ascension 39, Whit Monday 50, Corpus Christi 60).
public struct Holiday: Sendable, Equatable, Codable {
    public enum Rule: Sendable, Equatable, Codable {
        case date(year: Int, month: Int, day: Int)
        case yearly(month: Int, day: Int)
        case easter(offset: Int)
    }

    public var name: String
    public var rule: Rule

    public init(_ name: String, _ rule: Rule) {
        self.name = name
        self.rule = rule
    }

    /// Whether the holiday falls on this local date.
    public func falls(year: Int, month: Int, day: Int) -> Bool {
        switch rule {
        case .date(let y, let m, let d): return y == year && m == month && d == day
        case .yearly(let m, let d): return m == month && d == day
        case .easter(let offset):
            let e = Holiday.easterSunday(year: year)
            return Holiday.ordinal(year, month, day) - Holiday.ordinal(year, e.month, e.day) == offset
        }
    }

    /// Easter Sunday of the Gregorian calendar (the anonymous Gregorian computus).
    public static func easterSunday(year y: Int) -> (month: Int, day: Int) {
        let a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4
        let f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return (month, day)
    }

    /// Day of the year (1-based) in the proleptic Gregorian calendar: for distances within one year.
    static func ordinal(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        return before[m - 1] + d + (leap && m > 2 ? 1 : 0)
    }
}

/// When a team works: a time zone, opening windows per weekday, and holidays. Due times are counted in
/// working time, in the calendar's zone, with Foundation's `Calendar` and tzdata (daylight saving included).
public struct BusinessCalendar: Sendable {
    public var name: String
    public var timeZone: TimeZone
    /// The zone as configured ("UTC" stays "UTC", where Foundation would say "GMT").
    public var zoneName: String
    /// Windows per weekday as Foundation numbers them: 1 = Sunday ... 7 = Saturday.
    public var week: [Int: [TimeWindow]]
    public var holidays: [Holiday]

    public init(name: String, timeZone: TimeZone, zoneName: String? = nil, week: [Int: [TimeWindow]], holidays: [Holiday] = []) {
        self.name = name
        self.timeZone = timeZone
        self.zoneName = zoneName ?? timeZone.identifier
        self.week = week
        self.holidays = holidays
    }

    /// Open around the clock, every day.
    public static func always(name: String = "24x7", timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> BusinessCalendar {
        BusinessCalendar(name: name, timeZone: timeZone, week: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [TimeWindow(start: 0, end: 1440)]) }))
    }

    var gregorian: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        return c
    }

    /// The holiday on the local day that starts at `dayStart`, if any.
    public func holiday(on dayStart: Date) -> Holiday? {
        let d = gregorian.dateComponents([.year, .month, .day], from: dayStart)
        return holidays.first { $0.falls(year: d.year!, month: d.month!, day: d.day!) }
    }

    /// The open intervals that lie on the local day starting at `dayStart`: its own windows, and the part
    /// after midnight of a window of the day before that runs past midnight. None on a holiday.
    public func openIntervals(dayStart: Date) -> [Range<Date>] {
        let cal = gregorian
        guard holiday(on: dayStart) == nil, let next = cal.date(byAdding: .day, value: 1, to: dayStart) else { return [] }
        let weekday = cal.component(.weekday, from: dayStart)
        let previous = weekday == 1 ? 7 : weekday - 1
        func at(_ minutes: Int) -> Date {
            minutes >= 1440 ? next : cal.date(bySettingHour: minutes / 60, minute: minutes % 60, second: 0, of: dayStart) ?? dayStart
        }
        var out: [Range<Date>] = []
        for w in week[previous] ?? [] where w.spansMidnight && w.end > 0 { out.append(dayStart..<at(w.end)) }
        for w in week[weekday] ?? [] {
            let a = at(w.start), b = w.spansMidnight ? next : at(w.end)
            if a < b { out.append(a..<b) }
        }
        out.sort { $0.lowerBound < $1.lowerBound }
        // Overlaps are a configuration error (check-config refuses them); merge them here all the same.
        var merged: [Range<Date>] = []
        for r in out {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        return merged
    }

    /// The moment `seconds` of working time after `start`, with what happened on the way; nil when the
    /// calendar has no opening in the next two years.
    public func adding(_ seconds: Int64, to start: Date) -> DueTime? {
        let cal = gregorian
        var remaining = Double(seconds)
        var day = cal.startOfDay(for: start)
        var skipped: [DueTime.SkippedHoliday] = []
        var firstOpening: Date?
        for _ in 0..<(366 * 2) {
            if let h = holiday(on: day), !(week[cal.component(.weekday, from: day)] ?? []).isEmpty {
                skipped.append(.init(day: day, name: h.name))
            }
            for r in openIntervals(dayStart: day) where r.upperBound > start {
                let from = max(r.lowerBound, start)
                if firstOpening == nil { firstOpening = from }
                let available = r.upperBound.timeIntervalSince(from)
                if remaining <= available {
                    let startDay = cal.startOfDay(for: start)
                    let left = cal.date(byAdding: .day, value: 1, to: startDay).map { workingTime(from: start, to: $0) } ?? 0
                    return DueTime(calendar: name, timeZone: zoneName, received: start, opens: firstOpening!,
                                   due: from.addingTimeInterval(remaining), skippedHolidays: skipped, leftOnReceivedDay: left)
                }
                remaining -= available
            }
            guard let next = cal.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = next
        }
        return nil
    }

    /// Working time between two moments, in seconds.
    public func workingTime(from a: Date, to b: Date) -> Int64 {
        guard a < b else { return 0 }
        let cal = gregorian
        var day = cal.startOfDay(for: a)
        var total = 0.0
        while day < b {
            for r in openIntervals(dayStart: day) {
                let lo = max(r.lowerBound, a), hi = min(r.upperBound, b)
                if lo < hi { total += hi.timeIntervalSince(lo) }
            }
            guard let next = cal.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return Int64(total.rounded())
    }

    /// The due time after a pause (waiting on the customer from `pausedAt` to `resumedAt`): the working
    /// time that was left at the pause counts again from the resumption.
    public func resuming(due: Date, pausedAt: Date, resumedAt: Date) -> DueTime? {
        adding(workingTime(from: pausedAt, to: due), to: resumedAt)
    }
}

/// A due time and how it came about, for the reasons a person reads.
public struct DueTime: Sendable, Equatable, Codable, CustomStringConvertible {
    public struct SkippedHoliday: Sendable, Equatable, Codable {
        public var day: Date
        public var name: String
    }

    public var calendar: String
    public var timeZone: String
    public var received: Date
    /// When the clock started running (the received time, or the next opening).
    public var opens: Date
    public var due: Date
    public var skippedHolidays: [SkippedHoliday]
    /// Working time left on the day it was received.
    public var leftOnReceivedDay: Int64

    public init(calendar: String, timeZone: String, received: Date, opens: Date, due: Date, skippedHolidays: [SkippedHoliday],
                leftOnReceivedDay: Int64)
    {
        self.calendar = calendar
        self.timeZone = timeZone
        self.received = received
        self.opens = opens
        self.due = due
        self.skippedHolidays = skippedHolidays
        self.leftOnReceivedDay = leftOnReceivedDay
    }

    /// "received Fri 16:40 Europe/Vienna; 20 min left today; Mon is Easter Monday; due Tue 08:40".
    public var description: String {
        let zone = TimeZone(identifier: timeZone) ?? .gmt
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "EEE HH:mm"
        let day = DateFormatter()
        day.locale = f.locale
        day.timeZone = zone
        day.dateFormat = "EEE"
        var parts = ["received \(f.string(from: received)) \(timeZone)"]
        let cal: Calendar = {
            var c = Calendar(identifier: .gregorian)
            c.timeZone = zone
            return c
        }()
        if opens > received {
            parts.append("outside working hours; the clock starts \(f.string(from: opens))")
        } else if !cal.isDate(received, inSameDayAs: due) {
            parts.append("\(leftOnReceivedDay / 60) min left that day")
        }
        for h in skippedHolidays { parts.append("\(day.string(from: h.day)) is \(h.name)") }
        parts.append("due \(f.string(from: due))")
        return parts.joined(separator: "; ")
    }
}
