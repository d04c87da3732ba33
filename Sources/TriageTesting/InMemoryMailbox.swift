public import TriageCore

/// A `MailboxSource` held in memory, with failure injection, for tests of the ingest logic.
public actor InMemoryMailbox: MailboxSource {
    public private(set) var uidValidity: UInt32
    public private(set) var uidNext: UInt32 = 1
    public private(set) var messages: [UInt32: [UInt8]] = [:]
    public private(set) var flags: [UInt32: Set<String>] = [:]
    public private(set) var moved: [String: [[UInt8]]] = [:]
    public private(set) var fetchCount = 0
    /// Fetches after which the connection "drops" (a transient error); nil: never.
    public var failAfterFetches: Int?
    /// UIDs whose download the server refuses (a permanent, per-message error).
    public var refusedUIDs: Set<UInt32> = []
    public var refusal: TriageError?
    /// When set, every call fails with this error (server down, bad password...).
    public var outage: TriageError?
    /// Sizes the "server" announces instead of the real ones (a server that miscounts).
    public var announcedSizes: [UInt32: Int] = [:]

    public init(uidValidity: UInt32 = 1000) {
        self.uidValidity = uidValidity
    }

    @discardableResult
    public func deliver(_ raw: [UInt8]) -> UInt32 {
        let uid = uidNext
        uidNext += 1
        messages[uid] = raw
        return uid
    }

    /// Renumbers every message as a server does after losing its index: new UIDVALIDITY, UIDs from 1.
    public func resetUIDValidity(_ v: UInt32) {
        let old = messages.keys.sorted().map { messages[$0]! }
        messages = [:]
        flags = [:]
        uidValidity = v
        uidNext = 1
        for m in old { deliver(m) }
    }

    public func setFailAfterFetches(_ n: Int?) { failAfterFetches = n }
    /// Fetches of these UIDs fail with `error` (default: the server's NO for a broken message).
    public func setRefused(_ uids: Set<UInt32>, with error: TriageError? = nil) {
        refusedUIDs = uids
        refusal = error
    }
    public func setOutage(_ e: TriageError?) { outage = e }
    public func announce(size: Int, for uid: UInt32) { announcedSizes[uid] = size }

    private func check() throws { if let outage { throw outage } }

    public func status() throws -> MailboxStatus {
        try check()
        return MailboxStatus(uidValidity: uidValidity, uidNext: uidNext, messages: messages.count)
    }

    public func searchUIDs(after: UInt32) throws -> [UInt32] {
        try check()
        return messages.keys.filter { $0 > after }.sorted()
    }

    public func messageInfo(of uids: [UInt32]) throws -> [UInt32: MessageInfo] {
        try check()
        var out: [UInt32: MessageInfo] = [:]
        for u in uids { if let m = messages[u] { out[u] = MessageInfo(size: announcedSizes[u] ?? m.count, internalDate: 1_790_000_000 + Int64(u)) } }
        return out
    }

    public func fetchMessage(uid: UInt32, limit: Int) throws -> [UInt8] {
        let m = try fetchWhole(uid: uid)
        if m.count > limit { throw TriageError.limit("UID \(uid): message size", limit: limit, actual: m.count) }
        return m
    }

    func fetchWhole(uid: UInt32) throws -> [UInt8] {
        try check()
        if let n = failAfterFetches, fetchCount >= n {
            throw TriageError(.connection, "connection dropped (injected)", transient: true)
        }
        if refusedUIDs.contains(uid) { throw refusal ?? TriageError(.serverRefused, "NO message is broken (injected)") }
        guard let m = messages[uid] else { throw TriageError(.notFound, "no such UID \(uid)") }
        fetchCount += 1
        flags[uid, default: []].insert("\\Seen")
        return m
    }

    public func fetchHeader(uid: UInt32) throws -> [UInt8] {
        let m = try fetchWhole(uid: uid)
        if let end = m.firstRange(of: [13, 10, 13, 10]) { return Array(m[..<end.upperBound]) }
        return m
    }

    public func markProcessed(uids: [UInt32], action: AfterProcessing) throws {
        try check()
        for u in uids {
            switch action {
            case .none: break
            case .flag(let f): flags[u, default: []].insert(f)
            case .move(let folder):
                if let m = messages.removeValue(forKey: u) { moved[folder, default: []].append(m) }
            }
        }
    }

    public func disconnect() {}

    public nonisolated func abortTransfers() {}
}
