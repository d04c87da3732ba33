import ArgumentParser
import Foundation
import GRDB
import Logging
import TriageCore
import TriageDaemon
import TriageFiles
import TriageMIME
import TriageStore

/// A store the size of years of support mail, written the way the daemon writes it: messages recorded and
/// decided by the real `record`, `MessageProcessor` and `apply` (tickets, decisions, events, outbox rows,
/// drafts, replies joining their tickets) on a simulated clock; then what agents and the outbox do later
/// (claims, replies, approved and rejected drafts, sent answers, resolved and waiting tickets), written in
/// bulk with the same statements the store's agent methods use (one commit per action would take hours).
/// Deciding a million messages takes long on a small machine, so the processor decides the first and the last
/// window of time (`decided` tickets) and the windows between are copies of the first, shifted in time.
/// The schema is the one the store's migrations create; `PRAGMA foreign_key_check` runs at the end.
struct StoreGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-gen",
        abstract: "Writes a ticket store of N tickets for the scale benchmark (see Benchmarks/store.sh).")

    @Option(help: "mailtriage.toml with the mailboxes, knowledge base, rules and service levels to decide with.") var config: String
    @Option(help: "mbox files whose messages are cycled (each copy gets its own Message-ID and sender).") var mbox: [String]
    @Option(help: "The database to write (must not exist).") var database: String
    @Option(help: "Tickets to create.") var tickets = 1_000_000
    @Option(help: "Tickets decided by the processor: the first and the last window of time; the windows between are copies of the first.")
    var decided = 100_000
    @Option(help: "The days the tickets arrive over, ending now.") var days = 730
    @Option(help: "Seed of the choices (customers, replies, agent actions).") var seed: UInt64 = 15

    /// What the generation passes along from one window to the next.
    struct State {
        var uid: [String: UInt32] = [:]
        var seq: Int64 = 0
        var rng: SplitMix
        var agents: AgentWork
    }

    func run() throws {
        guard !FileManager.default.fileExists(atPath: database) else { throw ValidationError("\(database) exists") }
        let t0 = Date()
        var logger = Logger(label: "store-gen")
        logger.logLevel = .error
        let loaded = try SnapshotLoader.load(configPath: config, saveTrained: false)
        let snapshot = loaded.snapshot
        var templates: [[UInt8]] = []
        try ArchiveReader.read(ArchiveReader.inputs(mbox).files, maxMessageBytes: 1 << 20, failed: { p, e in Self.log("\(p): \(e)") }) { m, _ in
            templates.append(m.raw)
        }
        guard !templates.isEmpty else { throw ValidationError("no messages in \(mbox)") }
        let mailboxes = loaded.config.mailboxes
        guard !mailboxes.isEmpty else { throw ValidationError("\(config) has no mailbox") }

        let end = Int64(Date().timeIntervalSince1970) / 60 * 60
        let start = end - Int64(days) * 86_400
        let clock = SimClock(start)
        let store = try SQLiteTicketStore(path: database, now: { clock.now })
        var processor = MessageProcessor(store: store, snapshots: SnapshotStore(snapshot), worker: "store-gen/\(getpid())", batchSize: 50,
                                         logger: logger)
        processor.now = { clock.now }
        let tokens = Counter()
        processor.token = { String(tokens.next(), radix: 36) }
        let db = try DatabaseQueue(path: database)
        var state = State(rng: SplitMix(seed: seed), agents: AgentWork(snapshot: snapshot, mailboxes: mailboxes, tokens: tokens))
        // Windows of `chunk` tickets each: the first decided and worked to the end, copied into the windows up to
        // the last, which is decided with its newest tickets left for the agents (the queue).
        let chunk = max(1, min(tickets, decided) / 2)
        let windows = max(1, tickets / chunk)
        let span = (end - start) / Int64(windows)
        let window = Window(templates: templates, mailboxes: mailboxes, store: store, processor: processor, db: db, clock: clock, t0: t0)
        try window.decide(tickets: windows == 1 ? tickets : chunk, from: start, to: windows == 1 ? end : start + span, openFrom: windows == 1 ? end - 2 * 86_400 : .max,
                          waitingFrom: end - 14 * 86_400, &state)
        if windows > 1 {
            let copies = windows - 2
            if copies > 0 {
                try db.writeWithoutTransaction { db in try Replica.copy(db, times: copies, shift: span) }
                Self.log("store-gen: \(copies) copies of the first window, \(Int(Date().timeIntervalSince(t0))) s")
            }
            let (made, maxTicket) = try db.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket") ?? 0, try Int64.fetchOne(db, sql: "SELECT max(id) FROM ticket") ?? 0)
            }
            for r in try db.read({ try Row.fetchAll($0, sql: "SELECT mailbox, max(uid) AS u FROM message_location GROUP BY mailbox") }) {
                state.uid[r["mailbox"]] = UInt32(r["u"] as Int64)
            }
            state.agents.lastWorked = maxTicket
            try window.decide(tickets: tickets - made, from: end - span, to: end, openFrom: end - 2 * 86_400, waitingFrom: end - 14 * 86_400, &state)
        }
        let problems = try db.read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check") }
        guard problems.isEmpty else { throw ValidationError("foreign key check: \(problems.count) rows refer to nothing") }
        try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let counts = try store.counts()
        print("store-gen: \(counts.tickets) tickets, \(counts.messages) messages, \(counts.events) events in \(Int(Date().timeIntervalSince(t0))) s")
    }

    static func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    /// A template message with its own Message-ID, Date and sender (one of `customer` addresses).
    /// Machine senders (bounces, auto-replies) keep their From.
    static func copy(_ raw: [UInt8], n: Int64, customer: Int) -> [UInt8] {
        let head = String(decoding: raw.prefix(4096), as: UTF8.self).lowercased()
        let machine = ["mailer-daemon", "postmaster", "noreply", "no-reply"].contains { head.contains($0) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 64)
        out += Array("Message-ID: <gen.\(n)@mail.example>\r\n".utf8)
        if !machine { out += Array("From: Customer \(customer) <customer\(customer)@mail.example>\r\n".utf8) }
        // Drop the template's own Message-ID and From lines (with their continuation lines) from the header.
        var i = 0, skipping = false
        while i < raw.count {
            var j = i
            while j < raw.count && raw[j] != 0x0A { j += 1 }
            let line = raw[i..<min(j + 1, raw.count)]
            if line.count <= 2 && (line.first == 0x0A || line.first == 0x0D) {
                out += raw[i...]
                return out
            }
            if line.first == 0x20 || line.first == 0x09 {
                if !skipping { out += line }
            } else {
                let name = String(decoding: line.prefix(12), as: UTF8.self).lowercased()
                skipping = name.hasPrefix("message-id:") || (!machine && name.hasPrefix("from:"))
                if !skipping { out += line }
            }
            i = j + 1
        }
        return out
    }

    /// The customer writing again about ticket `ticket`: thanks (`good`) or the problem remains.
    static func customerReply(ticket: Int64, from: String, subject: String, at: Int64, n: Int64, good: Bool) -> [UInt8] {
        let text = good ? "Thank you, that solved it." : "Thanks for the quick answer, but it does not work for me yet. I tried it again this morning and get the same error. Can someone please have a look?"
        return Array("""
            Message-ID: <gen.\(n)@mail.example>\r
            From: <\(from)>\r
            To: support@example.com\r
            Subject: Re: \(subject) [#\(ticket)]\r
            Date: \(ReplyComposer.rfc5322Date(at))\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Hello,\r
            \r
            \(text)\r
            \r
            Best regards\r

            """.utf8)
    }
}

/// Tickets decided by the real processor over a window of simulated time.
struct Window {
    let templates: [[UInt8]]
    let mailboxes: [MailboxConfig]
    let store: SQLiteTicketStore
    let processor: MessageProcessor
    let db: DatabaseQueue
    let clock: SimClock
    let t0: Date

    /// `tickets` new tickets arriving evenly from `from` to `to`, about one message in eight a customer writing
    /// again about a ticket of the last days. Agents work every ticket that came in or was reopened before
    /// `openFrom` (two days before the window's clock); those after stay in the queue.
    func decide(tickets: Int, from: Int64, to: Int64, openFrom: Int64, waitingFrom: Int64, _ st: inout StoreGen.State) throws {
        guard tickets > 0 else { return }
        let expected = Int64(Double(tickets) * 1.14)
        let base = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ticket") ?? 0 }
        var made = 0, k: Int64 = 0
        var recent: [(id: Int64, from: String, subject: String, mailbox: String)] = []
        var lastTicket = try db.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM ticket") ?? 0 }
        while made < tickets {
            var batch: [String: [FetchedMessage]] = [:]
            var newInBatch = 0
            for _ in 0..<1000 where made + newInBatch < tickets {
                st.seq += 1
                k += 1
                let at = min(to - 60, from + k * (to - from) / expected)
                let raw: [UInt8], mailbox: String
                if !recent.isEmpty && st.rng.below(8) == 0 {
                    let t = recent[st.rng.below(recent.count)]
                    raw = StoreGen.customerReply(ticket: t.id, from: t.from, subject: t.subject, at: at, n: st.seq, good: st.rng.below(3) == 0)
                    mailbox = t.mailbox
                } else {
                    // Most mail comes to the first mailbox.
                    mailbox = mailboxes[mailboxes.count == 1 || st.rng.below(100) < 70 ? 0 : 1 + st.rng.below(mailboxes.count - 1)].name
                    raw = StoreGen.copy(templates[st.rng.below(templates.count)], n: st.seq, customer: st.rng.below(200_000))
                    newInBatch += 1
                }
                st.uid[mailbox, default: 0] += 1
                batch[mailbox, default: []].append(FetchedMessage(mailbox: mailbox, uidValidity: 1, uid: st.uid[mailbox]!, raw: raw, size: raw.count,
                                                                  preBaseline: false, internalDate: at))
            }
            for (mailbox, messages) in batch.sorted(by: { $0.key < $1.key }) {
                clock.now = messages.last!.internalDate! + 30
                _ = try store.record(messages, cursor: MailboxCursor(mailbox: mailbox, uidValidity: 1, lastUID: messages.last!.uid, baselineUID: 0))
            }
            _ = try processor.drain()
            // The tickets the batch created: replies pick from the last 3,000 (about two days).
            for r in try db.read({ try Row.fetchAll($0, sql: "SELECT id, from_address, subject, mailbox FROM ticket WHERE id > ? ORDER BY id",
                                                    arguments: [lastTicket]) }) {
                recent.append((r["id"], r["from_address"], r["subject"], r["mailbox"]))
                lastTicket = r["id"]
            }
            if recent.count > 3000 { recent.removeFirst(recent.count - 3000) }
            made = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ticket") ?? 0 } - base
            // The outbox sends what was queued; agents work the tickets of two days ago and earlier.
            let now = clock.now
            try db.write { db in
                try st.agents.sendPending(db)
                try st.agents.work(db, upTo: min(openFrom, now - 2 * 86_400), waitingFrom: waitingFrom, rng: &st.rng)
            }
            if made % 20_000 < newInBatch { StoreGen.log("store-gen: \(base + made) tickets, \(Int(Date().timeIntervalSince(t0))) s") }
        }
        // The end of the window: what is still open is worked unless it is the queue of the last days.
        try db.write { db in
            try st.agents.sendPending(db)
            if openFrom == .max { try st.agents.work(db, upTo: .max, waitingFrom: waitingFrom, rng: &st.rng) }
            try st.agents.sendPending(db)
        }
    }
}

/// Copies of the rows of every table, shifted in time: the store's own columns, read from the schema (a new
/// column is copied as it is). Row ids of messages and tickets move up by the highest message id per copy
/// (a ticket's id is its message's), ids of events, answers and drafts are new, times move by `shift` per
/// copy, and the unique keys (dedupe key, our Message-IDs, IMAP UIDs) get the copy's number.
enum Replica {
    static let rowRefs: Set<String> = ["message_row", "ticket_id", "linked_ticket"]
    static let ownIDs: Set<String> = ["event", "outbox", "draft"]
    static let times: Set<String> = ["at", "received_at", "fetched_at", "processed_at", "created_at", "updated_at", "first_response_due",
                                     "resolution_due", "sla_warn_at", "sla_warned_at", "sla_escalated_at", "paused_at", "first_responded_at",
                                     "next_attempt_at", "sent_at", "decided_at", "attached_at", "recorded_at", "claimed_until"]
    static let tables = ["message", "message_raw", "message_location", "ticket", "ticket_message", "outbox", "draft", "event"]

    static func copy(_ db: Database, times n: Int, shift: Int64) throws {
        let maxID = try Int64.fetchOne(db, sql: "SELECT max(id) FROM message") ?? 0
        let maxUID = try Int64.fetchOne(db, sql: "SELECT max(uid) FROM message_location") ?? 0
        let maxEvent = try Int64.fetchOne(db, sql: "SELECT max(id) FROM event") ?? 0
        let maxOutbox = try Int64.fetchOne(db, sql: "SELECT max(id) FROM outbox") ?? 0
        let maxDraft = try Int64.fetchOne(db, sql: "SELECT max(id) FROM draft") ?? 0
        let limits = ["event": maxEvent, "outbox": maxOutbox, "draft": maxDraft]
        let known = try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        for table in tables where !known.contains(table) { throw ValidationError("the schema has no table \(table)") }
        for c in 1...n {
            try db.inTransaction {
                for table in tables {
                    let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).map { $0["name"] as String }
                    var exprs: [String] = []
                    for col in columns {
                        switch col {
                        case "id" where ownIDs.contains(table): exprs.append("NULL")
                        case "id": exprs.append("id + \(Int64(c) * maxID)")
                        case _ where rowRefs.contains(col): exprs.append("\(col) + \(Int64(c) * maxID)")
                        case _ where times.contains(col): exprs.append("\(col) + \(Int64(c) * shift)")
                        case "dedupe_key": exprs.append("dedupe_key || '#copy\(c)'")
                        case "message_id" where table == "outbox": exprs.append("replace(message_id, '@', '.copy\(c)@')")
                        case "uid": exprs.append("uid + \(Int64(c) * maxUID)")
                        case "claimed_by": exprs.append("NULL")
                        default: exprs.append(col)
                        }
                    }
                    let source = table == "message" || table == "ticket" ? "id <= \(maxID)"
                        : table == "message_raw" || table == "message_location" || table == "ticket_message" ? "message_row <= \(maxID)"
                        : "id <= \(limits[table]!)"
                    try db.execute(sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT \(exprs.joined(separator: ", ")) FROM \(table) WHERE \(source)\(table == "message_location" ? "" : " ORDER BY rowid")")
                }
                return .commit
            }
            StoreGen.log("store-gen: copy \(c) of \(n)")
        }
    }
}

/// The simulated time the store and the processor read.
final class SimClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ t: Int64) { value = t }
    var now: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 { lock.withLock { value += 1; return value } }
}

extension SplitMix {
    /// A number in 0..<n (the same seed gives the same store).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
}

/// What the outbox and the agents do with the tickets, as the store's `answerOutcome`, `claim`, `reply`,
/// `approveDraft`, `rejectDraft`, `wait` and `resolve` write it.
struct AgentWork {
    let snapshot: TriageSnapshot
    let mailboxes: [MailboxConfig]
    let tokens: Counter
    var lastWorked: Int64 = 0
    static let names = ["lena", "tobias", "sarah", "mark", "jana", "felix", "nina", "paul"]

    static func json(_ d: [String: String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    func event(_ db: Database, _ at: Int64, _ kind: EventKind, ticket: Int64, actor: String, _ detail: [String: String] = [:]) throws {
        try db.cachedStatement(sql: "INSERT INTO event (at, kind, actor, ticket_id, message_row, mailbox, detail) VALUES (?, ?, ?, ?, NULL, NULL, ?)")
            .execute(arguments: [at, kind.rawValue, actor, ticket, Self.json(detail)])
    }

    /// Every pending answer is accepted by the SMTP server a few seconds after it was queued.
    func sendPending(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT id, ticket_id, recipient, created_at FROM outbox WHERE state = ?", arguments: [OutboxState.pending.rawValue])
        for r in rows {
            let at = (r["created_at"] as Int64) + 4
            try db.cachedStatement(sql: "UPDATE outbox SET state = ?, sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
                .execute(arguments: [OutboxState.sent.rawValue, at, r["id"] as Int64])
            try event(db, at, .answerSent, ticket: r["ticket_id"], actor: "daemon", ["to": r["recipient"]])
        }
    }

    /// Agents handle the tickets that came in or were reopened before `upTo`: those received after
    /// `waitingFrom` may end waiting on the customer; the others are resolved (automatic answers: half).
    mutating func work(_ db: Database, upTo: Int64, waitingFrom: Int64, rng: inout SplitMix) throws {
        for r in try Row.fetchAll(db, sql: "SELECT id, updated_at FROM ticket WHERE id > ? AND updated_at < ? AND state = ? ORDER BY id",
                                  arguments: [lastWorked, upTo, TicketState.answered.rawValue]) where rng.below(2) == 0 {
            try resolve(db, r["id"], from: .answered, agent: Self.names[rng.below(Self.names.count)],
                        at: (r["updated_at"] as Int64) + 3600 + Int64(rng.below(7 * 86_400)))
        }
        lastWorked = try Int64.fetchOne(db, sql: "SELECT max(id) FROM ticket WHERE id > ? AND updated_at < ?",
                                       arguments: [lastWorked, upTo]) ?? lastWorked
        let rows = try Row.fetchAll(db, sql: """
            SELECT t.id, t.state, t.received_at, t.updated_at, t.mailbox, r.raw FROM ticket t JOIN message_raw r ON r.message_row = t.message_row
            WHERE t.state IN (?, ?) AND t.updated_at < ? ORDER BY t.id
            """, arguments: [TicketState.open.rawValue, TicketState.awaitingApproval.rawValue, upTo])
        for r in rows {
            let id: Int64 = r["id"]
            guard let state = TicketState(rawValue: r["state"]) else { continue }
            let agent = Self.names[rng.below(Self.names.count)]
            var at = (r["updated_at"] as Int64) + 1800 + Int64(rng.below(30 * 3600))
            func step() -> Int64 { at += 60 + Int64(rng.below(1800)); return at }
            let mailbox = mailboxes.first { $0.name == (r["mailbox"] as String) }
            switch state {
            case .open, .awaitingApproval:
                guard let mb = mailbox, let address = mb.address else { continue }
                try db.execute(sql: "UPDATE ticket SET state = ?, assignee = ?, updated_at = ? WHERE id = ?",
                               arguments: [state == .open ? TicketState.claimed.rawValue : state.rawValue, agent, step(), id])
                try event(db, at, .ticketClaimed, ticket: id, actor: agent)
                let parsed = MIMEParser.parse([UInt8](r["raw"] as Data))
                let from = MailAddress(name: mb.displayName, address: address)
                if parsed.report.kind != .none || parsed.report.isAutomated {
                    try resolve(db, id, from: state == .open ? .claimed : state, agent: agent, at: step())
                } else if state == .awaitingApproval, let draft = try Row.fetchOne(db, sql: "SELECT id, kb_entry, body FROM draft WHERE ticket_id = ? AND state = ?",
                                                                              arguments: [id, DraftState.pending.rawValue])
                {
                    let entry: String = draft["kb_entry"]
                    if rng.below(10) < 8 {
                        let edited = rng.below(6) == 0
                        guard let a = AgentReply.compose(to: parsed, ticketID: id, from: from, body: draft["body"], entry: entry, snapshot: snapshot,
                                                         token: String(tokens.next(), radix: 36), now: step())
                        else {
                            try resolve(db, id, from: state, agent: agent, at: step())
                            continue
                        }
                        try db.execute(sql: "UPDATE draft SET state = ?, agent = ?, decided_at = ? WHERE id = ?",
                                       arguments: [(edited ? DraftState.edited : .approved).rawValue, agent, at, draft["id"] as Int64])
                        try queueAnswer(db, id, a, at: at, state: .answered)
                        try db.execute(sql: "UPDATE ticket SET answer_entry = ? WHERE id = ?", arguments: [entry, id])
                        try event(db, at, .draftApproved, ticket: id, actor: agent, ["entry": entry, "edited": "\(edited)", "message_id": a.messageID])
                    } else {
                        try db.execute(sql: "UPDATE draft SET state = ?, agent = ?, reason = ?, decided_at = ? WHERE id = ?",
                                       arguments: [DraftState.rejected.rawValue, agent, "does not answer the question", step(), draft["id"] as Int64])
                        try db.execute(sql: "UPDATE ticket SET state = ?, degree = ? WHERE id = ?",
                                       arguments: [TicketState.open.rawValue, AutomationDegree.manual.rawValue, id])
                        try event(db, at, .draftRejected, ticket: id, actor: agent, ["entry": entry, "reason": "does not answer the question"])
                        try agentReply(db, id, parsed, from: from, agent: agent, at: step())
                    }
                } else {
                    try agentReply(db, id, parsed, from: from, agent: agent, at: step())
                }
                if (r["received_at"] as Int64) >= waitingFrom && rng.below(4) == 0 {
                    try db.execute(sql: "UPDATE ticket SET state = ?, paused_at = ?, updated_at = ? WHERE id = ?",
                                   arguments: [TicketState.waiting.rawValue, step(), at, id])
                    try event(db, at, .ticketWaiting, ticket: id, actor: agent)
                } else if rng.below(20) != 0 {
                    try resolve(db, id, from: .answered, agent: agent, at: step())
                }
            default:
                continue
            }
        }
    }

    func agentReply(_ db: Database, _ id: Int64, _ parsed: ParsedMessage, from: MailAddress, agent: String, at: Int64) throws {
        let body = "Hello,\n\nthank you for your message. We have looked into it and changed the setting on our side; please try again.\n\nBest regards\n\(agent.capitalized)"
        guard let a = AgentReply.compose(to: parsed, ticketID: id, from: from, body: body, entry: OutgoingAnswer.agentEntry, snapshot: snapshot,
                                         token: String(tokens.next(), radix: 36), now: at) else { return }
        try queueAnswer(db, id, a, at: at, state: .answered)
        try event(db, at, .agentReplied, ticket: id, actor: agent, ["to": a.recipient, "message_id": a.messageID])
    }

    func queueAnswer(_ db: Database, _ id: Int64, _ a: OutgoingAnswer, at: Int64, state: TicketState) throws {
        try db.cachedStatement(sql: """
            INSERT INTO outbox (ticket_id, recipient, envelope_from, message_id, kb_entry, raw, state, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [id, a.recipient, a.envelopeFrom, a.messageID, a.knowledgeEntry, Data(a.raw), OutboxState.pending.rawValue, at, at])
        try db.execute(sql: "UPDATE ticket SET state = ?, updated_at = ?, first_responded_at = coalesce(first_responded_at, ?), paused_at = NULL WHERE id = ?",
                       arguments: [state.rawValue, at, at, id])
    }

    func resolve(_ db: Database, _ id: Int64, from: TicketState, agent: String, at: Int64) throws {
        try db.execute(sql: "UPDATE ticket SET state = ?, updated_at = ?, paused_at = NULL WHERE id = ?", arguments: [TicketState.resolved.rawValue, at, id])
        try event(db, at, .ticketResolved, ticket: id, actor: agent, ["from": from.rawValue, "note": ""])
    }
}
