/// What the server says about the polled folder.
public struct MailboxStatus: Sendable, Equatable {
    public var uidValidity: UInt32
    public var uidNext: UInt32
    public var messages: Int

    public init(uidValidity: UInt32, uidNext: UInt32, messages: Int) {
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.messages = messages
    }
}

/// A mailbox the daemon polls: one connection, one folder. Implemented over IMAP by `IMAPMailbox`
/// and in memory by the test fakes. Errors are `TriageError`s; `isTransient` says whether a retry helps.
public protocol MailboxSource: Sendable {
    /// Brings the server's view up to date (new mail is otherwise invisible on a kept connection)
    /// and returns UIDVALIDITY and UIDNEXT.
    func status() async throws -> MailboxStatus
    /// UIDs greater than `after`, ascending.
    func searchUIDs(after: UInt32) async throws -> [UInt32]
    /// RFC822.SIZE and INTERNALDATE of each of `uids` that still exists.
    func messageInfo(of uids: [UInt32]) async throws -> [UInt32: MessageInfo]
    /// The whole message, byte for byte; a message larger than `limit` bytes fails with `.limitExceeded`
    /// without reading more than that.
    func fetchMessage(uid: UInt32, limit: Int) async throws -> [UInt8]
    /// Only the header section (for messages over the size limit).
    func fetchHeader(uid: UInt32) async throws -> [UInt8]
    /// Flags or moves messages after they are committed to the store.
    func markProcessed(uids: [UInt32], action: AfterProcessing) async throws
    /// Logs out and closes the connection; the next call reconnects.
    func disconnect() async
    /// Aborts a transfer in progress and refuses new ones (shutdown). Returns at once.
    func abortTransfers()
    /// Downloads several messages in order as one job (whole, or only the header where asked); stops after
    /// the first transient error, which is then the last result.
    func download(_ requests: [DownloadRequest]) async -> [DownloadResult]
}

/// One message to download.
public struct DownloadRequest: Sendable, Equatable {
    public var uid: UInt32
    public var headerOnly: Bool
    /// The most bytes accepted (a server may send more than the size it announced): a larger message fails
    /// with `.limitExceeded` and nothing more is read.
    public var limit: Int

    public init(uid: UInt32, headerOnly: Bool, limit: Int) {
        self.uid = uid
        self.headerOnly = headerOnly
        self.limit = limit
    }

    /// The most bytes read of a header section (a larger one fails with `.limitExceeded`).
    public static let maxHeaderBytes = 1 << 20

    /// A message under the size limit `maxMessageBytes` whole (read up to the limit plus room for a server
    /// that miscounts its line ends, however small the size it announced), one over it only its header.
    public init(uid: UInt32, announcedSize: Int, maxMessageBytes: Int) {
        let headerOnly = announcedSize > maxMessageBytes
        self.init(uid: uid, headerOnly: headerOnly,
                  limit: headerOnly ? DownloadRequest.maxHeaderBytes : maxMessageBytes + maxMessageBytes / 16 + 4096)
    }
}

/// The bytes of a downloaded message, or why it could not be downloaded.
public typealias DownloadResult = Result<[UInt8], TriageError>

extension MailboxSource {
    /// One call per message; sources with a thread of their own do the whole list in one job.
    public func download(_ requests: [DownloadRequest]) async -> [DownloadResult] {
        var out: [DownloadResult] = []
        for r in requests {
            do {
                let raw = r.headerOnly ? try await fetchHeader(uid: r.uid) : try await fetchMessage(uid: r.uid, limit: r.limit)
                if raw.count > r.limit { throw TriageError.limit("UID \(r.uid): message size", limit: r.limit, actual: raw.count) }
                out.append(.success(raw))
            } catch {
                let e = error as? TriageError ?? TriageError(.io, "\(error)", transient: true)
                out.append(.failure(e))
                if e.isAboutTheConnection { break }
            }
        }
        return out
    }
}

/// What the server knows about a message before it is downloaded.
public struct MessageInfo: Sendable, Equatable {
    public var size: Int
    /// INTERNALDATE (arrival at the server), seconds since 1970, when the server gave a readable one.
    public var internalDate: Int64?

    public init(size: Int, internalDate: Int64?) {
        self.size = size
        self.internalDate = internalDate
    }
}
