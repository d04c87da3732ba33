import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
import TriageDaemon
import TriageStore

struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work the ticket queue.",
        discussion: "Agents work tickets with these commands; every action is an event with the agent's name ($SUDO_USER, $USER or --as), and replies go out through the outbox (the daemon sends them). Exit status: 0 done, 1 refused (another agent holds the ticket, the state does not allow it, no such ticket), 2 usage.",
        subcommands: [List.self, Show.self, Claim.self, Unclaim.self, Reply.self, Approve.self, Reject.self, Reassign.self, Wait.self,
                      Resolve.self, Reopen.self, Note.self, Recategorize.self])

    struct Recategorize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a ticket's category; `mailtriage train` learns from these corrections.",
            discussion: "Recorded in the event log with the agent's name ($SUDO_USER, $USER or --as).")

        @OptionGroup var db: QueueDatabase
        @Option(name: .customLong("as"), help: "The agent's name for the event log.") var agent: String?
        @Argument(help: "Ticket id.") var id: Int64
        @Argument(help: "The right category (\(Category.defaults.joined(separator: ", "))).") var category: String

        func run() throws {
            guard Category.defaults.contains(category) else {
                throw ValidationError("unknown category \"\(category)\"; known: \(Category.defaults.joined(separator: ", "))")
            }
            let path = try db.existingPath()
            let env = ProcessInfo.processInfo.environment
            let actor = agent ?? env["SUDO_USER"] ?? env["USER"] ?? "agent"
            do {
                let store = try SQLiteTicketStore(path: path)
                // The due time moves with the category when service levels are configured.
                var service: ServiceDecision?
                if db.database == nil, let file = try loadConfig(db.global, mailboxes: false, logger: nil).serviceLevelsFile,
                   let facts = try store.serviceFacts(ticket: id)
                {
                    do {
                        let levels = try ServiceLevelsLoader.load(path: file, categories: Category.defaults).levels
                        service = levels.decide(sender: facts.from, mailbox: facts.mailbox, category: category, ruleGroup: facts.ruleGroup,
                                                rulePriority: facts.priority, receivedAt: facts.receivedAt).service
                    } catch let e as ConfigError {
                        for d in e.diagnostics { printErr(d.description) }
                        throw ExitCode(1)
                    }
                }
                try store.recategorize(ticket: id, category: category, actor: actor, service: service)
                if let due = service?.firstResponse { print("ticket \(id): \(due.description)") }
            } catch let e as TriageError {
                printErr("mailtriage: \(e.message)")
                throw ExitCode(1)
            }
            print("ticket \(id): category \(category) (recorded for training)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The queue: drafts waiting for approval first, then by first-response due time, then priority.",
            discussion: "Columns: ticket id, state, due (time left, or how long overdue), group, category, degree, agent, sender, subject. Without --state: open, claimed, awaiting_approval and waiting tickets. The table shows the first \(List.defaultLimit) and says how many there are (--limit); --json lists all unless --limit is given. Colour on a terminal (not when piped or with NO_COLOR); long subjects are cut to the terminal's width.")

        @OptionGroup var db: QueueDatabase

        @Option(name: .long, parsing: .upToNextOption,
                help: ArgumentHelp("Only tickets in these states (\(TicketState.reachable.map(\.rawValue).joined(separator: ", "))).", valueName: "state"))
        var state: [String] = []
        @Flag(help: "Every ticket, whatever its state.") var all = false
        @Option(help: "Only tickets of this target group.") var group: [String] = []
        @Option(help: "Only tickets of this category.") var category: [String] = []
        @Flag(help: "Only tickets whose first answer is overdue.") var overdue = false
        @Flag(help: "Only tickets I hold ($SUDO_USER, $USER or --as).") var mine = false
        @Option(name: .customLong("as"), help: "The agent's name for --mine.") var agent: String?
        @Option(name: .long, help: "Only tickets from this mailbox.") var mailbox: String?
        @Option(name: .long, help: "At most this many tickets (the table: \(List.defaultLimit) unless given; 0: all).") var limit: Int?
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let path = try db.existingPath()
            var states: [TicketState] = []
            for s in state {
                guard let st = TicketState(rawValue: s) else {
                    throw ValidationError("unknown state \"\(s)\"; known: \(TicketState.reachable.map(\.rawValue).joined(separator: ", "))")
                }
                states.append(st)
            }
            if states.isEmpty && !all { states = TicketState.awaitingResponse + [.waiting] }
            let env = ProcessInfo.processInfo.environment
            let me = agent ?? env["SUDO_USER"] ?? env["USER"] ?? "agent"
            let store = try SQLiteTicketStore.forReading(path)
            let now = Int64(Date().timeIntervalSince1970)
            // The table shows the head of the queue (a store of years holds thousands of open tickets); JSON all of them.
            let shown: Int? = if let limit { limit > 0 ? limit : nil } else { json ? nil : List.defaultLimit }
            var query = TicketQuery(states: all ? nil : states, mailbox: mailbox, limit: shown, groups: group, categories: category,
                                    assignee: mine ? me : nil, overdueAt: overdue ? now : nil, order: .due)
            let tickets = try store.tickets(query)
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(tickets.map(TicketJSON.init)), as: UTF8.self))
            } else {
                print(QueueTable.render(tickets, now: now, terminal: Terminal.current))
                if let shown, tickets.count == shown {
                    query.limit = nil
                    let total = try store.ticketCount(query)
                    if total > shown { print("\(shown) of \(total) tickets; --limit N shows more, --limit 0 all") }
                }
            }
        }

        /// Rows of the table when --limit is not given.
        static let defaultLimit = 100
    }
}

/// Which database the queue commands work on: `--database`, else the configured one.
struct QueueDatabase: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Use this database file instead of the configured one.", valueName: "path"))
    var database: String?

    /// The database path; exits with a message when there is no database yet.
    func existingPath() throws -> String {
        let path = try database ?? loadConfig(global, mailboxes: false, logger: nil).resolvedDatabasePath
        guard FileManager.default.fileExists(atPath: path) else {
            printErr("mailtriage: no database at \(path) (has the daemon run yet?)")
            throw ExitCode(1)
        }
        return path
    }
}

/// The JSON form of a ticket in `queue list --json`; times are ISO 8601 UTC.
struct TicketJSON: Encodable {
    var id: Int64
    var mailbox: String
    var received: String
    var from: String
    var from_name: String?
    var subject: String
    var state: String
    var auto_eligible: Bool
    var warnings: [String]
    var category: String?
    var confidence: Double?
    var degree: String?
    var language: String?
    var report: String?
    var answer_state: String?
    var answer_error: String?
    var group: String?
    var priority: String?
    var first_response_due: String?

    init(_ t: TicketSummary) {
        id = t.id
        mailbox = t.mailbox
        received = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(t.receivedAt)))
        from = t.from
        from_name = t.fromName
        subject = t.subject
        state = t.state.rawValue
        auto_eligible = t.autoEligible
        warnings = t.warnings
        category = t.category
        confidence = t.confidence
        degree = t.degree?.rawValue
        language = t.language
        report = t.report
        answer_state = t.answerState?.rawValue
        answer_error = t.answerError
        group = t.group
        priority = t.priority
        first_response_due = t.firstResponseDue.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval($0))) }
    }
}

enum QueueTable {
    static func render(_ tickets: [TicketSummary], now: Int64, terminal: Terminal) -> String {
        if tickets.isEmpty { return "no tickets" }
        var rows = [["ID", "STATE", "DUE", "GROUP", "CATEGORY", "DEGREE", "AGENT", "FROM", "SUBJECT"]]
        var colours: [String?] = [nil]
        for t in tickets {
            let category = t.report.map { "(\($0))" } ?? t.category.map { c in t.confidence.map { "\(c) \(Int(($0 * 100).rounded()))%" } ?? c } ?? "-"
            var state = t.state.rawValue
            switch t.answerState {
            case .failed?: state += " (answer failed)"
            case .pending? where t.state == .answered: state += " (sending)"
            default: break
            }
            let left = t.firstResponseDue.map { $0 - now }
            rows.append(["\(t.id)", state, due(t, now: now), t.group ?? "-", category, t.degree?.rawValue ?? "-", t.assignee ?? "-",
                         t.from.isEmpty ? (t.fromName ?? "-") : t.from, t.subject + (t.warnings.isEmpty ? "" : " (!)")])
            let awaiting = TicketState.awaitingResponse.contains(t.state)
            colours.append(awaiting && (left ?? 1) < 0 ? Terminal.red : awaiting && (left ?? Int64.max) < 3600 ? Terminal.yellow
                           : t.state == .awaitingApproval ? Terminal.cyan : nil)
        }
        // Narrow terminals: the sender's column shrinks first, then DEGREE and AGENT give way, so that
        // a line never wraps and the subject keeps about 30 columns.
        var columns = Array(0..<(rows[0].count - 1))
        let subject = rows[0].count - 1, from = subject - 1
        func widths(_ cols: [Int], fromMax: Int) -> [Int: Int] {
            var w: [Int: Int] = [:]
            for c in cols { w[c] = rows.map { Terminal.width($0[c]) }.max() ?? 0 }
            w[from] = min(w[from] ?? 0, fromMax)
            return w
        }
        func used(_ w: [Int: Int]) -> Int { w.values.reduce(0, +) + 2 * w.count }
        var w = widths(columns, fromMax: 32)
        if let total = terminal.columns {
            for (fromMax, drop) in [(32, [Int]()), (24, []), (18, [5]), (16, [5, 6]), (12, [5, 6, 3])] where used(w) + 30 > total {
                columns = Array(0..<subject).filter { !drop.contains($0) }
                w = widths(columns, fromMax: fromMax)
            }
        }
        let subjectWidth = terminal.columns.map { max(12, $0 - used(w)) }
        return rows.enumerated().map { i, r in
            var cells = columns.map { Terminal.pad(Terminal.clip(r[$0], w[$0]!), w[$0]!) }
            cells.append(subjectWidth.map { Terminal.clip(r[subject], $0) } ?? r[subject])
            let line = cells.joined(separator: "  ")
            if i == 0 { return terminal.colour ? Terminal.bold + line + Terminal.reset : line }
            guard terminal.colour, let c = colours[i] else { return line }
            return c + line + Terminal.reset
        }.joined(separator: "\n")
    }

    /// Time left until the first answer is due ("3h20m"), or how long it is overdue ("overdue 15m").
    static func due(_ t: TicketSummary, now: Int64) -> String {
        guard let due = t.firstResponseDue, TicketState.awaitingResponse.contains(t.state) || t.state == .waiting else { return "-" }
        if t.state == .waiting { return "paused" }
        let left = due - now
        let text = DurationText.format(.seconds(max(60, abs(left)) / 60 * 60))
        return left >= 0 ? text : "overdue \(text)"
    }

    static func clip(_ s: String, _ n: Int) -> String { Terminal.clip(s, n) }
}
