/// The daemon's static settings (`mailtriage.toml`). Every value has a default except the mailboxes.
public struct TriageConfig: Sendable, Equatable {
    /// Where the database, the model and metrics live (`state_dir`).
    public var stateDir: String = "/var/lib/mailtriage"
    /// The SQLite database file (`database`); default `<state_dir>/mailtriage.sqlite`.
    public var databasePath: String?
    /// How much the daemon logs (`log_level`); `--log-level` overrides it.
    public var logLevel = "info"
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// How often each mailbox is polled (`poll_interval`).
    public var pollInterval: Duration = .seconds(60)
    /// Longest wait between retries after repeated server failures (`max_backoff`).
    public var maxBackoff: Duration = .seconds(900)
    /// Messages larger than this are not downloaded whole; their header becomes a ticket for a human
    /// (`max_message_size`).
    public var maxMessageBytes: Int = 25 * 1024 * 1024
    /// How many messages are committed in one transaction (`batch_size`).
    public var batchSize: Int = 50
    /// How many bytes of messages one batch holds at most, downloading and processing (`batch_bytes`); a
    /// batch takes at least one message whatever its size.
    public var batchBytes: Int = 64 * 1024 * 1024
    /// The mailboxes to poll (`[[mailbox]]`).
    public var mailboxes: [MailboxConfig] = []
    /// The FAQ knowledge base directory (`knowledge_base`).
    public var knowledgeBase: String?
    /// Calendars, target groups and policies (`service_levels`); nil: no service levels.
    public var serviceLevelsFile: String?
    /// Classification settings (`[classifier]`).
    public var classifier = ClassifierConfig()
    /// Where automatic answers are sent (`[smtp]`); nil: no automatic answers.
    public var smtp: SMTPConfig?
    /// Automatic answers (`[answers]`).
    public var answers = AnswersConfig()
    /// Target corridors for `mailtriage stats` (`[stats.corridors]`).
    public var corridors: [String: Corridor] = Corridor.defaults

    public init() {}

    /// The database file this configuration uses.
    public var resolvedDatabasePath: String {
        databasePath ?? (stateDir.hasSuffix("/") ? stateDir : stateDir + "/") + "mailtriage.sqlite"
    }
}

/// One IMAP mailbox to poll (`[[mailbox]]`).
public struct MailboxConfig: Sendable, Equatable {
    public var name: String
    public var url: IMAPURL
    public var username: String
    /// Where the password comes from; never the config file itself. Nil with `oauth2`.
    public var password: SecretSource?
    /// `auth = "oauth2"`: log in with an access token from this token source (XOAUTH2 / OAUTHBEARER).
    public var oauth2: OAuth2Config?
    /// A PEM file of CA certificates to trust instead of the system store (`ca_file`).
    public var caFile: String?
    public var afterProcessing: AfterProcessing = .flag("\\Seen")
    /// TCP connect, TLS handshake and login (`connect_timeout`).
    public var connectTimeout: Duration = .seconds(15)
    /// Longest wait for any one server response (`response_timeout`).
    public var responseTimeout: Duration = .seconds(60)
    /// Commands pipelined over one connection, many messages per `UID FETCH` (`pipelining`); false: one
    /// transfer per command and per message.
    public var pipelining = true
    /// The address answers are sent from and customers write to (`address`).
    public var address: String?
    /// The display name on answers (`display_name`).
    public var displayName: String?
    /// Who writes to this mailbox (`audiences`, e.g. ["shop"]): only knowledge-base entries for one of them,
    /// or for everyone, answer its mail. Empty: every entry.
    public var audiences: [String] = []

    public init(name: String, url: IMAPURL, username: String, password: SecretSource?, oauth2: OAuth2Config? = nil) {
        self.name = name
        self.url = url
        self.username = username
        self.password = password
        self.oauth2 = oauth2
    }
}

/// An OAuth2 token source (`[mailbox.oauth2]`, `[smtp.oauth2]`): where access tokens for XOAUTH2 / OAUTHBEARER
/// logins come from. Secrets are files or systemd credentials, never values in the configuration.
public struct OAuth2Config: Sendable, Equatable {
    public enum Grant: String, Sendable, Equatable, CaseIterable {
        /// App-only access (Microsoft 365: `IMAP.AccessAsApp`, `SMTP.SendAsApp`): client id and secret.
        case clientCredentials = "client_credentials"
        /// Delegated access (Google, Microsoft): a long-lived refresh token for one user.
        case refreshToken = "refresh_token"
    }

    public var grant: Grant
    /// The token endpoint (https only).
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: SecretSource?
    /// Certificate credentials instead of a secret (Microsoft Entra ID): the certificate (PEM) whose private key
    /// signs a client assertion (RFC 7523), and that key.
    public var clientCertificate: String?
    public var clientKey: SecretSource?
    public var scope: String?
    /// The refresh token (`refresh_token` grant).
    public var refreshToken: SecretSource?
    /// Where a refresh token the provider rotates is written back (0600, atomically): by default the
    /// refresh token's own file; a systemd credential is read-only, so then this must be set.
    public var refreshTokenStore: String?
    /// CA certificates for the token endpoint instead of the system store.
    public var caFile: String?
    public var timeout: Duration = .seconds(30)

    public init(grant: Grant, tokenURL: String, clientID: String) {
        self.grant = grant
        self.tokenURL = tokenURL
        self.clientID = clientID
    }

    /// Microsoft Entra ID's v2.0 token endpoint of a tenant.
    public static func microsoftTokenURL(tenant: String) -> String { "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0/token" }
    public static let googleTokenURL = "https://oauth2.googleapis.com/token"
}

/// Where a secret is read from at start-up.
public enum SecretSource: Sendable, Equatable {
    /// A file holding the secret (trailing line breaks are ignored); it should be mode 0600.
    case file(String)
    /// A systemd credential name, read from `$CREDENTIALS_DIRECTORY/<name>` (`LoadCredential=`).
    case credential(String)
}

/// What happens on the server after a message is safely committed to the store.
public enum AfterProcessing: Sendable, Equatable, CustomStringConvertible {
    /// Leave the message as it is (the store's cursor is what counts).
    case none
    /// Add a flag or keyword, `\Seen` by default (`"flag"` or `"flag:$Triaged"`).
    case flag(String)
    /// Move to a folder (`"move:Processed"`), with COPY + EXPUNGE where the server lacks MOVE.
    case move(String)

    /// Parses the config form; nil when it is none of `none`, `flag`, `flag:KEYWORD`, `move:FOLDER`.
    public init?(configValue v: String) {
        if v == "none" { self = .none }
        else if v == "flag" { self = .flag("\\Seen") }
        else if v.hasPrefix("flag:"), let kw = AfterProcessing.validFlag(String(v.dropFirst(5))) { self = .flag(kw) }
        else if v.hasPrefix("move:"), v.count > 5, !v.contains("\r"), !v.contains("\n"), !v.contains("\"") {
            self = .move(String(v.dropFirst(5)))
        } else { return nil }
    }

    static func validFlag(_ f: String) -> String? {
        // An IMAP flag is an atom, optionally with a leading backslash; nothing that could inject a command.
        let body = f.hasPrefix("\\") ? f.dropFirst() : Substring(f)
        guard !body.isEmpty, body.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"(){%*\"\\]".utf8.contains($0) }) else {
            return nil
        }
        return f
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .flag(let f): return f == "\\Seen" ? "flag" : "flag:\(f)"
        case .move(let m): return "move:\(m)"
        }
    }
}

/// A parsed `imap://` or `imaps://` URL: host, port, folder and how TLS is used.
public struct IMAPURL: Sendable, Equatable, CustomStringConvertible {
    public enum Security: String, Sendable { case implicitTLS = "imaps", startTLS = "imap" }
    public var security: Security
    public var host: String
    public var port: Int
    public var folder: String

    /// Parses `imaps://host[:port]/FOLDER` (implicit TLS) or `imap://host[:port]/FOLDER` (STARTTLS,
    /// always required). The folder defaults to INBOX.
    public init?(_ s: String) {
        let sec: Security
        var rest: Substring
        if s.lowercased().hasPrefix("imaps://") { sec = .implicitTLS; rest = s.dropFirst(8) }
        else if s.lowercased().hasPrefix("imap://") { sec = .startTLS; rest = s.dropFirst(7) }
        else { return nil }
        var folder = "INBOX"
        if let slash = rest.firstIndex(of: "/") {
            let f = rest[rest.index(after: slash)...]
            if !f.isEmpty { folder = String(f).removingPercentEncodingLenient() }
            rest = rest[..<slash]
        }
        guard !rest.contains("@") else { return nil }  // credentials never belong in the URL
        var host = String(rest)
        var port = sec == .implicitTLS ? 993 : 143
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
            host = String(host[...close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { return nil }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty, (1...65535).contains(port), !folder.contains("\r"), !folder.contains("\n") else { return nil }
        self.security = sec
        self.host = host
        self.port = port
        self.folder = folder
    }

    /// The server part, e.g. `imaps://mail.example.com:993`.
    public var serverURL: String { "\(security.rawValue)://\(host):\(port)" }
    public var description: String { "\(serverURL)/\(folder)" }
}

extension String {
    func removingPercentEncodingLenient() -> String {
        guard contains("%") else { return self }
        var out: [UInt8] = []
        let u = Array(utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let v = UInt8(String(decoding: u[i + 1...i + 2], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The `[classifier]` table: thresholds per category, the rules file, familiarity.
public struct ClassifierConfig: Sendable, Equatable {
    /// The rules file (`rules_file`); relative paths are relative to the config file.
    public var rulesFile: String?
    /// Thresholds, languages and categories; the rules are loaded from `rulesFile`.
    public var settings = ClassifierSettings()
    /// How often the daemon retrains from agents' corrections when there are new ones (nil: only on SIGHUP).
    public var retrainInterval: Duration? = .seconds(86400)

    public init() {}

    public static func == (a: ClassifierConfig, b: ClassifierConfig) -> Bool {
        a.rulesFile == b.rulesFile && a.retrainInterval == b.retrainInterval && a.settings.thresholds == b.settings.thresholds
            && a.settings.defaultThresholds == b.settings.defaultThresholds && a.settings.categories == b.settings.categories
            && a.settings.minimumCoverage == b.settings.minimumCoverage && a.settings.languages == b.settings.languages
    }
}

/// The `[smtp]` table: the server automatic answers go through.
public struct SMTPConfig: Sendable, Equatable {
    /// `smtp://host:587` (STARTTLS required) or `smtps://host:465`.
    public var url: String
    public var username: String?
    public var password: SecretSource?
    /// `auth = "oauth2"`: log in with an access token (XOAUTH2 / OAUTHBEARER) instead of a password.
    public var oauth2: OAuth2Config?
    public var caFile: String?
    /// EHLO name; default: the domain of the first mailbox address.
    public var heloName: String?
    /// Envelope sender of automatic answers: "" is the null sender `<>` (RFC 3834), the default.
    public var envelopeSender = ""
    public var connectTimeout: Duration = .seconds(15)
    public var responseTimeout: Duration = .seconds(60)

    public init(url: String) { self.url = url }
}

/// The `[answers]` table.
public struct AnswersConfig: Sendable, Equatable {
    /// Operator values for `{{placeholder}}`s in the knowledge base (`company`, `shop_url`, ...).
    public var placeholders: [String: String] = [:]
    /// Automatic answers to one sender within `window`.
    public var maxPerSender = 3
    public var window: Duration = .seconds(24 * 3600)
    /// Local parts of senders never answered (a regular expression); nil: the built-in list.
    public var roleSenderPattern: String?
    /// Domain of the Message-IDs of our answers; default: the domain of the first mailbox address.
    public var messageIDDomain: String?
    /// Longest wait between retries of an unsent answer.
    public var maxRetryDelay: Duration = .seconds(3600)

    public init() {}
}

/// A target corridor for a figure: worst acceptable, expected, very good. Higher is better unless the values
/// fall (the share of unhelpful answers).
public struct Corridor: Sendable, Equatable, Codable {
    public var worst: Double
    public var expected: Double
    public var veryGood: Double

    public init(worst: Double, expected: Double, veryGood: Double) {
        self.worst = worst
        self.expected = expected
        self.veryGood = veryGood
    }

    /// The figures corridors can be set for.
    public static let figures = ["automation_rate", "sla_compliance", "unhelpful_rate"]

    public static let defaults: [String: Corridor] = [
        "automation_rate": Corridor(worst: 0.10, expected: 0.20, veryGood: 0.30),
        "sla_compliance": Corridor(worst: 0.80, expected: 0.90, veryGood: 0.97),
        "unhelpful_rate": Corridor(worst: 0.20, expected: 0.10, veryGood: 0.05),
    ]

    /// Where `value` stands: "below worst", "below expected", "expected", "very good".
    public func rating(_ value: Double) -> String {
        let up = veryGood >= worst
        func atLeast(_ a: Double, _ b: Double) -> Bool { up ? a >= b : a <= b }
        if atLeast(value, veryGood) { return "very good" }
        if atLeast(value, expected) { return "expected" }
        if atLeast(value, worst) { return "below expected" }
        return "below worst"
    }
}
