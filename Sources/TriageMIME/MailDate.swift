/// RFC 5322 date-time parsing, lenient about day names, seconds, obsolete and missing zones.
public enum MailDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "edt": -4 * 60, "est": -5 * 60, "cdt": -5 * 60, "cst": -6 * 60,
        "mdt": -6 * 60, "mst": -7 * 60, "pdt": -7 * 60, "pst": -8 * 60, "cet": 60, "cest": 120, "met": 60, "mest": 120,
        "mez": 60, "mesz": 120, "bst": 60, "ist": 330, "jst": 540, "eet": 120, "eest": 180, "wet": 0, "west": 60,
    ]

    /// Seconds since 1970-01-01 UTC, or nil when the value cannot be read as a date. Besides RFC 5322
    /// and its obsolete forms (two-digit years, named and military zones) this reads asctime dates,
    /// "04-Mar-2025", ISO 8601, "+01:00" offsets and "09.30" times.
    public static func parse(_ raw: String) -> Int64? {
        var r = raw
        // ASCII without line feeds (every real Date field): bytes are characters, read as bytes.
        if let result = r.withUTF8({ b -> Int64?? in
            for c in b where c >= 0x80 || c == 0x0A { return .none }
            return .some(parse(ascii: b))
        }) {
            return result
        }
        return parseCharacters(raw)
    }

    /// `parse` by characters, for a value with non-ASCII characters or line feeds.
    static func parseCharacters(_ raw: String) -> Int64? {
        var s = raw
        if let paren = s.firstIndex(of: "(") { s = String(s[..<paren]) }  // trailing "(CET)" comments
        if let iso = parseISO(s) { return iso }
        var tokens: [String] = []
        for t in s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == "\n" }) {
            // "04-Mar-2025" is three tokens
            let dashed = t.split(separator: "-", omittingEmptySubsequences: false)
            if dashed.count == 3, Int(dashed[0]) != nil, monthIndex(String(dashed[1])) != nil, Int(dashed[2]) != nil {
                tokens += dashed.map(String.init)
            } else {
                tokens.append(String(t))
            }
        }
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
        let timeIndex = tokens.firstIndex { $0.contains(":") }
            ?? tokens.indices.dropFirst(2).first { k in tokens[k].split(separator: ".").count >= 2 && tokens[k].split(separator: ".").allSatisfy { Int($0) != nil } }
        guard let ti = timeIndex else { return nil }
        let hms = tokens[ti].split(whereSeparator: { $0 == ":" || $0 == "." }).map { Int($0) }
        guard hms.count >= 2, let h = hms[0], let mi = hms[1], (0...23).contains(h), (0...59).contains(mi) else { return nil }
        let sec = hms.count > 2 ? (hms[2] ?? 0) : 0
        var offsetMinutes = 0
        if ti + 1 < tokens.count {
            offsetMinutes = zoneOffset(tokens[ti + 1]) ?? 0
        }
        let days = daysFromCivil(y, mo + 1, d)
        return Int64(days) * 86400 + Int64(h * 3600 + mi * 60 + min(sec, 60)) - Int64(offsetMinutes * 60)
    }

    /// `parse` on an ASCII value without line feeds, step for step as `parseCharacters` reads it; tokens are
    /// ranges of `b`.
    static func parse(ascii b: UnsafeBufferPointer<UInt8>) -> Int64? {
        let end = ByteSearch.index(of: 0x28, in: b, from: 0, to: b.count) ?? b.count  // trailing "(CET)" comments
        if let iso = parseISO(ascii: b, end) { return iso }
        var tokens: [Range<Int>] = []
        for t in split(b, 0..<end, at: { $0 == 0x20 || $0 == 0x09 || $0 == 0x2C || $0 == 0x0D }) {
            // "04-Mar-2025" is three tokens
            let dashed = split(b, t, at: { $0 == 0x2D }, keepEmpty: true)
            if dashed.count == 3, int(b, dashed[0]) != nil, monthIndex(b, dashed[1]) != nil, int(b, dashed[2]) != nil {
                tokens += dashed
            } else {
                tokens.append(t)
            }
        }
        if let f = tokens.first, ASCII.lower(b[f.lowerBound]) >= 0x61, ASCII.lower(b[f.lowerBound]) <= 0x7A, monthIndex(b, f) == nil {
            tokens.removeFirst()  // day name
        }
        guard tokens.count >= 4 else { return nil }
        var day: Int?, month: Int?, year: Int?
        // "12 Mar 2024" or "Mar 12 2024" (asctime-like)
        if let d = int(b, tokens[0]), let m = monthIndex(b, tokens[1]) { day = d; month = m; year = int(b, tokens[2]) }
        else if let m = monthIndex(b, tokens[0]), let d = int(b, tokens[1]) {
            day = d; month = m
            year = int(b, tokens[2]) ?? tokens.dropFirst(3).lazy.compactMap { int(b, $0) }.first
        }
        guard var y = year, let mo = month, let d = day, (1...31).contains(d) else { return nil }
        if y < 50 { y += 2000 } else if y < 1000 { y += 1900 }
        let timeIndex = tokens.firstIndex { ByteSearch.index(of: 0x3A, in: b, from: $0.lowerBound, to: $0.upperBound) != nil }
            ?? tokens.indices.dropFirst(2).first { k in
                let parts = split(b, tokens[k], at: { $0 == 0x2E })
                return parts.count >= 2 && parts.allSatisfy { int(b, $0) != nil }
            }
        guard let ti = timeIndex else { return nil }
        let hms = split(b, tokens[ti], at: { $0 == 0x3A || $0 == 0x2E }).map { int(b, $0) }
        guard hms.count >= 2, let h = hms[0], let mi = hms[1], (0...23).contains(h), (0...59).contains(mi) else { return nil }
        let sec = hms.count > 2 ? (hms[2] ?? 0) : 0
        var offsetMinutes = 0
        if ti + 1 < tokens.count {
            offsetMinutes = zoneOffset(String(decoding: b[tokens[ti + 1]], as: UTF8.self)) ?? 0
        }
        let days = daysFromCivil(y, mo + 1, d)
        return Int64(days) * 86400 + Int64(h * 3600 + mi * 60 + min(sec, 60)) - Int64(offsetMinutes * 60)
    }

    /// The pieces of `b[r]` between separator bytes (empty ones left out unless `keepEmpty`), as `split` gives them.
    static func split(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, at isSeparator: (UInt8) -> Bool,
                      keepEmpty: Bool = false) -> [Range<Int>]
    {
        var out: [Range<Int>] = []
        var start = r.lowerBound
        for k in r where isSeparator(b[k]) {
            if keepEmpty || k > start { out.append(start..<k) }
            start = k + 1
        }
        if keepEmpty || r.upperBound > start { out.append(start..<r.upperBound) }
        return out
    }

    /// `Int(String(...))` on ASCII bytes: an optional sign, then decimal digits only; nil on overflow.
    static func int(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        var k = r.lowerBound
        var negative = false
        if k < r.upperBound && (b[k] == 0x2B || b[k] == 0x2D) { negative = b[k] == 0x2D; k += 1 }
        guard k < r.upperBound else { return nil }
        var v = 0
        while k < r.upperBound {
            let c = b[k]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (n, o2) = negative ? m.subtractingReportingOverflow(Int(c - 0x30)) : m.addingReportingOverflow(Int(c - 0x30))
            guard !o1 && !o2 else { return nil }
            v = n
            k += 1
        }
        return v
    }

    /// The month (0...11) whose name the token starts with, in any case.
    static func monthIndex(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        guard r.count >= 3 else { return nil }
        let key = (ASCII.lower(b[r.lowerBound]), ASCII.lower(b[r.lowerBound + 1]), ASCII.lower(b[r.lowerBound + 2]))
        return monthBytes.firstIndex { $0 == key }
    }

    static let monthBytes: [(UInt8, UInt8, UInt8)] = months.map { m in
        let u = Array(m.utf8)
        return (u[0], u[1], u[2])
    }

    /// "+0100", "-05:00", named zones; military letters and unknown names mean UTC (RFC 5322 4.3).
    static func zoneOffset(_ z0: String) -> Int? {
        var z = z0
        if z.count == 6, z.dropFirst(3).first == ":" { z.remove(at: z.index(z.startIndex, offsetBy: 3)) }
        if (z.hasPrefix("+") || z.hasPrefix("-")), z.count == 5, let v = Int(z.dropFirst()) {
            let minutes = (v / 100) * 60 + v % 100
            return z.hasPrefix("-") ? -minutes : minutes
        }
        return zones[z.lowercased()]
    }

    /// `parseISO` on the ASCII bytes `b[..<end]`.
    static func parseISO(ascii b: UnsafeBufferPointer<UInt8>, _ end: Int) -> Int64? {
        var lo = 0, hi = end
        while lo < hi && b[lo].isASCIISpace { lo += 1 }
        while hi > lo && b[hi - 1].isASCIISpace { hi -= 1 }
        guard hi - lo >= 16, b[lo + 4] == 0x2D else { return nil }  // not ISO: no String made
        return parseISO(String(decoding: b[lo..<hi], as: UTF8.self))
    }

    /// "2025-03-04T08:30:00Z", "2025-03-04 09:30:00 +0100".
    static func parseISO(_ s0: String) -> Int64? {
        let s = s0.trimmingASCIISpace()
        let u = Array(s.utf8)
        guard u.count >= 16, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54 || u[10] == 0x20 || u[10] == 0x74 else { return nil }
        func num(_ r: Range<Int>) -> Int? { Int(String(decoding: u[r], as: UTF8.self)) }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), u[13] == 0x3A,
              let mi = num(14..<16), (1...12).contains(mo), (1...31).contains(d), (0...23).contains(h), (0...59).contains(mi)
        else { return nil }
        var k = 16
        var sec = 0
        if k + 2 < u.count + 0, k < u.count, u[k] == 0x3A, let sv = num((k + 1)..<min(k + 3, u.count)) { sec = sv; k += 3 }
        while k < u.count && (u[k] == 0x2E || (u[k] >= 0x30 && u[k] <= 0x39)) { k += 1 }  // fractions
        let rest = String(decoding: u[k...], as: UTF8.self).trimmingASCIISpace()
        let offset = rest.isEmpty ? 0 : (zoneOffset(rest) ?? 0)
        return Int64(daysFromCivil(y, mo, d)) * 86400 + Int64(h * 3600 + mi * 60 + min(sec, 60)) - Int64(offset * 60)
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
