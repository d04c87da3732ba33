/// The request in a message's new text, for reading what the customer asks: without the greeting at the
/// top ("Hallo,", "Sehr geehrte Damen und Herren,", "Hi team,") and without the closing block at the
/// bottom: the sign-off ("Viele Grüße", "MfG", "Kind regards", "Thanks,"), the name, the signature and a
/// disclaimer, which carry no question but dilute the evidence. German and English; unmarked (no "-- ").
///
/// Conservative: a greeting is only a line (or the start of a line, up to its comma) that begins with a
/// greeting word; a closing block starts at a short line that is a sign-off, followed by at most ten short
/// lines. When nothing would be left, the text is returned unchanged.
public enum RequestText {
    public static func of(_ text: String) -> String {
        // By scalars, not characters: splitting and trimming by grapheme clusters cost a fifth of a decision. The line
        // ends are found on the UTF-8 bytes (the generic split over scalars took 8 % of ingest's CPU time).
        var lines: [Substring] = []
        let bytes = text.utf8, scalars = text.unicodeScalars
        // Line ends by byte offset in the contiguous UTF-8 (the generic search over the view costs far more).
        var ends: [Int] = []
        var t = text
        t.withUTF8 { buf in
            for (k, b) in buf.enumerated() where b == 0x0A { ends.append(k) }
        }
        var start = bytes.startIndex
        for k in ends {
            let nl = bytes.index(bytes.startIndex, offsetBy: k)
            lines.append(Substring(scalars[start..<nl]))
            start = bytes.index(after: nl)
        }
        lines.append(Substring(scalars[start...]))
        // Drop blank lines at both ends.
        while let f = lines.first, isBlank(f) { lines.removeFirst() }
        while let l = lines.last, isBlank(l) { lines.removeLast() }
        guard !lines.isEmpty else { return text }

        // Greeting.
        if let first = lines.first, let rest = afterGreeting(first) {
            if rest.isEmpty { lines.removeFirst() } else { lines[0] = rest }
        }
        // Closing block: the first sign-off line after some content with only a short tail after it.
        var cut: Int?
        var k = 1
        while k < lines.count {
            if isSignOff(lines[k]) && hasContent(lines[0..<k]) && isShortTail(lines[(k + 1)...]) {
                cut = k
                break
            }
            if isDisclaimer(lines[k]) && hasContent(lines[0..<k]) {
                cut = k
                break
            }
            k += 1
        }
        if let cut { lines.removeSubrange(cut...) }
        // A lone name at the end ("Tom", "Anna Berger") without a sign-off.
        while lines.count > 1, let l = lines.last, isBlank(l) || isBareName(l) { lines.removeLast() }
        let out = lines.map { trim($0) }.joined(separator: "\n").trimmingBlankLines()
        return out.isEmpty ? text : out
    }

    @inline(__always)
    static func isSpace(_ u: Unicode.Scalar) -> Bool { u == " " || u == "\t" || u == "\r" || u == "\u{A0}" }

    static func isBlank(_ s: Substring) -> Bool { s.unicodeScalars.allSatisfy(isSpace) }

    static func trim(_ s: Substring) -> Substring {
        let u = s.unicodeScalars
        guard let first = u.firstIndex(where: { !isSpace($0) }), let last = u.lastIndex(where: { !isSpace($0) }) else { return s[s.endIndex...] }
        return Substring(u[first...last])
    }

    static func hasContent(_ lines: ArraySlice<Substring>) -> Bool { lines.contains { !isBlank($0) } }

    /// Lowercased, with the folding the patterns expect (ß and umlauts kept, "grüsse" = "grüße").
    static func folded(_ s: Substring) -> String {
        let l = trim(s).prefix(50).lowercased()
        guard l.contains("gru") else { return l }
        return l.replacing("grüsse", with: "grüße").replacing("gruss", with: "gruß").replacing("gruesse", with: "grüße")
    }

    static let greetings = [
        "sehr geehrte damen und herren", "sehr geehrtes", "sehr geehrte", "sehr geehrter", "guten morgen", "guten tag", "guten abend",
        "grüß gott", "grüss gott", "grüezi", "hallöchen", "hallo", "servus", "moin moin", "moin", "liebe", "lieber", "hi there", "hey there",
        "hello", "hi", "hey", "dear", "good morning", "good afternoon", "good evening", "greetings", "to whom it may concern", "salut",
    ]

    static let greetingBytes = greetings.map { Array($0.utf8) }
    static let greetingInitialBits = initialBits(Set(greetings.compactMap(\.first).flatMap { [$0, Character($0.uppercased())] }))

    /// The rest of the line after a greeting ("" when the line is only a greeting), or nil.
    /// The line must start with a greeting word that ends there ("hint" is not "hi"); the greeting runs up to
    /// the first comma, colon or "!" within 60 characters ("Hallo Frau Berger," / "Dear Sir or Madam," / "Hi,"),
    /// looked for within the first 61 characters only (one further on is too far).
    static func afterGreeting(_ line: Substring) -> Substring? {
        let t = trim(line)
        // Most first lines are ruled out by their first letter.
        guard mayStart(t, greetingInitialBits) else { return nil }
        let head = Array(t.utf8.prefix(61))
        if head.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) {
            // ASCII (most first lines): characters are bytes, and the same tests run on them.
            let l = head.prefix(40).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            guard let g = greetingBytes.first(where: { l.starts(with: $0) }) else { return nil }
            if l.count > g.count, (0x61...0x7A).contains(l[g.count]) { return nil }
            if let k = head.firstIndex(where: { $0 == 0x2C || $0 == 0x21 || $0 == 0x3A }) {
                return trim(t[t.utf8.index(t.startIndex, offsetBy: k + 1)...])
            }
        } else {
            let l = t.prefix(40).lowercased()
            guard let g = greetings.first(where: { l.hasPrefix($0) }) else { return nil }
            if let c = l.dropFirst(g.count).first, c.isLetter { return nil }
            if let stop = t.prefix(61).firstIndex(where: { $0 == "," || $0 == "!" || $0 == ":" }) {
                return trim(t[t.index(after: stop)...])
            }
        }
        // A greeting line without punctuation ("Hallo zusammen", "Grüezi"): short, no question in it.
        if t.prefix(41).count <= 40 && !t.contains("?") && t.split(separator: " ").count <= 5 { return "" }
        return nil
    }

    static let signOffs = [
        "mit freundlichen grüßen", "mit freundlichem gruß", "freundliche grüße", "freundlichen gruß", "viele grüße", "beste grüße",
        "liebe grüße", "herzliche grüße", "schöne grüße", "sonnige grüße", "besten gruß", "lieben gruß", "grüße", "gruß", "mfg", "lg", "vg",
        "bg", "danke und gruß", "danke und liebe grüße", "danke & gruß", "danke & cheers", "danke im voraus", "vielen dank im voraus",
        "vielen dank", "besten dank", "herzlichen dank", "danke schön", "dankeschön", "danke", "tschüss", "ciao", "bis bald", "schönen tag",
        "with kind regards", "kind regards", "best regards", "warm regards", "warmest regards", "many thanks", "thanks in advance",
        "thanks a lot", "thanks so much", "thank you in advance", "thank you very much", "thank you", "thanks", "thx", "regards",
        "best wishes", "all the best", "best", "cheers", "yours sincerely", "yours faithfully", "sincerely", "yours truly", "ta",
    ]

    /// "Viele Grüße", "Thanks!", "Danke und Gruß", "lg Aylin", "Gruß aus Kiel": a short line that starts with a sign-off.
    /// The first letters sign-offs start with: most lines of a mail are ruled out without folding them.
    static let signOffInitials: Set<Character> = Set(signOffs.compactMap(\.first).flatMap { [$0, Character($0.uppercased())] })

    /// The ASCII letters sign-offs and disclaimers start with, as bits (a test on the first scalar before
    /// the one on the first character).
    static func initialBits(_ initials: Set<Character>) -> (UInt64, UInt64) {
        var bits: (UInt64, UInt64) = (0, 0)
        for c in initials {
            guard let a = c.asciiValue else { continue }
            if a < 64 { bits.0 |= 1 << UInt64(a) } else { bits.1 |= 1 << UInt64(a - 64) }
        }
        return bits
    }

    static let signOffInitialBits = initialBits(signOffInitials)

    @inline(__always)
    static func mayStart(_ t: Substring, _ bits: (UInt64, UInt64)) -> Bool {
        guard let u = t.utf8.first, u < 128 else { return false }
        return u < 64 ? bits.0 & (1 << UInt64(u)) != 0 : bits.1 & (1 << UInt64(u - 64)) != 0
    }

    static func isSignOff(_ line: Substring) -> Bool {
        let t = trim(line)
        // Prose: no need to look closer.
        guard t.utf8.count <= 60, mayStart(t, signOffInitialBits), let first = t.first, signOffInitials.contains(first) else { return false }
        let l = folded(line)
        guard !l.isEmpty, l.count <= 45, !l.contains("?") else { return false }
        for s in signOffs where l.hasPrefix(s) {
            let rest = l.dropFirst(s.count)
            guard rest.first.map({ !$0.isLetter }) ?? true else { continue }
            // "Thanks for the quick reply, but ..." is content; "Thanks, Tom" / "Gruß aus Kiel" / "Danke!" are not.
            let words = rest.split(whereSeparator: { !$0.isLetter }).count
            if words <= 3 && !rest.contains(" for ") && !rest.contains(" für ") { return true }
        }
        return false
    }

    /// At most ten non-blank lines, none of them long prose.
    static func isShortTail(_ lines: ArraySlice<Substring>) -> Bool {
        var n = 0
        for l in lines where !isBlank(l) {
            n += 1
            if n > 10 || trim(l).prefix(91).count > 90 { return false }
        }
        return true
    }

    static let disclaimers = [
        "this e-mail and any", "this email and any", "this e-mail may contain", "this email may contain", "this message and any",
        "this e-mail is confidential", "this email is confidential", "confidentiality notice", "disclaimer:", "diese e-mail enthält",
        "diese e-mail kann vertrauliche", "diese nachricht enthält", "der inhalt dieser e-mail", "diese e-mail ist vertraulich",
        "please consider the environment", "bitte denken sie an die umwelt",
    ]

    static let disclaimerInitials: Set<Character> = ["t", "T", "c", "C", "d", "D", "p", "P", "b", "B"]

    static let disclaimerInitialBits = initialBits(disclaimerInitials)

    static func isDisclaimer(_ line: Substring) -> Bool {
        let t = trim(line)
        guard mayStart(t, disclaimerInitialBits), let f = t.first, disclaimerInitials.contains(f) else { return false }
        let l = folded(line)
        return disclaimers.contains { l.hasPrefix($0) }
    }

    /// One to three capitalised words, no punctuation but "." and "-": a name under the text.
    static func isBareName(_ line: Substring) -> Bool {
        let t = trim(line)
        guard t.prefix(41).count <= 40 else { return false }
        let words = t.split(separator: " ")
        guard (1...3).contains(words.count) else { return false }
        return words.allSatisfy { w in
            guard let f = w.first, f.isUppercase else { return false }
            return w.allSatisfy { $0.isLetter || $0 == "." || $0 == "-" }
        }
    }
}

extension String {
    func trimmingBlankLines() -> String {
        var s = Substring(self)
        while let f = s.first, f == "\n" || f == " " { s.removeFirst() }
        while let l = s.last, l == "\n" || l == " " { s.removeLast() }
        return String(s)
    }
}
