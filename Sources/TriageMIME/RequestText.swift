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
        var t = text
        return t.withUTF8 { request(in: $0, of: text) }
    }

    /// The work of `of` on the text's UTF-8 bytes: lines are byte ranges, and a line becomes a `Substring` only
    /// when its first bytes make it a candidate greeting, sign-off, disclaimer or name (splitting and testing every
    /// line as a string cost a tenth of a decision). `text` is the string the bytes belong to.
    static func request(in b: UnsafeBufferPointer<UInt8>, of text: String) -> String {
        var lines: [Range<Int>] = []
        var start = 0
        while let k = ByteSearch.index(of: 0x0A, in: b, from: start, to: b.count) {
            lines.append(start..<k)
            start = k + 1
        }
        lines.append(start..<b.count)
        // Drop blank lines at both ends.
        var first = 0, end = lines.count
        while first < end, isBlank(b, lines[first]) { first += 1 }
        while end > first, isBlank(b, lines[end - 1]) { end -= 1 }
        guard first < end else { return text }
        let utf8 = text.utf8
        func line(_ r: Range<Int>) -> Substring {
            Substring(text.unicodeScalars[utf8.index(utf8.startIndex, offsetBy: r.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: r.upperBound)])
        }

        // Greeting.
        if mayStart(b, trimmed(b, lines[first]), greetingInitialBits), let rest = afterGreeting(line(lines[first])) {
            if rest.isEmpty {
                first += 1
            } else {
                lines[first] = utf8.distance(from: utf8.startIndex, to: rest.startIndex)..<utf8.distance(from: utf8.startIndex, to: rest.endIndex)
            }
        }
        func hasContent(_ range: Range<Int>) -> Bool { range.contains { !isBlank(b, lines[$0]) } }
        // Closing block: the first sign-off line after some content with only a short tail after it.
        var k = first + 1
        while k < end {
            let t = trimmed(b, lines[k])
            if t.count <= 60, mayStart(b, t, signOffInitialBits), isSignOff(line(lines[k])), hasContent(first..<k),
               isShortTail(ArraySlice(lines[(k + 1)..<end].map(line))) {
                end = k
                break
            }
            if mayBeDisclaimer(b, t), isDisclaimer(line(lines[k])), hasContent(first..<k) {
                end = k
                break
            }
            k += 1
        }
        // A lone name at the end ("Tom", "Anna Berger") without a sign-off.
        while end - first > 1, isBlank(b, lines[end - 1]) || (mayBeName(b, trimmed(b, lines[end - 1])) && isBareName(line(lines[end - 1]))) {
            end -= 1
        }
        // The trimmed lines joined by line feeds, without line feeds at either end. Most often that is one stretch
        // of the text as it was (no line had spaces at its end or a carriage return): then it is copied as it is.
        var from = first
        while from < end, trimmed(b, lines[from]).isEmpty { from += 1 }
        var to = end
        while to > from, trimmed(b, lines[to - 1]).isEmpty { to -= 1 }
        guard from < to else { return text }
        if (from..<to).allSatisfy({ trimmed(b, lines[$0]) == lines[$0] && ($0 == to - 1 || lines[$0 + 1].lowerBound == lines[$0].upperBound + 1) }) {
            return String(line(lines[from].lowerBound..<lines[to - 1].upperBound))
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        for k in from..<to {
            if k > from { out.append(0x0A) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[trimmed(b, lines[k])]))
        }
        // Cut only at line feeds and spaces: still valid UTF-8.
        return String(decoding: out, as: UTF8.self)
    }

    /// Only space, tab, carriage return and no-break space (the scalars `isSpace` accepts) in the byte range.
    static func isBlank(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool { trimmed(b, r).isEmpty }

    /// The byte range without `isSpace` scalars at either end (a no-break space is C2 A0; C2 is never a
    /// continuation byte, so A0 after it ends that scalar).
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi {
            let c = b[lo]
            if c == 0x20 || c == 0x09 || c == 0x0D { lo += 1 } else if c == 0xC2 && lo + 1 < hi && b[lo + 1] == 0xA0 { lo += 2 } else { break }
        }
        while hi > lo {
            let c = b[hi - 1]
            if c == 0x20 || c == 0x09 || c == 0x0D { hi -= 1 } else if c == 0xA0 && hi - 2 >= lo && b[hi - 2] == 0xC2 { hi -= 2 } else { break }
        }
        return lo..<hi
    }

    @inline(__always)
    static func mayStart(_ b: UnsafeBufferPointer<UInt8>, _ t: Range<Int>, _ bits: (UInt64, UInt64)) -> Bool {
        !t.isEmpty && hasBit(b[t.lowerBound], bits)
    }

    /// Whether the ASCII byte `u` is among `bits` (`initialBits`); false for any other byte.
    @inline(__always)
    static func hasBit(_ u: UInt8, _ bits: (UInt64, UInt64)) -> Bool {
        guard u < 128 else { return false }
        return u < 64 ? bits.0 & (1 << UInt64(u)) != 0 : bits.1 & (1 << UInt64(u - 64)) != 0
    }

    /// The first three bytes of every disclaimer, lowercase.
    static let disclaimerHeads: Set<UInt32> = Set(disclaimers.map { d in
        let u = Array(d.utf8)
        return UInt32(u[0]) << 16 | UInt32(u[1]) << 8 | UInt32(u[2])
    })

    /// False when the trimmed line cannot start with a disclaimer: its first three bytes are ASCII and, in lower
    /// case, begin no disclaimer.
    static func mayBeDisclaimer(_ b: UnsafeBufferPointer<UInt8>, _ t: Range<Int>) -> Bool {
        guard t.count >= 3, mayStart(b, t, disclaimerInitialBits) else { return false }
        let i = t.lowerBound
        guard b[i + 1] < 0x80 && b[i + 2] < 0x80 else { return true }
        func lower(_ c: UInt8) -> UInt32 { UInt32(c >= 0x41 && c <= 0x5A ? c | 0x20 : c) }
        return disclaimerHeads.contains(lower(b[i]) << 16 | lower(b[i + 1]) << 8 | lower(b[i + 2]))
    }

    /// False when the trimmed line cannot be a bare name: it starts with an ASCII byte that is no capital letter,
    /// or it has more than three words between spaces (when no space has a combining mark after it that would
    /// make it part of another character).
    static func mayBeName(_ b: UnsafeBufferPointer<UInt8>, _ t: Range<Int>) -> Bool {
        guard !t.isEmpty else { return false }
        let f = b[t.lowerBound]
        if f < 0x80 && !(f >= 0x41 && f <= 0x5A) { return false }
        var words = 0
        var inWord = false
        for i in t {
            if b[i] == 0x20 {
                if i + 1 < t.upperBound && b[i + 1] >= 0x80 { return true }
                inWord = false
            } else if !inWord {
                inWord = true
                words += 1
                if words > 3 { return false }
            }
        }
        return true
    }

    @inline(__always)
    static func isSpace(_ u: Unicode.Scalar) -> Bool { u == " " || u == "\t" || u == "\r" || u == "\u{A0}" }

    static func isBlank(_ s: Substring) -> Bool { s.unicodeScalars.allSatisfy(isSpace) }

    static func trim(_ s: Substring) -> Substring {
        let u = s.unicodeScalars
        guard let first = u.firstIndex(where: { !isSpace($0) }), let last = u.lastIndex(where: { !isSpace($0) }) else { return s[s.endIndex...] }
        return Substring(u[first...last])
    }

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
        t.utf8.first.map { hasBit($0, bits) } ?? false
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
