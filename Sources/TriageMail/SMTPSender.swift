import CCurl
import Foundation
public import TriageCore

/// Where and how answers are sent: `smtp://host[:port]` (STARTTLS required unless explicitly disabled)
/// or `smtps://host[:port]` (implicit TLS). Certificates are always verified.
public struct SMTPSettings: Sendable, Equatable {
    public var url: String
    public var username: String?
    public var password: Secret?
    /// OAuth2 (`auth = "oauth2"`): log in with an access token from here instead of the password.
    public var tokens: OAuth2TokenSource?
    public var caFile: String?
    /// Name given in EHLO (default "localhost").
    public var heloName: String
    public var requireStartTLS = true
    public var connectTimeout: Duration = .seconds(15)
    public var responseTimeout: Duration = .seconds(60)

    public init(url: String, username: String? = nil, password: Secret? = nil, caFile: String? = nil, heloName: String = "localhost") {
        self.url = url
        self.username = username
        self.password = password
        self.caFile = caFile
        self.heloName = heloName
    }

    public static func == (a: SMTPSettings, b: SMTPSettings) -> Bool {
        a.url == b.url && a.username == b.username && a.password == b.password && a.tokens === b.tokens && a.caFile == b.caFile
            && a.heloName == b.heloName && a.requireStartTLS == b.requireStartTLS && a.connectTimeout == b.connectTimeout
            && a.responseTimeout == b.responseTimeout
    }

    /// True for an `smtp://` or `smtps://` URL with a host.
    public static func validURL(_ s: String) -> Bool {
        guard let u = URLComponents(string: s), let scheme = u.scheme?.lowercased(), scheme == "smtp" || scheme == "smtps",
              let host = u.host, !host.isEmpty
        else { return false }
        return true
    }
}

/// Sends messages over one kept libcurl SMTP connection, on a thread of its own. Errors say whether a
/// retry may help: connection problems, timeouts and 4xx replies are transient; 5xx replies and TLS or
/// login failures are permanent.
public final class SMTPSender: MailSender {
    /// The connection, touched only on `thread`.
    final class State: @unchecked Sendable {
        var curl: CurlHandle?
        /// When the token the kept connection logged in with is due for renewal (OAuth2).
        var renewAt: Double?
        /// The server's last reply code in the last transfer (0: it said nothing).
        var lastReplyCode = 0
    }

    let settings: SMTPSettings
    private let thread = TransferThread(name: "smtp")
    private let state = State()
    private let abort = AbortFlag()

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    /// Sends `message` with envelope sender `from` ("" for the null sender `<>`) to `recipients`.
    /// Returns the server's last reply code.
    @discardableResult
    public func send(_ message: [UInt8], from: String, to recipients: [String]) async throws -> Int {
        let settings = settings, state = state, abort = abort
        return try await thread.run { try SMTPSender.send(message, from: from, to: recipients, settings: settings, state: state, abort: abort) }
    }

    /// Connects, says EHLO, starts TLS and logs in (a password or an OAuth2 token), sends nothing: for
    /// `check-config --connect`. Returns the server's last reply code.
    public func checkLogin() async throws -> Int {
        let settings = settings, abort = abort
        return try await thread.run {
            let h = try SMTPSender.handle(settings, abort: abort)
            // libcurl's SMTP connect phase is greeting, EHLO, STARTTLS and AUTH: stopping there checks the login.
            ccurl_setopt_long(h.handle, CURLOPT_CONNECT_ONLY, 1)
            let (code, text) = h.perform()
            var reply = 0
            ccurl_getinfo_long(h.handle, CURLINFO_RESPONSE_CODE, &reply)
            guard code == CURLE_OK else {
                let said = SMTPSender.lastReply(h.buffers.header)
                throw TriageError.curl(code, text, context: "SMTP \(settings.url)", serverSaid: said)
            }
            return reply
        }
    }

    /// A handle for the server: URL with the EHLO name, TLS, timeouts and the login (password, token or none).
    static func handle(_ settings: SMTPSettings, abort: AbortFlag, state: State? = nil) throws -> CurlHandle {
        let login = try settings.tokens?.login()
        state?.renewAt = login?.renewAt
        let h = try CurlHandle()
        h.buffers.abort = abort
        var base = settings.url
        while base.hasSuffix("/") { base.removeLast() }
        ccurl_setopt_string(h.handle, CURLOPT_URL, base + "/" + settings.heloName)
        h.configureTransport(username: settings.username ?? "", password: settings.password ?? Secret(""),
                             bearer: login?.token, caFile: settings.caFile,
                             requireStartTLS: settings.requireStartTLS && settings.url.lowercased().hasPrefix("smtp:"),
                             connectTimeout: settings.connectTimeout, responseTimeout: settings.responseTimeout)
        if settings.username == nil {
            ccurl_setopt_ptr(h.handle, CURLOPT_USERNAME, nil)
            ccurl_setopt_ptr(h.handle, CURLOPT_PASSWORD, nil)
        }
        return h
    }

    static func send(_ message: [UInt8], from: String, to recipients: [String], settings: SMTPSettings, state: State,
                     abort: AbortFlag) throws -> Int
    {
        var kept = state.curl != nil, newToken = false
        while true {
            do {
                return try sendOnce(message, from: from, to: recipients, settings: settings, state: state, abort: abort)
            } catch let e as TriageError where kept && e.code == .connection && state.lastReplyCode == 0 {
                // The server closed the kept connection while it sat idle, before it said anything about this
                // message: once more on a new connection (nothing of the message can have been accepted).
                kept = false
            } catch let e as TriageError where e.code == .authentication && settings.tokens != nil && !newToken {
                // The server refused the access token (revoked, or expired early): one more try with a new one.
                settings.tokens?.invalidate()
                state.curl = nil
                kept = false
                newToken = true
            }
        }
    }

    static func sendOnce(_ message: [UInt8], from: String, to recipients: [String], settings: SMTPSettings, state: State,
                         abort: AbortFlag) throws -> Int
    {
        guard !recipients.isEmpty else { throw TriageError(.config, "no recipient") }
        for r in recipients + [from] where r.unicodeScalars.contains(where: { $0.value < 0x21 || $0 == "<" || $0 == ">" }) {
            throw TriageError(.serverRefused, "refusing an envelope address with spaces, controls or brackets: \(r.debugDescription)")
        }
        if abort.isSet { throw TriageError(.connection, "SMTP \(settings.url): shutting down", transient: true) }
        // A connection logged in with a token due for renewal logs in again with a fresh one (a provider may
        // end a session when its token expires).
        if state.curl != nil, let tokens = settings.tokens, let due = state.renewAt, tokens.isDue(due) { state.curl = nil }
        let h: CurlHandle
        if let c = state.curl { h = c } else {
            h = try handle(settings, abort: abort, state: state)
            ccurl_setopt_long(h.handle, CURLOPT_UPLOAD, 1)
            state.curl = h
        }
        h.buffers.reset()
        h.buffers.upload = message
        h.buffers.uploadOffset = 0
        ccurl_setopt_string(h.handle, CURLOPT_MAIL_FROM, "<\(from)>")
        var list: UnsafeMutablePointer<curl_slist>?
        for r in recipients { list = curl_slist_append(list, "<\(r)>") }
        ccurl_setopt_ptr(h.handle, CURLOPT_MAIL_RCPT, list)
        ccurl_setopt_off(h.handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
        let (code, text) = h.perform()
        ccurl_setopt_ptr(h.handle, CURLOPT_MAIL_RCPT, nil)
        curl_slist_free_all(list)
        var reply = 0
        ccurl_getinfo_long(h.handle, CURLINFO_RESPONSE_CODE, &reply)
        state.lastReplyCode = reply
        if code == CURLE_OK { return reply }
        let said = lastReply(h.buffers.header)
        // A failed transfer may leave the connection in an unknown state: start afresh next time.
        state.curl = nil
        var err = TriageError.curl(code, text, context: "SMTP \(settings.url)", serverSaid: said)
        // A refused login (535) stays a login failure: it is the connection's problem, not this message's.
        if reply >= 500 && reply < 600 && !err.isLoginFailure { err.isTransient = false; err.code = .serverRefused }
        if reply >= 400 && reply < 500 { err.isTransient = true }
        throw err
    }

    /// The server's last reply line in what libcurl collected of the conversation (CRLF lines: "\r\n" is one
    /// `Character`, so splitting on "\n" would keep the whole conversation).
    static func lastReply(_ header: [UInt8]) -> String? {
        String(decoding: header, as: UTF8.self).split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    public func disconnect() async {
        let state = state
        _ = try? await thread.run { state.curl = nil }
    }

    /// Aborts a transfer in progress and refuses new ones (shutdown).
    public func abortTransfers() { abort.set() }
}
