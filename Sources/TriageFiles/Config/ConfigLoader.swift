public import Foundation
import TOMLKit
public import TriageCore
import TriageMIME

/// Reads and validates `mailtriage.toml`. It reports every problem it finds, not just the first, each
/// with file, line (where known) and key path; unknown keys are warnings, everything else errors.
public enum ConfigLoader {
    public static let defaultPath = "/etc/mailtriage/mailtriage.toml"

    /// Loads a config file; throws `ConfigError` with all diagnostics if there is any error.
    /// Warnings of a successful load are returned beside the config.
    /// - Parameter mailboxes: false for commands that only need the store (the queue CLI run by agents,
    ///   who cannot read the daemon's password files): mailbox tables are then not validated.
    public static func load(path: String, mailboxes: Bool = true,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (config: TriageConfig, warnings: [ConfigDiagnostic])
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(diagnostics: [ConfigDiagnostic(.error, file: path, line: nil, keyPath: "",
                                                             "cannot read the file (missing or not readable)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(diagnostics: [ConfigDiagnostic(.error, file: path, line: nil, keyPath: "", "the file is not UTF-8")])
        }
        return try parse(text: text, file: path, mailboxes: mailboxes, environment: environment)
    }

    public static func parse(text: String, file: String, mailboxes: Bool = true, environment: [String: String] = [:]) throws
        -> (config: TriageConfig, warnings: [ConfigDiagnostic])
    {
        var v = Validator(file: file, locator: TOMLKeyLocator(text: text), environment: environment)
        let table = try tomlTable(text, file: file)
        v.checkUnknownKeys(table)
        // Codable stops at the first wrong type; drop that key and decode again so that one run reports
        // every problem in the file.
        var decoded: ConfigFile?
        for _ in 0..<100 {
            do {
                decoded = try TOMLDecoder().decode(ConfigFile.self, from: table)
                break
            } catch let e as DecodingError {
                guard let path = v.decodingError(e, table: table), Validator.remove(path, from: table) else { break }
            }
        }
        guard let raw = decoded else { throw ConfigError(diagnostics: v.diagnostics) }
        v.validateMailboxes = mailboxes
        let config = v.build(raw)
        if v.diagnostics.contains(where: { $0.severity == .error }) { throw ConfigError(diagnostics: v.diagnostics) }
        return (config, v.diagnostics)
    }
}

/// Parses TOML text; a syntax error becomes a `ConfigError` with the file, line and column.
func tomlTable(_ text: String, file: String) throws -> TOMLTable {
    if let trap = TOMLParserTraps.firstTrap(text) {
        throw ConfigError(diagnostics: [ConfigDiagnostic(.error, file: file, line: trap.line, keyPath: "",
                                                         "TOML syntax error at column \(trap.column): \(trap.message)")])
    }
    do {
        return try TOMLTable(string: text)
    } catch let e as TOMLParseError {
        throw ConfigError(diagnostics: [ConfigDiagnostic(.error, file: file, line: e.source.begin.line, keyPath: "",
                                                         "TOML syntax error at column \(e.source.begin.column): \(e.description)")])
    }
}

/// Collects diagnostics while turning a `ConfigFile` into a `TriageConfig`.
struct Validator {
    let file: String
    let locator: TOMLKeyLocator
    let environment: [String: String]
    var diagnostics: [ConfigDiagnostic] = []
    var validateMailboxes = true

    init(file: String, locator: TOMLKeyLocator, environment: [String: String]) {
        self.file = file
        self.locator = locator
        self.environment = environment
    }

    static func pathString(_ path: [String]) -> String {
        var s = ""
        for p in path {
            if Int(p) != nil { s += "[\(p)]" } else { s += s.isEmpty ? p : ".\(p)" }
        }
        return s
    }

    mutating func report(_ sev: ConfigDiagnostic.Severity, _ path: [String], _ msg: String) {
        diagnostics.append(ConfigDiagnostic(sev, file: file, line: locator.line(for: path), keyPath: Validator.pathString(path), msg))
    }

    mutating func checkUnknownKeys(_ table: TOMLTable) {
        let top = Set(ConfigFile.CodingKeys.allCases.map(\.rawValue))
        for key in table.keys where !top.contains(key) {
            report(.warning, [key], "unknown key (ignored); known keys: \(top.sorted().joined(separator: ", "))")
        }
        for (name, keys) in [("smtp", SMTPFile.CodingKeys.allCases.map(\.rawValue)), ("answers", AnswersFile.CodingKeys.allCases.map(\.rawValue)), ("stats", StatsFile.CodingKeys.allCases.map(\.rawValue))] {
            guard let t = table[name]?.table else { continue }
            for key in t.keys where !keys.contains(key) {
                report(.warning, [name, key], "unknown key (ignored); known keys: \(keys.sorted().joined(separator: ", "))")
            }
        }
        if let cls = table["classifier"]?.table {
            let known = Set(ClassifierFile.CodingKeys.allCases.map(\.rawValue))
            for key in cls.keys where !known.contains(key) {
                report(.warning, ["classifier", key], "unknown key (ignored); known keys: \(known.sorted().joined(separator: ", "))")
            }
        }
        let oauthKeys = Set(OAuth2File.CodingKeys.allCases.map(\.rawValue))
        if let boxes = table["mailbox"]?.array {
            let known = Set(MailboxFile.CodingKeys.allCases.map(\.rawValue))
            for (i, value) in boxes.enumerated() {
                guard let t = value.table else { continue }
                for key in t.keys where !known.contains(key) {
                    report(.warning, ["mailbox", "\(i)", key], "unknown key (ignored)")
                }
                for key in t["oauth2"]?.table?.keys ?? [] where !oauthKeys.contains(key) {
                    report(.warning, ["mailbox", "\(i)", "oauth2", key], "unknown key (ignored); known keys: \(oauthKeys.sorted().joined(separator: ", "))")
                }
            }
        }
        for key in table["smtp"]?.table?["oauth2"]?.table?.keys ?? [] where !oauthKeys.contains(key) {
            report(.warning, ["smtp", "oauth2", key], "unknown key (ignored); known keys: \(oauthKeys.sorted().joined(separator: ", "))")
        }
    }

    /// Expected types by key, for messages: TOMLKit reports a wrong type as a missing key.
    static let expected: [String: String] = [
        "state_dir": "a string", "database": "a string", "poll_interval": "a string", "log_level": "a string", "max_backoff": "a string",
        "max_message_size": "an integer or a string", "batch_size": "an integer", "batch_bytes": "an integer or a string", "mailbox": "an array of [[mailbox]] tables",
        "name": "a string", "url": "a string", "username": "a string", "password_file": "a string",
        "password_credential": "a string", "password": "a string", "ca_file": "a string", "after_processing": "a string",
        "connect_timeout": "a string", "response_timeout": "a string", "address": "a string", "display_name": "a string",
        "audiences": "an array of strings", "pipelining": "true or false",
        "knowledge_base": "a string", "service_levels": "a string", "stats": "a table", "corridors": "a table of [worst, expected, very good] arrays",
        "classifier": "a table", "rules_file": "a string", "minimum_coverage": "a number", "retrain_interval": "a string",
        "languages": "an array of strings", "thresholds": "a table of { auto = ..., draft = ... } tables", "auto": "a number",
        "draft": "a number", "smtp": "a table", "answers": "a table", "helo_name": "a string", "envelope_sender": "a string",
        "placeholders": "a table of strings", "max_per_sender": "an integer", "window": "a string",
        "role_sender_pattern": "a string", "message_id_domain": "a string", "max_retry_delay": "a string",
        "auth": "a string", "oauth2": "a table", "grant": "a string", "token_url": "a string", "tenant": "a string", "provider": "a string",
        "client_id": "a string", "client_secret_file": "a string", "client_secret_credential": "a string", "client_secret": "a string",
        "scope": "a string", "refresh_token_file": "a string", "refresh_token_credential": "a string", "refresh_token": "a string",
        "refresh_token_store": "a string", "timeout": "a string", "client_certificate_file": "a string", "client_key_file": "a string",
        "client_key_credential": "a string", "client_key": "a string",
    ]

    /// The TOML value at a decoded key path, if the file has one.
    static func value(at path: [String], in table: TOMLTable) -> (any TOMLValueConvertible)? {
        var current: (any TOMLValueConvertible)? = table
        for p in path {
            if let i = Int(p) { current = current?.array.flatMap { i < $0.count ? $0[i] : nil } }
            else { current = current?.table?[p] }
        }
        return current
    }

    static func article(_ t: TOMLType) -> String {
        switch t {
        case .int: return "an integer"
        case .array: return "an array"
        default: return "a \(t.description)"
        }
    }

    /// Removes the value at `path` so decoding can go on past it; false if there is nothing to remove.
    static func remove(_ path: [String], from table: TOMLTable) -> Bool {
        guard let last = path.last else { return false }
        let parent = Validator.value(at: Array(path.dropLast()), in: table)
        if let i = Int(last), let arr = parent?.array, i < arr.count {
            _ = arr.remove(at: i)
            return true
        }
        return parent?.table?.remove(at: last) != nil
    }

    /// Reports a decoding error; returns the key path of the offending value when it can be skipped.
    mutating func decodingError(_ e: DecodingError, table: TOMLTable) -> [String]? {
        if case .keyNotFound(let key, let ctx) = e {
            let path = Validator.keyPath(ctx.codingPath + [key])
            if let found = Validator.value(at: path, in: table) {
                report(.error, path, "wrong type: expected \(Validator.expected[path.last ?? ""] ?? "another type"), found \(Validator.article(found.type))")
                return path
            }
        }
        switch e {
        case .typeMismatch(let type, let ctx):
            report(.error, Validator.keyPath(ctx.codingPath), "wrong type: expected \(Validator.typeName(type))")
            return Validator.keyPath(ctx.codingPath)
        case .valueNotFound(let type, let ctx):
            report(.error, Validator.keyPath(ctx.codingPath), "missing value: expected \(Validator.typeName(type))")
        case .keyNotFound(let key, let ctx):
            report(.error, Validator.keyPath(ctx.codingPath + [key]), "missing key")
        case .dataCorrupted(let ctx):
            report(.error, Validator.keyPath(ctx.codingPath), ctx.debugDescription)
        @unknown default:
            report(.error, [], "\(e)")
        }
        return nil
    }

    static func keyName(_ k: any CodingKey) -> String { k.intValue.map(String.init) ?? k.stringValue }

    /// TOMLKit repeats the last key in some coding paths ("a.a"); report each key once.
    static func keyPath(_ path: [any CodingKey]) -> [String] {
        var out: [String] = []
        for k in path.map(keyName) where out.last != k { out.append(k) }
        return out
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Array<MailboxFile>.Type: return "an array of [[mailbox]] tables"
        default: return "\(t)"
        }
    }

    mutating func duration(_ s: String?, _ path: [String], default d: Duration, min: Duration) -> Duration {
        guard let s else { return d }
        guard let parsed = DurationText.parse(s) else {
            report(.error, path, "\"\(s)\" is not a duration (write e.g. \"30s\", \"5m\", \"1h\")")
            return d
        }
        if parsed < min {
            report(.error, path, "\(s) is below the minimum of \(DurationText.format(min))")
            return d
        }
        return parsed
    }

    mutating func build(_ raw: ConfigFile) -> TriageConfig {
        var c = TriageConfig()
        if let s = raw.state_dir {
            if s.hasPrefix("/") { c.stateDir = s } else { report(.error, ["state_dir"], "must be an absolute path") }
        }
        if let db = raw.database {
            if db.hasPrefix("/") { c.databasePath = db } else { report(.error, ["database"], "must be an absolute path") }
        }
        c.pollInterval = duration(raw.poll_interval, ["poll_interval"], default: c.pollInterval, min: .seconds(1))
        if let l = raw.log_level {
            if TriageConfig.logLevels.contains(l.lowercased()) { c.logLevel = l.lowercased() } else {
                report(.error, ["log_level"], "must be one of \(TriageConfig.logLevels.joined(separator: ", "))")
            }
        }
        c.maxBackoff = duration(raw.max_backoff, ["max_backoff"], default: c.maxBackoff, min: .seconds(1))
        if let size = raw.max_message_size {
            if let b = size.bytes, 1024...(1 << 30) ~= b { c.maxMessageBytes = b } else {
                report(.error, ["max_message_size"], "\"\(size.text)\" is not a size between 1KiB and 1GiB (write e.g. \"25MiB\")")
            }
        }
        if let b = raw.batch_size {
            if (1...10_000).contains(b) { c.batchSize = b } else { report(.error, ["batch_size"], "must be between 1 and 10000") }
        }
        if let size = raw.batch_bytes {
            if let b = size.bytes, (1 << 20)...(1 << 30) ~= b { c.batchBytes = b } else {
                report(.error, ["batch_bytes"], "\"\(size.text)\" is not a size between 1MiB and 1GiB (write e.g. \"64MiB\")")
            }
        }
        if let kb = raw.knowledge_base { c.knowledgeBase = relative(kb) }
        if let sl = raw.service_levels { c.serviceLevelsFile = relative(sl) }
        if let cls = raw.classifier { classifier(cls, into: &c.classifier) }
        if let sm = raw.smtp { c.smtp = smtp(sm) }
        if let a = raw.answers { answers(a, into: &c.answers) }
        for (name, v) in raw.stats?.corridors ?? [:] {
            let p = ["stats", "corridors", name]
            guard Corridor.figures.contains(name) else {
                report(.warning, p, "unknown figure (ignored); known: \(Corridor.figures.joined(separator: ", "))")
                continue
            }
            guard v.count == 3, v.allSatisfy({ (0...1).contains($0) }), (v[0] <= v[1] && v[1] <= v[2]) || (v[0] >= v[1] && v[1] >= v[2]) else {
                report(.error, p, "must be [worst, expected, very good], shares between 0 and 1 in order (e.g. [0.10, 0.20, 0.30])")
                continue
            }
            c.corridors[name] = Corridor(worst: v[0], expected: v[1], veryGood: v[2])
        }
        guard validateMailboxes else {
            // Commands run by agents and analysts read the mailboxes' names and addresses, never their
            // secrets: problems there (an unreadable password file) are the daemon's to report.
            var quiet = self
            for (i, m) in (raw.mailbox ?? []).enumerated() {
                if let mb = quiet.mailbox(m, index: i) { c.mailboxes.append(mb) }
            }
            return c
        }
        guard let boxes = raw.mailbox, !boxes.isEmpty else {
            report(.error, ["mailbox"], "no [[mailbox]] table: at least one mailbox is needed")
            return c
        }
        var names = Set<String>()
        for (i, m) in boxes.enumerated() {
            if let mb = mailbox(m, index: i) {
                if !names.insert(mb.name).inserted {
                    report(.error, ["mailbox", "\(i)", "name"], "duplicate mailbox name \"\(mb.name)\"")
                }
                c.mailboxes.append(mb)
            }
        }
        return c
    }

    /// A path from the file, relative to the file's directory unless absolute.
    func relative(_ p: String) -> String {
        if p.hasPrefix("/") { return p }
        let dir = (file as NSString).deletingLastPathComponent
        return dir.isEmpty ? p : (dir as NSString).appendingPathComponent(p)
    }

    mutating func classifier(_ f: ClassifierFile, into c: inout ClassifierConfig) {
        if let r = f.rules_file { c.rulesFile = relative(r) }
        if let m = f.minimum_coverage {
            if (0...1).contains(m) { c.settings.minimumCoverage = m } else { report(.error, ["classifier", "minimum_coverage"], "must be between 0 and 1") }
        }
        if let l = f.languages { c.settings.languages = l }
        if let r = f.retrain_interval {
            c.retrainInterval = r.trimmingCharacters(in: .whitespaces) == "0" ? nil
                : duration(r, ["classifier", "retrain_interval"], default: .seconds(86400), min: .seconds(60))
        }
        for (name, t) in (f.thresholds ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = ["classifier", "thresholds", name]
            guard name == "default" || c.settings.categories.contains(name) else {
                report(.error, path, "unknown category; known: default, \(c.settings.categories.joined(separator: ", "))")
                continue
            }
            if name == Category.other { report(.warning, path, "other is never answered automatically; thresholds are ignored") }
            let base = name == "default" ? c.settings.defaultThresholds : c.settings.thresholds(for: name)
            let th = Thresholds(auto: t.auto ?? base.auto, draft: t.draft ?? base.draft)
            guard (0...1.01).contains(th.auto), (0...1.01).contains(th.draft) else {
                report(.error, path, "auto and draft must be between 0 and 1 (above 1: never)")
                continue
            }
            guard th.draft <= th.auto else {
                report(.error, path, "draft (\(th.draft)) must not be above auto (\(th.auto))")
                continue
            }
            if name == "default" { c.settings.defaultThresholds = th } else { c.settings.thresholds[name] = th }
        }
    }

    mutating func smtp(_ f: SMTPFile) -> SMTPConfig? {
        let p = ["smtp"]
        guard let url = f.url else {
            report(.error, p + ["url"], "missing key: the SMTP server, e.g. \"smtp://mail.example.com:587\"")
            return nil
        }
        var ok = true
        let lower = url.lowercased()
        if !(lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://")) || url.contains("@") || url.dropFirst(8).isEmpty {
            report(.error, p + ["url"], "\"\(url)\" is not smtp://host[:port] (STARTTLS required) or smtps://host[:port] (no user or password in it)")
            ok = false
        }
        var s = SMTPConfig(url: url)
        let (oauth, oauthOK) = oauth2(auth: f.auth, f.oauth2, p, passwordGiven: f.password_file != nil || f.password_credential != nil)
        if !oauthOK { ok = false }
        s.oauth2 = oauth
        if oauth != nil && f.username == nil {
            report(.error, p + ["username"], "missing key: the account to send as (auth = \"oauth2\")")
            ok = false
        }
        if oauth == nil {
            let (secret, secretOK) = secretSource(file: f.password_file, credential: f.password_credential, inline: f.password, p,
                                                  missing: f.username == nil ? nil : "username given without password_file or password_credential")
            s.password = secret
            if !secretOK { ok = false }
        }
        s.username = f.username
        if let ca = f.ca_file {
            if FileManager.default.isReadableFile(atPath: ca) { s.caFile = ca } else { report(.error, p + ["ca_file"], "cannot read \(ca)"); ok = false }
        }
        if let h = f.helo_name {
            if h.isEmpty || h.contains(where: { $0 == " " || $0 == "/" || $0.isNewline }) { report(.error, p + ["helo_name"], "must be a host name"); ok = false }
            else { s.heloName = h }
        }
        if let e = f.envelope_sender {
            if !e.isEmpty && (!e.contains("@") || e.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0.isNewline })) {
                report(.error, p + ["envelope_sender"], "must be an address, or \"\" for the null sender <>")
                ok = false
            } else { s.envelopeSender = e }
        }
        s.connectTimeout = duration(f.connect_timeout, p + ["connect_timeout"], default: s.connectTimeout, min: .milliseconds(100))
        s.responseTimeout = duration(f.response_timeout, p + ["response_timeout"], default: s.responseTimeout, min: .seconds(1))
        return ok ? s : nil
    }

    mutating func answers(_ f: AnswersFile, into a: inout AnswersConfig) {
        let p = ["answers"]
        for (k, v) in f.placeholders ?? [:] {
            if AnswerTemplate.builtIn.contains(k) {
                report(.error, p + ["placeholders", k], "\(k) is filled by mailtriage itself")
            } else if v.contains(where: { $0.isNewline }) {
                report(.error, p + ["placeholders", k], "a placeholder value is one line of text")
            } else {
                a.placeholders[k] = v
            }
        }
        if let n = f.max_per_sender {
            if (0...1000).contains(n) { a.maxPerSender = n } else { report(.error, p + ["max_per_sender"], "must be between 0 and 1000") }
        }
        a.window = duration(f.window, p + ["window"], default: a.window, min: .seconds(60))
        a.maxRetryDelay = duration(f.max_retry_delay, p + ["max_retry_delay"], default: a.maxRetryDelay, min: .seconds(1))
        if let r = f.role_sender_pattern {
            do { _ = try RulePattern(r); a.roleSenderPattern = r } catch {
                report(.error, p + ["role_sender_pattern"], "invalid regular expression: \(error)")
            }
        }
        if let d = f.message_id_domain {
            if d.isEmpty || !d.contains(".") || d.contains(where: { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) {
                report(.error, p + ["message_id_domain"], "must be a domain name")
            } else { a.messageIDDomain = d.lowercased() }
        }
    }

    mutating func mailbox(_ m: MailboxFile, index i: Int) -> MailboxConfig? {
        let p = ["mailbox", "\(i)"]
        var ok = true
        func missing(_ key: String, _ v: inout Validator) { v.report(.error, p + [key], "missing key"); ok = false }
        if m.name == nil { missing("name", &self) }
        if m.url == nil { missing("url", &self) }
        if m.username == nil { missing("username", &self) }
        if let name = m.name, name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
            report(.error, p + ["name"], "\"\(name)\" must be letters, digits, '.', '_' or '-'")
            ok = false
        }
        var url: IMAPURL?
        if let u = m.url {
            url = IMAPURL(u)
            if url == nil {
                report(.error, p + ["url"], "\"\(u)\" is not an imaps://host[:port]/FOLDER or imap://host[:port]/FOLDER URL (no user or password in it)")
                ok = false
            }
        }
        let (oauth, oauthOK) = oauth2(auth: m.auth, m.oauth2, p, passwordGiven: m.password_file != nil || m.password_credential != nil)
        if !oauthOK { ok = false }
        var secret: SecretSource?
        if oauth == nil && oauthOK {
            let (s, secretOK) = secretSource(file: m.password_file, credential: m.password_credential, inline: m.password, p,
                                             missing: "missing key: set password_file or password_credential (or auth = \"oauth2\")")
            secret = s
            if !secretOK { ok = false }
        }
        if let ca = m.ca_file, !FileManager.default.isReadableFile(atPath: ca) {
            report(.error, p + ["ca_file"], "cannot read \(ca)")
            ok = false
        }
        var after = AfterProcessing.flag("\\Seen")
        if let a = m.after_processing {
            if let parsed = AfterProcessing(configValue: a) { after = parsed } else {
                report(.error, p + ["after_processing"], "\"\(a)\" is not one of \"flag\", \"flag:KEYWORD\", \"move:FOLDER\", \"none\"")
                ok = false
            }
        }
        let connect = duration(m.connect_timeout, p + ["connect_timeout"], default: .seconds(15), min: .milliseconds(100))
        let response = duration(m.response_timeout, p + ["response_timeout"], default: .seconds(60), min: .seconds(1))
        guard ok, let name = m.name, let url, let user = m.username, secret != nil || oauth != nil else { return nil }
        var mb = MailboxConfig(name: name, url: url, username: user, password: secret, oauth2: oauth)
        mb.caFile = m.ca_file
        mb.afterProcessing = after
        mb.connectTimeout = connect
        mb.responseTimeout = response
        if let pl = m.pipelining { mb.pipelining = pl }
        if let addr = m.address {
            let parsed = MailAddress.parseList(addr)
            if parsed.count == 1, parsed[0].address.contains("@"), !addr.contains("\n") { mb.address = parsed[0].address.lowercased() }
            else { report(.error, p + ["address"], "\"\(addr)\" is not one e-mail address") }
        }
        if let dn = m.display_name {
            if dn.contains(where: { $0.isNewline }) { report(.error, p + ["display_name"], "must be one line") } else { mb.displayName = dn }
        }
        if let a = m.audiences {
            if let bad = a.first(where: { !KnowledgeEntry.isAudienceName($0) }) {
                report(.error, p + ["audiences"], "\"\(bad)\" is not an audience name (letters, digits, \"-\" and \"_\")")
            } else {
                mb.audiences = a
            }
        }
        return mb
    }

    /// Where a password comes from (`password_file` or `password_credential`, never inline), checked.
    /// `missing`: the error when neither is given, or nil when none is needed.
    mutating func secretSource(file: String?, credential: String?, inline: String?, _ p: [String], missing: String?, name: String = "password")
        -> (SecretSource?, ok: Bool)
    {
        var ok = true
        if inline != nil {
            report(.error, p + [name], "secrets never go in this file: use \(name)_file (mode 0600) or \(name)_credential (systemd LoadCredential=)")
            ok = false
        }
        switch (file, credential) {
        case (let f?, nil):
            checkSecretFile(f, p + ["\(name)_file"])
            return (.file(f), ok)
        case (nil, let cred?):
            if cred.isEmpty || cred.contains("/") {
                report(.error, p + ["\(name)_credential"], "a credential name is a plain name, not a path")
                ok = false
            } else if let dir = environment["CREDENTIALS_DIRECTORY"], !FileManager.default.isReadableFile(atPath: dir + "/" + cred) {
                report(.error, p + ["\(name)_credential"], "credential \"\(cred)\" is not in $CREDENTIALS_DIRECTORY (\(dir))")
                ok = false
            }
            return (.credential(cred), ok)
        case (.some, .some):
            report(.error, p + ["\(name)_credential"], "set \(name)_file or \(name)_credential, not both")
            return (nil, false)
        case (nil, nil):
            if let missing {
                report(.error, p + ["\(name)_file"], missing)
                return (nil, false)
            }
            return (nil, ok)
        }
    }

    /// `auth` and the `oauth2` table of a mailbox or `[smtp]`: nil for password logins.
    mutating func oauth2(auth: String?, _ f: OAuth2File?, _ p: [String], passwordGiven: Bool) -> (OAuth2Config?, ok: Bool) {
        switch auth ?? "password" {
        case "password":
            if f != nil {
                report(.error, p + ["oauth2"], "an oauth2 table needs auth = \"oauth2\"")
                return (nil, false)
            }
            return (nil, true)
        case "oauth2":
            break
        default:
            report(.error, p + ["auth"], "\"\(auth ?? "")\" is not \"password\" or \"oauth2\"")
            return (nil, false)
        }
        var ok = true
        if passwordGiven {
            report(.error, p + ["password_file"], "not used with auth = \"oauth2\": remove it (the token source logs in)")
            ok = false
        }
        guard let f else {
            report(.error, p + ["oauth2"], "missing table: auth = \"oauth2\" needs [\(Validator.pathString(p)).oauth2] with grant, client_id and the token endpoint")
            return (nil, false)
        }
        let q = p + ["oauth2"]
        guard let g = f.grant, let grant = OAuth2Config.Grant(rawValue: g) else {
            report(.error, q + ["grant"], f.grant == nil ? "missing key: \"client_credentials\" (Microsoft 365 app-only) or \"refresh_token\" (Google, delegated)"
                                                         : "\"\(f.grant!)\" is not \"client_credentials\" or \"refresh_token\"")
            return (nil, false)
        }
        var tokenURL: String?
        switch (f.token_url, f.tenant, f.provider) {
        case (let u?, nil, nil):
            if u.lowercased().hasPrefix("https://"), URL(string: u)?.host != nil { tokenURL = u } else {
                report(.error, q + ["token_url"], "\"\(u)\" is not an https:// URL")
                ok = false
            }
        case (nil, let t?, nil), (nil, let t?, "microsoft"):
            if !t.isEmpty, t.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) { tokenURL = OAuth2Config.microsoftTokenURL(tenant: t) } else {
                report(.error, q + ["tenant"], "\"\(t)\" is not a tenant domain or id")
                ok = false
            }
        case (nil, nil, "google"):
            tokenURL = OAuth2Config.googleTokenURL
        case (nil, nil, "microsoft"):
            report(.error, q + ["tenant"], "missing key: provider = \"microsoft\" needs the tenant (contoso.onmicrosoft.com or its id)")
            ok = false
        case (nil, nil, let other?):
            report(.error, q + ["provider"], "\"\(other)\" is not \"microsoft\" or \"google\" (or give token_url)")
            ok = false
        case (nil, nil, nil):
            report(.error, q + ["token_url"], "missing key: token_url, or tenant (Microsoft), or provider = \"google\"")
            ok = false
        default:
            report(.error, q + ["token_url"], "give one of token_url, tenant (Microsoft) and provider")
            ok = false
        }
        if f.client_id?.isEmpty ?? true {
            report(.error, q + ["client_id"], "missing key: the application (client) id")
            ok = false
        }
        let certificate = f.client_certificate_file != nil || f.client_key_file != nil || f.client_key_credential != nil || f.client_key != nil
        let (secret, secretOK) = secretSource(
            file: f.client_secret_file, credential: f.client_secret_credential, inline: f.client_secret, q,
            missing: grant == .clientCredentials && !certificate
                ? "missing key: client_secret_file or client_secret_credential (or client_certificate_file with client_key_file)" : nil,
            name: "client_secret")
        if !secretOK { ok = false }
        var key: SecretSource?
        if certificate {
            if secret != nil {
                report(.error, q + ["client_certificate_file"], "give a client secret or a certificate, not both")
                ok = false
            }
            if let cert = f.client_certificate_file {
                if !cert.hasPrefix("/") { report(.error, q + ["client_certificate_file"], "must be an absolute path"); ok = false }
                else if !FileManager.default.isReadableFile(atPath: cert) { report(.error, q + ["client_certificate_file"], "cannot read \(cert)"); ok = false }
            } else {
                report(.error, q + ["client_certificate_file"], "missing key: the certificate (PEM) registered for the application")
                ok = false
            }
            let (k, kOK) = secretSource(file: f.client_key_file, credential: f.client_key_credential, inline: f.client_key, q,
                                        missing: "missing key: client_key_file or client_key_credential (the certificate's private key)", name: "client_key")
            key = k
            if !kOK { ok = false }
        }
        var refresh: SecretSource?
        if grant == .refreshToken {
            let (r, rOK) = secretSource(file: f.refresh_token_file, credential: f.refresh_token_credential, inline: f.refresh_token, q,
                                        missing: "missing key: refresh_token_file or refresh_token_credential", name: "refresh_token")
            refresh = r
            if !rOK { ok = false }
            if case .credential = r, f.refresh_token_store == nil {
                report(.error, q + ["refresh_token_store"],
                       "missing key: a refresh token the provider rotates cannot be written back to a credential; give a file the daemon may write")
                ok = false
            }
        } else if f.refresh_token_file != nil || f.refresh_token_credential != nil {
            report(.warning, q + ["refresh_token_file"], "not used with grant = \"client_credentials\"")
        }
        if grant == .clientCredentials && (f.scope ?? "").isEmpty {
            report(.error, q + ["scope"], "missing key: e.g. \"https://outlook.office365.com/.default\" (Microsoft 365)")
            ok = false
        }
        if let store = f.refresh_token_store, !store.hasPrefix("/") {
            report(.error, q + ["refresh_token_store"], "must be an absolute path")
            ok = false
        }
        if let ca = f.ca_file, !FileManager.default.isReadableFile(atPath: ca) {
            report(.error, q + ["ca_file"], "cannot read \(ca)")
            ok = false
        }
        let timeout = duration(f.timeout, q + ["timeout"], default: .seconds(30), min: .seconds(1))
        guard ok, let tokenURL, let clientID = f.client_id else { return (nil, false) }
        var c = OAuth2Config(grant: grant, tokenURL: tokenURL, clientID: clientID)
        c.clientSecret = secret
        c.clientCertificate = f.client_certificate_file
        c.clientKey = key
        c.scope = f.scope
        c.refreshToken = refresh
        c.refreshTokenStore = f.refresh_token_store ?? { if case .file(let path)? = refresh { return path } else { return nil } }()
        c.caFile = f.ca_file
        c.timeout = timeout
        return (c, true)
    }

    mutating func checkSecretFile(_ f: String, _ path: [String]) {
        guard f.hasPrefix("/") else {
            report(.error, path, "must be an absolute path")
            return
        }
        guard FileManager.default.isReadableFile(atPath: f) else {
            report(.error, path, "cannot read \(f)")
            return
        }
        if let attrs = try? FileManager.default.attributesOfItem(atPath: f),
           let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0
        {
            report(.warning, path, "\(f) is readable by group or others (mode \(String(mode, radix: 8))); use chmod 600")
        }
    }
}
