import Logging
import TriageCore

/// A `MailboxSource` over IMAP through libcurl: one connection per mailbox, kept across polls and
/// reopened after an error.
public actor IMAPMailbox: MailboxSource {
    public struct Options: Sendable {
        public var url: IMAPURL
        public var username: String
        public var password: String
        public var caFile: String?
        public var connectTimeout: Duration
        public var responseTimeout: Duration

        public init(url: IMAPURL, username: String, password: String, caFile: String? = nil,
                    connectTimeout: Duration = .seconds(15), responseTimeout: Duration = .seconds(60))
        {
            self.url = url
            self.username = username
            self.password = password
            self.caFile = caFile
            self.connectTimeout = connectTimeout
            self.responseTimeout = responseTimeout
        }

        /// Options for a configured mailbox, with its password already read.
        public init(_ config: MailboxConfig, password: String) {
            self.init(url: config.url, username: config.username, password: password, caFile: config.caFile,
                      connectTimeout: config.connectTimeout, responseTimeout: config.responseTimeout)
        }
    }

    private let options: Options
    private var connection: IMAPConnection?
    private var lastUIDNext: UInt32 = 0

    public init(options: Options) {
        self.options = options
    }

    private func conn() throws -> IMAPConnection {
        if let connection { return connection }
        let c = try IMAPConnection(settings: .init(
            url: options.url, username: options.username, password: options.password, caFile: options.caFile,
            connectTimeout: options.connectTimeout, responseTimeout: options.responseTimeout))
        connection = c
        return c
    }

    /// Runs `body` on the connection; any failure drops the connection so the next call starts clean.
    private func using<T>(_ body: (IMAPConnection) throws -> T) throws -> T {
        do {
            return try body(try conn())
        } catch let e as TriageError where e.code == .serverRefused || e.code == .notFound || e.code == .limitExceeded {
            throw e  // the connection itself is fine (or libcurl reconnects on its own)
        } catch {
            connection = nil
            throw error
        }
    }

    public func status() throws -> MailboxStatus {
        let s = try using { try $0.status() }
        lastUIDNext = s.uidNext
        return s
    }

    public func searchUIDs(after: UInt32) throws -> [UInt32] {
        let next = lastUIDNext
        return try using { try $0.searchUIDs(after: after, below: next) }
    }

    public func messageInfo(of uids: [UInt32]) throws -> [UInt32: MessageInfo] {
        try using { try $0.messageInfo(of: uids) }
    }

    public func fetchMessage(uid: UInt32) throws -> [UInt8] {
        try using { try $0.fetch(uid: uid, headerOnly: false, limit: Int.max) }
    }

    public func fetchHeader(uid: UInt32) throws -> [UInt8] {
        try using { try $0.fetch(uid: uid, headerOnly: true, limit: 1 << 20) }
    }

    public func markProcessed(uids: [UInt32], action: AfterProcessing) throws {
        try using { try $0.markProcessed(uids: uids, action: action) }
    }

    public func disconnect() {
        connection = nil  // curl_easy_cleanup sends LOGOUT
    }

    /// Connections libcurl opened for the last command (0 when it reused the kept one); for tests.
    public func lastCommandConnects() -> Int { connection?.connectionsOpened ?? -1 }
}
