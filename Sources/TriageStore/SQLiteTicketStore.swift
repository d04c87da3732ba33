public import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import GRDBSQLite
public import TriageCore

/// The ticket store in one SQLite file (WAL mode), shared by the daemon and the CLI.
public final class SQLiteTicketStore: TicketRepository, ProcessingRepository, OutboxRepository, SLARepository, @unchecked Sendable {
    // @unchecked: DatabasePool is itself thread-safe; the stored properties are immutable.
    let pool: any DatabaseWriter
    let now: @Sendable () -> Int64
    public let path: String

    /// Opens the database for reading only: for agents and operators who may read it but not write it
    /// (no migrations, no lock file). Throws when the schema is older than this program's.
    public init(readingOnly path: String) throws {
        self.path = path
        now = { Int64(Date().timeIntervalSince1970) }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        do {
            let fm = FileManager.default
            if fm.fileExists(atPath: path + "-wal") && fm.fileExists(atPath: path + "-shm") {
                pool = try DatabasePool(path: path, configuration: config)
            } else {
                // No write-ahead log: everything is in the database file, which this user may not add the log
                // files beside. Read it as it is (a write that starts meanwhile is seen by the next command).
                let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
                pool = try DatabaseQueue(path: "file:\(encoded)?immutable=1", configuration: config)
            }
            let applied = try pool.read { try Migrations.migrator.appliedIdentifiers($0) }
            guard applied.contains(Migrations.latest) else {
                throw TriageError(.storage, "the database \(path) has not been upgraded to this version yet: start the daemon (or a command with write access) first")
            }
        } catch let e as TriageError { throw e } catch {
            throw TriageError(.storage, "cannot open the database \(path) for reading: \(error)")
        }
    }

    /// The database for a command that only reads: writable when this user may write it (so a fresh
    /// database is upgraded), read-only otherwise.
    public static func forReading(_ path: String) throws -> SQLiteTicketStore {
        access(path, W_OK) == 0 && access((path as NSString).deletingLastPathComponent, W_OK) == 0
            ? try SQLiteTicketStore(path: path) : try SQLiteTicketStore(readingOnly: path)
    }

    /// Opens (creating if needed) the database and applies pending migrations.
    public init(path: String, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws {
        self.path = path
        self.now = now
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Keep the -wal and -shm files when the last connection closes: an agent who may only read the
            // database can then open it while the daemon is stopped (a reader cannot create them).
            var persist: Int32 = 1
            sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        }
        do {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            pool = try DatabasePool(path: path, configuration: config)
            // Two processes opening a fresh database (the daemon and an agent's `queue` command) must not
            // both apply the same migration: they take turns under a file lock.
            let lockFD = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o660)
            if lockFD >= 0 { flock(lockFD, LOCK_EX) }
            defer { if lockFD >= 0 { flock(lockFD, LOCK_UN); close(lockFD) } }
            try Migrations.migrator.migrate(pool)
            // SQLite creates its files 0644 less the umask; the process's umask decides (the unit's UMask=0007
            // makes them group-writable, so that members of the mailtriage group can work the queue).
            let mask = umask(0)
            umask(mask)
            for f in [path, path + "-wal", path + "-shm", path + ".lock"] where access(f, F_OK) == 0 {
                var st = stat()
                if stat(f, &st) == 0, st.st_uid == getuid() { chmod(f, 0o666 & ~mask) }
            }
        } catch {
            if access(path, W_OK) != 0 && FileManager.default.fileExists(atPath: path) {
                throw TriageError(.storage, "cannot write the database \(path): this command changes tickets and needs write access to the database and its directory (members of the mailtriage group have it)")
            }
            throw TriageError(.storage, "cannot open the database \(path): \(error)")
        }
    }

    func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as TriageError { throw e } catch {
            throw storageError(what, error)
        }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch {
            throw storageError(what, error)
        }
    }

    /// A failed database call as a transient `TriageError`: `.diskFull` when the file system is full or the
    /// quota exhausted (SQLite says SQLITE_FULL for ENOSPC, an I/O error with the system's errno for EDQUOT).
    func storageError(_ what: String, _ error: any Error) -> TriageError {
        var code = TriageError.Code.storage
        if let e = error as? DatabaseError {
            var systemErrno: Int32 = 0
            if e.resultCode == .SQLITE_IOERR {
                // The errno of the writer connection's last failed system call (no I/O is done to read it).
                systemErrno = (try? pool.writeWithoutTransaction { sqlite3_system_errno($0.sqliteConnection) }) ?? 0
            }
            code = SQLiteTicketStore.errorCode(primary: e.resultCode.primaryResultCode.rawValue, systemErrno: systemErrno)
        }
        let text = code == .diskFull ? "database \(what) failed: the disk holding \(path) is full (\(error))" : "database \(what) failed: \(error)"
        return TriageError(code, text, transient: true)
    }

    /// The kind of a failed SQLite call: SQLITE_FULL, or an I/O error whose system error was ENOSPC or EDQUOT, is a full disk.
    public static func errorCode(primary: Int32, systemErrno: Int32) -> TriageError.Code {
        if primary == SQLITE_FULL { return .diskFull }
        if primary == SQLITE_IOERR { return TriageError.code(forWriteErrno: systemErrno, fallback: .storage) }
        return .storage
    }

    static func json(_ dict: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    func appendEvent(_ db: Database, kind: EventKind, ticket: Int64? = nil, message: Int64? = nil, mailbox: String? = nil,
                     actor: String = "daemon", detail: [String: String] = [:]) throws
    {
        try db.cachedStatement(
            sql: "INSERT INTO event (at, kind, actor, ticket_id, message_row, mailbox, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [now(), kind.rawValue, actor, ticket, message, mailbox, SQLiteTicketStore.json(detail)])
    }

    // MARK: - Cursor

    public func cursor(mailbox: String) throws -> MailboxCursor? {
        try read("cursor") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM mailbox_cursor WHERE mailbox = ?", arguments: [mailbox]).map {
                MailboxCursor(mailbox: $0["mailbox"], uidValidity: UInt32($0["uid_validity"] as Int64),
                              lastUID: UInt32($0["last_uid"] as Int64), baselineUID: UInt32($0["baseline_uid"] as Int64))
            }
        }
    }

    static func upsertCursor(_ db: Database, _ c: MailboxCursor, at: Int64) throws {
        try db.execute(sql: """
            INSERT INTO mailbox_cursor (mailbox, uid_validity, last_uid, baseline_uid, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid,
                baseline_uid = excluded.baseline_uid, updated_at = excluded.updated_at
            """, arguments: [c.mailbox, Int64(c.uidValidity), Int64(c.lastUID), Int64(c.baselineUID), at])
    }

    public func saveCursor(_ cursor: MailboxCursor, reason: String) throws {
        try write("cursor update") { db in
            try SQLiteTicketStore.upsertCursor(db, cursor, at: now())
            try appendEvent(db, kind: .mailboxCursor, mailbox: cursor.mailbox, detail: [
                "reason": reason, "uid_validity": "\(cursor.uidValidity)", "last_uid": "\(cursor.lastUID)",
                "baseline_uid": "\(cursor.baselineUID)",
            ])
        }
    }

    // MARK: - Recording fetched mail

    public func recordedUIDs(mailbox: String, uidValidity: UInt32, among uids: [UInt32]) throws -> Set<UInt32> {
        guard !uids.isEmpty else { return [] }
        return try read("recorded UIDs") { db in
            var found = Set<UInt32>()
            let lo = Int64(uids.min()!), hi = Int64(uids.max()!)
            let rows = try Int64.fetchAll(db, sql: """
                SELECT uid FROM message_location WHERE mailbox = ? AND uid_validity = ? AND uid BETWEEN ? AND ?
                """, arguments: [mailbox, Int64(uidValidity), lo, hi])
            let wanted = Set(uids)
            for r in rows where wanted.contains(UInt32(r)) { found.insert(UInt32(r)) }
            return found
        }
    }

    public func record(_ batch: [FetchedMessage], cursor: MailboxCursor) throws -> [RecordOutcome] {
        try write("record") { db in
            let t = now()
            var outcomes: [RecordOutcome] = []
            for m in batch {
                let exists = try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT 1 FROM message_location WHERE mailbox = ? AND uid_validity = ? AND uid = ?
                    """), arguments: [m.mailbox, Int64(m.uidValidity), Int64(m.uid)]) ?? false
                if exists { outcomes.append(.alreadyRecorded); continue }
                let rowID: Int64
                if let existing = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM message WHERE dedupe_key = ?"), arguments: [m.dedupeKey]) {
                    rowID = existing
                    outcomes.append(.duplicate(of: existing))
                    let ticket = try Int64.fetchOne(db, sql: "SELECT id FROM ticket WHERE message_row = ?", arguments: [existing])
                    try appendEvent(db, kind: .messageDuplicate, ticket: ticket, message: existing, mailbox: m.mailbox,
                                    detail: ["uid": "\(m.uid)", "uid_validity": "\(m.uidValidity)"])
                } else {
                    let messageID = m.dedupeKey.hasPrefix("mid:") ? String(m.dedupeKey.dropFirst(4).split(separator: "#").first ?? "") : nil
                    try db.cachedStatement(sql: """
                        INSERT INTO message (dedupe_key, message_id, mailbox, size, truncated, fetch_error, pre_baseline,
                                             received_at, fetched_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute(arguments: [m.dedupeKey, messageID, m.mailbox, m.size, m.truncated, m.fetchError,
                                                 m.preBaseline, m.internalDate ?? t, t])
                    rowID = db.lastInsertedRowID
                    try db.cachedStatement(sql: "INSERT INTO message_raw (message_row, raw) VALUES (?, ?)")
                        .execute(arguments: [rowID, Data(m.raw)])
                    outcomes.append(.stored(messageID: rowID))
                    try appendEvent(db, kind: .messageRecorded, message: rowID, mailbox: m.mailbox,
                                    detail: ["uid": "\(m.uid)", "uid_validity": "\(m.uidValidity)", "size": "\(m.size)"])
                }
                try db.cachedStatement(sql: """
                    INSERT INTO message_location (mailbox, uid_validity, uid, message_row, server_action, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [m.mailbox, Int64(m.uidValidity), Int64(m.uid), rowID, ServerAction.pending.rawValue, t])
                try db.cachedStatement(sql: "DELETE FROM fetch_failure WHERE mailbox = ? AND uid_validity = ? AND uid = ?")
                    .execute(arguments: [m.mailbox, Int64(m.uidValidity), Int64(m.uid)])
            }
            try SQLiteTicketStore.upsertCursor(db, cursor, at: t)
            return outcomes
        }
    }

    public func noteFetchFailure(mailbox: String, uidValidity: UInt32, uid: UInt32, error: String) throws -> Int {
        try write("fetch failure") { db in
            try db.execute(sql: """
                INSERT INTO fetch_failure (mailbox, uid_validity, uid, failures, last_error) VALUES (?, ?, ?, 1, ?)
                ON CONFLICT DO UPDATE SET failures = failures + 1, last_error = excluded.last_error
                """, arguments: [mailbox, Int64(uidValidity), Int64(uid), error])
            return try Int.fetchOne(db, sql: """
                SELECT failures FROM fetch_failure WHERE mailbox = ? AND uid_validity = ? AND uid = ?
                """, arguments: [mailbox, Int64(uidValidity), Int64(uid)]) ?? 1
        }
    }

    public func pendingServerActions(mailbox: String, uidValidity: UInt32) throws -> [UInt32] {
        try read("pending actions") { db in
            try Int64.fetchAll(db, sql: """
                SELECT uid FROM message_location WHERE mailbox = ? AND uid_validity = ? AND server_action = ? ORDER BY uid
                """, arguments: [mailbox, Int64(uidValidity), ServerAction.pending.rawValue]).map { UInt32($0) }
        }
    }

    public func markServerActionsDone(mailbox: String, uidValidity: UInt32, uids: [UInt32]) throws {
        guard !uids.isEmpty else { return }
        try write("server actions") { db in
            let stmt = try db.cachedStatement(sql: """
                UPDATE message_location SET server_action = ? WHERE mailbox = ? AND uid_validity = ? AND uid = ?
                """)
            for uid in uids { try stmt.execute(arguments: [ServerAction.done.rawValue, mailbox, Int64(uidValidity), Int64(uid)]) }
        }
    }

    // MARK: - Processing

    /// Claims up to `limit` unprocessed messages for `worker` until `lease` seconds from now, oldest first;
    /// each claim counts one processing attempt. Messages claimed by another worker whose lease has not
    /// run out are skipped, so no two workers take the same message; `worker`'s own unfinished claims (a pass
    /// that failed to commit) are taken again.
    public func claimUnprocessed(limit: Int, maxBytes: Int, worker: String, lease: Int64) throws -> [StoredMessage] {
        try write("claim") { db in
            let t = now()
            // The sizes first (length() of a blob does not read it), then the raw bytes of those that fit.
            let sized = try Row.fetchAll(db, sql: """
                SELECT m.id, length(r.raw) AS bytes FROM message m JOIN message_raw r ON r.message_row = m.id
                WHERE m.processed_at IS NULL AND (m.claimed_until IS NULL OR m.claimed_until < ? OR m.claimed_by = ?) ORDER BY m.id LIMIT ?
                """, arguments: [t, worker, limit])
            var ids: [Int64] = [], total = 0
            for r in sized {
                let bytes: Int = r["bytes"] ?? 0
                if !ids.isEmpty && total + bytes > maxBytes { break }
                ids.append(r["id"])
                total += bytes
            }
            var out: [StoredMessage] = []
            let fetch = try db.cachedStatement(sql: """
                SELECT m.id, m.mailbox, r.raw, m.size, m.truncated, m.fetch_error, m.pre_baseline, m.attempts, m.received_at
                FROM message m JOIN message_raw r ON r.message_row = m.id WHERE m.id = ?
                """)
            let claim = try db.cachedStatement(sql: "UPDATE message SET attempts = attempts + 1, claimed_by = ?, claimed_until = ? WHERE id = ?")
            for id in ids {
                guard let r = try Row.fetchOne(fetch, arguments: [id]) else { continue }
                try claim.execute(arguments: [worker, t + lease, id])
                let raw: Data = r["raw"]
                out.append(StoredMessage(
                    id: id, mailbox: r["mailbox"], raw: [UInt8](raw), size: r["size"], truncated: r["truncated"],
                    fetchError: r["fetch_error"], preBaseline: r["pre_baseline"], attempts: (r["attempts"] as Int) + 1,
                    receivedAt: r["received_at"]))
            }
            return out
        }
    }

    /// Gives back `worker`'s claims on `ids` without counting the attempt: the store failed, not the message.
    public func unclaim(_ ids: [Int64], worker: String) throws {
        guard !ids.isEmpty else { return }
        try write("unclaim") { db in
            let stmt = try db.cachedStatement(sql: """
                UPDATE message SET claimed_by = NULL, claimed_until = NULL, attempts = max(0, attempts - 1)
                WHERE id = ? AND claimed_by = ? AND processed_at IS NULL
                """)
            for id in ids { try stmt.execute(arguments: [id, worker]) }
        }
    }

    /// Releases the claims of workers that are gone (a daemon killed while processing); returns how many.
    public func releaseClaims(isAlive: (String) -> Bool) throws -> Int {
        try write("release claims") { db in
            let workers = try String.fetchAll(db, sql: """
                SELECT DISTINCT claimed_by FROM message WHERE processed_at IS NULL AND claimed_by IS NOT NULL
                """)
            var released = 0
            for w in workers where !isAlive(w) {
                try db.execute(sql: "UPDATE message SET claimed_by = NULL, claimed_until = NULL WHERE processed_at IS NULL AND claimed_by = ?",
                               arguments: [w])
                released += db.changesCount
            }
            return released
        }
    }

    /// Tickets a message may belong to: those whose answers or stored messages it references, then the
    /// ticket of its subject tag; each with the addresses it belongs to.
    public func threadCandidates(_ q: ThreadQuery) throws -> [ThreadCandidate] {
        try read("thread lookup") { db in
            var found: [(Int64, ThreadLink)] = []
            let refs = Array(Set(q.references)).prefix(100)
            if !refs.isEmpty {
                let marks = refs.map { _ in "?" }.joined(separator: ",")
                let args = StatementArguments(Array(refs))
                for t in try Int64.fetchAll(db, sql: "SELECT DISTINCT ticket_id FROM outbox WHERE message_id IN (\(marks)) ORDER BY ticket_id DESC",
                                            arguments: args) { found.append((t, .ourAnswer)) }
                for t in try Int64.fetchAll(db, sql: """
                    SELECT t.id FROM ticket t JOIN message m ON m.id = t.message_row WHERE m.message_id IN (\(marks))
                    UNION SELECT tm.ticket_id FROM ticket_message tm JOIN message m ON m.id = tm.message_row WHERE m.message_id IN (\(marks))
                    ORDER BY 1 DESC
                    """, arguments: args + args) { found.append((t, .storedMessage)) }
            }
            if let tag = q.taggedTicket, try Bool.fetchOne(db, sql: "SELECT 1 FROM ticket WHERE id = ?", arguments: [tag]) == true {
                found.append((tag, .subjectTag))
            }
            var seen = Set<Int64>()
            var out: [ThreadCandidate] = []
            for (t, link) in found where seen.insert(t).inserted {
                // Escalation mails go to the team, not the customer: their recipients do not own the ticket.
                var customers = Set(try String.fetchAll(db, sql: "SELECT recipient FROM outbox WHERE ticket_id = ? AND kb_entry != ?",
                                                        arguments: [t, OutgoingAnswer.escalationEntry]))
                var paused: PausedClock?
                if let r = try Row.fetchOne(db, sql: "SELECT from_address, state, paused_at, first_response_due, sla_calendar FROM ticket WHERE id = ?",
                                            arguments: [t])
                {
                    customers.insert(r["from_address"])
                    if (r["state"] as String) == TicketState.waiting.rawValue, let at = r["paused_at"] as Int64?, let due = r["first_response_due"] as Int64?,
                       let cal = r["sla_calendar"] as String?
                    {
                        paused = PausedClock(pausedAt: at, due: due, calendar: cal)
                    }
                }
                out.append(ThreadCandidate(ticketID: t, link: link, customers: customers, paused: paused))
            }
            return out
        }
    }

    /// Applies decisions in one transaction: tickets with their events and outbox rows, or messages joined
    /// to their tickets. A message already processed (a retry after a crash) is skipped.
    public func apply(_ decisions: [TriageDecision]) throws {
        guard !decisions.isEmpty else { return }
        try write("apply decisions") { db in
            let t = now()
            let json = JSONEncoder()  // one per transaction: creating an encoder costs more than encoding
            for d in decisions {
                guard let row = try Row.fetchOne(db, sql: "SELECT processed_at FROM message WHERE id = ?", arguments: [d.messageRowID]),
                      (row["processed_at"] as Int64?) == nil
                else { continue }
                switch d.action {
                case .newTicket: try insertTicket(db, d, at: t, json: json)
                case .joinThread(let ticket, let informational): try attach(db, d, ticket: ticket, informational: informational, at: t)
                }
                try db.cachedStatement(sql: "UPDATE message SET processed_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?")
                    .execute(arguments: [t, d.messageRowID])
            }
        }
    }

    static func jsonText(_ value: some Encodable, _ encoder: JSONEncoder = JSONEncoder()) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    func insertTicket(_ db: Database, _ d: TriageDecision, at t: Int64, json: JSONEncoder) throws {
        let nt = d.ticket
        let c = d.classification
        try db.cachedStatement(sql: """
            INSERT INTO ticket (id, message_row, mailbox, received_at, from_address, from_name, subject, state,
                                auto_eligible, warnings, created_at, updated_at, category, confidence, degree, language,
                                reasons, report, decision, linked_ticket)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(message_row) DO NOTHING
            """).execute(arguments: [d.ticketID, nt.messageRowID, nt.mailbox, nt.receivedAt, nt.fromAddress, nt.fromName, nt.subject,
                                     nt.state.rawValue, nt.autoEligible, Self.jsonText(nt.warnings, json), t, t, c?.category, c?.confidence,
                                     d.degree?.rawValue, c?.language, Self.jsonText(d.reasons.map(\.description), json), nt.report,
                                     Self.jsonText(d.record, json), d.linkedTicket])
        guard db.changesCount > 0 else { return }
        let id = d.ticketID
        try appendEvent(db, kind: .ticketCreated, ticket: id, message: nt.messageRowID, mailbox: nt.mailbox,
                        detail: ["state": nt.state.rawValue, "auto_eligible": "\(nt.autoEligible)", "degree": d.degree?.rawValue ?? ""])
        if let c {
            try appendEvent(db, kind: .ticketClassified, ticket: id, mailbox: nt.mailbox, actor: "classifier",
                            detail: ["category": c.category, "confidence": String(c.confidence), "degree": d.degree?.rawValue ?? "",
                                     "language": c.language, "rules": c.rules.joined(separator: ","),
                                     "reasons": d.reasons.map(\.description).joined(separator: "; ")])
        }
        if let linked = d.linkedTicket {
            try appendEvent(db, kind: .ticketLinked, ticket: id, message: nt.messageRowID, mailbox: nt.mailbox,
                            detail: ["cites": "\(linked)", "from": nt.fromAddress])
        }
        if let sd = d.service { try updateService(db, id, sd) }
        try recordAnswer(db, d, ticket: id, at: t)
        if let a = d.acknowledgement {
            try insertOutbox(db, ticket: id, a, state: .pending, at: t)
            let promised = d.promisedLater ?? d.service?.firstResponse
            try appendEvent(db, kind: .ticketAcknowledged, ticket: id, mailbox: nt.mailbox, detail: [
                "to": a.recipient, "message_id": a.messageID, "promised": promised.map { "\(Int64($0.due.timeIntervalSince1970))" } ?? "",
                "beyond_sla": "\(d.promisedLater != nil)",
            ])
        }
        if let a = d.reply {
            try queueAnswer(db, a, ticket: id, mailbox: nt.mailbox, at: t)
        } else if c?.degree == .automatic {
            try appendEvent(db, kind: .answerRefused, ticket: id, mailbox: nt.mailbox, detail: [
                "reasons": d.reasons.filter(\.refusesAnswer).map(\.description).joined(separator: "; "),
            ])
        }
    }

    /// The decision's draft for an agent and the answer shadow mode records (both for a `shadow` ticket):
    /// the same rows and events for a new ticket and for one reprocessed (`applyReprocessed`).
    func recordAnswer(_ db: Database, _ d: TriageDecision, ticket id: Int64, at t: Int64) throws {
        if let draft = d.draft {
            try db.execute(sql: "INSERT INTO draft (ticket_id, kb_entry, body, state, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, draft.entry, draft.body, DraftState.pending.rawValue, t])
            try appendEvent(db, kind: .draftPrepared, ticket: id, mailbox: d.mailbox, detail: ["entry": draft.entry])
        }
        if let a = d.shadowReply {
            try insertOutbox(db, ticket: id, a, state: .shadow, at: t)
            try appendEvent(db, kind: .answerShadowed, ticket: id, mailbox: d.mailbox,
                            detail: ["entry": a.knowledgeEntry, "to": a.recipient, "message_id": a.messageID])
        }
    }

    /// An automatic answer into the outbox, the ticket's first response and answer entry, event `answer.queued`.
    func queueAnswer(_ db: Database, _ a: OutgoingAnswer, ticket id: Int64, mailbox: String, at t: Int64, detail extra: [String: String] = [:]) throws {
        try insertOutbox(db, ticket: id, a, state: .pending, at: t)
        try db.execute(sql: "UPDATE ticket SET answer_entry = ?, first_responded_at = ? WHERE id = ?", arguments: [a.knowledgeEntry, t, id])
        try appendEvent(db, kind: .answerQueued, ticket: id, mailbox: mailbox,
                        detail: ["entry": a.knowledgeEntry, "to": a.recipient, "message_id": a.messageID].merging(extra) { $1 })
    }

    func insertOutbox(_ db: Database, ticket id: Int64, _ a: OutgoingAnswer, state: OutboxState, at t: Int64) throws {
        try db.execute(sql: """
            INSERT INTO outbox (ticket_id, recipient, envelope_from, message_id, kb_entry, raw, state, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id, a.recipient, a.envelopeFrom, a.messageID, a.knowledgeEntry, Data(a.raw), state.rawValue, t, t])
    }

    func attach(_ db: Database, _ d: TriageDecision, ticket: Int64, informational: Bool, at t: Int64) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO ticket_message (message_row, ticket_id, informational, attached_at) VALUES (?, ?, ?, ?)",
                       arguments: [d.messageRowID, ticket, informational, t])
        try appendEvent(db, kind: informational ? .ticketAutoReplyAttached : .ticketReplyReceived, ticket: ticket,
                        message: d.messageRowID, mailbox: d.mailbox,
                        detail: ["from": d.ticket.fromAddress, "reasons": d.reasons.map(\.description).joined(separator: "; ")])
        guard !informational, let row = try Row.fetchOne(db, sql: "SELECT state, answer_entry FROM ticket WHERE id = ?", arguments: [ticket]),
              let state = TicketState(rawValue: row["state"])
        else { return }
        let next = state.applying(.customerReplied)
        guard next != state else { return }
        try db.execute(sql: "UPDATE ticket SET state = ?, degree = ?, updated_at = ?, paused_at = NULL WHERE id = ?",
                       arguments: [next.rawValue, AutomationDegree.manual.rawValue, t, ticket])
        if let due = d.resumedDue {
            // The clock runs again with the time that was left when the ticket started waiting on the customer.
            try db.execute(sql: "UPDATE ticket SET first_response_due = ?, sla_warned_at = NULL, sla_escalated_at = NULL WHERE id = ?",
                           arguments: [due, ticket])
        }
        try appendEvent(db, kind: .ticketReopened, ticket: ticket, message: d.messageRowID, detail: [
            "from": state.rawValue, "to": next.rawValue, "answer_entry": (row["answer_entry"] as String?) ?? "",
            "reason": TicketTransition.customerReplied.rawValue,
        ])
    }

    /// Runs for every message the processor decides (through an index on the lower-case recipient).
    static let answersSentSQL = "SELECT count(*) FROM outbox WHERE lower(recipient) = lower(?) AND created_at >= ? AND state NOT IN (?, ?)"

    /// Automatic answers queued for `recipient` since `since` (seconds since 1970), failed ones not counted.
    public func answersSent(to recipient: String, since: Int64) throws -> Int {
        try read("answer count") { db in
            try Int.fetchOne(db, sql: Self.answersSentSQL, arguments: [recipient, since, OutboxState.failed.rawValue, OutboxState.shadow.rawValue]) ?? 0
        }
    }

    // MARK: - Queue

    /// The WHERE clause of `query` (empty without conditions) and its arguments.
    static func conditions(_ query: TicketQuery) -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        func values(_ column: String, _ list: [some DatabaseValueConvertible]) {
            clauses.append("\(column) IN (\(list.map { _ in "?" }.joined(separator: ",")))")
            args += list.map { $0 as any DatabaseValueConvertible }
        }
        if let states = query.states, !states.isEmpty { values("state", states.map(\.rawValue)) }
        if let mb = query.mailbox { clauses.append("mailbox = ?"); args.append(mb) }
        if let ids = query.ids { values("ticket.id", ids) }
        if let g = query.groups, !g.isEmpty { values("sla_group", g) }
        if let c = query.categories, !c.isEmpty { values("category", c) }
        if let a = query.assignee { clauses.append("assignee = ?"); args.append(a) }
        if let t = query.overdueAt {
            clauses.append("first_response_due <= ?")
            args.append(t)
            values("state", TicketState.awaitingResponse.map(\.rawValue))
        }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), StatementArguments(args))
    }

    /// The statement `tickets(query)` runs.
    static func listSQL(_ query: TicketQuery) -> (sql: String, arguments: StatementArguments) {
        var sql = """
            SELECT ticket.*, (SELECT state FROM outbox o WHERE o.ticket_id = ticket.id ORDER BY o.id DESC LIMIT 1) AS answer_state,
                   (SELECT last_error FROM outbox o WHERE o.ticket_id = ticket.id ORDER BY o.id DESC LIMIT 1) AS answer_error
            FROM ticket
            """
        let (conditions, args) = Self.conditions(query)
        sql += conditions
        switch query.order {
        case .received:
            sql += " ORDER BY received_at, ticket.id"
        case .due:
            sql += """
                 ORDER BY CASE WHEN state = '\(TicketState.awaitingApproval.rawValue)' THEN 0 ELSE 1 END,
                          first_response_due IS NULL, first_response_due,
                          CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 2 END,
                          received_at, ticket.id
                """
        }
        if let limit = query.limit { sql += " LIMIT \(max(0, limit))" }
        return (sql, args)
    }

    /// How many tickets `query` selects, whatever its limit.
    public func ticketCount(_ query: TicketQuery) throws -> Int {
        try read("ticket count") { db in
            let (conditions, args) = Self.conditions(query)
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket" + conditions, arguments: args) ?? 0
        }
    }

    public func tickets(_ query: TicketQuery) throws -> [TicketSummary] {
        try read("ticket list") { db in
            let (sql, args) = Self.listSQL(query)
            let decoder = JSONDecoder()
            return try Row.fetchAll(db, sql: sql, arguments: args).map { r in
                let w: String = r["warnings"]
                var t = TicketSummary(
                    id: r["id"], mailbox: r["mailbox"], receivedAt: r["received_at"], from: r["from_address"],
                    fromName: r["from_name"], subject: r["subject"],
                    state: TicketState(rawValue: r["state"]) ?? .open, autoEligible: r["auto_eligible"],
                    warnings: w == "[]" ? [] : (try? decoder.decode([String].self, from: Data(w.utf8))) ?? [])
                t.category = r["category"]
                t.confidence = r["confidence"]
                t.degree = (r["degree"] as String?).flatMap(AutomationDegree.init(rawValue:))
                t.language = r["language"]
                t.report = r["report"]
                t.answerState = (r["answer_state"] as String?).flatMap(OutboxState.init(rawValue:))
                t.answerError = r["answer_error"]
                t.group = r["sla_group"]
                t.priority = r["priority"]
                t.firstResponseDue = r["first_response_due"]
                t.assignee = r["assignee"]
                t.calendar = r["sla_calendar"]
                return t
            }
        }
    }

    // MARK: - The outbox

    /// Answers to send: pending ones due by `now` (all pending ones when `now` is nil), oldest first.
    public func dueAnswers(now due: Int64?, limit: Int) throws -> [OutboxItem] {
        try read("outbox") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, ticket_id, recipient, envelope_from, raw, attempts, send_started FROM outbox
                WHERE state = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?
                """, arguments: [OutboxState.pending.rawValue, due ?? Int64.max, limit])
            return rows.map { r in
                let raw: Data = r["raw"]
                var item = OutboxItem(id: r["id"], ticketID: r["ticket_id"], recipient: r["recipient"], envelopeFrom: r["envelope_from"],
                                      raw: [UInt8](raw), attempts: r["attempts"])
                item.interruptedAttempts = max(0, (r["send_started"] as Int) - item.attempts)
                return item
            }
        }
    }

    /// Commits, before the SMTP transaction, that a send of `item` begins. Every outcome also counts in
    /// `attempts`; an attempt begun whose outcome was never recorded (the daemon stopped between the server's
    /// acceptance and the commit) stays visible as `send_started > attempts`: the one case in which an
    /// answer may have gone out twice. A full disk fails here, before anything is sent.
    public func answerSendStarting(_ item: OutboxItem) throws {
        try write("outbox send start") { db in
            try db.cachedStatement(sql: "UPDATE outbox SET send_started = send_started + 1 WHERE id = ?").execute(arguments: [item.id])
        }
    }

    public func answerSendNotStarted(_ item: OutboxItem) throws {
        try write("outbox send not started") { db in
            try db.cachedStatement(sql: "UPDATE outbox SET send_started = send_started - 1 WHERE id = ? AND send_started > attempts")
                .execute(arguments: [item.id])
        }
    }

    /// Records the outcome of one send: sent; a transient failure retried at `retryAt`; or a permanent
    /// failure, which puts the ticket back into the manual queue with the server's text.
    public func answerOutcome(_ item: OutboxItem, _ outcome: SendOutcome, error: String?) throws {
        try write("outbox outcome") { db in
            let t = now()
            let next = OutboxState.pending.applying(outcome)
            switch outcome {
            case .accepted:
                try db.execute(sql: "UPDATE outbox SET state = ?, sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
                               arguments: [next.rawValue, t, item.id])
                try appendEvent(db, kind: .answerSent, ticket: item.ticketID, detail: ["to": item.recipient])
            case .transientFailure(let retryAt):
                try db.execute(sql: "UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                               arguments: [next.rawValue, retryAt, error ?? "", item.id])
                try appendEvent(db, kind: .answerRetry, ticket: item.ticketID, detail: ["error": error ?? "", "retry_at": "\(retryAt)"])
            case .permanentFailure:
                try db.execute(sql: "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                               arguments: [next.rawValue, error ?? "", item.id])
                if let s = try String.fetchOne(db, sql: "SELECT state FROM ticket WHERE id = ?", arguments: [item.ticketID]),
                   let state = TicketState(rawValue: s), state.applying(.answerRefused) != state
                {
                    try db.execute(sql: "UPDATE ticket SET state = ?, degree = ?, updated_at = ? WHERE id = ?",
                                   arguments: [state.applying(.answerRefused).rawValue, AutomationDegree.manual.rawValue, t, item.ticketID])
                }
                try appendEvent(db, kind: .answerFailed, ticket: item.ticketID, detail: ["error": error ?? ""])
            }
        }
    }

    /// Outbox rows by state, for tests and `stats`.
    public func outboxCounts() throws -> [OutboxState: Int] {
        try read("outbox counts") { db in
            var out: [OutboxState: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM outbox GROUP BY state") {
                if let state = OutboxState(rawValue: r["state"]) { out[state] = r["n"] }
            }
            return out
        }
    }

    // MARK: - Service levels

    /// Runs every watch interval: reads the tickets awaiting a first answer, not every ticket with a due time.
    static let slaAlarmsSQL = """
        SELECT id, mailbox, subject, from_address, sla_group, sla_policy, first_response_due, sla_warn_at, sla_escalate_to,
               sla_warned_at, sla_escalated_at FROM ticket
        WHERE first_response_due IS NOT NULL AND sla_escalated_at IS NULL
          AND state IN (\(TicketState.awaitingResponse.map { _ in "?" }.joined(separator: ",")))
          AND (first_response_due <= ? OR (sla_warn_at <= ? AND sla_warned_at IS NULL))
        ORDER BY first_response_due LIMIT ?
        """

    /// Tickets still waiting for a first answer whose warning time or due time has come and whose warning or
    /// escalation has not been made yet, oldest due first.
    public func slaAlarms(now: Int64, limit: Int) throws -> [SLAAlarm] {
        try read("SLA alarms") { db in
            let rows = try Row.fetchAll(db, sql: Self.slaAlarmsSQL, arguments: StatementArguments(TicketState.awaitingResponse.map(\.rawValue))
                                            + [now, now, limit])
            return rows.map { r in
                let due: Int64 = r["first_response_due"]
                return SLAAlarm(level: due <= now ? .breach : .warning, ticketID: r["id"], mailbox: r["mailbox"], subject: r["subject"],
                                from: r["from_address"], group: r["sla_group"], policy: r["sla_policy"], due: due,
                                escalateTo: r["sla_escalate_to"])
            }
        }
    }

    /// Records a warning or an escalation (with its mail in the outbox) once: false when it was already made.
    public func recordSLA(_ alarm: SLAAlarm, escalation: OutgoingAnswer?) throws -> Bool {
        try write("SLA alarm") { db in
            let t = now()
            switch alarm.level {
            case .warning:
                try db.execute(sql: "UPDATE ticket SET sla_warned_at = ? WHERE id = ? AND sla_warned_at IS NULL", arguments: [t, alarm.ticketID])
                guard db.changesCount > 0 else { return false }
                try appendEvent(db, kind: .slaWarning, ticket: alarm.ticketID, mailbox: alarm.mailbox,
                                detail: ["due": "\(alarm.due)", "policy": alarm.policy ?? "", "group": alarm.group ?? ""])
            case .breach:
                try db.execute(sql: "UPDATE ticket SET sla_escalated_at = ?, sla_warned_at = coalesce(sla_warned_at, ?) WHERE id = ? AND sla_escalated_at IS NULL",
                               arguments: [t, t, alarm.ticketID])
                guard db.changesCount > 0 else { return false }
                if let e = escalation { try insertOutbox(db, ticket: alarm.ticketID, e, state: .pending, at: t) }
                try appendEvent(db, kind: .slaEscalated, ticket: alarm.ticketID, mailbox: alarm.mailbox, detail: [
                    "due": "\(alarm.due)", "policy": alarm.policy ?? "", "group": alarm.group ?? "", "to": escalation?.recipient ?? "",
                ])
            }
            return true
        }
    }

    // MARK: - Corrections

    /// An agent's correction of a ticket's category: recorded as an event (which training reads) and
    /// applied to the ticket. Throws `notFound` for an unknown ticket.
    /// With `service`, the ticket's group, policy and due times move with the new category; a due time
    /// that moves into the future is a new promise, so its warning and escalation may fire again.
    public func recategorize(ticket id: Int64, category: String, actor: String, service: ServiceDecision? = nil) throws {
        try write("recategorize") { db in
            guard let old = try Row.fetchOne(db, sql: "SELECT category FROM ticket WHERE id = ?", arguments: [id]) else {
                throw TriageError(.notFound, "no ticket \(id)")
            }
            let from: String? = old["category"]
            let t = now()
            try db.execute(sql: "UPDATE ticket SET category = ?, confidence = NULL, updated_at = ? WHERE id = ?",
                           arguments: [category, t, id])
            var detail = ["from": from ?? "", "to": category]
            if let sd = service {
                try updateService(db, id, sd)
                detail["policy"] = sd.policy ?? ""
                detail["due"] = sd.firstResponse.map { "\(Int64($0.due.timeIntervalSince1970))" } ?? ""
            }
            try appendEvent(db, kind: .ticketRecategorized, ticket: id, actor: actor, detail: detail)
        }
    }

    /// What a new service level for a ticket is computed from: sender, mailbox, arrival, and the group a
    /// rule gave it (a rule's group stays when the category changes).
    public func serviceFacts(ticket id: Int64) throws -> (from: String, mailbox: String, receivedAt: Int64, ruleGroup: String?, priority: String?)? {
        try read("service facts") { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT from_address, mailbox, received_at, decision FROM ticket WHERE id = ?",
                                           arguments: [id]) else { return nil }
            let record = (r["decision"] as String?).flatMap { try? JSONDecoder().decode(DecisionRecord.self, from: Data($0.utf8)) }
            let ruleGroup = record?.service?.groupMatch == .rule ? record?.service?.group : nil
            let rulePriority = record?.reasons.contains { if case .classified(.rule) = $0 { true } else { false } } == true
                ? record?.service?.priority : nil
            return (r["from_address"], r["mailbox"], r["received_at"], ruleGroup, rulePriority)
        }
    }

    /// The newest event's id (0 without any): every change to a ticket appends an event, so an unchanged id
    /// means unchanged tickets.
    public func lastEventID() throws -> Int64 {
        try read("last event") { try Int64.fetchOne($0, sql: "SELECT max(id) FROM event") ?? 0 }
    }

    /// Counts for tests and `stats`: messages, locations, tickets, events.
    public func counts() throws -> (messages: Int, locations: Int, tickets: Int, events: Int) {
        try read("counts") { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM message") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM message_location") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM event") ?? 0)
        }
    }
}
