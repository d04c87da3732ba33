import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TriageCore
@testable import TriageMail

/// The token source on a mock clock with a scripted endpoint: caching, renewal before expiry, rotation written
/// back with mode 0600, the provider's errors.
@Suite struct OAuth2TokenSourceTests {
    final class Endpoint: Sendable {
        let requests = Mutex<[String]>([])
        let replies = Mutex<[(Int, String)]>([])
        func post(_ c: OAuth2Config, _ form: String) throws -> (status: Int, body: [UInt8]) {
            requests.withLock { $0.append(form) }
            let (status, body) = replies.withLock { $0.isEmpty ? (500, "") : $0.removeFirst() }
            return (status, Array(body.utf8))
        }
    }

    final class Clock: Sendable {
        let t = Mutex<Double>(1_000)
        func advance(_ s: Double) { t.withLock { $0 += s } }
        var now: Double { t.withLock { $0 } }
    }

    static func config(_ grant: OAuth2Config.Grant, store: String? = nil) -> OAuth2Config {
        var c = OAuth2Config(grant: grant, tokenURL: "https://login.example.com/token", clientID: "app id")
        c.scope = "https://outlook.office365.com/.default"
        c.refreshTokenStore = store
        return c
    }

    @Test func aTokenIsKeptUntilShortlyBeforeItExpires() throws {
        let e = Endpoint(), clock = Clock()
        e.replies.withLock { $0 = [(200, #"{"access_token":"t1","token_type":"Bearer","expires_in":3600}"#),
                                   (200, #"{"access_token":"t2","expires_in":"3600"}"#)] }
        let s = OAuth2TokenSource(Self.config(.clientCredentials), clientSecret: "s&cret=1", refreshToken: nil, now: { clock.now }, post: e.post)
        #expect(try s.accessToken().reveal() == "t1")
        clock.advance(3_500)
        #expect(try s.accessToken().reveal() == "t1")
        clock.advance(60)  // within the last minute: renewed
        #expect(try s.accessToken().reveal() == "t2")
        let form = e.requests.withLock { $0 }
        #expect(form.count == 2)
        #expect(form[0] == "grant_type=client_credentials&client_id=app%20id&client_secret=s%26cret%3D1&scope=https%3A%2F%2Foutlook.office365.com%2F.default")
        s.invalidate()
        #expect(throws: TriageError.self) { try s.accessToken() }  // the endpoint has nothing more: HTTP 500
    }

    @Test func aRotatedRefreshTokenIsUsedAndWrittenBack() throws {
        let dir = NSTemporaryDirectory() + "mt-oauth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = dir + "/refresh-token"
        try "r1\n".write(toFile: store, atomically: true, encoding: .utf8)
        let e = Endpoint(), clock = Clock()
        e.replies.withLock { $0 = [(200, #"{"access_token":"a1","expires_in":10,"refresh_token":"r2"}"#),
                                   (200, #"{"access_token":"a2","expires_in":10}"#)] }
        let s = OAuth2TokenSource(Self.config(.refreshToken, store: store), clientSecret: nil, refreshToken: "r1", now: { clock.now }, post: e.post)
        #expect(try s.accessToken().reveal() == "a1")
        #expect(try String(contentsOfFile: store, encoding: .utf8) == "r2\n")
        let mode = (try FileManager.default.attributesOfItem(atPath: store)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        clock.advance(9)  // a short lifetime is renewed a fifth before its end
        #expect(try s.accessToken().reveal() == "a2")
        #expect(e.requests.withLock { $0 }.last?.hasSuffix("refresh_token=r2") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["refresh-token"], "no temporary file left")
    }

    @Test func theProvidersErrorIsReported() {
        let e = #expect(throws: TriageError.self) {
            try OAuth2TokenSource.parse(status: 401, body: Array(#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#.utf8),
                                        endpoint: "https://login.example.com/token")
        }
        #expect(e?.code == .credential && e?.isTransient == false)
        #expect(e?.message == "token endpoint https://login.example.com/token: invalid_client: AADSTS7000215: Invalid client secret provided. (HTTP 401)")
        #expect((try? OAuth2TokenSource.parse(status: 503, body: Array("busy".utf8), endpoint: "x")) == nil)
        let busy = #expect(throws: TriageError.self) { try OAuth2TokenSource.parse(status: 503, body: [], endpoint: "x") }
        #expect(busy?.isTransient == true && busy?.code == .credential)
        let later = #expect(throws: TriageError.self) {
            try OAuth2TokenSource.parse(status: 503, body: Array(#"{"error":"temporarily_unavailable"}"#.utf8), endpoint: "x")
        }
        #expect(later?.isTransient == true && later?.isLoginFailure == true)
    }

    /// The endpoint out of reach is a token failure too (code `credential`, transient), so whoever logs in can
    /// tell it from a failure of its own server.
    @Test func anUnreachableEndpointIsATransientTokenFailure() {
        let s = OAuth2TokenSource(Self.config(.clientCredentials), clientSecret: "s", refreshToken: nil, now: { 0 },
                                  post: { _, _ in throw TriageError(.connection, "token endpoint x: Couldn't connect to server", transient: true) })
        let e = #expect(throws: TriageError.self) { try s.accessToken() }
        #expect(e?.code == .credential && e?.isTransient == true && e?.isAboutTheConnection == true)
    }

    /// A login made with a token is renewed when the token is: `login()` tells when, `isDue` says when it is.
    @Test func aLoginIsDueWhenItsTokenIs() throws {
        let e = Endpoint(), clock = Clock()
        e.replies.withLock { $0 = [(200, #"{"access_token":"t1","expires_in":10}"#), (200, #"{"access_token":"t2","expires_in":10}"#)] }
        let s = OAuth2TokenSource(Self.config(.clientCredentials), clientSecret: "s", refreshToken: nil, now: { clock.now }, post: e.post)
        let first = try s.login()
        #expect(first.token.reveal() == "t1" && first.renewAt == clock.now + 8)
        clock.advance(7.9)
        #expect(!s.isDue(first.renewAt))
        #expect(try s.login().token.reveal() == "t1")
        clock.advance(0.1)
        #expect(s.isDue(first.renewAt))
        #expect(try s.login().token.reveal() == "t2")
    }

    /// Another process (check-config --connect) rotated the refresh token and stored it: the token we held is
    /// refused as used, and the stored one is taken instead of failing.
    @Test func aTokenRotatedByAnotherProcessIsTakenFromTheStore() throws {
        let dir = NSTemporaryDirectory() + "mt-oauth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/refresh-token"
        try "r2\n".write(toFile: store, atomically: true, encoding: .utf8)
        let e = Endpoint()
        e.replies.withLock { $0 = [(400, #"{"error":"invalid_grant","error_description":"used refresh token"}"#),
                                   (200, #"{"access_token":"a2","expires_in":60}"#)] }
        let s = OAuth2TokenSource(Self.config(.refreshToken, store: store), clientSecret: nil, refreshToken: "r1", now: { 0 }, post: e.post)
        #expect(try s.accessToken().reveal() == "a2")
        let forms = e.requests.withLock { $0 }
        #expect(forms.count == 2 && forms[0].hasSuffix("refresh_token=r1") && forms[1].hasSuffix("refresh_token=r2"))
        // The same token in the store: refused for good, no loop.
        let again = OAuth2TokenSource(Self.config(.refreshToken, store: store), clientSecret: nil, refreshToken: "r2", now: { 0 }, post: e.post)
        e.replies.withLock { $0 = [(400, #"{"error":"invalid_grant"}"#)] }
        let refused = #expect(throws: TriageError.self) { try again.accessToken() }
        #expect(refused?.code == .credential && e.requests.withLock { $0 }.count == 3)
    }

    /// Run as root (sudo mailtriage check-config --connect), a rotation keeps the file its owner and group, so
    /// the daemon's user can still read it.
    @Test(.enabled(if: geteuid() == 0, "changing a file's owner needs root"))
    func aStoredTokenKeepsItsFilesOwner() throws {
        let dir = NSTemporaryDirectory() + "mt-oauth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/refresh-token"
        try "r1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(chown(path, 65534, 65534) == 0)
        try OAuth2TokenSource.writeSecretFile("r2\n", to: path)
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.ownerAccountID] as? NSNumber)?.intValue == 65534 && (attrs[.groupOwnerAccountID] as? NSNumber)?.intValue == 65534)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "r2\n")
        // A new file belongs to whoever writes it.
        try OAuth2TokenSource.writeSecretFile("n\n", to: dir + "/new")
        #expect((try FileManager.default.attributesOfItem(atPath: dir + "/new")[.ownerAccountID] as? NSNumber)?.intValue == Int(geteuid()))
    }

    @Test func theTokenIsNeverPrinted() throws {
        let r = try OAuth2TokenSource.parse(status: 200, body: Array(#"{"access_token":"very-secret","expires_in":60}"#.utf8), endpoint: "x")
        #expect("\(r.accessToken)" == "<redacted>")
    }
}
