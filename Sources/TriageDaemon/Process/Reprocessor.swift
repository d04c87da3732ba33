import Foundation
public import TriageCore
public import TriageStore

/// `mailtriage reprocess`: a ticket's first message parsed and decided again from its stored bytes (after a
/// parser fix or a knowledge-base change), its ticket updated in place. A placeholder (a message that could
/// not be downloaded) or a message stored as its header only is fetched again from its mailbox first, when
/// the mailbox still has it under the same UIDVALIDITY. The decision is the daemon's, with one difference: a
/// reprocessed message keeps its own ticket (no threading). An automatic answer is queued only for a ticket
/// that is open, unanswered and not with an agent, and never for mail from before the first poll (the
/// engine's baseline rule); acknowledgements are not sent again.
public struct Reprocessor: Sendable {
    public struct Line: Sendable, Equatable {
        public var ticket: Int64
        public var refetched: Bool
        public var before: String
        public var after: String
        public var outcome: String
        public var error: String?
    }

    public let store: SQLiteTicketStore
    public let snapshot: TriageSnapshot
    /// The source to fetch a mailbox's messages from again (nil: no fetching, e.g. a mailbox no longer configured).
    public let source: @Sendable (String) -> (any MailboxSource)?
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    public var token: @Sendable () -> String = { String(UInt64.random(in: 0...UInt64.max), radix: 36) }

    public init(store: SQLiteTicketStore, snapshot: TriageSnapshot, source: @escaping @Sendable (String) -> (any MailboxSource)?) {
        self.store = store
        self.snapshot = snapshot
        self.source = source
    }

    /// Reprocesses `tickets` one by one; with `dryRun`, decides without fetching or writing.
    public func run(_ tickets: [Int64], dryRun: Bool = false) async -> [Line] {
        var out: [Line] = []
        for id in tickets { out.append(await one(id, dryRun: dryRun)) }
        for name in Set(snapshot.config.mailboxes.map(\.name)) { await source(name)?.disconnect() }
        return out
    }

    func one(_ id: Int64, dryRun: Bool) async -> Line {
        var line = Line(ticket: id, refetched: false, before: "", after: "", outcome: "")
        let input: ReprocessInput
        do {
            guard let i = try store.reprocessInput(ticket: id) else {
                line.error = "no such ticket"
                return line
            }
            input = i
        } catch {
            line.error = "\(error)"
            return line
        }
        line.before = "\(input.category ?? "-")/\(input.degree?.rawValue ?? "-")"
        var message = input.message
        var refetched: (raw: [UInt8], size: Int, truncated: Bool)?
        let maxBytes = snapshot.config.maxMessageBytes
        if (message.fetchError != nil || (message.truncated && message.size <= maxBytes)) && !dryRun {
            switch await fetchAgain(input, maxBytes: maxBytes) {
            case .success(let f):
                refetched = f
                message.raw = f.raw
                message.size = f.size
                message.truncated = f.truncated
                message.fetchError = nil
                line.refetched = true
            case .failure(let why):
                if message.fetchError != nil {
                    line.error = "not fetched again: \(why)"
                    return line
                }
                line.outcome = "header only (not fetched again: \(why)); "
            }
        }
        var context = DecisionContext(renderReply: true, token: token())
        let t = now()
        let incoming = IncomingMessage(stored: message)
        if snapshot.answersEnabled, let q = incoming.threadQuery {
            context.recentAnswersToSender = (try? store.answersSent(to: q.recipient, since: t - snapshot.config.answers.window.components.seconds)) ?? 0
        }
        let d = TriageEngine.decide(incoming, snapshot: snapshot, context: context, now: t)
        line.after = "\(d.classification?.category ?? "-")/\(d.degree?.rawValue ?? "-")"
        if dryRun {
            line.outcome += d.reply != nil ? (input.answered ? "an answer would be withheld (answered before)" : "would answer with \(d.knowledgeEntry ?? "")")
                : d.shadowReply.map { "shadow: would record the answer from \($0.knowledgeEntry) as the agent's draft" }
                ?? d.draft.map { "would prepare a draft from \($0.entry)" } ?? "for a person"
            return line
        }
        do {
            let o = try store.applyReprocessed(d, ticket: id, refetched: refetched)
            if let e = o.answerQueued { line.outcome += "answer queued (\(e))" }
            else if let w = o.answerWithheld { line.outcome += "no answer: \(w)" }
            else if let e = o.shadowed { line.outcome += "shadow: would have answered with \(e) (the agent's draft)" }
            else if let e = o.draftPrepared { line.outcome += "draft from \(e)" }
            else { line.outcome += "for a person" }
        } catch {
            line.error = "\(error)"
        }
        return line
    }

    /// The message from the server again: whole when it fits the size limit, else its header.
    func fetchAgain(_ input: ReprocessInput, maxBytes: Int) async -> Result<(raw: [UInt8], size: Int, truncated: Bool), ReprocessFetchError> {
        guard let uid = input.uid, let uidValidity = input.uidValidity else { return .failure(ReprocessFetchError("no server location stored")) }
        guard let source = source(input.message.mailbox) else {
            return .failure(ReprocessFetchError("mailbox \(input.message.mailbox) is not configured"))
        }
        do {
            let status = try await source.status()
            guard status.uidValidity == uidValidity else {
                return .failure(ReprocessFetchError("the folder's UIDVALIDITY changed (\(uidValidity) -> \(status.uidValidity)): the message cannot be found by its UID"))
            }
            guard let info = try await source.messageInfo(of: [uid])[uid] else {
                return .failure(ReprocessFetchError("UID \(uid) is no longer in the folder"))
            }
            let request = DownloadRequest(uid: uid, announcedSize: info.size, maxMessageBytes: maxBytes)
            let headerOnly = request.headerOnly
            guard let r = await source.download([request]).first else {
                return .failure(ReprocessFetchError("nothing downloaded"))
            }
            switch r {
            case .success(let raw): return .success((raw, headerOnly ? info.size : raw.count, headerOnly))
            case .failure(let e): return .failure(ReprocessFetchError(e.message))
            }
        } catch let e as TriageError {
            return .failure(ReprocessFetchError(e.message))
        } catch {
            return .failure(ReprocessFetchError("\(error)"))
        }
    }
}

public struct ReprocessFetchError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
