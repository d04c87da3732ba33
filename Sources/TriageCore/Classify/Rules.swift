import CPCRE2
import Foundation

/// An operator-written rule from the rules file: conditions on the message, and what follows when they
/// all hold.
public struct ClassificationRule: Sendable {
    public enum Force: String, Sendable, Codable {
        /// Keep the category, but a human answers (a complaint about a password is still a complaint).
        case manual
        /// The category becomes `other`: a human answers.
        case other
    }

    public var name: String
    public var when: RuleCondition
    /// The category this rule speaks for, with `weight` added to its log-odds.
    public var category: String?
    public var weight: Double
    public var force: Force?
    public var targetGroup: String?
    public var priority: String?

    public init(name: String, when: RuleCondition, category: String? = nil, weight: Double = 1, force: Force? = nil,
                targetGroup: String? = nil, priority: String? = nil)
    {
        self.name = name
        self.when = when
        self.category = category
        self.weight = weight
        self.force = force
        self.targetGroup = targetGroup
        self.priority = priority
    }
}

/// A compiled regular expression from a rules file: Perl-compatible (PCRE2 from the system, UTF-8, Unicode
/// classes, case-insensitive), compiled to machine code once. ICU through Foundation took 0.2 ms a pattern on a
/// 1 KB mail and a third of the decision (case folding and UTF-16 copies per call); Swift's `Regex` took 6 ms.
/// PCRE2 reads the UTF-8 bytes as they are. Patterns see at most the first `maxTextBytes` of a text.
public final class RulePattern: @unchecked Sendable {
    public let source: String
    /// Immutable after init; PCRE2 allows one compiled pattern to be matched from many threads.
    private let code: OpaquePointer
    public static let maxTextBytes = 32 * 1024

    /// Throws with the engine's message and the offset in the pattern when the pattern is not valid.
    public init(_ source: String) throws {
        self.source = source
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options = UInt32(PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS)
        let compiled = source.utf8CString.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: UInt8.self) { u in
                pcre2_compile_8(u.baseAddress, u.count - 1, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
            let message = n > 0 ? String(decoding: buffer.prefix(Int(n)), as: UTF8.self) : "error \(errorCode)"
            throw TriageError(.config, "not a valid regular expression (\(message) at offset \(errorOffset))")
        }
        code = compiled
        // Machine code when the platform has a JIT; the interpreter otherwise (same results).
        _ = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE))
    }

    deinit { pcre2_code_free_8(code) }

    public func matches(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { matches(utf8: $0) }
    }

    /// Valid UTF-8 (a Swift string's bytes); longer texts are cut at a character boundary.
    public func matches(utf8 text: UnsafeBufferPointer<UInt8>) -> Bool {
        var n = text.count
        if n > RulePattern.maxTextBytes {
            n = RulePattern.maxTextBytes
            while n > 0 && text[n] & 0xC0 == 0x80 { n -= 1 }
        }
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else { return false }
        defer { pcre2_match_data_free_8(data) }
        let empty: [UInt8] = [0]
        let rc = empty.withUnsafeBufferPointer { e in
            pcre2_match_8(code, n == 0 ? e.baseAddress : text.baseAddress, n, 0, UInt32(PCRE2_NO_UTF_CHECK), data, nil)
        }
        // A negative result is "no match" or a limit hit by a pathological pattern: neither is a match.
        return rc > 0
    }
}

/// All present conditions must hold. Keywords and phrases match whole words after normalisation (case,
/// umlauts and ß folded: "Kennwort zurücksetzen" = "kennwort zuruecksetzen"); a trailing `*` matches a
/// word prefix ("passw*").
public struct RuleCondition: Sendable {
    /// At least one of these in subject or body.
    public var any: [String] = []
    /// Every one of these in subject or body.
    public var all: [String] = []
    /// None of these in subject or body.
    public var none: [String] = []
    public var subjectAny: [String] = []
    public var bodyAny: [String] = []
    /// Regular expressions on subject + body, on the subject, on the body (all given must match).
    public var regex: [RulePattern] = []
    public var subjectRegex: [RulePattern] = []
    public var bodyRegex: [RulePattern] = []
    /// Sender address ("a@example.com"), domain ("@example.com") or domain and subdomains ("*.example.com").
    public var senders: [String] = []
    public var mailboxes: [String] = []
    public var languages: [String] = []

    public init() {}

    public var isEmpty: Bool {
        any.isEmpty && all.isEmpty && none.isEmpty && subjectAny.isEmpty && bodyAny.isEmpty && regex.isEmpty
            && subjectRegex.isEmpty && bodyRegex.isEmpty && senders.isEmpty && mailboxes.isEmpty && languages.isEmpty
    }
}

/// A message as the rules and the model see it.
public struct ClassifierInput: Sendable {
    public var subject: String
    /// The new text (quotes and signatures removed).
    public var body: String
    public var sender: String
    public var mailbox: String?

    public init(subject: String, body: String, sender: String = "", mailbox: String? = nil) {
        self.subject = subject
        self.body = body
        self.sender = sender
        self.mailbox = mailbox
    }
}

/// Normalised texts for phrase tests, with the hashes of their words, computed once per message.
struct RuleText {
    let subject: [UInt8]
    let body: [UInt8]
    /// Hashes of the words of subject and body (and of the first four letters of longer words), for the
    /// whole-word test and as a filter before a phrase is looked for.
    let subjectWords: WordHashSet
    let bodyWords: WordHashSet

    init(_ input: ClassifierInput) {
        var s: [UInt8] = [], b: [UInt8] = []
        TextNormalizer.append(input.subject, to: &s)
        TextNormalizer.append(input.body, to: &b, maxBytes: 32 * 1024)
        self.init(normalizedSubject: s, normalizedBody: b)
    }

    init(normalizedSubject s: [UInt8], normalizedBody b: [UInt8]) {
        self.init(subject: s, body: b, subjectWords: RuleText.wordHashes(s), bodyWords: RuleText.wordHashes(b))
    }

    /// Per text, from the words of a message already read: the phrases worth looking for (`RuleIndex`) and
    /// the words in order. Nil: every phrase is looked for, in the bytes.
    let subjectMarked: Marked?
    let bodyMarked: Marked?

    struct Marked {
        let marks: RuleIndex.Marks
        let words: Words
    }

    /// A text's words in order: their hashes (`LanguageDetector.wordHash`) and where each starts.
    struct Words {
        var hashes: [UInt32] = []
        var starts: [Int32] = []
    }

    init(subject: [UInt8], body: [UInt8], subjectWords: WordHashSet, bodyWords: WordHashSet) {
        self.subject = subject
        self.body = body
        self.subjectWords = subjectWords
        self.bodyWords = bodyWords
        subjectMarked = nil
        bodyMarked = nil
    }

    /// From the words of a message already read (`FeatureExtractor.ruleText`): phrases are then looked
    /// for only when marked, and by their words in order.
    init(subject: [UInt8], body: [UInt8], subjectMarked: Marked, bodyMarked: Marked) {
        self.subject = subject
        self.body = body
        subjectWords = WordHashSet(capacityFor: 0)
        bodyWords = WordHashSet(capacityFor: 0)
        self.subjectMarked = subjectMarked
        self.bodyMarked = bodyMarked
    }

    /// One pass over the bytes, no substrings, no sorting.
    static func wordHashes(_ t: [UInt8]) -> WordHashSet {
        var set = WordHashSet(capacityFor: t.count / 2 + 1)
        // Every word, and the first four letters of every longer word for prefix phrases ("mitarbeiter*").
        t.withUnsafeBufferPointer { buf in
            Morphology.forEachWord(buf) { w in
                set.insert(LanguageDetector.wordHash(w))
                if w.count >= 4 { set.insert(prefixHash(UnsafeBufferPointer(rebasing: w[..<4]))) }
            }
        }
        return set
    }

    /// A word's first four bytes, hashed apart from whole words.
    static func prefixHash(_ p: some Collection<UInt8>) -> UInt32 {
        var h = FeatureExtractor.mix(FeatureExtractor.fnvOffset, 5)
        for b in p { h = FeatureExtractor.mix(h, b) }
        return h
    }

    /// A needle " word " (one whole word) as its hash, else nil.
    static func singleWordHash(_ needle: [UInt8]) -> UInt32? {
        guard needle.count > 2, needle.last == 0x20, !needle[1..<(needle.count - 1)].contains(0x20) else { return nil }
        return LanguageDetector.wordHash(needle[1..<(needle.count - 1)])
    }

    /// The phrase in normalised form with the padding that makes it match whole words.
    static func needle(_ phrase: String) -> [UInt8] {
        let prefix = phrase.hasSuffix("*")
        var n: [UInt8] = [0x20]
        TextNormalizer.append(prefix ? String(phrase.dropLast()) : phrase, to: &n)
        if !prefix { n.append(0x20) }
        return n
    }

    /// Whether the normalised text has the needle (" word word " or " prefix") at a word start; the
    /// needle's spaces stand for a word boundary, and the text's ends count as one.
    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count > 1 else { return false }
        let wholeWord = needle.last == 0x20
        // The needle without its first space, and without its last when that is one.
        let m = needle.count - 1 - (wholeWord ? 1 : 0)
        guard m > 0, hay.count >= m else { return false }
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { nd in
                let first = nd[1]
                var i = 0
                let last = h.count - m
                while i <= last {
                    if h[i] == first && (i == 0 || h[i - 1] == 0x20) {
                        var k = 1
                        while k < m && h[i + k] == nd[k + 1] { k += 1 }
                        if k == m && (!wholeWord || i + m == h.count || h[i + m] == 0x20) { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    static func startsWith(_ text: [UInt8], at start: Int, _ prefix: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { t in
            prefix.withUnsafeBufferPointer { p in
                for k in 0..<p.count where t[start + k] != p[k] { return false }
                return true
            }
        }
    }

    /// Subject and body as one text for `regex`, joined once per message (only when a rule gets that far).
    private let joined = Joined()
    private final class Joined { var text: String? }
    func subjectAndBody(_ input: ClassifierInput) -> String {
        if let t = joined.text { return t }
        let t = input.subject + "\n" + input.body
        joined.text = t
        return t
    }

    func inSubject(_ p: Needle) -> Bool {
        if let m = subjectMarked { return m.marks.has(p.id) && p.found(in: subject, words: m.words) }
        return p.found(in: subject, words: subjectWords)
    }

    func inBody(_ p: Needle) -> Bool {
        if let m = bodyMarked { return m.marks.has(p.id) && p.found(in: body, words: m.words) }
        return p.found(in: body, words: bodyWords)
    }
    func inEither(_ p: Needle) -> Bool { inSubject(p) || inBody(p) }

    /// Whether one of a rule's phrase list (numbered one after another) is in subject or body: with marks,
    /// only the marked ones are looked at, found by their bits.
    func anyInEither(_ needles: [Needle]) -> Bool {
        guard let sm = subjectMarked?.marks, let bm = bodyMarked?.marks, let first = needles.first?.id,
              let last = needles.last?.id, Int(last - first) == needles.count - 1
        else { return needles.contains(where: inEither) }
        let lo = Int(first), hi = Int(last)
        for w in (lo >> 6)...(hi >> 6) {
            var bits = sm.bits[w] | bm.bits[w]
            if w == lo >> 6 { bits &= ~0 << UInt64(lo & 63) }
            if w == hi >> 6 && hi & 63 != 63 { bits &= (1 << UInt64((hi & 63) + 1)) - 1 }
            while bits != 0 {
                let id = w << 6 + bits.trailingZeroBitCount
                bits &= bits - 1
                if inEither(needles[id - lo]) { return true }
            }
        }
        return false
    }
}

/// A phrase prepared for fast tests: one whole word is a hash lookup; a phrase is scanned for only when
/// each of its whole words occurs in the text; a prefix ("passw*") is scanned for.
struct Needle: Sendable {
    let bytes: [UInt8]
    let wordHash: UInt32?
    /// The hashes of the phrase's complete words (not a trailing prefix): all must occur for a match.
    let wordHashes: [UInt32]
    /// The hashes of its whole words in order, and the prefix its last word must start with ("passw*";
    /// empty when the phrase ends with a whole word).
    let completeHashes: [UInt32]
    let prefix: [UInt8]
    /// Its number among the rules' phrases (`RuleIndex`).
    let id: Int32
    /// A hash a text's words must have for the phrase to be in it (nil: none is known, always look).
    let trigger: UInt32?

    init(_ phrase: String, id: Int32 = 0) {
        self.id = id
        bytes = RuleText.needle(phrase)
        wordHash = RuleText.singleWordHash(bytes)
        var words = Array(bytes.dropFirst()).split(separator: 0x20, omittingEmptySubsequences: false).map(Array.init)
        if bytes.last != 0x20, !words.isEmpty { words.removeLast() }  // a prefix ("passw*"): its last word is partial
        var hashes = wordHash == nil ? words.filter { !$0.isEmpty }.map { LanguageDetector.wordHash($0) } : []
        // A prefix of four letters or more: a word starting with its first four must occur.
        if bytes.last != 0x20, let start = bytes.lastIndex(of: 0x20), bytes.count - start - 1 >= 4 {
            hashes.append(RuleText.prefixHash(bytes[(start + 1)..<(start + 5)]))
        }
        wordHashes = hashes
        let complete = words.filter { !$0.isEmpty }
        completeHashes = wordHash == nil ? complete.map { LanguageDetector.wordHash($0) } : []
        if bytes.last != 0x20, let start = bytes.lastIndex(of: 0x20) { prefix = Array(bytes[(start + 1)...]) } else { prefix = [] }
        // The trigger: its longest whole word that is not a function word (the rarest, most likely), else its
        // longest word, else the prefix's first four letters.
        if let w = wordHash {
            trigger = w
        } else if let longest = complete.max(by: { a, b in
            let fa = a.withUnsafeBufferPointer(LanguageDetector.isFunctionWord), fb = b.withUnsafeBufferPointer(LanguageDetector.isFunctionWord)
            return fa != fb ? fa : a.count < b.count
        }) {
            trigger = LanguageDetector.wordHash(longest)
        } else {
            trigger = hashes.last
        }
    }

    func found(in text: [UInt8], words: WordHashSet) -> Bool {
        if let h = wordHash { return words.contains(h) }
        for h in wordHashes where !words.contains(h) { return false }
        return RuleText.contains(text, bytes)
    }

    /// In a text with these words, once the phrase is marked (`RuleIndex`: its trigger is among them). A
    /// whole word: marked is found. A phrase: its whole words one after another, and after them a word
    /// that starts with its prefix when it ends in one.
    func found(in text: [UInt8], words: RuleText.Words) -> Bool {
        if wordHash != nil { return true }
        let k = completeHashes.count, needsPrefix = !prefix.isEmpty
        if k == 0 && !needsPrefix { return false }  // nothing left of the phrase after normalisation
        let n = words.hashes.count - k - (needsPrefix ? 1 : 0)
        guard n >= 0 else { return false }
        return words.hashes.withUnsafeBufferPointer { h in
            completeHashes.withUnsafeBufferPointer { c in
                var p = 0
                let first = SIMD8<UInt32>(repeating: k > 0 ? c[0] : 0)
                while p <= n {
                    // Eight starts at a time ruled out by their first word.
                    if k > 0 && p + 7 <= n
                        && !any(UnsafeRawPointer(h.baseAddress! + p).loadUnaligned(as: SIMD8<UInt32>.self) .== first)
                    {
                        p += 8
                        continue
                    }
                    let q = p
                    p += 1
                    var j = 0
                    while j < k && h[q + j] == c[j] { j += 1 }
                    if j < k { continue }
                    if !needsPrefix { return true }
                    let start = Int(words.starts[q + k])
                    if start + prefix.count <= text.count && RuleText.startsWith(text, at: start, prefix) { return true }
                }
                return false
            }
        }
    }
}

/// A rule with its phrases normalised once.
final class CompiledRule: Sendable {
    let rule: ClassificationRule
    let any, all, none, subjectAny, bodyAny: [Needle]

    /// `nextID`: the number of the rule's first phrase; on return, one past its last.
    init(_ r: ClassificationRule, nextID: inout Int32) {
        rule = r
        func needles(_ phrases: [String]) -> [Needle] {
            phrases.map { p in
                defer { nextID += 1 }
                return Needle(p, id: nextID)
            }
        }
        any = needles(r.when.any)
        all = needles(r.when.all)
        none = needles(r.when.none)
        subjectAny = needles(r.when.subjectAny)
        bodyAny = needles(r.when.bodyAny)
    }

    convenience init(_ r: ClassificationRule) {
        var id: Int32 = 0
        self.init(r, nextID: &id)
    }

    var needles: [Needle] { any + all + none + subjectAny + bodyAny }

    func matches(_ input: ClassifierInput, _ text: RuleText, language: String) -> Bool {
        let w = rule.when
        if !w.languages.isEmpty && !w.languages.contains(language) { return false }
        if !w.mailboxes.isEmpty && !w.mailboxes.contains(input.mailbox ?? "") { return false }
        if !w.senders.isEmpty && !w.senders.contains(where: { CompiledRule.senderMatches($0, input.sender) }) { return false }
        if !any.isEmpty && !text.anyInEither(any) { return false }
        if !all.allSatisfy(text.inEither) { return false }
        if text.anyInEither(none) { return false }
        if !subjectAny.isEmpty && !subjectAny.contains(where: text.inSubject) { return false }
        if !bodyAny.isEmpty && !bodyAny.contains(where: text.inBody) { return false }
        if !w.subjectRegex.allSatisfy({ $0.matches(input.subject) }) { return false }
        if !w.bodyRegex.allSatisfy({ $0.matches(input.body) }) { return false }
        if !w.regex.isEmpty {
            let both = text.subjectAndBody(input)
            if !w.regex.allSatisfy({ $0.matches(both) }) { return false }
        }
        return true
    }

    static func senderMatches(_ pattern: String, _ sender: String) -> Bool {
        let p = pattern.lowercased(), s = sender.lowercased()
        if p.hasPrefix("*.") {
            let domain = String(p.dropFirst(2))
            guard let at = s.lastIndex(of: "@") else { return false }
            let d = s[s.index(after: at)...]
            return d == domain || d.hasSuffix("." + domain)
        }
        if p.hasPrefix("@") { return s.hasSuffix(p) }
        return s == p
    }
}

/// A set of 32-bit word hashes for one message: open addressing in a power-of-two table (a Swift `Set`
/// hashes each key again with SipHash; these keys are hashes already).
struct WordHashSet: Sendable {
    private var slots: [UInt32]
    private var hasZero = false
    private let mask: Int

    /// A table of at least `2n` slots. For a text of `b` bytes, `n = b / 4 + 1` keeps ordinary text (a word
    /// per six bytes or so) under a third full and always leaves a slot free (at most a word per two bytes).
    /// `RuleText` asks for `b / 2 + 1`: it also keeps the four-letter prefix of every longer word.
    init(capacityFor n: Int) {
        var size = 16
        while size < 2 * n { size <<= 1 }
        slots = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ h: UInt32, _ mask: Int) -> Int { Int(truncatingIfNeeded: (h &* 0x9E37_79B1) >> 7) & mask }

    /// Whether `h` was new.
    @discardableResult
    mutating func insert(_ h: UInt32) -> Bool {
        if h == 0 { defer { hasZero = true }; return !hasZero }
        var i = WordHashSet.slot(h, mask)
        return slots.withUnsafeMutableBufferPointer { s in
            while s[i] != 0 {
                if s[i] == h { return false }
                i = (i + 1) & mask
            }
            s[i] = h
            return true
        }
    }

    func contains(_ h: UInt32) -> Bool {
        if h == 0 { return hasZero }
        var i = WordHashSet.slot(h, mask)
        while slots[i] != 0 {
            if slots[i] == h { return true }
            i = (i + 1) & mask
        }
        return false
    }
}

/// The rules' phrases filed by their trigger (`Needle.trigger`): a message's words mark the phrases that
/// can be in it, and only those are looked for. A thousand phrases cost a thousand hash lookups per text
/// otherwise; this is one lookup per word and a bit test per phrase.
struct RuleIndex: Sendable {
    /// One bit per phrase.
    struct Marks: Sendable {
        var bits: [UInt64]
        @inline(__always) func has(_ id: Int32) -> Bool { bits[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 }
        @inline(__always) mutating func set(_ id: Int32) { bits[Int(id) >> 6] |= 1 << UInt64(id & 63) }
    }

    private var keys: [UInt32] = []
    /// Per slot: the range of its phrases in `ids` (start -1: an empty slot).
    private var starts: [Int32] = []
    private var ends: [Int32] = []
    private var ids: [Int32] = []
    private var mask = 0
    /// Marks of the phrases without a trigger (always looked for).
    private let always: Marks

    init(_ rules: [CompiledRule]) {
        let needles = rules.flatMap(\.needles)
        let count = (needles.map { Int($0.id) }.max() ?? -1) + 1
        var always = Marks(bits: [UInt64](repeating: 0, count: (count + 63) / 64))
        var byTrigger: [UInt32: [Int32]] = [:]
        for n in needles {
            if let t = n.trigger { byTrigger[t, default: []].append(n.id) } else { always.set(n.id) }
        }
        self.always = always
        var size = 16
        while size < 2 * byTrigger.count + 1 { size <<= 1 }
        keys = [UInt32](repeating: 0, count: size)
        starts = [Int32](repeating: -1, count: size)
        ends = [Int32](repeating: 0, count: size)
        mask = size - 1
        for (t, list) in byTrigger.sorted(by: { $0.key < $1.key }) {
            var i = RuleIndex.slot(t, mask)
            while starts[i] >= 0 { i = (i + 1) & mask }
            keys[i] = t
            starts[i] = Int32(ids.count)
            ids += list
            ends[i] = Int32(ids.count)
        }
    }

    @inline(__always)
    private static func slot(_ h: UInt32, _ mask: Int) -> Int { Int(truncatingIfNeeded: (h &* 0x9E37_79B1) >> 7) & mask }

    /// Marks for a text: the phrases without a trigger, then those of each hash `forEachHash` gives.
    func marks(_ forEachHash: ((UInt32) -> Void) -> Void) -> Marks {
        var bits = always.bits
        let mask = mask
        bits.withUnsafeMutableBufferPointer { b in
            keys.withUnsafeBufferPointer { keys in
                starts.withUnsafeBufferPointer { starts in
                    ends.withUnsafeBufferPointer { ends in
                        ids.withUnsafeBufferPointer { ids in
                            forEachHash { h in
                                var i = RuleIndex.slot(h, mask)
                                while starts[i] >= 0 {
                                    if keys[i] == h {
                                        for k in Int(starts[i])..<Int(ends[i]) { b[Int(ids[k]) >> 6] |= 1 << UInt64(ids[k] & 63) }
                                        return
                                    }
                                    i = (i + 1) & mask
                                }
                            }
                        }
                    }
                }
            }
        }
        return Marks(bits: bits)
    }
}
