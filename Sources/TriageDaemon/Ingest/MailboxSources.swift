import Foundation
public import TriageCore
import TriageFiles
import TriageMail

/// IMAP connections for the configured mailboxes, made when first asked for (one per mailbox), for tools
/// that fetch outside the daemon (`reprocess`). A mailbox whose password cannot be read has none.
public final class MailboxSources: @unchecked Sendable {
    private let lock = NSLock()
    private var made: [String: any MailboxSource] = [:]
    private let config: TriageConfig

    public init(_ config: TriageConfig) { self.config = config }

    public func source(_ mailbox: String) -> (any MailboxSource)? {
        lock.lock()
        defer { lock.unlock() }
        if let s = made[mailbox] { return s }
        guard let mb = config.mailboxes.first(where: { $0.name == mailbox }), let options = try? Logins.mailbox(mb) else { return nil }
        let s = IMAPMailbox(options: options)
        made[mailbox] = s
        return s
    }
}
