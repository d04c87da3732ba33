#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock times as text for log lines and the status line, with the C library's `gmtime_r` and
/// `localtime_r` (tzdata, `$TZ`) rather than Foundation's date formatters: those load ICU's calendars, time
/// zones, locale data and number formats, several MiB of pages that an idle daemon would otherwise touch
/// on every status update.
enum ClockText {
    /// "2026-12-01T10:00:00Z" (RFC 3339, UTC, whole seconds).
    static func utc(_ seconds: Int64) -> String {
        guard let t = broken(seconds, local: false) else { return "\(seconds)" }
        return "\(t.year)-\(pad(t.month))-\(pad(t.day))T\(pad(t.hour)):\(pad(t.minute)):\(pad(t.second))Z"
    }

    /// "12:03:04" in the local time zone.
    static func localTimeOfDay(_ seconds: Int64) -> String {
        guard let t = broken(seconds, local: true) else { return "\(seconds)" }
        return "\(pad(t.hour)):\(pad(t.minute)):\(pad(t.second))"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private static func broken(_ seconds: Int64, local: Bool) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)? {
        #if canImport(Glibc)
        var t = time_t(seconds)
        var parts = tm()
        guard (local ? localtime_r(&t, &parts) : gmtime_r(&t, &parts)) != nil else { return nil }
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        #else
        return nil
        #endif
    }
}
