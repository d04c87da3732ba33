/// HTML mail turned into readable plain text: block elements become line breaks, list items get
/// markers, entities are decoded, scripts, styles and the head are dropped, link targets are kept
/// ("text <url>"), and blockquotes become "> " quoted lines so the quote stripper can remove them.
public enum HTMLText {
    public static func toText(_ html: String) -> String {
        var c = Converter(Array(html.utf8))
        c.run()
        return c.finish()
    }

    /// The charset named by a `<meta charset=...>` or `<meta http-equiv content="...; charset=...">`
    /// in the first few KiB, if any.
    public static func sniffCharset(_ bytes: [UInt8]) -> String? {
        let head = bytes.prefix(4096).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let needle = Array("charset=".utf8)
        guard head.count > needle.count else { return nil }
        var i = 0
        while i + needle.count <= head.count {
            if head[i] == 0x63 && Array(head[i..<(i + needle.count)]) == needle {
                var j = i + needle.count
                while j < head.count && (head[j] == 0x22 || head[j] == 0x27 || head[j] == 0x20) { j += 1 }
                var name: [UInt8] = []
                while j < head.count, name.count < 40 {
                    let b = head[j]
                    let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x3A || b == 0x2E
                    if !ok { break }
                    name.append(b)
                    j += 1
                }
                if !name.isEmpty { return String(decoding: name, as: UTF8.self) }
            }
            i += 1
        }
        return nil
    }

    static let skipContent: Set<String> = ["script", "style", "head", "title", "noscript", "template", "svg", "object", "xml"]
    static let blockElements: Set<String> = [
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "ul", "ol", "dl", "dt", "dd", "pre", "section",
        "article", "header", "footer", "nav", "aside", "main", "form", "address", "center", "hr", "fieldset", "figure",
        "figcaption", "tbody", "thead", "tfoot", "caption", "body", "html", "blockquote", "li",
    ]
    static let paragraphElements: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "blockquote", "hr"]

    struct Converter {
        let b: [UInt8]
        var i = 0
        var out: [UInt8] = []
        var pendingNewlines = 0
        var pendingSpace = false
        var atLineStart = true
        var quoteDepth = 0
        var preDepth = 0
        var lists: [(ordered: Bool, n: Int)] = []
        var links: [(href: String, textStart: Int)] = []
        var cellInRow = 0

        init(_ b: [UInt8]) {
            self.b = b
            out.reserveCapacity(b.count / 2)
        }

        mutating func run() {
            while i < b.count {
                let c = b[i]
                if c == 0x3C {  // <
                    tag()
                } else if c == 0x26 {  // &
                    entity()
                } else if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C {
                    if preDepth > 0 {
                        if c == 0x0A {
                            pendingNewlines += 1
                        } else if c != 0x0D {
                            emitText([c])
                        }
                    } else {
                        pendingSpace = true
                    }
                    i += 1
                } else {
                    // Copy a run of ordinary text at once.
                    var j = i + 1
                    while j < b.count {
                        let d = b[j]
                        if d == 0x3C || d == 0x26 || d == 0x20 || d == 0x09 || d == 0x0A || d == 0x0D || d == 0x0C { break }
                        j += 1
                    }
                    emitText(b[i..<j])
                    i = j
                }
            }
        }

        mutating func emitText(_ bytes: some Collection<UInt8>) {
            if pendingNewlines > 0 {
                if !out.isEmpty {
                    for _ in 0..<min(pendingNewlines, 2) {
                        out.append(0x0A)
                    }
                    atLineStart = true
                }
                pendingNewlines = 0
                pendingSpace = false
            }
            if atLineStart {
                for _ in 0..<quoteDepth { out.append(0x3E); out.append(0x20) }
                atLineStart = false
                pendingSpace = false
            } else if pendingSpace {
                out.append(0x20)
                pendingSpace = false
            }
            out.append(contentsOf: bytes)
        }

        mutating func breakLine(_ n: Int) {
            pendingNewlines = max(pendingNewlines, n)
            pendingSpace = false
        }

        mutating func entity() {
            // &name; &#123; &#x1F; — an unknown or unterminated entity is kept as text.
            var j = i + 1
            while j < b.count && j - i < 12 && b[j] != 0x3B && b[j] != 0x3C && b[j] != 0x20 && b[j] != 0x26 { j += 1 }
            let terminated = j < b.count && b[j] == 0x3B
            let name = b[(i + 1)..<j]
            var scalar: UInt32?
            if name.first == 0x23 {  // #
                let digits = name.dropFirst()
                if digits.first == 0x78 || digits.first == 0x58 {
                    scalar = UInt32(String(decoding: digits.dropFirst(), as: UTF8.self), radix: 16)
                } else {
                    scalar = UInt32(String(decoding: digits, as: UTF8.self))
                }
                if let s = scalar, s == 0 || s > 0x10FFFF || (0xD800...0xDFFF).contains(s) { scalar = 0xFFFD }
                if let s = scalar, (0x80...0x9F).contains(s) {  // windows-1252 code points written as numbers
                    scalar = UInt32(Charset.cp1252High[Int(s - 0x80)])
                }
            } else if terminated || name.count >= 2 {
                scalar = HTMLText.entities[String(decoding: name, as: UTF8.self)]
            }
            guard let s = scalar, let u = Unicode.Scalar(s) else {
                emitText([0x26])
                i += 1
                return
            }
            i = terminated ? j + 1 : j
            if s == 0xAD { return }  // soft hyphen
            if s == 0xA0 || s == 0x20 {
                pendingSpace = true
                return
            }
            emitText(Array(String(Character(u)).utf8))
        }

        mutating func tag() {
            // Comments, doctype, CDATA, processing instructions.
            if i + 3 < b.count && b[i + 1] == 0x21 && b[i + 2] == 0x2D && b[i + 3] == 0x2D {
                i = find([0x2D, 0x2D, 0x3E], from: i + 4).map { $0 + 3 } ?? b.count
                return
            }
            if i + 1 < b.count && (b[i + 1] == 0x21 || b[i + 1] == 0x3F) {
                i = find([0x3E], from: i + 2).map { $0 + 1 } ?? b.count
                return
            }
            var j = i + 1
            var closing = false
            if j < b.count && b[j] == 0x2F { closing = true; j += 1 }
            let nameStart = j
            while j < b.count, isNameByte(b[j]) { j += 1 }
            if j == nameStart {
                // "<" that does not start a tag is text ("a < b").
                emitText([0x3C])
                i += 1
                return
            }
            let name = String(decoding: b[nameStart..<j].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
            // Attributes up to the closing ">", honouring quotes.
            let attrStart = j
            var quote: UInt8 = 0
            while j < b.count {
                let c = b[j]
                if quote != 0 {
                    if c == quote { quote = 0 }
                } else if c == 0x22 || c == 0x27 {
                    quote = c
                } else if c == 0x3E {
                    break
                }
                j += 1
            }
            let attrs = b[attrStart..<min(j, b.count)]
            i = min(j + 1, b.count)
            if closing {
                endTag(name)
            } else {
                startTag(name, attrs: attrs)
            }
        }

        func isNameByte(_ c: UInt8) -> Bool {
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x3A || c == 0x2D
        }

        func find(_ needle: [UInt8], from: Int) -> Int? {
            var k = from
            while k + needle.count <= b.count {
                if b[k] == needle[0] {
                    var m = 1
                    while m < needle.count && b[k + m] == needle[m] { m += 1 }
                    if m == needle.count { return k }
                }
                k += 1
            }
            return nil
        }

        /// Skips to the end tag of an element whose content is not text.
        mutating func skipElement(_ name: String) {
            let closing = Array(("</" + name).utf8)
            var k = i
            while k + closing.count <= b.count {
                if b[k] == 0x3C && b[k + 1] == 0x2F {
                    var m = 2
                    while m < closing.count {
                        let c = b[k + m]
                        if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != closing[m] { break }
                        m += 1
                    }
                    if m == closing.count {
                        i = find([0x3E], from: k).map { $0 + 1 } ?? b.count
                        return
                    }
                }
                k += 1
            }
            i = b.count
        }

        mutating func startTag(_ name: String, attrs: ArraySlice<UInt8>) {
            let selfClosing = attrs.last == 0x2F
            if HTMLText.skipContent.contains(name) {
                if !selfClosing { skipElement(name) }
                return
            }
            switch name {
            case "br":
                // A <br> ends the current line even when it is empty (two in a row make a blank line).
                if pendingNewlines > 0 || atLineStart && !out.isEmpty {
                    pendingNewlines += 1
                } else {
                    pendingNewlines = 1
                }
                pendingSpace = false
            case "li":
                breakLine(1)
                if var top = lists.popLast() {
                    top.n += 1
                    lists.append(top)
                    emitText(Array((String(repeating: "  ", count: max(0, lists.count - 1)) + (top.ordered ? "\(top.n). " : "- ")).utf8))
                } else {
                    emitText(Array("- ".utf8))
                }
                pendingSpace = false
            case "ul", "ol":
                lists.append((name == "ol", 0))
                breakLine(lists.count > 1 ? 1 : 2)
            case "blockquote":
                breakLine(2)
                quoteDepth += 1
            case "pre":
                breakLine(2)
                preDepth += 1
            case "td", "th":
                if cellInRow > 0 { pendingSpace = true; emitText(Array("|".utf8)); pendingSpace = true }
                cellInRow += 1
            case "tr":
                breakLine(1)
                cellInRow = 0
            case "a":
                if let href = attribute("href", in: attrs) {
                    links.append((href, out.count))
                } else {
                    links.append(("", out.count))
                }
            case "img":
                if let alt = attribute("alt", in: attrs), !alt.trimmingASCIISpace().isEmpty {
                    emitText(Array(("[" + alt.trimmingASCIISpace() + "]").utf8))
                }
            default:
                if HTMLText.blockElements.contains(name) {
                    breakLine(HTMLText.paragraphElements.contains(name) ? 2 : 1)
                }
            }
        }

        mutating func endTag(_ name: String) {
            switch name {
            case "ul", "ol":
                _ = lists.popLast()
                breakLine(lists.isEmpty ? 2 : 1)
            case "blockquote":
                breakLine(2)
                quoteDepth = max(0, quoteDepth - 1)
            case "pre":
                preDepth = max(0, preDepth - 1)
                breakLine(2)
            case "a":
                guard let link = links.popLast() else { return }
                let href = link.href.trimmingASCIISpace()
                let lower = href.lowercased()
                guard lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:") else { return }
                let shown = String(decoding: out[min(link.textStart, out.count)...], as: UTF8.self)
                let target = lower.hasPrefix("mailto:") ? String(href.dropFirst(7)) : href
                if !shown.contains(target) && !shown.isEmpty {
                    emitText(Array((" <" + target + ">").utf8))
                } else if shown.trimmingASCIISpace().isEmpty {
                    emitText(Array(target.utf8))
                }
            case "td", "th":
                pendingSpace = true
            default:
                if HTMLText.blockElements.contains(name) {
                    breakLine(HTMLText.paragraphElements.contains(name) ? 2 : 1)
                }
            }
        }

        /// An attribute value with entities decoded (only the common ones matter in URLs).
        func attribute(_ name: String, in attrs: ArraySlice<UInt8>) -> String? {
            let lowered = attrs.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            let key = Array(name.utf8)
            var k = 0
            while k + key.count < lowered.count {
                let before = k == 0 ? 0x20 : lowered[k - 1]
                if (before == 0x20 || before == 0x09 || before == 0x0A || before == 0x0D || before == 0x2F),
                   Array(lowered[k..<(k + key.count)]) == key
                {
                    var m = k + key.count
                    while m < lowered.count && lowered[m] == 0x20 { m += 1 }
                    guard m < lowered.count, lowered[m] == 0x3D else { k += 1; continue }
                    m += 1
                    while m < lowered.count && lowered[m] == 0x20 { m += 1 }
                    let original = Array(attrs)
                    var value: [UInt8] = []
                    if m < original.count && (original[m] == 0x22 || original[m] == 0x27) {
                        let q = original[m]
                        m += 1
                        while m < original.count && original[m] != q { value.append(original[m]); m += 1 }
                    } else {
                        while m < original.count && original[m] != 0x20 && original[m] != 0x3E && original[m] != 0x2F { value.append(original[m]); m += 1 }
                    }
                    return String(decoding: value, as: UTF8.self).replacingOccurrences(of: "&amp;", with: "&")
                }
                k += 1
            }
            return nil
        }

        mutating func finish() -> String {
            // Trailing spaces on lines and runs of blank lines go; at most one blank line in a row.
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            var lineStart = 0
            var blank = 0
            var k = 0
            while k <= out.count {
                if k == out.count || out[k] == 0x0A {
                    var e = k
                    while e > lineStart && (out[e - 1] == 0x20 || out[e - 1] == 0x09) { e -= 1 }
                    let isBlank = e == lineStart || out[lineStart..<e].allSatisfy { $0 == 0x3E || $0 == 0x20 }
                    if isBlank {
                        blank += 1
                        if blank == 1 && !result.isEmpty { result.append(0x0A) }
                    } else {
                        blank = 0
                        result.append(contentsOf: out[lineStart..<e])
                        result.append(0x0A)
                    }
                    lineStart = k + 1
                }
                k += 1
            }
            while let l = result.last, l == 0x0A { result.removeLast() }
            return String(decoding: result, as: UTF8.self)
        }
    }

    static let entities: [String: UInt32] = [
        "amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27, "nbsp": 0xA0, "shy": 0xAD,
        "auml": 0xE4, "ouml": 0xF6, "uuml": 0xFC, "Auml": 0xC4, "Ouml": 0xD6, "Uuml": 0xDC, "szlig": 0xDF,
        "eacute": 0xE9, "egrave": 0xE8, "ecirc": 0xEA, "euml": 0xEB, "Eacute": 0xC9, "Egrave": 0xC8,
        "aacute": 0xE1, "agrave": 0xE0, "acirc": 0xE2, "atilde": 0xE3, "aring": 0xE5, "aelig": 0xE6, "Aacute": 0xC1, "Agrave": 0xC0,
        "ccedil": 0xE7, "Ccedil": 0xC7, "iacute": 0xED, "igrave": 0xEC, "icirc": 0xEE, "iuml": 0xEF,
        "oacute": 0xF3, "ograve": 0xF2, "ocirc": 0xF4, "otilde": 0xF5, "oslash": 0xF8, "Oslash": 0xD8,
        "uacute": 0xFA, "ugrave": 0xF9, "ucirc": 0xFB, "ntilde": 0xF1, "Ntilde": 0xD1, "yacute": 0xFD, "yuml": 0xFF,
        "euro": 0x20AC, "pound": 0xA3, "yen": 0xA5, "cent": 0xA2, "copy": 0xA9, "reg": 0xAE, "trade": 0x2122,
        "sect": 0xA7, "para": 0xB6, "deg": 0xB0, "plusmn": 0xB1, "times": 0xD7, "divide": 0xF7, "micro": 0xB5,
        "middot": 0xB7, "bull": 0x2022, "hellip": 0x2026, "ndash": 0x2013, "mdash": 0x2014, "minus": 0x2212,
        "lsquo": 0x2018, "rsquo": 0x2019, "sbquo": 0x201A, "ldquo": 0x201C, "rdquo": 0x201D, "bdquo": 0x201E,
        "laquo": 0xAB, "raquo": 0xBB, "lsaquo": 0x2039, "rsaquo": 0x203A, "iexcl": 0xA1, "iquest": 0xBF,
        "ensp": 0x20, "emsp": 0x20, "thinsp": 0x20, "zwnj": 0x200C, "zwj": 0x200D, "lrm": 0x200E, "rlm": 0x200F,
        "larr": 0x2190, "rarr": 0x2192, "uarr": 0x2191, "darr": 0x2193, "frac12": 0xBD, "frac14": 0xBC, "frac34": 0xBE,
        "sup1": 0xB9, "sup2": 0xB2, "sup3": 0xB3, "ordf": 0xAA, "ordm": 0xBA, "not": 0xAC, "macr": 0xAF, "acute": 0xB4,
        "cedil": 0xB8, "uml": 0xA8, "curren": 0xA4, "brvbar": 0xA6, "dagger": 0x2020, "Dagger": 0x2021, "permil": 0x2030,
        "AMP": 0x26, "LT": 0x3C, "GT": 0x3E, "QUOT": 0x22, "NBSP": 0xA0,
    ]
}
