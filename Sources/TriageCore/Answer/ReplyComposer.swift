public import TriageMIME

/// Fills `{{placeholder}}` templates with plain text: values lose control characters and line breaks
/// (a value can never start a header or fake structure), unknown placeholders are reported.
public enum AnswerTemplate {
    /// Placeholders every answer knows; operators add their own (`company`, `shop_url`, ...) in config.
    public static let builtIn: Set<String> = ["customer_name", "ticket_id", "subject"]

    /// The placeholder names used in a template.
    public static func placeholders(in template: String) -> [String] {
        var out: [String] = []
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else { break }
            let name = after[..<close.lowerBound].trimmingCharacters()
            if !name.isEmpty && !out.contains(name) { out.append(name) }
            rest = after[close.upperBound...]
        }
        return out
    }

    /// The template with every known placeholder replaced; unknown ones are left out and listed.
    public static func render(_ template: String, values: [String: String]) -> (text: String, unknown: [String]) {
        var out = ""
        var unknown: [String] = []
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else {
                out += rest[open.lowerBound...]
                rest = ""
                break
            }
            let name = after[..<close.lowerBound].trimmingCharacters()
            if let v = values[name] { out += plain(v) } else if !unknown.contains(name) { unknown.append(name) }
            rest = after[close.upperBound...]
        }
        out += rest
        return (out, unknown)
    }

    /// One line of plain text: control characters and line breaks become spaces, no "{{" survives.
    public static func plain(_ v: String) -> String {
        var s = ""
        for u in v.unicodeScalars {
            if u.properties.generalCategory == .control || u == "\u{2028}" || u == "\u{2029}" { s.append(" ") } else { s.unicodeScalars.append(u) }
        }
        while s.firstRange(of: "{{") != nil { s = s.replacing("{{", with: "{ {") }
        return s.trimmingCharacters()
    }
}

/// Builds the RFC 5322 bytes of an automatic answer: threaded, marked as automatic (RFC 3834), UTF-8
/// quoted-printable text, and immune to header injection from anything taken from the incoming mail.
public struct ReplyComposer: Sendable {
    public struct Reply: Sendable {
        public var from: MailAddress
        public var to: MailAddress
        public var subject: String
        public var messageID: String
        public var inReplyTo: String?
        public var references: [String]
        /// Seconds since 1970 (UTC).
        public var date: Int64
        public var body: String
        /// Marked as an automatic reply (RFC 3834): true for mailtriage's own answers, false for an agent's.
        public var automatic = true

        public init(from: MailAddress, to: MailAddress, subject: String, messageID: String, inReplyTo: String?,
                    references: [String], date: Int64, body: String)
        {
            self.from = from
            self.to = to
            self.subject = subject
            self.messageID = messageID
            self.inReplyTo = inReplyTo
            self.references = references
            self.date = date
            self.body = body
        }
    }

    public init() {}

    /// `Re: <original> [#ticket]`, without piling up "Re:"/"AW:" prefixes or repeating the tag.
    public static func subject(original: String, ticket: Int64) -> String {
        var s = AnswerTemplate.plain(original)
        let prefixes = ["re:", "aw:", "antw:", "fw:", "fwd:", "wg:", "sv:", "vs:"]
        var changed = true
        while changed {
            changed = false
            for p in prefixes where s.lowercased().hasPrefix(p) {
                s = String(s.dropFirst(p.count)).trimmingCharacters()
                changed = true
            }
        }
        let tag = "[#\(ticket)]"
        if s.count > 200 { s = String(s.prefix(200)) + "…" }
        return s.firstRange(of: tag) != nil ? "Re: \(s)" : (s.isEmpty ? "Re: \(tag)" : "Re: \(s) \(tag)")
    }

    /// The Message-ID of an agent's reply: `reply.<ticket>.<token>@<domain>`.
    public static func agentMessageID(ticket: Int64, token: String, domain: String) -> String {
        "reply" + messageID(ticket: ticket, token: token, domain: domain).dropFirst(4)
    }

    /// A Message-ID we recognise later: `auto.<ticket>.<token>@<domain>`.
    public static func messageID(ticket: Int64, token: String, domain: String) -> String {
        "auto.\(ticket).\(token.filter { $0.isLetter || $0.isNumber })@\(domain.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" })"
    }

    public func render(_ r: Reply) -> [UInt8] {
        var h: [String] = []
        h.append("From: " + ReplyComposer.address(r.from))
        h.append("To: " + ReplyComposer.address(r.to))
        h.append("Subject: " + ReplyComposer.encodeUnstructured(r.subject, fieldLength: 9))
        h.append("Date: " + ReplyComposer.rfc5322Date(r.date))
        h.append("Message-ID: <\(ReplyComposer.msgID(r.messageID))>")
        if let irt = r.inReplyTo { h.append("In-Reply-To: <\(ReplyComposer.msgID(irt))>") }
        let refs = r.references.map(ReplyComposer.msgID).filter { !$0.isEmpty }.suffix(20)
        if !refs.isEmpty { h.append("References: " + refs.map { "<\($0)>" }.joined(separator: "\r\n ")) }
        h.append("MIME-Version: 1.0")
        h.append("Content-Type: text/plain; charset=utf-8")
        h.append("Content-Transfer-Encoding: quoted-printable")
        if r.automatic {
            h.append("Auto-Submitted: auto-replied")
            h.append("X-Auto-Response-Suppress: All")
            h.append("Precedence: auto_reply")
        }
        var out = Array((h.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        out += ReplyComposer.quotedPrintable(r.body)
        return out
    }

    /// A message id without anything that could end the field or the brackets.
    static func msgID(_ id: String) -> String {
        String(id.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }.prefix(250).map(Character.init))
    }

    /// `"Display Name" <addr>` with the name RFC 2047-encoded when needed or too long for one line (folded, so
    /// no line passes 78 characters) and cut to `maxDisplayName` characters; the address is checked.
    static func address(_ a: MailAddress) -> String {
        let addr = String(a.address.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && !"<>\"(),;:\\[]".unicodeScalars.contains($0) }
            .map(Character.init))
        guard var name = a.name.map(AnswerTemplate.plain), !name.isEmpty else { return "<\(addr)>" }
        if name.count > maxDisplayName { name = String(name.prefix(maxDisplayName)) + "…" }
        if name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            let quoted = name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            // "From: " or "To: ", the quotes, the space and the brackets around the address.
            if quoted.utf8.count + addr.utf8.count + 11 <= 78 { return "\"\(quoted)\" <\(addr)>" }
        }
        return encodeWords(name, fieldLength: 6) + "\r\n <\(addr)>"
    }

    /// The longest display name written (a customer's name of kilobytes is cut).
    static let maxDisplayName = 200

    /// Unstructured text: ASCII is folded at spaces, anything else becomes RFC 2047 encoded words.
    static func encodeUnstructured(_ text: String, fieldLength: Int) -> String {
        let t = AnswerTemplate.plain(text)
        if t.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && t.count + fieldLength <= 78 { return t }
        return encodeWords(t, fieldLength: fieldLength)
    }

    /// `=?utf-8?B?...?=` words of at most 75 characters, never splitting a UTF-8 sequence, folded so that no
    /// line passes 78 characters (the first one after a field name of `fieldLength` characters with its ": ").
    static func encodeWords(_ text: String, fieldLength: Int = 4) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        // 12 characters of "=?utf-8?B?" and "?="; 4 base64 characters for 3 bytes; later lines start with a space.
        let first = min(45, (78 - fieldLength - 12) / 4 * 3)
        for ch in text {
            let bytes = Array(String(ch).utf8)
            if chunk.count + bytes.count > (words.isEmpty ? first : 45) {
                words.append("=?utf-8?B?" + base64(chunk) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?" + base64(chunk) + "?=") }
        return words.joined(separator: "\r\n ")
    }

    static func base64(_ b: [UInt8]) -> String {
        let t = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            let n = min(3, b.count - i)
            let v = (UInt32(b[i]) << 16) | (n > 1 ? UInt32(b[i + 1]) << 8 : 0) | (n > 2 ? UInt32(b[i + 2]) : 0)
            out.append(t[Int(v >> 18 & 63)])
            out.append(t[Int(v >> 12 & 63)])
            out.append(n > 1 ? t[Int(v >> 6 & 63)] : 0x3D)
            out.append(n > 2 ? t[Int(v & 63)] : 0x3D)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Quoted-printable (RFC 2045): CRLF line ends, lines of at most 76 characters, trailing white space
    /// and a leading "." or "From " encoded so no transport can change them.
    static func quotedPrintable(_ text: String) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        let lines = text.replacing("\r\n", with: "\n").replacing("\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        for (li, line) in lines.enumerated() {
            let bytes = Array(line.utf8)
            var col = 0
            for (k, b) in bytes.enumerated() {
                let last = k == bytes.count - 1
                var enc: [UInt8]
                let needs = b == 0x3D || b > 0x7E || (b < 0x20 && b != 0x09) || ((b == 0x20 || b == 0x09) && last)
                    || (k == 0 && b == 0x2E) || (k == 0 && bytes.starts(with: Array("From ".utf8)) && b == 0x46)
                enc = needs ? [0x3D, hex[Int(b >> 4)], hex[Int(b & 15)]] : [b]
                if col + enc.count > 75 {
                    out += [0x3D, 0x0D, 0x0A]
                    col = 0
                }
                out += enc
                col += enc.count
            }
            if li < lines.count - 1 { out += [0x0D, 0x0A] }
        }
        out += [0x0D, 0x0A]
        return out
    }

    /// "Sun, 22 Nov 2026 10:00:00 +0000".
    public static func rfc5322Date(_ t: Int64) -> String {
        let days = Int(t >= 0 ? t / 86400 : (t - 86399) / 86400)
        let secs = Int(t - Int64(days) * 86400)
        // Civil from days (H. Hinnant).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekday), \(d) \(month) \(y) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) +0000"
    }
}
