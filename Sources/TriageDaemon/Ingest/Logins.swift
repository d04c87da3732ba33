import Foundation
public import Logging
public import TriageCore
import TriageFiles
public import TriageMail

/// The credentials of a mailbox or of `[smtp]`, read from their files or systemd credentials: a password, or
/// an OAuth2 token source (its client secret and refresh token read now; tokens fetched when first needed).
public enum Logins {
    public static func mailbox(_ mb: MailboxConfig, logger: Logger? = nil) throws -> IMAPMailbox.Options {
        do {
            if let o = mb.oauth2 { return IMAPMailbox.Options(mb, password: Secret(""), tokens: try tokens(o, logger: logger, owner: "mailbox \(mb.name)")) }
            guard let source = mb.password else { throw TriageError(.config, "no password_file or password_credential") }
            return IMAPMailbox.Options(mb, password: try SecretReader.read(source))
        } catch let e as TriageError {
            throw TriageError(e.code, "mailbox \(mb.name): \(e.message)")
        }
    }

    public static func smtp(_ smtp: SMTPConfig, heloName: String, logger: Logger? = nil) throws -> SMTPSettings {
        var settings = SMTPSettings(url: smtp.url, username: smtp.username, password: try smtp.password.map { try SecretReader.read($0) },
                                    caFile: smtp.caFile, heloName: heloName)
        if let o = smtp.oauth2 { settings.tokens = try tokens(o, logger: logger, owner: "smtp") }
        settings.connectTimeout = smtp.connectTimeout
        settings.responseTimeout = smtp.responseTimeout
        return settings
    }

    /// The refresh token to start with: the one last stored (`refresh_token_store`, which holds the newest
    /// after a rotation) when that file exists, else the configured file or credential, which may be older.
    static func refreshToken(_ o: OAuth2Config) throws -> Secret? {
        guard o.grant == .refreshToken else { return nil }
        if let store = o.refreshTokenStore, FileManager.default.fileExists(atPath: store) {
            guard let t = OAuth2TokenSource.readStoredToken(store) else {
                throw TriageError(.credential, "cannot read the stored refresh token \(store) (refresh_token_store): it must be readable by the daemon's user and not empty")
            }
            return t
        }
        return try o.refreshToken.map { try SecretReader.read($0) }
    }

    static func tokens(_ o: OAuth2Config, logger: Logger?, owner: String) throws -> OAuth2TokenSource {
        var certificate: ClientCertificate?
        if let path = o.clientCertificate, let key = o.clientKey {
            guard let pem = FileManager.default.contents(atPath: path) else { throw TriageError(.credential, "cannot read the client certificate \(path)") }
            certificate = try ClientCertificate(certificatePEM: [UInt8](pem), keyPEM: try SecretReader.read(key))
        }
        return OAuth2TokenSource(o, clientSecret: try o.clientSecret.map { try SecretReader.read($0) },
                                 refreshToken: try refreshToken(o), certificate: certificate,
                                 warn: { logger?.warning("\(owner): \($0)") })
    }
}
