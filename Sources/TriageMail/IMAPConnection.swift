import CCurl
import Foundation
import TriageCore

/// The IMAP commands mailtriage needs, over one kept libcurl connection (see the field notes: every
/// command is one perform; SELECT is libcurl's own, never a custom command).
final class IMAPConnection {
    struct Settings {
        var url: IMAPURL
        var username: String
        var password: Secret
        /// An OAuth2 access token instead of the password.
        var bearer: Secret? = nil
        var caFile: String?
        var connectTimeout: Duration
        var responseTimeout: Duration
        /// Set on shutdown to abort a transfer in progress.
        var abort: AbortFlag? = nil
    }

    let settings: Settings
    private let curl: CurlHandle
    private(set) var capabilities: Set<String>?
    private var knownFolders: Set<String> = []

    init(settings: Settings) throws {
        self.settings = settings
        curl = try CurlHandle()
        curl.buffers.abort = settings.abort
        curl.configureTransport(
            username: settings.username, password: settings.password, bearer: settings.bearer, caFile: settings.caFile,
            requireStartTLS: settings.url.security == .startTLS,
            connectTimeout: settings.connectTimeout, responseTimeout: settings.responseTimeout)
    }

    private var server: String { settings.url.serverURL }
    private var folderURL: String { "\(server)/\(IMAPConnection.encodePath(settings.url.folder))" }

    /// Percent-encodes a folder name for the URL path (libcurl decodes it again).
    static func encodePath(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// Runs one transfer, retrying once when a kept connection turns out to be dead.
    private func run(url: String, custom: String?, bodyLimit: Int = 64 << 20, what: String) throws -> TransferBuffers {
        var attempt = 0
        while true {
            attempt += 1
            curl.buffers.reset()
            curl.buffers.bodyLimit = bodyLimit
            ccurl_setopt_string(curl.handle, CURLOPT_URL, url)
            if let custom {
                ccurl_setopt_string(curl.handle, CURLOPT_CUSTOMREQUEST, custom)
            } else {
                ccurl_setopt_ptr(curl.handle, CURLOPT_CUSTOMREQUEST, nil)
            }
            ccurl_setopt_long(curl.handle, CURLOPT_UPLOAD, 0)
            let (code, message) = curl.perform()
            if code == CURLE_OK { return curl.buffers }
            if curl.buffers.overLimit {
                throw TriageError.limit("\(what): response size", limit: bodyLimit, actual: curl.buffers.body.count)
            }
            if attempt == 1 && (code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING) {
                continue
            }
            let said = IMAPResponse.refusal(IMAPResponse.lines(curl.buffers.header))
            throw TriageError.curl(code, message, context: "\(server) \(what)", serverSaid: said)
        }
    }

    /// A custom command; returns the untagged response lines. `selected`: run it with the folder selected.
    @discardableResult
    func command(_ cmd: String, selected: Bool) throws -> [Substring] {
        let verb = cmd.split(separator: " ").prefix(2).joined(separator: " ")
        let b = try run(url: selected ? folderURL : server + "/", custom: cmd, what: verb)
        return IMAPResponse.lines(b.body)
    }

    func loadCapabilities() throws -> Set<String> {
        if let capabilities { return capabilities }
        let caps = IMAPResponse.capabilities(try command("CAPABILITY", selected: false))
        capabilities = caps
        return caps
    }

    func status() throws -> MailboxStatus {
        // NOOP on the selected folder makes the server report mail that arrived since libcurl selected it.
        try command("NOOP", selected: true)
        let lines = try command("STATUS \(IMAPResponse.quoted(settings.url.folder)) (MESSAGES UIDNEXT UIDVALIDITY)", selected: false)
        let attrs = IMAPResponse.statusAttributes(lines)
        guard let v = attrs["UIDVALIDITY"], let n = attrs["UIDNEXT"] else {
            throw TriageError(.protocolError, "\(server): STATUS gave no UIDVALIDITY/UIDNEXT for \(settings.url.folder)", transient: true)
        }
        return MailboxStatus(uidValidity: UInt32(truncatingIfNeeded: v), uidNext: UInt32(truncatingIfNeeded: n),
                             messages: Int(attrs["MESSAGES"] ?? 0))
    }

    /// UIDs above `after`, searched in windows so that no response line grows long enough to be cut.
    func searchUIDs(after: UInt32, below uidNext: UInt32) throws -> [UInt32] {
        var result: [UInt32] = []
        let window: UInt32 = 2_000
        var lo = after &+ 1
        let hi = max(uidNext, lo)  // search at least once, up to "*"
        while lo <= hi {
            let top = hi - lo >= window ? "\(lo + window - 1)" : "*"
            let found = IMAPResponse.searchResults(try command("UID SEARCH UID \(lo):\(top)", selected: true))
            result += found.filter { $0 > after }
            if top == "*" { break }
            lo += window
        }
        return Array(Set(result)).sorted()
    }

    func messageInfo(of uids: [UInt32]) throws -> [UInt32: MessageInfo] {
        var out: [UInt32: MessageInfo] = [:]
        for chunk in stride(from: 0, to: uids.count, by: 100).map({ Array(uids[$0..<min($0 + 100, uids.count)]) }) {
            let lines = try command("UID FETCH \(IMAPResponse.sequenceSet(chunk)) (UID RFC822.SIZE INTERNALDATE)", selected: true)
            for a in IMAPResponse.fetchAttributes(lines) {
                if let uid = a.uid, let size = a.size { out[uid] = MessageInfo(size: size, internalDate: a.internalDate) }
            }
        }
        return out
    }

    /// The message bytes exactly as stored on the server (BODY[], which also sets \Seen).
    func fetch(uid: UInt32, headerOnly: Bool, limit: Int) throws -> [UInt8] {
        let section = headerOnly ? "/;SECTION=HEADER" : ""
        let b = try run(url: "\(folderURL)/;UID=\(uid)\(section)", custom: nil, bodyLimit: limit, what: "FETCH UID \(uid)")
        return b.body
    }

    func markProcessed(uids: [UInt32], action: AfterProcessing) throws {
        guard !uids.isEmpty else { return }
        for chunk in stride(from: 0, to: uids.count, by: 100).map({ Array(uids[$0..<min($0 + 100, uids.count)]) }) {
            let set = IMAPResponse.sequenceSet(chunk)
            switch action {
            case .none:
                return
            case .flag(let flag):
                try command("UID STORE \(set) +FLAGS.SILENT (\(flag))", selected: true)
            case .move(let folder):
                try ensureFolder(folder)
                let caps = try loadCapabilities()
                if caps.contains("MOVE") {
                    try command("UID MOVE \(set) \(IMAPResponse.quoted(folder))", selected: true)
                } else {
                    try command("UID COPY \(set) \(IMAPResponse.quoted(folder))", selected: true)
                    try command("UID STORE \(set) +FLAGS.SILENT (\\Seen \\Deleted)", selected: true)
                    // Without UIDPLUS a plain EXPUNGE would also remove other people's \Deleted mail: leave it.
                    if caps.contains("UIDPLUS") { try command("UID EXPUNGE \(set)", selected: true) }
                }
            }
        }
    }

    /// A MOVE to a missing folder fails and drops the connection; check first and create it if needed.
    private func ensureFolder(_ folder: String) throws {
        if knownFolders.contains(folder) { return }
        let listed = IMAPResponse.listedMailboxes(try command("LIST \"\" \(IMAPResponse.quoted(folder))", selected: false))
        if !listed.contains(folder) {
            try command("CREATE \(IMAPResponse.quoted(folder))", selected: false)
        }
        knownFolders.insert(folder)
    }

    var connectionsOpened: Int { curl.numConnects }
}
