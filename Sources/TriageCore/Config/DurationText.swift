/// Durations as operators write them: "90s", "5m", "1h30m", "250ms", "2d".
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingCharacters(in: " ")
        guard !s.isEmpty else { return nil }
        var total: Duration = .zero
        var number = ""
        var unit = ""
        var sawAny = false
        func commit() -> Bool {
            guard let n = Double(number), n >= 0 else { return false }
            let seconds: Double
            switch unit {
            case "ms": seconds = n / 1000
            case "s", "sec": seconds = n
            case "m", "min": seconds = n * 60
            case "h": seconds = n * 3600
            case "d": seconds = n * 86400
            default: return false
            }
            total += .milliseconds(Int64((seconds * 1000).rounded()))
            sawAny = true
            number = ""
            unit = ""
            return true
        }
        for ch in s {
            if ch.isNumber || ch == "." {
                if !unit.isEmpty { guard commit() else { return nil } }
                number.append(ch)
            } else if ch.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(ch)
            } else { return nil }
        }
        guard !number.isEmpty, commit() else { return nil }
        return sawAny ? total : nil
    }

    /// A short human form, e.g. "1m30s".
    public static func format(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        var s = ms / 1000
        var out = ""
        for (unit, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60)] where s >= size {
            out += "\(s / size)\(unit)"
            s %= size
        }
        if s > 0 || out.isEmpty { out += "\(s)s" }
        return out
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var sub = Substring(self)
        while sub.first == set { sub.removeFirst() }
        while sub.last == set { sub.removeLast() }
        return String(sub)
    }
}
