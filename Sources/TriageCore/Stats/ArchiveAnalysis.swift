public import TriageMIME
import Foundation

/// What one archived message came to: the few facts `analyze` counts, taken from its decision.
public struct AnalysisItem: Sendable {
    /// How the message would be handled. Disjoint: a message counts once.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case automatic
        case semiAutomatic = "semi-automatic"
        case shadow
        case manual
        /// The loop guard would not let anything automatic go to it (machine mail, lists, own addresses, ...).
        case refused
        /// Not a readable message (no header at all).
        case failed
    }

    public var source: String
    public var month: String?
    public var language: String
    public var category: String
    public var group: String?
    public var outcome: Outcome
    /// The entry that would answer it (automatic, shadow) or the draft's entry (semi-automatic).
    public var entry: String?
    /// A question no entry answers well: a sample for the knowledge gaps.
    public var gap: GapSample?
    /// The first thing the parser repaired or could not read.
    public var problem: String?
    /// The loop guard's first reason (its kind), when it refused.
    public var refusal: String?
    public var bytes: Int
    /// What threading and the per-sender limit need (`ArchiveThreads`); nil: a new ticket, no limit.
    public var thread: ArchiveThreads.Facts?

    /// The facts of `decision`. `goodEntry`: the answer model's probability from which an entry counts as a
    /// fitting answer (below it, the message is a knowledge gap).
    /// `request`: the request text as the classifier read it (greeting and sign-off removed), if at hand.
    public static func of(_ d: TriageDecision, parsed: ParsedMessage?, request: String? = nil, source: String, bytes: Int, fileTime: Int64?,
                          goodEntry: Double, terms: inout GapTerms) -> AnalysisItem
    {
        let c = d.classification
        let failed = parsed.map { $0.headers.fields.isEmpty } ?? true
        let outcome: Outcome
        if failed { outcome = .failed }
        else if !d.loopGuard.isEmpty { outcome = .refused }
        else {
            switch d.degree ?? .manual {
            case .automatic: outcome = .automatic
            case .semiAutomatic: outcome = .semiAutomatic
            case .shadow: outcome = .shadow
            case .manual: outcome = .manual
            }
        }
        var entry: String?
        switch outcome {
        case .automatic, .shadow: entry = d.knowledgeEntry
        case .semiAutomatic: entry = d.draft?.entry ?? d.knowledgeEntry ?? d.candidates.first?.id
        default: entry = nil
        }
        let time = parsed?.envelope.date ?? (failed ? nil : fileTime)
        var item = AnalysisItem(source: source, month: time.map(Self.month), language: c?.language ?? "unknown",
                                category: c?.category ?? "unclassified", group: d.service?.group, outcome: outcome, entry: entry,
                                gap: nil, problem: failed ? "no header fields" : parsed?.warnings.first,
                                refusal: outcome == .refused ? d.loopGuard.first?.kind : nil, bytes: bytes)
        // A knowledge gap: a person's question that no entry answers well.
        if let c, let parsed, outcome == .manual || outcome == .semiAutomatic, parsed.report.kind == .none, !parsed.report.isAutomated {
            let sure = c.answer.map { $0.category == c.category && $0.probability >= goodEntry } ?? false
            if !sure {
                let subject = String(parsed.envelope.subject.prefix(120))
                let t = terms.terms(subject: parsed.envelope.subject, body: request ?? RequestText.of(parsed.newText.isEmpty ? parsed.text : parsed.newText),
                                    language: c.language)
                if !t.isEmpty { item.gap = GapSample(language: c.language, category: c.category, subject: subject, terms: t) }
            }
        }
        return item
    }

    /// "2026-03" (UTC) of a time in seconds since 1970.
    public static func month(_ t: Int64) -> String { QueueStats.month(t) }
}

/// A question without a good entry, as the gap clustering sees it.
public struct GapSample: Sendable, Codable, Equatable {
    public var language: String
    public var category: String
    public var subject: String
    /// Content stems of subject and request (subject first), with the word each came from.
    public var terms: [GapTerms.Term]
}

/// Content words of a question, stemmed (Snowball), without function words and mail phrases. Holds stemmers:
/// one per thread.
public struct GapTerms {
    public struct Term: Sendable, Codable, Equatable {
        public var stem: String
        public var word: String
        public var inSubject: Bool
    }

    private var stemmers: [String: SnowballStemmer] = [:]

    public init() {}

    /// At most 16 distinct terms: the subject's, then the request's first 600 characters.
    public mutating func terms(subject: String, body: String, language: String) -> [Term] {
        let key = language == "de" ? "de" : "en"
        guard let st = stemmers[key] ?? SnowballStemmer(language: key) else { return [] }
        stemmers[key] = st
        var out: [Term] = []
        var seen = Set<String>()
        for (text, inSubject) in [(subject, true), (String(body.prefix(600)), false)] {
            var n: [UInt8] = []
            TextNormalizer.append(text, to: &n, maxBytes: 2048)
            n.withUnsafeBufferPointer { buf in
                Morphology.forEachWord(buf) { w in
                    guard out.count < 16, w.count >= 3, w.count <= 40, !w.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return }
                    let word = String(decoding: w, as: UTF8.self)
                    guard !GapTerms.stopWords.contains(word) else { return }
                    let stem = st.stem(w) { String(decoding: $0, as: UTF8.self) }
                    if seen.insert(stem).inserted { out.append(Term(stem: stem, word: word, inSubject: inSubject)) }
                }
            }
        }
        return out
    }

    /// Function words, greetings and mail phrases of German and English (normalised: umlauts spelled out).
    static let stopWords: Set<String> = Set("""
        the and for are but not you your yours our ours his her its they them their this that these those with from into about \
        have has had was were been being will would can could should shall may might must does did doing done there here \
        what when where which who whom why how all any each some such only own same than too very just also again still \
        then once more most other out off over under after before between through during above below again further \
        hello dear thanks thank please regards kind best greetings cheers team sir madam hi hey mail email e-mail message \
        question questions help would like need want know get got let one two yes okay today tomorrow yesterday \
        subject sent wrote fwd fw re aw wg vielen dank danke bitte gruss gruessen gruesse freundlichen liebe lieber hallo \
        sehr geehrte geehrter damen herren moin servus guten tag morgen abend team frage fragen hilfe mfg lg vg \
        der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine keinen ich mir mich mein meine \
        meinen meinem meiner wir uns unser unsere ihr ihre ihren ihnen sie ist sind war waren bin bist habe hast hat haben \
        hatte hatten wird werden wurde wurden kann koennen konnte koennte muss muessen soll sollte will wollen moechte \
        moechten mit von vom zum zur bei beim auf aus fuer ueber unter nach vor seit bis durch gegen ohne um an am im in \
        ins es er man sich so wie was wer wo wann warum wieso weshalb ob dass da dann denn doch noch schon auch nur sehr \
        mal gerne gern heute leider jetzt bereits wieder immer etwas nichts alle alles diese dieser dieses diesem diesen \
        jemand einfach gibt geht gehen machen mache macht bitte kurz kurze info information informationen anfrage \
        als also weil wenn falls obwohl damit sondern sowie sobald solange waehrend trotz trotzdem wegen statt dies \
        jede jeder jedes jeden jedem welche welcher welches welchen welchem deren dessen denen dein deine deinen deinem \
        deiner ihm ihn euch euer eure euren seid sein seine seinen seinem seiner selbst vielleicht wenigstens mindestens \
        eigentlich dafuer dazu daran darauf darum davon dabei danach dadurch darf hier dort nun nie niemals oft manchmal \
        viel viele vielen mehr weniger ganz genau eben halt nein naja andere anderen anderer anderes anders irgendwie \
        waere waeren haette haetten wuerde wuerden koennten duerfen moegen mag lassen laesst gestern steht stehen bzw usw \
        since because although though while whether either neither nor unless until upon onto via per within without \
        anyway anything everything something nothing anyone everyone someone nobody somebody everybody else another \
        others rather quite really maybe perhaps least almost already always never ever often sometimes yet now \
        isn aren wasn weren don doesn didn haven hasn hadn won wouldn couldn shouldn can cannot lets etc \
        better look looking forward hear hearing hope hoping try trying tried seem seems much many lot lots well back \
        even myself yourself ourselves themselves him she hers having mine whose whatever however therefore thus able \
        unable sure
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
}

/// Counts per outcome.
public struct OutcomeCounts: Sendable, Codable, Equatable {
    public var total = 0
    public var automatic = 0
    public var semiAutomatic = 0
    public var shadow = 0
    public var manual = 0
    public var refused = 0
    public var failed = 0

    public init() {}

    public mutating func add(_ o: AnalysisItem.Outcome, count n: Int = 1) {
        total += n
        switch o {
        case .automatic: automatic += n
        case .semiAutomatic: semiAutomatic += n
        case .shadow: shadow += n
        case .manual: manual += n
        case .refused: refused += n
        case .failed: failed += n
        }
    }

    public subscript(_ o: AnalysisItem.Outcome) -> Int {
        switch o {
        case .automatic: automatic
        case .semiAutomatic: semiAutomatic
        case .shadow: shadow
        case .manual: manual
        case .refused: refused
        case .failed: failed
        }
    }

    enum CodingKeys: String, CodingKey {
        case total, automatic, semiAutomatic = "semi_automatic", shadow, manual, refused, failed
    }
}

/// The running totals of an archive analysis. Items are added in the archive's order, so the result (the
/// gap sample too) does not depend on how many threads decided them. Memory is bounded: counts per key, at
/// most `maxProblems` problem examples, and a fixed-size sample of the knowledge gaps.
public struct ArchiveAnalysis: Sendable {
    public var messages = 0
    public var bytes = 0
    /// Messages that would join an earlier message's ticket (`ArchiveThreads`): customers' replies, and
    /// automatic replies kept for information. Not tickets: not in the counts below.
    public var followUps = 0
    public var automatedFollowUps = 0
    public var outcomes = OutcomeCounts()
    public var categories: [String: OutcomeCounts] = [:]
    public var languages: [String: OutcomeCounts] = [:]
    public var groups: [String: OutcomeCounts] = [:]
    public var months: [String: OutcomeCounts] = [:]
    /// Entry -> (automatic or shadow answers, drafts).
    public var entries: [String: EntryUse] = [:]
    /// Loop-guard refusals by their first reason ("list_header", "no_return_path", ...).
    public var refusals: [String: Int] = [:]
    /// Messages the parser repaired something in (a warning).
    public var warned = 0
    public var problems: [Problem] = []
    /// Questions no entry answers well.
    public var gapMessages = 0
    public private(set) var gapSample: [GapSample] = []
    private var rng = SplitMix(seed: 0x9E37_79B9_7F4A_7C15)
    private var threads: ArchiveThreads
    let sampleSize: Int
    let maxProblems = 50

    public struct EntryUse: Sendable, Codable, Equatable {
        public var answers = 0
        public var drafts = 0
    }

    public struct Problem: Sendable, Codable, Equatable {
        public var source: String
        public var outcome: AnalysisItem.Outcome
        public var problem: String
    }

    /// `threads`: what came before, applied to each item in order (default: threading only, no per-sender limit).
    public init(sampleSize: Int = 20_000, threads: ArchiveThreads = ArchiveThreads(maxMailsPerSender: nil, window: 0)) {
        self.sampleSize = sampleSize
        self.threads = threads
    }

    public mutating func add(_ item: AnalysisItem) {
        messages += 1
        bytes += item.bytes
        var item = item
        switch threads.apply(&item) {
        case .followUp: followUps += 1; return
        case .automatedFollowUp: automatedFollowUps += 1; return
        case .newTicket: break
        }
        outcomes.add(item.outcome)
        categories[item.category, default: OutcomeCounts()].add(item.outcome)
        languages[item.language, default: OutcomeCounts()].add(item.outcome)
        groups[item.group ?? "(none)", default: OutcomeCounts()].add(item.outcome)
        months[item.month ?? "(no date)", default: OutcomeCounts()].add(item.outcome)
        if let e = item.entry {
            if item.outcome == .semiAutomatic { entries[e, default: EntryUse()].drafts += 1 } else { entries[e, default: EntryUse()].answers += 1 }
        }
        if let r = item.refusal { refusals[r, default: 0] += 1 }
        if let p = item.problem {
            if item.outcome != .failed { warned += 1 }
            if problems.count < maxProblems { problems.append(Problem(source: item.source, outcome: item.outcome, problem: String(p.prefix(200)))) }
        }
        if let g = item.gap {
            gapMessages += 1
            // Reservoir sampling (algorithm R) with a fixed seed: the same archive gives the same sample.
            if gapSample.count < sampleSize {
                gapSample.append(g)
            } else {
                let j = Int(next() % UInt64(gapMessages))
                if j < sampleSize { gapSample[j] = g }
            }
        }
    }

    private mutating func next() -> UInt64 { rng.next() }

    /// The knowledge gaps: the sample grouped by the two most telling words of each question (the rarest of
    /// the words it shares with at least one other question), biggest groups first, with the group's size
    /// scaled to all gap messages.
    public func gapClusters(limit: Int = 15) -> [GapCluster] {
        let n = gapSample.count
        guard n > 0 else { return [] }
        var df: [String: Int] = [:]
        for s in gapSample { for t in s.terms { df[t.stem, default: 0] += 1 } }
        let common = max(2, Int(Double(n) * 0.25))
        var groups: [String: [Int]] = [:]
        var keys: [String: [String]] = [:]
        for (i, s) in gapSample.enumerated() {
            let ranked = s.terms
                .filter { (df[$0.stem] ?? 0) >= 2 }
                .map { t -> (String, Double) in
                    let idf = log(Double(n + 1) / Double(df[t.stem] ?? 1))
                    return (t.stem, idf * (t.inSubject ? 1.5 : 1))
                }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            // One shared word that a large part of all questions has says nothing about this one.
            guard !ranked.isEmpty, ranked.count >= 2 || (df[ranked[0].0] ?? 0) <= common || n < 8 else { continue }
            let sig = ranked.prefix(2).map(\.0).sorted()
            let key = s.language + "|" + sig.joined(separator: "+")
            groups[key, default: []].append(i)
            keys[key] = sig
        }
        let scale = Double(gapMessages) / Double(n)
        var out: [GapCluster] = []
        for (key, members) in groups where members.count >= 2 {
            let sig = keys[key] ?? []
            // The words to show: the signature's, then the members' most frequent others.
            var words: [String: [String: Int]] = [:]
            var counts: [String: Int] = [:]
            var categories: [String: Int] = [:]
            for i in members {
                categories[gapSample[i].category, default: 0] += 1
                for t in gapSample[i].terms {
                    counts[t.stem, default: 0] += 1
                    words[t.stem, default: [:]][t.word, default: 0] += 1
                }
            }
            func word(_ stem: String) -> String { words[stem]?.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? stem }
            let extra = counts.filter { !sig.contains($0.key) && $0.value * 2 >= members.count }
                .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(2).map(\.key)
            var examples: [String] = []
            for i in members where examples.count < 3 && !examples.contains(gapSample[i].subject) { examples.append(gapSample[i].subject) }
            let category = categories.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? ""
            out.append(GapCluster(words: (sig + extra).map(word), language: gapSample[members[0]].language, category: category,
                                  messages: Int((Double(members.count) * scale).rounded()), sampled: members.count, examples: examples))
        }
        return Array(out.sorted { $0.sampled != $1.sampled ? $0.sampled > $1.sampled : $0.words.joined() < $1.words.joined() }.prefix(limit))
    }
}

/// A group of similar questions without a good entry.
public struct GapCluster: Sendable, Codable, Equatable {
    public var words: [String]
    public var language: String
    /// The category most of them were classified as.
    public var category: String
    /// Estimated messages in the whole archive (the sample's count scaled up).
    public var messages: Int
    /// Messages of the sample in the group.
    public var sampled: Int
    public var examples: [String]
}

/// What `mailtriage analyze` prints: the analysis with its totals sorted, shares and the hours saved.
public struct AnalysisReport: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        public var name: String
        public var counts: OutcomeCounts
    }

    public struct EntryRow: Sendable, Codable, Equatable {
        public var entry: String
        public var answers: Int
        public var drafts: Int
    }

    public struct EntryCount: Sendable, Codable, Equatable {
        public var name: String
        public var count: Int
    }

    public struct Savings: Sendable, Codable, Equatable {
        public var minutesPerTicket: Double
        /// The part of a ticket's time an approved draft saves.
        public var draftShare: Double
        /// Months with mail in the archive.
        public var months: Int
        public var hoursTotal: Double
        public var hoursPerMonth: Double
    }

    public var files: Int
    public var skippedFiles: [String]
    public var unreadable: [String]
    public var messages: Int
    /// New tickets: the messages less the follow-ups. The outcomes and the shares are of these.
    public var tickets: Int
    /// Replies to an earlier message of the archive from its customer, and automatic replies about one.
    public var followUps: Int
    public var automatedFollowUps: Int
    public var bytes: Int
    public var seconds: Double
    public var outcomes: OutcomeCounts
    public var categories: [Row]
    public var languages: [Row]
    public var groups: [Row]
    /// By month, in order ("(no date)" last).
    public var months: [Row]
    public var entries: [EntryRow]
    /// Loop-guard refusals by reason, most frequent first.
    public var refusals: [EntryCount]
    public var warned: Int
    public var problems: [ArchiveAnalysis.Problem]
    public var gapMessages: Int
    public var gaps: [GapCluster]
    public var savings: Savings

    public init(_ a: ArchiveAnalysis, files: Int, skippedFiles: [String], unreadable: [String], seconds: Double,
                minutesPerTicket: Double, draftShare: Double, entries limit: Int = 15, gaps gapLimit: Int = 15)
    {
        func rows(_ d: [String: OutcomeCounts]) -> [Row] {
            d.map { Row(name: $0.key, counts: $0.value) }.sorted { $0.counts.total != $1.counts.total ? $0.counts.total > $1.counts.total : $0.name < $1.name }
        }
        self.files = files
        self.skippedFiles = skippedFiles
        self.unreadable = unreadable
        messages = a.messages
        tickets = a.outcomes.total
        followUps = a.followUps
        automatedFollowUps = a.automatedFollowUps
        bytes = a.bytes
        self.seconds = seconds
        outcomes = a.outcomes
        categories = rows(a.categories)
        languages = rows(a.languages)
        groups = rows(a.groups)
        months = a.months.map { Row(name: $0.key, counts: $0.value) }.sorted { ($0.name.hasPrefix("(") ? 1 : 0, $0.name) < ($1.name.hasPrefix("(") ? 1 : 0, $1.name) }
        entries = Array(a.entries.map { EntryRow(entry: $0.key, answers: $0.value.answers, drafts: $0.value.drafts) }
            .sorted { ($0.answers + $0.drafts, $1.entry) > ($1.answers + $1.drafts, $0.entry) }.prefix(limit))
        refusals = a.refusals.map { EntryCount(name: $0.key, count: $0.value) }.sorted { ($0.count, $1.name) > ($1.count, $0.name) }
        warned = a.warned
        problems = a.problems
        gapMessages = a.gapMessages
        gaps = a.gapClusters(limit: gapLimit)
        let monthCount = max(1, a.months.keys.filter { !$0.hasPrefix("(") }.count)
        let hours = (Double(a.outcomes.automatic) + Double(a.outcomes.semiAutomatic) * draftShare) * minutesPerTicket / 60
        savings = Savings(minutesPerTicket: minutesPerTicket, draftShare: draftShare, months: monthCount,
                          hoursTotal: (hours * 10).rounded() / 10, hoursPerMonth: (hours / Double(monthCount) * 10).rounded() / 10)
    }

    /// The share of all new tickets, in percent with one decimal.
    public func percent(_ n: Int) -> Double { tickets == 0 ? 0 : (Double(n) * 1000 / Double(tickets)).rounded() / 10 }
}
