/// The shape of `mailtriage.toml` as written, decoded with `Codable`. Every key is optional here so that
/// the loader can report all missing keys at once, with their file and line; `ConfigLoader` turns this
/// into a validated `TriageConfig`.
struct ConfigFile: Decodable {
    /// Directory for the database, the trained model and the metrics file.
    var state_dir: String?
    /// SQLite database file; default `<state_dir>/mailtriage.sqlite`.
    var database: String?
    /// How often each mailbox is polled, e.g. "60s" or "5m".
    var poll_interval: String?
    /// trace, debug, info, notice, warning, error or critical (`--log-level` overrides it).
    var log_level: String?
    /// Longest wait between retries after repeated failures, e.g. "15m".
    var max_backoff: String?
    /// Largest message downloaded whole, in bytes or with a unit ("25MiB").
    var max_message_size: SizeValue?
    /// Messages committed per transaction.
    var batch_size: Int?
    /// Bytes of messages one batch holds at most, in bytes or with a unit ("64MiB").
    var batch_bytes: SizeValue?
    var mailbox: [MailboxFile]?
    /// The FAQ knowledge base directory.
    var knowledge_base: String?
    /// Calendars, target groups and policies (`service-levels.toml`), relative to this file's directory.
    var service_levels: String?
    var classifier: ClassifierFile?
    var smtp: SMTPFile?
    var answers: AnswersFile?
    var stats: StatsFile?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case state_dir, database, poll_interval, log_level, max_backoff, max_message_size, batch_size, batch_bytes, mailbox, knowledge_base, classifier
        case smtp, answers, service_levels, stats
    }
}

/// The `[stats]` table: target corridors, `[stats.corridors]` name = [worst, expected, very good].
struct StatsFile: Decodable {
    var corridors: [String: [Double]]?

    enum CodingKeys: String, CodingKey, CaseIterable { case corridors }
}

/// The `[smtp]` table.
struct SMTPFile: Decodable {
    var url: String?
    var username: String?
    var password_file: String?
    var password_credential: String?
    /// Present only to give a clear error.
    var password: String?
    var ca_file: String?
    var helo_name: String?
    /// "" (the default) sends answers with the null envelope sender <>.
    var envelope_sender: String?
    var connect_timeout: String?
    var response_timeout: String?
    /// "password" (the default) or "oauth2" (then `[smtp.oauth2]`).
    var auth: String?
    var oauth2: OAuth2File?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, username, password_file, password_credential, password, ca_file, helo_name, envelope_sender
        case connect_timeout, response_timeout, auth, oauth2
    }
}

/// The `[answers]` table.
struct AnswersFile: Decodable {
    /// Values for the knowledge base's operator placeholders.
    var placeholders: [String: String]?
    var max_per_sender: Int?
    var window: String?
    var role_sender_pattern: String?
    var message_id_domain: String?
    var max_retry_delay: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case placeholders, max_per_sender, window, role_sender_pattern, message_id_domain, max_retry_delay
    }
}

/// The `[classifier]` table.
struct ClassifierFile: Decodable {
    /// Rules file, relative to this file's directory unless absolute.
    var rules_file: String?
    /// Below this share of familiar words, confidence is scaled down.
    var minimum_coverage: Double?
    /// Languages answered automatically.
    var languages: [String]?
    /// `[classifier.thresholds]`: `default = { auto = 0.99, draft = 0.6 }`, `password = { auto = 0.98 }`.
    var thresholds: [String: ThresholdFile]?
    /// How often the daemon retrains from agents' corrections ("24h"; "0" = only on SIGHUP and `train`).
    var retrain_interval: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rules_file, minimum_coverage, languages, thresholds, retrain_interval
    }
}

struct ThresholdFile: Decodable {
    var auto: Double?
    var draft: Double?
}

/// One `[[mailbox]]` table.
struct MailboxFile: Decodable {
    /// Short unique name used in logs, metrics and the store ("support").
    var name: String?
    /// `imaps://host[:port]/FOLDER` (implicit TLS) or `imap://host[:port]/FOLDER` (STARTTLS, required).
    var url: String?
    var username: String?
    /// A file holding the password (mode 0600), or
    var password_file: String?
    /// a systemd credential name (`LoadCredential=NAME:...` in the unit).
    var password_credential: String?
    /// Present only to give a clear error: passwords never live in this file.
    var password: String?
    /// PEM file with the CA certificates to trust for this server.
    var ca_file: String?
    /// "flag" (\Seen), "flag:$Keyword", "move:Folder" or "none".
    var after_processing: String?
    var connect_timeout: String?
    var response_timeout: String?
    /// false: one libcurl transfer per command and per message instead of pipelined commands.
    var pipelining: Bool?
    /// The address answers are sent from (read by the answering stage).
    var address: String?
    /// The display name on answers.
    var display_name: String?
    /// "password" (the default) or "oauth2" (then `[mailbox.oauth2]`).
    var auth: String?
    var oauth2: OAuth2File?
    /// Who writes to this mailbox ("shop", "it-desk"): only knowledge-base entries for them (or for everyone) answer.
    var audiences: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, url, username, password_file, password_credential, password, ca_file, after_processing
        case connect_timeout, response_timeout, pipelining, address, display_name, auth, oauth2, audiences
    }
}

/// `[mailbox.oauth2]` / `[smtp.oauth2]`: where access tokens come from.
struct OAuth2File: Decodable {
    /// "client_credentials" or "refresh_token".
    var grant: String?
    var token_url: String?
    /// Microsoft Entra ID: the tenant (domain or id) gives the token URL.
    var tenant: String?
    /// "microsoft" or "google": the provider's token URL.
    var provider: String?
    var client_id: String?
    var client_secret_file: String?
    var client_secret_credential: String?
    /// Present only to give a clear error.
    var client_secret: String?
    /// Certificate credentials: the certificate (PEM) and its private key.
    var client_certificate_file: String?
    var client_key_file: String?
    var client_key_credential: String?
    /// Present only to give a clear error.
    var client_key: String?
    var scope: String?
    var refresh_token_file: String?
    var refresh_token_credential: String?
    /// Present only to give a clear error.
    var refresh_token: String?
    /// Where a rotated refresh token is written back (default: refresh_token_file).
    var refresh_token_store: String?
    var ca_file: String?
    var timeout: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case grant, token_url, tenant, provider, client_id, client_secret_file, client_secret_credential, client_secret, scope
        case client_certificate_file, client_key_file, client_key_credential, client_key
        case refresh_token_file, refresh_token_credential, refresh_token, refresh_token_store, ca_file, timeout
    }
}

/// A byte size written as an integer or as text with a unit: "512KiB", "25MiB", "1GB".
struct SizeValue: Decodable {
    var bytes: Int?
    var text: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            bytes = n
            text = "\(n)"
        } else {
            text = try c.decode(String.self)
            bytes = SizeValue.parse(text)
        }
    }

    static func parse(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: " ")
        let digits = t.prefix(while: { $0.isNumber })
        guard let n = Int(digits) else { return nil }
        let unit = t.dropFirst(digits.count).trimmingCharacters(in: " ").lowercased()
        let mult: Int
        switch unit {
        case "", "b": mult = 1
        case "k", "kb": mult = 1000
        case "kib": mult = 1024
        case "m", "mb": mult = 1_000_000
        case "mib": mult = 1 << 20
        case "g", "gb": mult = 1_000_000_000
        case "gib": mult = 1 << 30
        default: return nil
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: mult)
        return overflow ? nil : bytes
    }
}
