/// RFC 5322 date-time parsing, lenient about day names, seconds, obsolete and missing zones.
public enum MailDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "edt": -4 * 60, "est": -5 * 60, "cdt": -5 * 60, "cst": -6 * 60,
        "mdt": -6 * 60, "mst": -7 * 60, "pdt": -7 * 60, "pst": -8 * 60, "cet": 60, "cest": 120, "met": 60, "mest": 120,
    ]

    /// Seconds since 1970-01-01 UTC, or nil when the value cannot be read as a date.
    public static func parse(_ raw: String) -> Int64? {
        var s = raw
        if let paren = s.firstIndex(of: "(") { s = String(s[..<paren]) }  // trailing "(CET)" comments
        var tokens = s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == "\n" }).map { String($0) }
        if let f = tokens.first, f.first?.isLetter == true, months.firstIndex(of: String(f.prefix(3)).lowercased()) == nil {
            tokens.removeFirst()  // day name
        }
        guard tokens.count >= 4 else { return nil }
        var day: Int?, month: Int?, year: Int?
        // "12 Mar 2024" or "Mar 12 2024" (asctime-like)
        if let d = Int(tokens[0]), let m = monthIndex(tokens[1]) { day = d; month = m; year = Int(tokens[2]) }
        else if let m = monthIndex(tokens[0]), let d = Int(tokens[1]) {
            day = d; month = m
            year = Int(tokens[2]) ?? tokens.dropFirst(3).compactMap { Int($0) }.first
        }
        guard var y = year, let mo = month, let d = day, (1...31).contains(d) else { return nil }
        if y < 50 { y += 2000 } else if y < 1000 { y += 1900 }
        guard let timeTok = tokens.first(where: { $0.contains(":") }) else { return nil }
        let hms = timeTok.split(separator: ":").map { Int($0) }
        guard hms.count >= 2, let h = hms[0], let mi = hms[1], (0...23).contains(h), (0...59).contains(mi) else { return nil }
        let sec = hms.count > 2 ? (hms[2] ?? 0) : 0
        var offsetMinutes = 0
        if let ti = tokens.firstIndex(of: timeTok), ti + 1 < tokens.count {
            let z = tokens[ti + 1]
            if (z.hasPrefix("+") || z.hasPrefix("-")), z.count == 5, let v = Int(z.dropFirst()) {
                offsetMinutes = (v / 100) * 60 + v % 100
                if z.hasPrefix("-") { offsetMinutes = -offsetMinutes }
            } else if let known = zones[z.lowercased()] {
                offsetMinutes = known
            }
        }
        let days = daysFromCivil(y, mo + 1, d)
        return Int64(days) * 86400 + Int64(h * 3600 + mi * 60 + min(sec, 60)) - Int64(offsetMinutes * 60)
    }

    static func monthIndex(_ t: String) -> Int? { months.firstIndex(of: String(t.prefix(3)).lowercased()) }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's civil algorithm).
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
