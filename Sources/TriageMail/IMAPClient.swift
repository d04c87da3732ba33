import TriageCore

/// The IMAP commands mailtriage needs, over either kind of connection: `IMAPConnection` (one libcurl transfer
/// per command) or `IMAPSession` (libcurl connects and logs in, the commands are pipelined over its socket).
/// Not thread-safe: each is owned by one mailbox's thread.
protocol IMAPClient: AnyObject {
    var settings: IMAPConnection.Settings { get }
    var capabilities: Set<String>? { get set }
    var knownFolders: Set<String> { get set }
    /// How many UIDs one SEARCH window, one FETCH of sizes and one STORE cover.
    var uidsPerCommand: (search: Int, info: Int, store: Int) { get }
    /// Connections opened for the last command (0 when the kept one was reused); for tests.
    var connectionsOpened: Int { get }

    /// A command; returns the untagged response lines (`* ...`). `selected`: run it with the folder selected.
    @discardableResult
    func command(_ cmd: String, selected: Bool) throws -> [Substring]
    /// One message's bytes (or its header), at most `limit` bytes.
    func fetch(uid: UInt32, headerOnly: Bool, limit: Int) throws -> [UInt8]
    /// Several messages in request order; stops after the first error about the connection, which is then
    /// the last result. `progress` is called after each message.
    func download(_ requests: [DownloadRequest], progress: () -> Void) -> [DownloadResult]
}

extension IMAPClient {
    var server: String { settings.url.serverURL }

    func loadCapabilities() throws -> Set<String> {
        if let capabilities { return capabilities }
        let caps = IMAPResponse.capabilities(try command("CAPABILITY", selected: false))
        capabilities = caps
        return caps
    }

    func status() throws -> MailboxStatus {
        // NOOP on the selected folder makes the server report mail that arrived since it was selected.
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
        let window = UInt32(uidsPerCommand.search)
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
        for chunk in IMAPClientChunks.split(uids, by: uidsPerCommand.info) {
            let lines = try command("UID FETCH \(IMAPResponse.sequenceSet(chunk)) (UID RFC822.SIZE INTERNALDATE)", selected: true)
            for a in IMAPResponse.fetchAttributes(lines) {
                if let uid = a.uid, let size = a.size { out[uid] = MessageInfo(size: size, internalDate: a.internalDate) }
            }
        }
        return out
    }

    func markProcessed(uids: [UInt32], action: AfterProcessing) throws {
        guard !uids.isEmpty else { return }
        for chunk in IMAPClientChunks.split(uids, by: uidsPerCommand.store) {
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
    func ensureFolder(_ folder: String) throws {
        if knownFolders.contains(folder) { return }
        let listed = IMAPResponse.listedMailboxes(try command("LIST \"\" \(IMAPResponse.quoted(folder))", selected: false))
        if !listed.contains(folder) {
            try command("CREATE \(IMAPResponse.quoted(folder))", selected: false)
        }
        knownFolders.insert(folder)
    }

}

enum IMAPClientChunks {
    static func split(_ uids: [UInt32], by n: Int) -> [[UInt32]] {
        stride(from: 0, to: uids.count, by: n).map { Array(uids[$0..<min($0 + n, uids.count)]) }
    }
}
