/// One ticket as the figures need it (read from the store).
public struct StatsRow: Sendable, Equatable {
    public var id: Int64
    public var receivedAt: Int64
    public var category: String?
    public var group: String?
    public var language: String?
    /// The knowledge-base entry of an automatic answer or an approved draft.
    public var answerEntry: String?
    /// Answered automatically (an `answer.queued` event).
    public var automatic: Bool
    /// Shadow mode recorded an answer for it.
    public var shadow: Bool
    /// The state of its draft, if it had one.
    public var draft: DraftState?
    /// Why its draft was rejected.
    public var rejection: String?
    /// The first answer to the customer (automatic, approved or an agent's), seconds since 1970.
    public var firstResponse: Int64?
    public var firstResponseDue: Int64?
    /// The customer wrote again within 7 days of an automatic answer.
    public var repliedAfterAnswer: Bool
    /// The loop guard's refusals, when they stopped an automatic answer.
    public var loopRefusals: [String]
    /// Shadow mode: the category it was decided with, and the text of the answer it would have sent.
    public var shadowCategory: String?
    public var shadowText: String?
    /// What the agent sent (their reply or an approved draft), for comparing with the shadow answer.
    public var agentText: String?
    /// The entry of the shadow answer, and of what the agent sent (a draft's entry; an agent's own reply is
    /// `OutgoingAnswer.agentEntry`).
    public var shadowEntry: String?
    public var agentEntry: String?

    public init(id: Int64, receivedAt: Int64, category: String? = nil, group: String? = nil, language: String? = nil, answerEntry: String? = nil,
                automatic: Bool = false, shadow: Bool = false, draft: DraftState? = nil, rejection: String? = nil, firstResponse: Int64? = nil,
                firstResponseDue: Int64? = nil, repliedAfterAnswer: Bool = false, loopRefusals: [String] = [])
    {
        self.id = id
        self.receivedAt = receivedAt
        self.category = category
        self.group = group
        self.language = language
        self.answerEntry = answerEntry
        self.automatic = automatic
        self.shadow = shadow
        self.draft = draft
        self.rejection = rejection
        self.firstResponse = firstResponse
        self.firstResponseDue = firstResponseDue
        self.repliedAfterAnswer = repliedAfterAnswer
        self.loopRefusals = loopRefusals
    }
}

/// How the team is doing: volumes, automation, unhelpful answers, service levels, refusals, drafts.
public struct QueueStats: Sendable, Equatable, Codable {
    public struct Automation: Sendable, Equatable, Codable {
        public var automatic = 0
        public var approvedUnchanged = 0
        public var approvedEdited = 0
        public var rejected = 0
        public var draftsPending = 0
        public var manual = 0
        /// Of the manual ones: shadow mode recorded what it would have sent.
        public var shadow = 0
        /// (automatic + approved unchanged) / tickets.
        public var rate: Double = 0
    }

    public struct ServiceLevel: Sendable, Equatable, Codable {
        public var met = 0
        public var missed = 0
        /// Not answered yet and not due yet.
        public var pending = 0
        /// met / (met + missed); nil without any.
        public var compliance: Double?
        public var medianFirstResponseSeconds: Int64?

        public init(met: Int = 0, missed: Int = 0, pending: Int = 0, compliance: Double? = nil, medianFirstResponseSeconds: Int64? = nil) {
            self.met = met
            self.missed = missed
            self.pending = pending
            self.compliance = compliance
            self.medianFirstResponseSeconds = medianFirstResponseSeconds
        }
    }

    public struct Month: Sendable, Equatable, Codable {
        public var month: String
        public var tickets: Int
        public var automationRate: Double
        public var slaCompliance: Double?
        public var unhelpfulRate: Double?
    }

    public var tickets = 0
    public var byCategory: [String: Int] = [:]
    public var byGroup: [String: Int] = [:]
    public var byLanguage: [String: Int] = [:]
    public var automation = Automation()
    /// Automatic answers, and how many were followed by the customer writing again within 7 days.
    public var automaticAnswers = 0
    public var followedByReply = 0
    /// followedByReply / automaticAnswers: a measure of unhelpful answers.
    public var unhelpfulRate: Double?
    public var followedByReplyByEntry: [String: Int] = [:]
    public var serviceLevels: [String: ServiceLevel] = [:]
    public var loopGuardRefusals: [String: Int] = [:]
    /// "entry: reason" -> count.
    public var rejectionReasons: [String: Int] = [:]
    public var months: [Month] = []
    /// Shadow mode, per category: of the tickets an agent answered, how often mailtriage's recorded answer
    /// agreed with what the agent did (same category, and the agent's text close to it).
    public var shadowPrecision: [String: ShadowFigures] = [:]

    public struct ShadowFigures: Sendable, Equatable, Codable {
        public var cases = 0
        public var agreed = 0
        public var precision: Double?
        /// Of the cases, how often the agent sent the recorded entry (approved its draft, unchanged or edited),
        /// whatever the wording; the others were rejected, answered in the agent's own words or with another
        /// entry's draft (after a recategorisation). `sameEntry / cases`.
        public var sameEntry = 0
        public var sameEntryRate: Double?

        public init(cases: Int = 0, agreed: Int = 0, precision: Double? = nil, sameEntry: Int = 0, sameEntryRate: Double? = nil) {
            self.cases = cases
            self.agreed = agreed
            self.precision = precision
            self.sameEntry = sameEntry
            self.sameEntryRate = sameEntryRate
        }
    }

    /// How much of `a`'s wording is in `b`: shared words over all words (Jaccard), case and umlauts folded.
    public static func similarity(_ a: String, _ b: String) -> Double {
        let wa = Set(TextNormalizer.normalize(a).split(separator: " ").filter { $0.count >= 3 })
        let wb = Set(TextNormalizer.normalize(b).split(separator: " ").filter { $0.count >= 3 })
        let union = wa.union(wb).count
        return union == 0 ? 0 : Double(wa.intersection(wb).count) / Double(union)
    }

    public init() {}

    /// The figures of `rows` at `now` (seconds since 1970), with a line per month (UTC). Pure.
    public static func compute(_ rows: [StatsRow], now: Int64) -> QueueStats {
        var s = figures(rows, now: now)
        var byMonth: [String: [StatsRow]] = [:]
        for r in rows { byMonth[month(r.receivedAt), default: []].append(r) }
        s.months = byMonth.keys.sorted().map { m in
            let sub = figures(byMonth[m]!, now: now)
            let met = sub.serviceLevels.values.reduce(0) { $0 + $1.met }, missed = sub.serviceLevels.values.reduce(0) { $0 + $1.missed }
            return Month(month: m, tickets: sub.tickets, automationRate: sub.automation.rate,
                         slaCompliance: met + missed == 0 ? nil : Double(met) / Double(met + missed), unhelpfulRate: sub.unhelpfulRate)
        }
        return s
    }

    static func figures(_ rows: [StatsRow], now: Int64) -> QueueStats {
        var s = QueueStats()
        s.tickets = rows.count
        var responseTimes: [String: [Int64]] = [:]
        for r in rows {
            s.byCategory[r.category ?? "unclassified", default: 0] += 1
            s.byGroup[r.group ?? "-", default: 0] += 1
            s.byLanguage[r.language ?? "unknown", default: 0] += 1
            switch r.draft {
            case .approved?: s.automation.approvedUnchanged += 1
            case .edited?: s.automation.approvedEdited += 1
            case .rejected?: s.automation.rejected += 1
            case .pending?: s.automation.draftsPending += 1
            case nil: if r.automatic { s.automation.automatic += 1 } else { s.automation.manual += 1 }
            }
            if r.shadow && !r.automatic && r.draft == nil { s.automation.shadow += 1 }
            if r.automatic {
                s.automaticAnswers += 1
                if r.repliedAfterAnswer {
                    s.followedByReply += 1
                    s.followedByReplyByEntry[r.answerEntry ?? "-", default: 0] += 1
                }
            }
            for reason in r.loopRefusals { s.loopGuardRefusals[reason, default: 0] += 1 }
            if let decided = r.shadowCategory, let shadow = r.shadowText, r.agentText != nil || r.draft == .rejected {
                // The agent approved the recorded answer unchanged, or sent text close to it; a rejected draft,
                // a different category or other text is a disagreement.
                var f = s.shadowPrecision[decided] ?? ShadowFigures()
                f.cases += 1
                let close = r.draft == .approved || (r.draft != .rejected && r.agentText.map { similarity(shadow, $0) >= 0.5 } == true)
                if r.category == decided && close { f.agreed += 1 }
                if r.draft != .rejected, let e = r.agentEntry, e == r.shadowEntry { f.sameEntry += 1 }
                f.precision = Double(f.agreed) / Double(f.cases)
                f.sameEntryRate = Double(f.sameEntry) / Double(f.cases)
                s.shadowPrecision[decided] = f
            }
            if let reason = r.rejection { s.rejectionReasons["\(r.answerEntry ?? "-"): \(reason)", default: 0] += 1 }
            if let due = r.firstResponseDue {
                let g = r.group ?? "-"
                var sl = s.serviceLevels[g] ?? ServiceLevel()
                if let first = r.firstResponse {
                    if first <= due { sl.met += 1 } else { sl.missed += 1 }
                    responseTimes[g, default: []].append(max(0, first - r.receivedAt))
                } else if due < now {
                    sl.missed += 1
                } else {
                    sl.pending += 1
                }
                s.serviceLevels[g] = sl
            }
        }
        for (g, var sl) in s.serviceLevels {
            sl.compliance = sl.met + sl.missed == 0 ? nil : Double(sl.met) / Double(sl.met + sl.missed)
            if let times = responseTimes[g]?.sorted(), !times.isEmpty { sl.medianFirstResponseSeconds = times[times.count / 2] }
            s.serviceLevels[g] = sl
        }
        s.automation.rate = rows.isEmpty ? 0 : Double(s.automation.automatic + s.automation.approvedUnchanged) / Double(rows.count)
        s.unhelpfulRate = s.automaticAnswers == 0 ? nil : Double(s.followedByReply) / Double(s.automaticAnswers)
        return s
    }

    /// "2026-12" of a time (UTC).
    public static func month(_ t: Int64) -> String {
        // Days since 1970 to a civil date (Howard Hinnant's algorithm).
        let z = (t >= 0 ? t : t - 86_399) / 86_400 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return "\(y)-\(m < 10 ? "0" : "")\(m)"
    }
}
