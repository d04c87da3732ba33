import Foundation
import Testing
@testable import TriageCore

/// Due times in working time, on fixed instants: weekends, Easter, Whit Monday, daylight saving in March and
/// October, windows past midnight, several windows a day, pauses, 24/7.
@Suite struct CalendarTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let vienna = TimeZone(identifier: "Europe/Vienna")!

    static let germany: [Holiday] = [
        Holiday("Neujahr", .yearly(month: 1, day: 1)), Holiday("Karfreitag", .easter(offset: -2)),
        Holiday("Ostermontag", .easter(offset: 1)), Holiday("Tag der Arbeit", .yearly(month: 5, day: 1)),
        Holiday("Christi Himmelfahrt", .easter(offset: 39)), Holiday("Pfingstmontag", .easter(offset: 50)),
        Holiday("Tag der Deutschen Einheit", .yearly(month: 10, day: 3)), Holiday("1. Weihnachtstag", .yearly(month: 12, day: 25)),
        Holiday("2. Weihnachtstag", .yearly(month: 12, day: 26)),
    ]

    static func office(_ zone: TimeZone = berlin, windows: [TimeWindow] = [TimeWindow("08:00-17:00")!], holidays: [Holiday] = germany)
        -> BusinessCalendar
    {
        BusinessCalendar(name: "office", timeZone: zone, week: Dictionary(uniqueKeysWithValues: (2...6).map { ($0, windows) }),
                         holidays: holidays)
    }

    /// A local time in `zone`: "2027-03-25 16:00".
    static func at(_ s: String, _ zone: TimeZone = berlin) -> Date {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.date(from: s)!
    }

    static func local(_ d: Date, _ zone: TimeZone = berlin) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }

    @Test(arguments: [(2000, 4, 23), (2019, 4, 21), (2024, 3, 31), (2025, 4, 20), (2026, 4, 5), (2027, 3, 28), (2038, 4, 25)])
    func easterSunday(year: Int, month: Int, day: Int) {
        let e = Holiday.easterSunday(year: year)
        #expect(e.month == month && e.day == day)
    }

    static let officeCases: [(String, Int64, String)] = [
        // Friday afternoon into Monday across the weekend.
        ("2026-12-04 16:00", 4 * 3600, "2026-12-07 11:00"),
        // Saturday: outside every window, the clock starts on Monday.
        ("2026-12-05 10:00", 3600, "2026-12-07 09:00"),
        // Thursday before Easter 2027: Good Friday and Easter Monday are skipped.
        ("2027-03-25 16:00", 2 * 3600, "2027-03-30 09:00"),
        // Friday before Whitsun 2027: Whit Monday (17 May) is skipped.
        ("2027-05-14 16:30", 3600, "2027-05-18 08:30"),
        // Christmas and New Year.
        ("2026-12-24 16:00", 2 * 3600, "2026-12-28 09:00"),
        // Within one day.
        ("2026-12-01 09:15", 90 * 60, "2026-12-01 10:45"),
        // Exactly at the close: the next morning.
        ("2026-12-01 17:00", 60, "2026-12-02 08:01"),
    ]

    @Test(arguments: CalendarTests.officeCases)
    func businessHours(received: String, seconds: Int64, due: String) throws {
        let d = try #require(Self.office().adding(seconds, to: Self.at(received)))
        #expect(Self.local(d.due) == due)
    }

    @Test func theExplanationNamesTheSkippedDays() throws {
        let d = try #require(Self.office(Self.vienna, holidays: Self.germany).adding(2 * 3600, to: Self.at("2027-03-25 16:40", Self.vienna)))
        #expect(Self.local(d.due, Self.vienna) == "2027-03-30 09:40")
        #expect(d.skippedHolidays.map(\.name) == ["Karfreitag", "Ostermontag"])
        #expect(d.description == "received Thu 16:40 Europe/Vienna; 20 min left that day; Fri is Karfreitag; Mon is Ostermontag; due Tue 09:40")
        let weekend = try #require(Self.office().adding(3600, to: Self.at("2026-12-05 10:00")))
        #expect(weekend.opens == Self.at("2026-12-07 08:00"))
        #expect(weekend.description.contains("outside working hours; the clock starts Mon 08:00"))
    }

    @Test(arguments: [("Europe/Vienna", "2027-03-27 22:00", "2027-03-28 05:00"), ("Europe/Berlin", "2027-03-27 22:00", "2027-03-28 05:00"),
                      ("Europe/Vienna", "2027-10-30 22:00", "2027-10-31 03:00"), ("Europe/Berlin", "2027-10-30 22:00", "2027-10-31 03:00")])
    func daylightSavingAroundTheClock(zone: String, received: String, due: String) throws {
        // Six real hours: in March the night has one hour less on the clock, in October one more.
        let tz = TimeZone(identifier: zone)!
        let cal = BusinessCalendar.always(timeZone: tz)
        let d = try #require(cal.adding(6 * 3600, to: Self.at(received, tz)))
        #expect(Self.local(d.due, tz) == due)
        #expect(d.due.timeIntervalSince(Self.at(received, tz)) == 6 * 3600)
    }

    @Test func daylightSavingDaysKeepTheirOfficeHours() throws {
        // Monday after each switch: nine working hours from 08:00 to 17:00 local time.
        for day in ["2027-03-29", "2027-11-01"] {
            let d = try #require(Self.office(Self.vienna, holidays: []).adding(9 * 3600, to: Self.at("\(day) 08:00", Self.vienna)))
            #expect(Self.local(d.due, Self.vienna) == "\(day) 17:00")
        }
        // Friday 16:00 before the March switch, 2 h: Monday 09:00 although the weekend lost an hour.
        let d = try #require(Self.office(Self.vienna, holidays: []).adding(2 * 3600, to: Self.at("2027-03-26 16:00", Self.vienna)))
        #expect(Self.local(d.due, Self.vienna) == "2027-03-29 09:00")
    }

    @Test func aWindowAcrossMidnight() throws {
        let night = BusinessCalendar(name: "night", timeZone: Self.berlin,
                                     week: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [TimeWindow("22:00-06:00")!]) }))
        let d = try #require(night.adding(2 * 3600, to: Self.at("2026-12-07 05:00")))
        #expect(Self.local(d.due) == "2026-12-07 23:00")
        let overnight = try #require(night.adding(5 * 3600, to: Self.at("2026-12-07 23:00")))
        #expect(Self.local(overnight.due) == "2026-12-08 04:00")
        #expect(night.workingTime(from: Self.at("2026-12-07 20:00"), to: Self.at("2026-12-08 08:00")) == 8 * 3600)
    }

    @Test func severalWindowsADay() throws {
        let split = Self.office(windows: [TimeWindow("08:00-12:00")!, TimeWindow("13:00-17:00")!])
        #expect(Self.local(try #require(split.adding(2 * 3600, to: Self.at("2026-12-01 11:00"))).due) == "2026-12-01 14:00")
        #expect(Self.local(try #require(split.adding(3600, to: Self.at("2026-12-01 12:15"))).due) == "2026-12-01 14:00")
    }

    @Test func aPauseWhileWaitingOnTheCustomer() throws {
        let cal = Self.office()
        let due = try #require(cal.adding(8 * 3600, to: Self.at("2026-12-07 09:00"))).due
        #expect(Self.local(due) == "2026-12-07 17:00")
        // Paused at 12:00 with five working hours left; the customer answers Tuesday 10:00.
        let resumed = try #require(cal.resuming(due: due, pausedAt: Self.at("2026-12-07 12:00"), resumedAt: Self.at("2026-12-08 10:00")))
        #expect(Self.local(resumed.due) == "2026-12-08 15:00")
    }

    @Test func aroundTheClock() throws {
        let cal = BusinessCalendar.always(timeZone: Self.berlin)
        let start = Self.at("2026-12-25 03:10")
        #expect(try #require(cal.adding(90 * 60, to: start)).due == start.addingTimeInterval(90 * 60))
        #expect(cal.workingTime(from: start, to: start.addingTimeInterval(86_400 * 3)) == 86_400 * 3)
    }
}
