import ArgumentParser
import Foundation
import TriageCore
import TriageFiles
import TriageMIME
import TriageStore

/// What every agent command shares: the database, the configuration (mailbox addresses, service levels;
/// never the daemon's secrets) and the agent's name.
struct AgentOptions: ParsableArguments {
    @OptionGroup var db: QueueDatabase
    @Option(name: .customLong("as"), help: ArgumentHelp("The agent's name for the event log (default: $SUDO_USER or $USER).", valueName: "name"))
    var agent: String?

    var agentName: String {
        let env = ProcessInfo.processInfo.environment
        return agent ?? env["SUDO_USER"] ?? env["USER"] ?? "agent"
    }

    func store() throws -> SQLiteTicketStore { try SQLiteTicketStore(path: try db.existingPath()) }

    /// The configuration without mailbox secrets; nil when only `--database` was given and no config exists.
    func config() throws -> TriageConfig? {
        if db.database != nil && !FileManager.default.fileExists(atPath: db.global.config) { return nil }
        return try loadConfig(db.global, mailboxes: false, logger: nil)
    }

    func serviceLevels(_ cfg: TriageConfig?) throws -> ServiceLevels? {
        guard let file = cfg?.serviceLevelsFile else { return nil }
        do { return try ServiceLevelsLoader.load(path: file, categories: Category.defaults).levels } catch let e as ConfigError {
            for d in e.diagnostics { printErr(d.description) }
            throw ExitCode(1)
        }
    }
}

/// Runs an agent's action: a refusal (another agent holds the ticket, the state does not allow it, no such
/// ticket) is one line on standard error and exit status 1.
func agentAction(_ body: () throws -> Void) throws {
    do { try body() } catch let e as TriageError {
        printErr("mailtriage: \(e.message)")
        throw ExitCode(1)
    }
}

/// The reply to ticket `id` with `body`, composed as the mailbox that received it; nil with a message when
/// the ticket's mailbox has no address configured.
func composeAgentReply(_ store: SQLiteTicketStore, _ cfg: TriageConfig?, ticket id: Int64, body: String, entry: String) throws -> OutgoingAnswer {
    guard let cfg else { throw TriageError(.config, "replies need the configuration (the mailbox's address): give --config") }
    guard let t = try store.tickets(TicketQuery(ids: [id])).first else { throw TriageError(.notFound, "no ticket \(id)") }
    guard let mb = cfg.mailboxes.first(where: { $0.name == t.mailbox }), let address = mb.address else {
        throw TriageError(.config, "mailbox \(t.mailbox) has no address configured: cannot reply from it")
    }
    guard let raw = try store.firstMessage(ticket: id) else { throw TriageError(.notFound, "ticket \(id) has no stored message") }
    let snapshot = try TriageSnapshot(config: cfg, classifier: nil, knowledgeBase: nil)
    guard let answer = AgentReply.compose(to: MIMEParser.parse(raw), ticketID: id, from: MailAddress(name: mb.displayName, address: address),
                                          body: body, entry: entry, snapshot: snapshot,
                                          token: String(UInt64.random(in: 0...UInt64.max), radix: 36), now: Int64(Date().timeIntervalSince1970))
    else { throw TriageError(.conflict, "ticket \(id): the message has no sender address to reply to") }
    return answer
}

/// The text of a reply: a file, standard input (`-`), or `$VISUAL`/`$EDITOR` on `initial`. Empty aborts.
func messageText(file: String?, initial: String, ticket: Int64) throws -> String {
    var text: String
    if let file {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data else { throw TriageError(.io, "cannot read \(file)") }
        text = String(decoding: data, as: UTF8.self)
    } else {
        let env = ProcessInfo.processInfo.environment
        guard let editor = env["VISUAL"] ?? env["EDITOR"] else {
            throw TriageError(.config, "no $VISUAL or $EDITOR: give --message-file FILE (or - for standard input)")
        }
        let path = NSTemporaryDirectory() + "mailtriage-reply-\(ticket)-\(getpid()).txt"
        FileManager.default.createFile(atPath: path, contents: Data(initial.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\(editor) \"$1\"", "editor", path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TriageError(.io, "the editor exited with status \(p.terminationStatus): nothing sent") }
        text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
    if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw TriageError(.conflict, "empty message: nothing sent") }
    return text
}

extension Queue {
    struct Claim: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a ticket; another agent's claim is refused unless --steal.")
        @OptionGroup var options: AgentOptions
        @Flag(help: "Take the ticket over from the agent holding it (recorded).") var steal = false
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                let state = try options.store().claim(ticket: id, agent: options.agentName, steal: steal)
                print("ticket \(id): claimed by \(options.agentName) (\(state.rawValue))")
            }
        }
    }

    struct Unclaim: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a claimed ticket back to the queue.")
        @OptionGroup var options: AgentOptions
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                try options.store().unclaim(ticket: id, agent: options.agentName)
                print("ticket \(id): back in the queue")
            }
        }
    }

    struct Reply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reply to the customer: $VISUAL/$EDITOR opens on the draft (or --message-file); the daemon sends it.",
            discussion: "The reply goes out through the outbox, threaded (In-Reply-To, References) with the ticket tag in the subject. An empty message aborts.")
        @OptionGroup var options: AgentOptions
        @Option(name: .customLong("message-file"), help: ArgumentHelp("The reply text, or - for standard input.", valueName: "file"))
        var messageFile: String?
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                let store = try options.store()
                let draft = try store.pendingDraft(ticket: id)
                let text = try messageText(file: messageFile, initial: draft?.body ?? "", ticket: id)
                let answer = try composeAgentReply(store, try options.config(), ticket: id, body: text, entry: OutgoingAnswer.agentEntry)
                try store.reply(ticket: id, agent: options.agentName, answer: answer)
                print("ticket \(id): reply to \(answer.recipient) queued; the daemon sends it")
            }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a semi-automatic ticket's draft (--edit to change it first).")
        @OptionGroup var options: AgentOptions
        @Flag(help: "Open $VISUAL/$EDITOR on the draft before sending.") var edit = false
        @Option(name: .customLong("message-file"), help: ArgumentHelp("Send this text instead of the draft as it is.", valueName: "file"))
        var messageFile: String?
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                let store = try options.store()
                guard let draft = try store.pendingDraft(ticket: id) else {
                    throw TriageError(.conflict, "ticket \(id) has no draft waiting for approval")
                }
                let text = edit || messageFile != nil ? try messageText(file: messageFile, initial: draft.body, ticket: id) : draft.body
                let edited = text.trimmingCharacters(in: .whitespacesAndNewlines) != draft.body.trimmingCharacters(in: .whitespacesAndNewlines)
                let answer = try composeAgentReply(store, try options.config(), ticket: id, body: text, entry: draft.entry)
                try store.approveDraft(ticket: id, agent: options.agentName, answer: answer, edited: edited)
                print("ticket \(id): draft \(draft.entry) \(edited ? "edited and " : "")approved; the daemon sends it to \(answer.recipient)")
            }
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a draft with the reason (kept for the knowledge base and stats).")
        @OptionGroup var options: AgentOptions
        @Option(help: "Why the draft was wrong.") var reason: String
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                try options.store().rejectDraft(ticket: id, agent: options.agentName, reason: reason)
                print("ticket \(id): draft rejected; the ticket waits for a person")
            }
        }
    }

    struct Reassign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a ticket's category (a training example for `mailtriage train`) or move it to another group; the due time is recomputed.")
        @OptionGroup var options: AgentOptions
        @Option(help: "The right category.") var category: String?
        @Option(help: "The target group.") var group: String?
        @Argument(help: "Ticket id.") var id: Int64

        func validate() throws {
            guard category != nil || group != nil else { throw ValidationError("give --category and/or --group") }
            if let c = category, !Category.defaults.contains(c) {
                throw ValidationError("unknown category \"\(c)\"; known: \(Category.defaults.joined(separator: ", "))")
            }
        }

        func run() throws {
            try agentAction {
                let store = try options.store()
                let levels = try options.serviceLevels(try options.config())
                if let g = group, let levels, !levels.groups.contains(where: { $0.name == g }) {
                    throw TriageError(.conflict, "unknown group \"\(g)\"; known: \(levels.groups.map(\.name).joined(separator: ", "))")
                }
                guard let facts = try store.serviceFacts(ticket: id), let current = try store.tickets(TicketQuery(ids: [id])).first else {
                    throw TriageError(.notFound, "no ticket \(id)")
                }
                let service = levels?.decide(sender: facts.from, mailbox: facts.mailbox, category: category ?? current.category,
                                             ruleGroup: group ?? facts.ruleGroup, rulePriority: facts.priority, receivedAt: facts.receivedAt).service
                if let c = category { try store.recategorize(ticket: id, category: c, actor: options.agentName, service: group == nil ? service : nil) }
                if let g = group { try store.reassign(ticket: id, agent: options.agentName, group: g, service: service) }
                print("ticket \(id):\(category.map { " category \($0) (recorded for training)" } ?? "")\(group.map { " group \($0)" } ?? "")")
                if let due = service?.firstResponse { print("ticket \(id): \(due.description)") }
            }
        }
    }

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Waiting on the customer: the service-level clock pauses until they write.")
        @OptionGroup var options: AgentOptions
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                try options.store().wait(ticket: id, agent: options.agentName)
                print("ticket \(id): waiting on the customer (the clock is paused)")
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a ticket.")
        @OptionGroup var options: AgentOptions
        @Option(help: "A closing note for the event log.") var note: String?
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                try options.store().resolve(ticket: id, agent: options.agentName, note: note)
                print("ticket \(id): resolved")
            }
        }
    }

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put an answered, waiting or resolved ticket back into the queue.")
        @OptionGroup var options: AgentOptions
        @Argument(help: "Ticket id.") var id: Int64

        func run() throws {
            try agentAction {
                try options.store().reopen(ticket: id, agent: options.agentName)
                print("ticket \(id): open again")
            }
        }
    }

    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An internal note on a ticket (never sent).")
        @OptionGroup var options: AgentOptions
        @Argument(help: "Ticket id.") var id: Int64
        @Argument(help: "The note.") var text: String

        func run() throws {
            try agentAction {
                try options.store().note(ticket: id, agent: options.agentName, text: text)
                print("ticket \(id): note added")
            }
        }
    }
}
