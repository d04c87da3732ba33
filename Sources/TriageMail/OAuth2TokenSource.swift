import CCurl
import Foundation
import Synchronization
public import TriageCore
#if canImport(Glibc)
import Glibc
#endif

/// Access tokens for XOAUTH2 / OAUTHBEARER logins from an OAuth2 token endpoint (RFC 6749: the
/// client-credentials or the refresh-token grant), over HTTPS through libcurl with verification on. A token
/// is kept until shortly before it expires; `invalidate()` drops it when a server rejected it. A refresh
/// token the provider rotates is written back (0600, atomically) where the configuration says. Blocking:
/// call it on a transfer thread, never on the cooperative pool.
public final class OAuth2TokenSource: Sendable {
    struct Cached: Sendable {
        var token: Secret
        var expires: Double
    }

    struct State: Sendable {
        var cached: Cached?
        var refreshToken: Secret?
    }

    public let config: OAuth2Config
    let clientSecret: Secret?
    /// Certificate credentials: a client assertion signed with it instead of the secret.
    let certificate: ClientCertificate?
    let state: Mutex<State>
    let now: @Sendable () -> Double
    /// Told about a rotated refresh token that could not be written back (it is still used from memory).
    let warn: @Sendable (String) -> Void
    /// The POST to the token endpoint: status and body (libcurl; replaced in unit tests).
    let post: @Sendable (OAuth2Config, String) throws -> (status: Int, body: [UInt8])

    public convenience init(_ config: OAuth2Config, clientSecret: Secret?, refreshToken: Secret?, certificate: ClientCertificate? = nil,
                now: @escaping @Sendable () -> Double = OAuth2TokenSource.wallClock, warn: @escaping @Sendable (String) -> Void = { _ in })
    {
        self.init(config, clientSecret: clientSecret, refreshToken: refreshToken, certificate: certificate, now: now, warn: warn,
                  post: OAuth2TokenSource.curlPost)
    }

    init(_ config: OAuth2Config, clientSecret: Secret?, refreshToken: Secret?, certificate: ClientCertificate? = nil, now: @escaping @Sendable () -> Double,
         warn: @escaping @Sendable (String) -> Void = { _ in }, post: @escaping @Sendable (OAuth2Config, String) throws -> (status: Int, body: [UInt8]))
    {
        self.config = config
        self.clientSecret = clientSecret
        self.certificate = certificate
        state = Mutex(State(cached: nil, refreshToken: refreshToken))
        self.now = now
        self.warn = warn
        self.post = post
    }

    public static let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    /// A token valid for a while yet: the cached one, or a new one from the endpoint.
    public func accessToken() throws -> Secret {
        try login().token
    }

    /// A token for a new login and when it is due for renewal (seconds on `now`'s clock): a connection logged
    /// in with it is opened again with a fresh token from then on, before the provider would end its session.
    public func login() throws -> (token: Secret, renewAt: Double) {
        if let c = state.withLock({ $0.cached }), c.expires > now() { return (c.token, c.expires) }
        let r: Response
        do {
            r = try request(try form())
        } catch let e as TriageError where e.message.contains(": invalid_grant") && adoptStoredRefreshToken() {
            // Another process with the same configuration (check-config --connect) rotated the token we held.
            r = try request(try form())
        }
        let lifetime = Double(max(1, r.expiresIn ?? 3600))
        // Renewed a little before it runs out: a minute, or a fifth of a short lifetime.
        let expires = now() + lifetime - min(60, lifetime / 5)
        state.withLock {
            $0.cached = Cached(token: r.accessToken, expires: expires)
            if let rotated = r.refreshToken { $0.refreshToken = rotated }
        }
        if let rotated = r.refreshToken, config.grant == .refreshToken { store(rotated) }
        return (r.accessToken, expires)
    }

    /// True once a login made with a token due at `renewAt` should be made again with a fresh one.
    public func isDue(_ renewAt: Double) -> Bool { now() >= renewAt }

    /// The server refused the token: the next `accessToken()` asks the endpoint again.
    public func invalidate() {
        state.withLock { $0.cached = nil }
    }

    /// The form of the token request.
    func form() throws -> [(String, String)] {
        var f: [(String, String)] = [("grant_type", config.grant.rawValue), ("client_id", config.clientID)]
        if let s = clientSecret { f.append(("client_secret", s.reveal())) }
        if let c = certificate {
            f.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            f.append(("client_assertion", try c.assertion(clientID: config.clientID, audience: config.tokenURL, now: now())))
        }
        if let scope = config.scope { f.append(("scope", scope)) }
        if config.grant == .refreshToken, let r = state.withLock({ $0.refreshToken }) { f.append(("refresh_token", r.reveal())) }
        return f
    }

    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.map { k, v in
            (k.addingPercentEncoding(withAllowedCharacters: allowed) ?? k) + "=" + (v.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    struct Response {
        var accessToken: Secret
        var expiresIn: Int?
        var refreshToken: Secret?
    }

    /// The endpoint's answer: a token, or the provider's `error` and `error_description` as a `TriageError`.
    static func parse(status: Int, body: [UInt8], endpoint: String) throws -> Response {
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        if (200..<300).contains(status), let json, let token = json["access_token"] as? String, !token.isEmpty {
            let expires = (json["expires_in"] as? Int) ?? (json["expires_in"] as? String).flatMap(Int.init) ?? (json["expires_in"] as? Double).map { Int($0) }
            return Response(accessToken: Secret(token), expiresIn: expires, refreshToken: (json["refresh_token"] as? String).map { Secret($0) })
        }
        if let json, let error = json["error"] as? String {
            let description = (json["error_description"] as? String).map { ": " + String($0.prefix(300)).replacingOccurrences(of: "\r\n", with: " ") } ?? ""
            // A refused client or grant needs the operator; a server-side problem may pass.
            let transient = ["temporarily_unavailable", "server_error", "slow_down"].contains(error)
            throw TriageError(.credential, "token endpoint \(endpoint): \(error)\(description) (HTTP \(status))", transient: transient)
        }
        let transient = status >= 500 || status == 429 || status == 0
        throw TriageError(.credential,
                          "token endpoint \(endpoint): HTTP \(status) without an access token\(body.isEmpty ? "" : ": " + String(decoding: body.prefix(200), as: UTF8.self))",
                          transient: transient)
    }

    /// POSTs the form (application/x-www-form-urlencoded) and parses the answer. Every failure has the code
    /// `credential` (transient or not): whoever logs in can tell a token problem from one of its own server.
    func request(_ form: [(String, String)]) throws -> Response {
        let reply: (status: Int, body: [UInt8])
        do {
            reply = try post(config, Self.encode(form))
        } catch var e as TriageError {
            e.isTransient = e.isTransient || e.code == .connection || e.code == .timeout
            e.code = .credential
            throw e
        }
        return try Self.parse(status: reply.status, body: reply.body, endpoint: config.tokenURL)
    }

    static func curlPost(_ config: OAuth2Config, _ form: String) throws -> (status: Int, body: [UInt8]) {
        let curl = try CurlHandle()
        curl.buffers.bodyLimit = 1 << 20
        let h = curl.handle
        ccurl_setopt_string(h, CURLOPT_URL, config.tokenURL)
        ccurl_setopt_long(h, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTPS))
        ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let ca = config.caFile { ccurl_setopt_string(h, CURLOPT_CAINFO, ca) }
        ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(config.timeout.milliseconds))
        ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(min(config.timeout, .seconds(15)).milliseconds))
        ccurl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, form)
        ccurl_setopt_string(h, CURLOPT_USERAGENT, "mailtriage")
        let (code, message) = curl.perform()
        guard code == CURLE_OK else {
            throw TriageError.curl(code, message, context: "token endpoint \(config.tokenURL)", serverSaid: nil)
        }
        var status = 0
        ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return (status, curl.buffers.body)
    }

    /// Takes the store file's refresh token when it differs from the one in use; true if it did.
    func adoptStoredRefreshToken() -> Bool {
        guard config.grant == .refreshToken, let path = config.refreshTokenStore,
              let stored = Self.readStoredToken(path), stored != state.withLock({ $0.refreshToken })
        else { return false }
        state.withLock { $0.refreshToken = stored }
        return true
    }

    /// The token in a store file (without its line end), nil when there is none or it cannot be read.
    public static func readStoredToken(_ path: String) -> Secret? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var s = String(decoding: data, as: UTF8.self)
        while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
        return s.isEmpty ? nil : Secret(s)
    }

    /// Writes a rotated refresh token to the store file: a temporary file (0600) beside it, then renamed.
    func store(_ token: Secret) {
        guard let path = config.refreshTokenStore else {
            warn("the token endpoint issued a new refresh token but refresh_token_store is not set: it is kept in memory only")
            return
        }
        do {
            try Self.writeSecretFile(token.reveal() + "\n", to: path)
        } catch {
            warn("cannot store the new refresh token in \(path): \(error); it is kept in memory until the next start")
        }
    }

    /// The new file keeps the old one's owner and group: run as root (`sudo mailtriage check-config --connect`),
    /// a plain rename would leave a root-owned file the daemon's user cannot read.
    static func writeSecretFile(_ text: String, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TriageError(.io, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var old = stat()
        if stat(path, &old) == 0, old.st_uid != geteuid() || old.st_gid != getegid(), fchown(fd, old.st_uid, old.st_gid) != 0 {
            let why = String(cString: strerror(errno))
            close(fd)
            unlink(tmp)
            throw TriageError(.io, "cannot give the new \(path) its owner \(old.st_uid):\(old.st_gid) back (\(why)): left unchanged")
        }
        var ok = true
        text.utf8CString.withUnsafeBufferPointer { buf in
            let n = buf.count - 1
            if n > 0, Glibc.write(fd, buf.baseAddress, n) != n { ok = false }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw TriageError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
