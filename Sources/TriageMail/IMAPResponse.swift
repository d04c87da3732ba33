import Foundation
import TriageMIME

/// Pure parsers for the IMAP server lines libcurl hands back through its callbacks (RFC 3501, 4731).
public enum IMAPResponse {
    /// Splits callback bytes into lines without their CRLF/LF.
    public static func lines(_ bytes: [UInt8]) -> [Substring] {
        String(decoding: bytes, as: UTF8.self)
            .split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    }

    /// `* STATUS "INBOX" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1700000000)` -> its attribute values.
    public static func statusAttributes<S: StringProtocol>(_ lines: [S]) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in lines where line.uppercased().hasPrefix("* STATUS ") {
            guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")"), open < close else { continue }
            let items = line[line.index(after: open)..<close].split(separator: " ")
            var i = 0
            while i + 1 < items.count {
                if let v = UInt64(items[i + 1]) { result[items[i].uppercased()] = v }
                i += 2
            }
        }
        return result
    }

    /// All numbers of `* SEARCH n n n` lines, and of `* ESEARCH ... ALL set` lines.
    public static func searchResults<S: StringProtocol>(_ lines: [S]) -> [UInt32] {
        var uids: [UInt32] = []
        for line in lines {
            let upper = line.uppercased()
            if upper.hasPrefix("* SEARCH") {
                for tok in line.dropFirst(8).split(separator: " ") {
                    if let v = UInt32(tok) { uids.append(v) }
                }
            } else if upper.hasPrefix("* ESEARCH") {
                let toks = line.split(separator: " ")
                if let all = toks.firstIndex(where: { $0.uppercased() == "ALL" }), all + 1 < toks.count {
                    uids += expandSequenceSet(String(toks[all + 1]))
                }
            }
        }
        return uids
    }

    /// "1:3,7" -> [1, 2, 3, 7]. Ranges are read in either order; "*" is not expected here.
    public static func expandSequenceSet(_ set: String) -> [UInt32] {
        var out: [UInt32] = []
        for part in set.split(separator: ",") {
            let ends = part.split(separator: ":")
            if ends.count == 2, let a = UInt32(ends[0]), let b = UInt32(ends[1]) {
                out += Array(min(a, b)...max(a, b))
            } else if let v = UInt32(part) {
                out.append(v)
            }
        }
        return out
    }

    /// A UID set in compact form: [1,2,3,7] -> "1:3,7". Input need not be sorted.
    public static func sequenceSet(_ uids: [UInt32]) -> String {
        let sorted = Array(Set(uids)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i]):\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// One `* n FETCH (...)` line's UID, RFC822.SIZE and INTERNALDATE.
    public struct FetchAttributes: Equatable, Sendable {
        public var uid: UInt32?
        public var size: Int?
        public var internalDate: Int64?
    }

    public static func fetchAttributes<S: StringProtocol>(_ lines: [S]) -> [FetchAttributes] {
        var out: [FetchAttributes] = []
        for line in lines {
            let toks = tokenize(line)
            guard toks.count >= 3, toks[0] == "*", toks[2].uppercased() == "FETCH" else { continue }
            var attrs = FetchAttributes()
            var i = 3
            while i + 1 < toks.count {
                switch toks[i].uppercased() {
                case "UID": attrs.uid = UInt32(toks[i + 1]); i += 2
                case "RFC822.SIZE": attrs.size = Int(toks[i + 1]); i += 2
                case "INTERNALDATE": attrs.internalDate = parseInternalDate(toks[i + 1]); i += 2
                default: i += 1
                }
            }
            out.append(attrs)
        }
        return out
    }

    /// Splits a response line into atoms and quoted strings (quotes removed); parentheses are dropped.
    static func tokenize<S: StringProtocol>(_ line: S) -> [String] {
        var toks: [String] = []
        var cur = ""
        var inQuote = false
        var escaped = false
        for ch in line {
            if inQuote {
                if escaped { cur.append(ch); escaped = false }
                else if ch == "\\" { escaped = true }
                else if ch == "\"" { inQuote = false; toks.append(cur); cur = "" }
                else { cur.append(ch) }
                continue
            }
            switch ch {
            case "\"": inQuote = true
            case " ", "(", ")":
                if !cur.isEmpty { toks.append(cur); cur = "" }
            default: cur.append(ch)
            }
        }
        if !cur.isEmpty { toks.append(cur) }
        return toks
    }

    static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

    /// `17-Jul-1996 02:44:25 -0700` -> seconds since 1970 UTC.
    public static func parseInternalDate(_ s: String) -> Int64? {
        let parts = s.trimmingCharacters(in: .whitespaces).split(separator: " ")
        guard parts.count == 3 else { return nil }
        let dmy = parts[0].split(separator: "-")
        let hms = parts[1].split(separator: ":").compactMap { Int($0) }
        guard dmy.count == 3, let d = Int(dmy[0]), let m = months.firstIndex(of: dmy[1].uppercased()), let y = Int(dmy[2]),
              hms.count == 3, let zone = Int(parts[2]), parts[2].count == 5
        else { return nil }
        let offset = (abs(zone) / 100 * 60 + abs(zone) % 100) * (zone < 0 ? -1 : 1)
        let days = MailDate.daysFromCivil(y, m + 1, d)
        return Int64(days) * 86400 + Int64(hms[0] * 3600 + hms[1] * 60 + hms[2]) - Int64(offset * 60)
    }

    /// The capabilities from `* CAPABILITY ...` lines or `[CAPABILITY ...]` response codes, uppercased.
    public static func capabilities<S: StringProtocol>(_ lines: [S]) -> Set<String> {
        var caps = Set<String>()
        for line in lines {
            let upper = line.uppercased()
            var rest: Substring?
            if upper.hasPrefix("* CAPABILITY ") { rest = Substring(upper.dropFirst(13)) }
            else if let r = upper.range(of: "[CAPABILITY ") {
                let after = upper[r.upperBound...]
                rest = after.split(separator: "]", maxSplits: 1).first
            }
            if let rest { rest.split(separator: " ").forEach { caps.insert(String($0)) } }
        }
        return caps
    }

    /// `* LIST (\HasNoChildren) "/" "Processed"` -> the mailbox names.
    public static func listedMailboxes<S: StringProtocol>(_ lines: [S]) -> [String] {
        lines.compactMap { line -> String? in
            guard line.uppercased().hasPrefix("* LIST ") else { return nil }
            let toks = tokenize(line.dropFirst(7))
            // Flags come first (parentheses dropped), then the delimiter, then the name.
            return toks.last
        }
    }

    /// The last tagged NO or BAD line (the server's own words for a refusal), without its tag.
    public static func refusal<S: StringProtocol>(_ lines: [S]) -> String? {
        for line in lines.reversed() {
            let toks = line.split(separator: " ", maxSplits: 2)
            guard toks.count >= 2, toks[0] != "*", toks[0] != "+" else { continue }
            let status = toks[1].uppercased()
            if status == "NO" || status == "BAD" {
                return toks.dropFirst().joined(separator: " ")
            }
        }
        return nil
    }

    /// Quotes a mailbox name or string for an IMAP command.
    public static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
