import Logging
import Synchronization
public import TriageCore

/// A `MailboxSource` over IMAP through libcurl: one connection per mailbox, kept across polls and
/// reopened after an error. Every transfer runs on the mailbox's own thread, never on Swift's
/// cooperative pool; `abortTransfers()` ends one in progress within about a second.
public final class IMAPMailbox: MailboxSource {
    public struct Options: Sendable {
        public var url: IMAPURL
        public var username: String
        public var password: Secret
        /// OAuth2 (`auth = "oauth2"`): logins with an access token from here instead of the password.
        public var tokens: OAuth2TokenSource?
        public var caFile: String?
        public var connectTimeout: Duration
        public var responseTimeout: Duration
        /// Commands pipelined over one connection that libcurl opens and logs in (`IMAPSession`); false: one
        /// libcurl transfer per command and per message (`IMAPConnection`), for a server that mishandles pipelining.
        public var pipelining = true

        public init(url: IMAPURL, username: String, password: Secret, caFile: String? = nil,
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
        public init(_ config: MailboxConfig, password: Secret, tokens: OAuth2TokenSource? = nil) {
            self.init(url: config.url, username: config.username, password: password, caFile: config.caFile,
                      connectTimeout: config.connectTimeout, responseTimeout: config.responseTimeout)
            self.tokens = tokens
            pipelining = config.pipelining
        }
    }

    /// The connection state, touched only on `thread`.
    final class State: @unchecked Sendable {
        var connection: (any IMAPClient)?
        var lastUIDNext: UInt32 = 0
        /// When the token the kept connection logged in with is due for renewal (OAuth2).
        var renewAt: Double?

        /// The kept connection, or a new one. With OAuth2 the kept one is replaced (LOGOUT, a new login with a
        /// fresh token) once its token is due for renewal: providers end a session when its token expires.
        func open(_ options: Options, abort: AbortFlag) throws -> any IMAPClient {
            if let connection {
                guard let tokens = options.tokens, let due = renewAt, tokens.isDue(due) else { return connection }
                self.connection = nil
            }
            let login = try options.tokens?.login()
            renewAt = login?.renewAt
            let settings = IMAPConnection.Settings(
                url: options.url, username: options.username, password: options.password, bearer: login?.token,
                caFile: options.caFile, connectTimeout: options.connectTimeout, responseTimeout: options.responseTimeout, abort: abort)
            let c: any IMAPClient = options.pipelining ? try IMAPSession(settings: settings) : try IMAPConnection(settings: settings)
            connection = c
            return c
        }

        /// The connection was closed or reset (not a timeout, TLS or login failure).
        static func isDeadConnection(_ error: any Error) -> Bool {
            (error as? TriageError)?.code == .connection
        }

        /// After these errors the connection itself is fine (or libcurl reconnects on its own); after any
        /// other it is dropped, so the next call starts clean.
        static func keepsConnection(_ error: any Error) -> Bool {
            guard let e = error as? TriageError else { return false }
            return e.code == .serverRefused || e.code == .notFound || e.code == .limitExceeded
        }
    }

    private let options: Options
    /// Called on the mailbox's thread after every server reply: progress, for the watchdog.
    private let progress: (@Sendable () -> Void)?
    private let thread: TransferThread
    private let state = State()
    private let abort = AbortFlag()

    public init(options: Options, progress: (@Sendable () -> Void)? = nil) {
        self.options = options
        self.progress = progress
        thread = TransferThread(name: "imap \(options.url.host)")
    }

    /// Runs `body` on the mailbox's thread with the connection; any failure drops the connection so the
    /// next call starts clean.
    private func using<T: Sendable>(_ body: @escaping @Sendable (any IMAPClient, State) throws -> T) async throws -> T {
        let options = options, state = state, abort = abort, progress = progress
        return try await thread.run {
            defer { progress?() }
            if abort.isSet { throw TriageError(.connection, "\(options.url.serverURL): shutting down", transient: true) }
            var retried = false, reopened = false
            while true {
                let kept = state.connection != nil
                do {
                    return try body(try state.open(options, abort: abort), state)
                } catch {
                    if !State.keepsConnection(error) { state.connection = nil }
                    // A kept connection the server closed while it was idle (a BYE, a restart): once more on a new one.
                    if kept, !reopened, !abort.isSet, State.isDeadConnection(error) {
                        reopened = true
                        continue
                    }
                    // The server refused the access token (revoked, or expired early): one more try with a new one.
                    if let tokens = options.tokens, !retried, (error as? TriageError)?.code == .authentication {
                        tokens.invalidate()
                        retried = true
                        continue
                    }
                    throw error
                }
            }
        }
    }

    public func status() async throws -> MailboxStatus {
        try await using { c, st in
            let s = try c.status()
            st.lastUIDNext = s.uidNext
            return s
        }
    }

    public func searchUIDs(after: UInt32) async throws -> [UInt32] {
        try await using { c, st in try c.searchUIDs(after: after, below: st.lastUIDNext) }
    }

    public func messageInfo(of uids: [UInt32]) async throws -> [UInt32: MessageInfo] {
        try await using { c, _ in try c.messageInfo(of: uids) }
    }

    public func fetchMessage(uid: UInt32, limit: Int) async throws -> [UInt8] {
        try await using { c, _ in try c.fetch(uid: uid, headerOnly: false, limit: limit) }
    }

    public func fetchHeader(uid: UInt32) async throws -> [UInt8] {
        try await using { c, _ in try c.fetch(uid: uid, headerOnly: true, limit: DownloadRequest.maxHeaderBytes) }
    }

    public func download(_ requests: [DownloadRequest]) async -> [DownloadResult] {
        let options = options, state = state, abort = abort, progress = progress
        // One job on the mailbox's thread for the whole list: one thread hop, not one per message.
        let requests = requests.map { r in
            var r = r
            if r.headerOnly { r.limit = min(r.limit, DownloadRequest.maxHeaderBytes) }
            return r
        }
        let results = try? await thread.run { () -> [DownloadResult] in
            var out: [DownloadResult] = []
            for attempt in 0..<2 {
                let kept = state.connection != nil
                do {
                    if abort.isSet { throw TriageError(.connection, "\(options.url.serverURL): shutting down", transient: true) }
                    out = try state.open(options, abort: abort).download(requests) { progress?() }
                } catch {
                    out = [.failure(error as? TriageError ?? TriageError(.io, "\(error)", transient: true))]
                }
                // A kept connection that was found closed before anything arrived: once more on a new one.
                guard attempt == 0, kept, out.count == 1, case .failure(let e) = out[0], State.isDeadConnection(e), !abort.isSet else { break }
                state.connection = nil
            }
            // The list ends at the first error about the connection (the rest would fail the same way).
            if case .failure(let e)? = out.last {
                if !State.keepsConnection(e) { state.connection = nil }
                if e.code == .authentication { options.tokens?.invalidate() }
            }
            return out
        }
        return results ?? []
    }

    public func markProcessed(uids: [UInt32], action: AfterProcessing) async throws {
        try await using { c, _ in try c.markProcessed(uids: uids, action: action) }
    }

    public func disconnect() async {
        let state = state
        _ = try? await thread.run { state.connection = nil }  // curl_easy_cleanup sends LOGOUT
    }

    public func abortTransfers() { abort.set() }

    /// Connections libcurl opened for the last command (0 when it reused the kept one); for tests.
    public func lastCommandConnects() async -> Int {
        let state = state
        return (try? await thread.run { state.connection?.connectionsOpened ?? -1 }) ?? -1
    }
}
