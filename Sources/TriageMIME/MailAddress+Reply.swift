extension MailAddress {
    /// Whether `address` is a plain addr-spec that mail can be sent to without interpretation: one "@", a
    /// dot-atom local part of at most 64 bytes, a domain of at least two dot-separated labels (letters,
    /// digits, hyphens, or UTF-8) of at most 255 bytes, 254 bytes in all (RFC 5321 section 4.5.3.1). Quoted
    /// local parts, IP literals, routes, white space, control characters and the specials that would end a
    /// header field or an SMTP command are refused: an automatic answer goes to such an address never.
    public static func isPlainAddrSpec(_ address: String) -> Bool {
        let u = Array(address.utf8)
        guard u.count <= 254, let at = u.firstIndex(of: 0x40), u.lastIndex(of: 0x40) == at else { return false }
        let local = u[..<at], domain = u[(at + 1)...]
        guard (1...64).contains(local.count), (1...255).contains(domain.count) else { return false }
        // atext (RFC 5322 section 3.2.3) and UTF-8 (RFC 6531), in dot-separated non-empty atoms.
        func atext(_ b: UInt8) -> Bool {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: return true
            default: return "!#$%&'*+-/=?^_`{|}~".utf8.contains(b)
            }
        }
        let atoms = local.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty && $0.allSatisfy(atext) }) else { return false }
        let labels = domain.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { l in
            guard (1...63).contains(l.count), l.first != 0x2D, l.last != 0x2D else { return false }
            return l.allSatisfy { b in (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2D || b >= 0x80 }
        }
    }

    /// The form in which two addresses of one mailbox compare equal: lowercased, without a "+detail"
    /// (sub-address) in the local part and without a trailing dot on the domain.
    /// `Support+x@Example.COM.` and `support@example.com` reach the same mailbox.
    public static func mailboxKey(_ address: String) -> String {
        let a = address.lowercased()
        guard let at = a.lastIndex(of: "@") else { return a }
        var local = a[..<at]
        if local.hasPrefix("\"") && local.hasSuffix("\"") && local.count >= 2 { local = local.dropFirst().dropLast() }
        if let plus = local.firstIndex(of: "+") { local = local[..<plus] }
        var domain = a[a.index(after: at)...]
        while domain.hasSuffix(".") { domain = domain.dropLast() }
        return String(local) + "@" + String(domain)
    }
}
