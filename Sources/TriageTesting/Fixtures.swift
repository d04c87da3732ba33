/// Small generated messages for tests.
public enum Fixtures {
    /// A plain-text message with a unique Message-ID derived from `n`.
    public static func message(_ n: Int, from: String = "customer@example.org", subject: String? = nil,
                               body: String = "Where is my order?", messageID: String? = nil) -> [UInt8]
    {
        let mid = messageID ?? "msg-\(n)@example.org"
        let text = "From: Customer \(n) <\(from)>\r\nTo: support@example.com\r\nSubject: \(subject ?? "Question \(n)")\r\n"
            + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <\(mid)>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\n\(body)\r\n"
        return Array(text.utf8)
    }
}
