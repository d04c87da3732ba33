import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
import TriageDaemon
import TriageStore

struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work the ticket queue.",
        subcommands: [List.self, Recategorize.self])

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
            abstract: "List tickets, oldest first.",
            discussion: "Columns: ticket id, time received (local time), state, category with confidence, automation degree, sender, subject.")

        @OptionGroup var db: QueueDatabase

        @Option(name: .long, parsing: .upToNextOption,
                help: ArgumentHelp("Only tickets in these states (\(TicketState.reachable.map(\.rawValue).joined(separator: ", "))).", valueName: "state"))
        var state: [String] = []

        @Option(name: .long, help: "Only tickets from this mailbox.")
        var mailbox: String?

        @Option(name: .long, help: "At most this many tickets.")
        var limit: Int?

        @Flag(name: .long, help: "Print JSON (one array of ticket objects) instead of a table.")
        var json = false

        func run() throws {
            let path = try db.existingPath()
            var states: [TicketState] = []
            for s in state {
                guard let st = TicketState(rawValue: s), TicketState.reachable.contains(st) else {
                    throw ValidationError("unknown state \"\(s)\"; known: \(TicketState.reachable.map(\.rawValue).joined(separator: ", "))")
                }
                states.append(st)
            }
            let store = try SQLiteTicketStore(path: path)
            let tickets = try store.tickets(TicketQuery(states: states.isEmpty ? nil : states, mailbox: mailbox, limit: limit))
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(tickets.map(TicketJSON.init)), as: UTF8.self))
            } else {
                print(QueueTable.render(tickets))
            }
        }
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
    static func render(_ tickets: [TicketSummary]) -> String {
        if tickets.isEmpty { return "no tickets" }
        let fmt = DateFormatter()
        fmt.dateFormat = "yyyy-MM-dd HH:mm"
        var rows = [["ID", "RECEIVED", "STATE", "CATEGORY", "DEGREE", "DUE", "FROM", "SUBJECT"]]
        let now = Int64(Date().timeIntervalSince1970)
        for t in tickets {
            let category = t.report.map { "(\($0))" } ?? t.category.map { c in t.confidence.map { "\(c) \(Int(($0 * 100).rounded()))%" } ?? c } ?? "-"
            let state: String
            switch t.answerState {
            case .failed?: state = t.state.rawValue + " (answer failed)"
            case .pending?: state = t.state.rawValue + " (sending)"
            default: state = t.state.rawValue
            }
            rows.append(["\(t.id)", fmt.string(from: Date(timeIntervalSince1970: TimeInterval(t.receivedAt))), state,
                         category, t.degree?.rawValue ?? "-", due(t, now: now),
                         clip(t.from.isEmpty ? (t.fromName ?? "-") : t.from, 32), clip(t.subject, 60) + (t.warnings.isEmpty ? "" : " (!)")])
        }
        let n = rows[0].count - 1
        let widths = (0..<n).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in
            (0..<n).map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + r[n]
        }.joined(separator: "\n")
    }

    /// Time left until the first answer is due ("3h20m"), or how long it is overdue ("overdue 15m").
    static func due(_ t: TicketSummary, now: Int64) -> String {
        guard let due = t.firstResponseDue, TicketState.awaitingResponse.contains(t.state) else { return "-" }
        let left = due - now
        let text = DurationText.format(.seconds(max(60, abs(left)) / 60 * 60))
        return left >= 0 ? text : "overdue \(text)"
    }

    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
}
