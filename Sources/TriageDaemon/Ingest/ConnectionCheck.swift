import Foundation
public import TriageCore
import TriageMail

/// `check-config --connect`: a login to every mailbox (the folder's status) and to the SMTP server, each
/// reported on a line; nothing is fetched or sent.
public enum ConnectionCheck {
    public static func run(_ config: TriageConfig) async -> (lines: [String], failures: Int) {
        var lines: [String] = []
        var failures = 0
        for mb in config.mailboxes {
            let how = mb.oauth2 == nil ? "password" : "OAuth2 \(mb.oauth2!.grant.rawValue)"
            do {
                let source = IMAPMailbox(options: try Logins.mailbox(mb))
                let s = try await source.status()
                await source.disconnect()
                lines.append("mailbox \(mb.name): OK (\(mb.url.serverURL)/\(mb.url.folder) as \(mb.username), \(how); \(s.messages) messages, UIDVALIDITY \(s.uidValidity))")
            } catch {
                failures += 1
                lines.append("mailbox \(mb.name): FAILED (\(how)): \((error as? TriageError)?.message ?? "\(error)")")
            }
        }
        if let smtp = config.smtp {
            let how = smtp.oauth2 != nil ? "OAuth2 \(smtp.oauth2!.grant.rawValue)" : smtp.username == nil ? "no login" : "password"
            do {
                let domain = config.mailboxes.compactMap(\.address).first.flatMap { $0.split(separator: "@").last.map(String.init) }
                let sender = SMTPSender(settings: try Logins.smtp(smtp, heloName: smtp.heloName ?? domain ?? "localhost"))
                let reply = try await sender.checkLogin()
                lines.append("smtp: OK (\(smtp.url)\(smtp.username.map { " as \($0)" } ?? ""), \(how); reply \(reply))")
            } catch {
                failures += 1
                lines.append("smtp: FAILED (\(how)): \((error as? TriageError)?.message ?? "\(error)")")
            }
        }
        return (lines, failures)
    }
}
