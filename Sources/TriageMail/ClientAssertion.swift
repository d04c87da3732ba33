import CCrypto
import Foundation
public import TriageCore

/// A certificate credential for the client-credentials grant (RFC 7523, Microsoft Entra ID's "certificate
/// credentials"): a short-lived JWT naming the application, signed RS256 with the certificate's private key,
/// sent as `client_assertion` instead of a client secret. OpenSSL's libcrypto reads the PEM files and signs.
public struct ClientCertificate: Sendable {
    /// `x5t`: base64url of the SHA-1 thumbprint of the certificate (what Entra ID looks the key up by).
    public let thumbprint: String
    /// `x5t#S256`: the same with SHA-256.
    public let thumbprintSHA256: String
    let key: Secret

    /// `certificatePEM`: the certificate; `keyPEM`: its private key (unencrypted PEM, RSA).
    public init(certificatePEM: [UInt8], keyPEM: Secret) throws {
        let der = try Self.withBIO(certificatePEM) { bio -> (Data, Data) in
            guard let x509 = PEM_read_bio_X509(bio, nil, nil, nil) else { throw TriageError(.credential, "the client certificate is not a PEM certificate") }
            defer { X509_free(x509) }
            var sha1 = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE)), sha256 = sha1
            var n1: UInt32 = 0, n256: UInt32 = 0
            guard X509_digest(x509, EVP_sha1(), &sha1, &n1) == 1, X509_digest(x509, EVP_sha256(), &sha256, &n256) == 1 else {
                throw TriageError(.credential, "cannot compute the client certificate's thumbprint")
            }
            return (Data(sha1.prefix(Int(n1))), Data(sha256.prefix(Int(n256))))
        }
        thumbprint = Self.base64url(der.0)
        thumbprintSHA256 = Self.base64url(der.1)
        key = keyPEM
        // Fail at start-up, not at the first token request, when the key cannot be read or does not sign.
        _ = try sign(Array("check".utf8))
    }

    /// The signed assertion for `clientID` at `audience` (the token endpoint), valid from `now` for 10 minutes.
    public func assertion(clientID: String, audience: String, now: Double, id: String? = nil) throws -> String {
        let id = id ?? UUID().uuidString
        let header: [String: Any] = ["alg": "RS256", "typ": "JWT", "x5t": thumbprint]
        let t = Int(now)
        let claims: [String: Any] = ["aud": audience, "iss": clientID, "sub": clientID, "jti": id, "nbf": t, "iat": t, "exp": t + 600]
        let h = Self.base64url(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
        let c = Self.base64url(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes]))
        let input = h + "." + c
        return input + "." + Self.base64url(Data(try sign(Array(input.utf8))))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        try Self.withBIO(Array(key.reveal().utf8)) { bio in
            guard let pkey = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                throw TriageError(.credential, "the client key is not an unencrypted PEM private key")
            }
            defer { EVP_PKEY_free(pkey) }
            guard let ctx = EVP_MD_CTX_new() else { throw TriageError(.io, "libcrypto: no digest context") }
            defer { EVP_MD_CTX_free(ctx) }
            guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, pkey) == 1 else {
                throw TriageError(.credential, "the client key cannot sign with SHA-256 (an RSA key is needed)")
            }
            var length = 0
            guard EVP_DigestSign(ctx, nil, &length, data, data.count) == 1, length > 0 else { throw TriageError(.credential, "signing failed") }
            var signature = [UInt8](repeating: 0, count: length)
            guard EVP_DigestSign(ctx, &signature, &length, data, data.count) == 1 else { throw TriageError(.credential, "signing failed") }
            return Array(signature.prefix(length))
        }
    }

    static func withBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw TriageError(.io, "libcrypto: no memory buffer") }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
