import Foundation
import Testing
import TriageCore
@testable import TriageMail

/// Certificate credentials: the client assertion is a JWT that OpenSSL's command line verifies with the
/// certificate's public key, with the thumbprint OpenSSL computes.
@Suite struct ClientCertificateTests {
    static func openssl(_ args: [String], input: Data? = nil) throws -> (Int32, Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data)
    }

    static func unbase64url(_ s: Substring) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }

    @Test func theAssertionVerifiesWithTheCertificate() throws {
        let dir = NSTemporaryDirectory() + "mt-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (made, _) = try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/k.pem", "-out", dir + "/c.pem",
                                          "-days", "1", "-subj", "/CN=mailtriage-test-app"])
        #expect(made == 0)
        let cert = try ClientCertificate(certificatePEM: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/c.pem"))),
                                         keyPEM: Secret(try String(contentsOfFile: dir + "/k.pem", encoding: .utf8)))
        let jwt = try cert.assertion(clientID: "app-1", audience: "https://login.example.com/token", now: 1_800_000_000, id: "j-1")
        let parts = jwt.split(separator: ".")
        #expect(parts.count == 3)
        let h = try #require(Self.unbase64url(parts[0])), c = try #require(Self.unbase64url(parts[1]))
        let header = try #require(try JSONSerialization.jsonObject(with: h) as? [String: Any])
        let claims = try #require(try JSONSerialization.jsonObject(with: c) as? [String: Any])
        #expect(header["alg"] as? String == "RS256" && header["typ"] as? String == "JWT")
        #expect(claims["aud"] as? String == "https://login.example.com/token" && claims["iss"] as? String == "app-1" && claims["sub"] as? String == "app-1")
        #expect(claims["jti"] as? String == "j-1" && claims["nbf"] as? Int == 1_800_000_000 && claims["exp"] as? Int == 1_800_000_600)
        // The thumbprint is OpenSSL's SHA-1 fingerprint of the certificate.
        let (_, fp) = try Self.openssl(["x509", "-in", dir + "/c.pem", "-noout", "-fingerprint", "-sha1"])
        let hex = String(decoding: fp, as: UTF8.self).split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
        var bytes = Data()
        var i = hex.startIndex
        while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); bytes.append(UInt8(hex[i..<j], radix: 16)!); i = j }
        #expect(header["x5t"] as? String == ClientCertificate.base64url(bytes))
        // The signature verifies with the certificate's public key.
        let (_, pub) = try Self.openssl(["x509", "-in", dir + "/c.pem", "-noout", "-pubkey"])
        try pub.write(to: URL(fileURLWithPath: dir + "/pub.pem"))
        try Data((parts[0] + "." + parts[1]).utf8).write(to: URL(fileURLWithPath: dir + "/input"))
        let sig = try #require(Self.unbase64url(parts[2]))
        try sig.write(to: URL(fileURLWithPath: dir + "/sig"))
        let (verified, said) = try Self.openssl(["dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig", dir + "/input"])
        #expect(verified == 0, "\(String(decoding: said, as: UTF8.self))")
        // Another input does not verify with that signature: the check can fail.
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: dir + "/input"))
        #expect(try Self.openssl(["dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig", dir + "/input"]).0 != 0)
    }

    @Test func unreadableKeysAreRefusedAtStart() throws {
        #expect(throws: TriageError.self) { try ClientCertificate(certificatePEM: Array("not a certificate".utf8), keyPEM: "x") }
    }

    @Test func theTokenRequestCarriesTheAssertionAndNoSecret() throws {
        let dir = NSTemporaryDirectory() + "mt-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/k.pem", "-out", dir + "/c.pem", "-days", "1", "-subj", "/CN=a"])
        let cert = try ClientCertificate(certificatePEM: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/c.pem"))),
                                         keyPEM: Secret(try String(contentsOfFile: dir + "/k.pem", encoding: .utf8)))
        var c = OAuth2Config(grant: .clientCredentials, tokenURL: "https://login.example.com/token", clientID: "app")
        c.scope = "s"
        let s = OAuth2TokenSource(c, clientSecret: nil, refreshToken: nil, certificate: cert, now: { 1_800_000_000 },
                                  post: { _, _ in (200, Array(#"{"access_token":"t","expires_in":60}"#.utf8)) })
        let form = try s.form()
        #expect(form.map(\.0) == ["grant_type", "client_id", "client_assertion_type", "client_assertion", "scope"])
        #expect(try s.accessToken().reveal() == "t")
    }
}
