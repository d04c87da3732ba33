/// Finds the text the sender wrote in this message, without the quoted history of the thread,
/// reply headers, signatures and mobile footers. Works on German and English mail.
///
/// - `>` quoted lines are dropped wherever they are, so interleaved answers are kept.
/// - A reply header ("On ... wrote:", "Am ... schrieb ...:") that introduces `>` quoting is dropped with
///   the quote; one that introduces unquoted history (top posting) ends the new text.
/// - "-----Original Message-----", "-----Ursprüngliche Nachricht-----", forwarded-message markers,
///   Outlook header blocks (From:/Sent:/To:/Subject:, Von:/Gesendet:/An:/Betreff:), "-- " signatures
///   and mobile footers end the new text.
///
/// Works on UTF-8 bytes; patterns compare ASCII case-insensitively.
public enum QuoteStripper {
    /// A line or part of one: a range of the text's UTF-8 bytes, read through a pointer (no reference counting).
    struct Line {
        let base: UnsafePointer<UInt8>
        var lo: Int
        var hi: Int

        var count: Int { hi - lo }
        var isEmpty: Bool { lo == hi }
        var first: UInt8? { lo < hi ? base[lo] : nil }
        var last: UInt8? { lo < hi ? base[hi - 1] : nil }
        var startIndex: Int { lo }
        var endIndex: Int { hi }
        subscript(_ k: Int) -> UInt8 { base[k] }
        func dropFirst() -> Line { Line(base: base, lo: Swift.min(lo + 1, hi), hi: hi) }
        func dropLast() -> Line { Line(base: base, lo: lo, hi: Swift.max(hi - 1, lo)) }
        func contains(_ b: UInt8) -> Bool {
            ByteSearch.index(of: b, in: UnsafeBufferPointer(start: base, count: hi), from: lo, to: hi) != nil
        }
        func allSatisfy(_ p: (UInt8) -> Bool) -> Bool {
            for k in lo..<hi where !p(base[k]) { return false }
            return true
        }
    }

    public static func newText(_ text: String) -> String {
        var s = text
        return s.withUTF8 { buf -> String in
            guard let base = buf.baseAddress, !buf.isEmpty else { return "" }
            var lines: [Line] = []
            lines.reserveCapacity(buf.count / 40 + 1)
            var start = 0
            while let k = ByteSearch.index(of: 0x0A, in: buf, from: start, to: buf.count) {
                lines.append(Line(base: base, lo: start, hi: k))
                start = k + 1
            }
            lines.append(Line(base: base, lo: start, hi: buf.count))
            // Each line trimmed once; the tests below look at the trimmed lines.
            let trims = lines.map(trimmed)

            var kept: [Line] = []
            var i = 0
            while i < lines.count {
                let t = trims[i]
                if t.first == 0x3E {  // ">"
                    i += 1
                    continue
                }
                if isSignatureSeparator(lines[i]) || isSeparator(t) || isMobileFooter(t) || isOutlookHeaderBlock(trims, at: i) {
                    break
                }
                if let headerLines = replyHeaderLength(trims, at: i) {
                    if let n = nextNonBlank(trims, after: i + headerLines - 1), trims[n].first == 0x3E {
                        i += headerLines  // bottom posting or interleaved: the quote below is dropped line by line
                        continue
                    }
                    break
                }
                kept.append(lines[i])
                i += 1
            }
            return tidy(kept, text: text, buf: buf)
        }
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// Without surrounding spaces, tabs, CR and no-break spaces (U+00A0 is C2 A0 in UTF-8).
    static func trimmed(_ s: Line) -> Line {
        var lo = s.startIndex, hi = s.endIndex
        while lo < hi {
            if isSpace(s[lo]) { lo += 1 } else if s[lo] == 0xC2 && lo + 1 < hi && s[lo + 1] == 0xA0 { lo += 2 } else { break }
        }
        while hi > lo {
            if isSpace(s[hi - 1]) { hi -= 1 } else if hi - 2 >= lo && s[hi - 2] == 0xC2 && s[hi - 1] == 0xA0 { hi -= 2 } else { break }
        }
        return Line(base: s.base, lo: lo, hi: hi)
    }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// ASCII case-insensitive prefix test; `p` is lowercase.
    static func hasPrefix(_ s: Line, _ p: [UInt8]) -> Bool {
        guard s.count >= p.count else { return false }
        var k = s.startIndex
        for c in p {
            if lower(s[k]) != c { return false }
            k += 1
        }
        return true
    }

    static func hasSuffix(_ s: Line, _ p: [UInt8]) -> Bool {
        guard s.count >= p.count else { return false }
        var k = s.endIndex - p.count
        for c in p {
            if lower(s[k]) != c { return false }
            k += 1
        }
        return true
    }

    static func contains(_ s: Line, _ p: [UInt8]) -> Bool {
        guard let first = p.first, s.count >= p.count else { return false }
        var k = s.startIndex
        let last = s.endIndex - p.count
        while k <= last {
            if lower(s[k]) == first {
                var m = 1
                while m < p.count && lower(s[k + m]) == p[m] { m += 1 }
                if m == p.count { return true }
            }
            k += 1
        }
        return false
    }

    static func patterns(_ list: [String]) -> [[UInt8]] { list.map { Array($0.utf8) } }

    /// The next line after `k` that is not blank (`trims`: the trimmed lines).
    static func nextNonBlank(_ trims: [Line], after k: Int) -> Int? {
        var j = k + 1
        while j < trims.count {
            if !trims[j].isEmpty { return j }
            j += 1
        }
        return nil
    }

    /// "-- " (RFC 3676) or a bare "--" on its own line.
    static func isSignatureSeparator(_ line: Line) -> Bool {
        var l = line
        if l.last == 0x0D { l = l.dropLast() }
        guard l.count >= 2, l.count <= 5, l.first == 0x2D, l[l.startIndex + 1] == 0x2D else { return false }
        return trimmed(l).count == 2
    }

    static let separators = patterns([
        "original message", "ursprüngliche nachricht", "urspruengliche nachricht", "original-nachricht",
        "forwarded message", "weitergeleitete nachricht", "message d'origine", "mensaje original", "messaggio originale",
    ])
    static let forwardStarts = patterns(["begin forwarded message", "anfang der weitergeleiteten"])

    /// "-----Original Message-----" and its relatives, "Begin forwarded message:".
    static func isSeparator(_ t: Line) -> Bool {
        guard let f = t.first, t.count < 90 else { return false }
        if f == 0x42 || f == 0x62 || f == 0x41 || f == 0x61 { return forwardStarts.contains { hasPrefix(t, $0) } }
        guard f == 0x2D || f == 0x5F || f == 0x3D, t.count >= 4 else { return false }
        var core = t
        while let c = core.first, c == 0x2D || c == 0x5F || c == 0x3D || c == 0x20 { core = core.dropFirst() }
        return separators.contains { hasPrefix(core, $0) }
    }

    static let mobileFooters = patterns([
        "sent from my ", "sent from outlook for ", "sent from mail for windows", "sent from yahoo mail", "sent from samsung",
        "sent via ", "sent with proton mail", "get outlook for ios", "get outlook for android", "sent from the outlook",
        "von meinem iphone gesendet", "von meinem ipad gesendet", "von meinem samsung", "von meinem huawei",
        "von meinem android", "von meinem smartphone gesendet", "gesendet von meinem", "gesendet von outlook für",
        "gesendet mit der web.de", "gesendet mit der gmx", "diese nachricht wurde von meinem", "gesendet von mail für windows",
        "gesendet von yahoo mail", "holen sie sich outlook für",
    ])

    static func isMobileFooter(_ t: Line) -> Bool {
        guard let f = t.first, t.count < 160 else { return false }
        let l = lower(f)
        guard l == 0x73 || l == 0x76 || l == 0x67 || l == 0x64 || l == 0x68 else { return false }  // s v g d h
        return mobileFooters.contains { hasPrefix(t, $0) }
    }

    static let outlookFrom = patterns(["from:", "von:", "de:", "*from:*", "*von:*", "*from:", "*von:"])
    static let outlookFields = patterns([
        "sent:", "date:", "to:", "subject:", "cc:", "gesendet:", "datum:", "an:", "betreff:", "envoyé :", "objet :",
        "*sent:", "*to:", "*subject:", "*gesendet:", "*an:", "*betreff:", "*date:", "*datum:", "*cc:",
    ])

    /// "From: ..." followed within six lines by at least two of Sent/Date/To/Subject (or the German
    /// Von/Gesendet/An/Betreff), possibly after an underscore line.
    static func isOutlookHeaderBlock(_ trims: [Line], at i: Int) -> Bool {
        var start = i
        let first = trims[i]
        guard let f = first.first else { return false }
        if first.count >= 10 && (f == 0x5F || f == 0x2D) && first.allSatisfy({ $0 == 0x5F || $0 == 0x2D }) {
            guard let n = nextNonBlank(trims, after: i) else { return false }
            start = n
        }
        let head = trims[start]
        guard let h = head.first else { return false }
        switch lower(h) {
        case 0x66, 0x76, 0x64, 0x2A: break  // f v d *
        default: return false
        }
        guard outlookFrom.contains(where: { hasPrefix(head, $0) }) else { return false }
        var hits = 0
        var j = start + 1
        while j < trims.count && j <= start + 6 {
            let l = trims[j]
            if outlookFields.contains(where: { hasPrefix(l, $0) }) { hits += 1 }
            j += 1
        }
        return hits >= 2
    }

    /// Number of lines (1 or 2) of a reply header starting at `i`, or nil.
    static func replyHeaderLength(_ trims: [Line], at i: Int) -> Int? {
        let t = trims[i]
        guard !t.isEmpty, t.count < 400 else { return nil }
        if t.last == 0x3A {
            return isReplyHeader(t) ? 1 : nil
        }
        // Mailers wrap long headers: "On Mon, 3 Mar 2025 at 10:00, Jane Doe <jane@example.com>\nwrote:".
        guard i + 1 < trims.count else { return nil }
        let n = trims[i + 1]
        guard n.last == 0x3A, n.count < 200, startsLikeReplyHeader(t) else { return nil }
        let joined = Array(UnsafeBufferPointer(start: t.base + t.lo, count: t.count)) + [0x20]
            + Array(UnsafeBufferPointer(start: n.base + n.lo, count: n.count))
        return joined.withUnsafeBufferPointer { isReplyHeader(Line(base: $0.baseAddress!, lo: 0, hi: $0.count)) } ? 2 : nil
    }

    static let replyStarts = patterns(["on ", "am ", "le ", "el "])
    static func startsLikeReplyHeader(_ t: Line) -> Bool {
        replyStarts.contains { hasPrefix(t, $0) } || contains(t, schrieb) || t.contains(0x40) || t.contains(0x3C)
    }

    static let wrote = Array("wrote:".utf8), writes = Array("writes:".utf8), spaceWrote = Array(" wrote:".utf8)
    static let schrieb = Array("schrieb".utf8), schriebAm = Array(" schrieb am ".utf8), spaceSchrieb = Array(" schrieb:".utf8)
    static let on = Array("on ".utf8), am = Array("am ".utf8), le = Array("le ".utf8), el = Array("el ".utf8)
    static let zitat = Array("zitat von ".utf8), ecrit = patterns(["a écrit :", "a écrit:"]), escribio = Array("escribió:".utf8)

    static func isReplyHeader(_ t: Line) -> Bool {
        guard t.last == 0x3A else { return false }
        if hasPrefix(t, on) && (hasSuffix(t, wrote) || hasSuffix(t, writes)) { return true }
        if hasPrefix(t, am) && contains(t, schrieb) { return true }
        if contains(t, schriebAm) || hasSuffix(t, spaceSchrieb) { return true }
        if hasPrefix(t, zitat) { return true }
        if hasPrefix(t, le) && ecrit.contains(where: { hasSuffix(t, $0) }) { return true }
        if hasPrefix(t, el) && hasSuffix(t, escribio) { return true }
        // "Jane Doe <jane@example.com> wrote:"
        if hasSuffix(t, spaceWrote) && (t.contains(0x40) || t.count < 80) { return true }
        return false
    }

    /// Joins kept lines: trailing blanks removed, at most one blank line in a row, trimmed at both ends.
    /// `text` is the whole text, `buf` its UTF-8 (which the lines point into). The result is put together from
    /// stretches of `text` (as long as the text between two kept lines is just their line breaks, one stretch
    /// goes on): pieces of a String need no UTF-8 validation, bytes turned into a String would.
    static func tidy(_ lines: [Line], text: String, buf: UnsafeBufferPointer<UInt8>) -> String {
        let u = text.utf8
        func piece(_ lo: Int, _ hi: Int) -> Substring {
            let a = u.index(u.startIndex, offsetBy: lo)
            return text[a..<u.index(a, offsetBy: hi - lo)]
        }
        var out = ""
        var run: (lo: Int, hi: Int)?  // the stretch of text not yet added to `out`
        var blank = false
        for l in lines {
            var hi = l.endIndex
            while hi > l.startIndex && isSpace(l[hi - 1]) { hi -= 1 }
            if hi == l.startIndex {
                blank = true
                continue
            }
            if let r = run {
                let breaks = blank ? 2 : 1
                if l.lo - r.hi == breaks && buf[r.hi] == 0x0A && buf[l.lo - 1] == 0x0A {
                    run = (r.lo, hi)
                } else {
                    out.append(contentsOf: piece(r.lo, r.hi))
                    out.append(blank ? "\n\n" : "\n")
                    run = (l.lo, hi)
                }
            } else {
                run = (l.lo, hi)
            }
            blank = false
        }
        guard let r = run else { return "" }
        if out.isEmpty { return String(piece(r.lo, r.hi)) }
        out.append(contentsOf: piece(r.lo, r.hi))
        return out
    }
}
