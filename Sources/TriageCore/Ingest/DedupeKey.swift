import TriageMIME

/// The key that recognises the same message arriving twice (another folder, a UIDVALIDITY change, a
/// copy to a second mailbox): its Message-ID plus a hash of its body, since trace headers differ
/// between copies while a reused Message-ID on different content must not hide a new message.
/// Without a Message-ID, a hash of the whole message.
public enum DedupeKey {
    public static func compute(_ raw: [UInt8]) -> String {
        let headers = HeaderBlock(parsing: raw)
        if let mid = MessageEnvelope(headers: headers).messageID {
            let body = raw[min(headers.bodyOffset, raw.count)...]
            return "mid:\(mid)#\(SHA256.hex(body).prefix(32))"
        }
        return "sha256:\(SHA256.hex(raw))"
    }
}
