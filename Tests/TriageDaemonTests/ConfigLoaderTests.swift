import Foundation
import Testing
import TriageCore
@testable import TriageDaemon
@testable import TriageFiles

@Suite struct ConfigLoaderTests {
    let pwFile: String

    init() throws {
        pwFile = NSTemporaryDirectory() + "mt-pw-\(UUID().uuidString)"
        try "secret\n".write(toFile: pwFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pwFile)
    }

    func good(extraTop: String = "", extraBox: String = "") -> String {
        """
        state_dir = "/tmp/mt-state"
        poll_interval = "30s"
        \(extraTop)

        [[mailbox]]
        name = "support"
        url = "imaps://mail.example.com/INBOX"
        username = "support@example.com"
        password_file = "\(pwFile)"
        after_processing = "move:Processed"
        \(extraBox)
        """
    }

    func errors(_ text: String) -> [ConfigDiagnostic] {
        do {
            _ = try ConfigLoader.parse(text: text, file: "m.toml")
            return []
        } catch let e as ConfigError {
            return e.diagnostics.filter { $0.severity == .error }
        } catch {
            return [ConfigDiagnostic(.error, file: "?", line: nil, keyPath: "", "\(error)")]
        }
    }

    @Test func validConfigLoads() throws {
        let (c, warnings) = try ConfigLoader.parse(text: good(), file: "m.toml")
        #expect(warnings.isEmpty)
        #expect(c.pollInterval == .seconds(30))
        #expect(c.resolvedDatabasePath == "/tmp/mt-state/mailtriage.sqlite")
        #expect(c.mailboxes.count == 1)
        #expect(c.mailboxes[0].afterProcessing == .move("Processed"))
        #expect(c.mailboxes[0].password == .file(pwFile))
        #expect(try SecretReader.read(#require(c.mailboxes[0].password)) == "secret")
    }

    @Test func missingKeyNamesTheTableLine() {
        let text = good().replacingOccurrences(of: "username = \"support@example.com\"\n", with: "")
        let e = errors(text)
        #expect(e.count == 1)
        #expect(e.first?.keyPath == "mailbox[0].username")
        #expect(e.first?.line == 5)
        #expect(e.first?.description.hasPrefix("m.toml:5: error: mailbox[0].username: missing key") == true)
    }

    @Test func wrongTypeNamesKeyAndLine() {
        let e = errors(good().replacingOccurrences(of: "poll_interval = \"30s\"", with: "poll_interval = 30"))
        #expect(e.first?.keyPath == "poll_interval")
        #expect(e.first?.line == 2)
        #expect(e.first?.message == "wrong type: expected a string, found an integer")
    }

    @Test func unknownKeysAreWarnings() throws {
        let (_, warnings) = try ConfigLoader.parse(text: good(extraTop: "pol_interval = \"5m\"", extraBox: "usrname = \"x\""), file: "m.toml")
        #expect(warnings.map(\.keyPath).sorted() == ["mailbox[0].usrname", "pol_interval"])
        #expect(warnings.allSatisfy { $0.severity == .warning && $0.line != nil })
    }

    @Test func syntaxErrorHasALine() {
        let e = errors("state_dir = \"/x\"\npoll_interval = \n")
        #expect(e.count == 1 && e.first?.line == 2)
        #expect(e.first?.message.contains("syntax error") == true)
    }

    @Test func passwordInTheFileIsRefused() {
        let e = errors(good(extraBox: "password = \"hunter2\""))
        #expect(e.contains { $0.keyPath == "mailbox[0].password" && $0.message.contains("never go in this file") })
    }

    @Test func everyProblemIsReportedAtOnce() {
        let text = """
            poll_interval = "soon"
            [[mailbox]]
            name = "a b"
            url = "http://x"
            username = "u"
            after_processing = "delete"
            """
        let keys = Set(errors(text).map(\.keyPath))
        #expect(keys == ["poll_interval", "mailbox[0].name", "mailbox[0].url", "mailbox[0].password_file", "mailbox[0].after_processing"])
    }

    @Test func duplicateNamesAndNoMailbox() {
        let two = good() + "\n[[mailbox]]\nname = \"support\"\nurl = \"imaps://h\"\nusername = \"u\"\npassword_file = \"\(pwFile)\"\n"
        let e = errors(two)
        #expect(e.count == 1 && e[0].keyPath == "mailbox[1].name" && e[0].line == 13)
        #expect(errors("state_dir = \"/x\"").first?.keyPath == "mailbox")
    }

    @Test func worldReadablePasswordFileWarns() throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: pwFile)
        let (_, warnings) = try ConfigLoader.parse(text: good(), file: "m.toml")
        #expect(warnings.contains { $0.keyPath == "mailbox[0].password_file" && $0.message.contains("chmod 600") })
    }

    @Test func credentialNeedsTheCredentialsDirectory() throws {
        let text = good().replacingOccurrences(of: "password_file = \"\(pwFile)\"", with: "password_credential = \"imap\"")
        let (c, _) = try ConfigLoader.parse(text: text, file: "m.toml")
        #expect(c.mailboxes[0].password == .credential("imap"))
        #expect(throws: TriageError.self) { try SecretReader.read(.credential("imap"), environment: [:]) }
        let dir = (pwFile as NSString).deletingLastPathComponent
        let name = (pwFile as NSString).lastPathComponent
        #expect(try SecretReader.read(.credential(name), environment: ["CREDENTIALS_DIRECTORY": dir]) == "secret")
    }

    @Test func storeOnlyLoadSkipsMailboxes() throws {
        let (c, _) = try ConfigLoader.parse(text: "state_dir = \"/srv/mt\"\n[[mailbox]]\nname = \"x\"\n", file: "m.toml", mailboxes: false)
        #expect(c.resolvedDatabasePath == "/srv/mt/mailtriage.sqlite")
    }

    @Test func sizes() {
        #expect(SizeValue.parse("25MiB") == 25 << 20)
        #expect(SizeValue.parse("512 KiB") == 512 << 10)
        #expect(SizeValue.parse("1000") == 1000)
        #expect(SizeValue.parse("lots") == nil)
        #expect(SizeValue.parse("99999999999999999999") == nil)
        #expect(SizeValue.parse("9999999999999GiB") == nil, "an overflow is no size, not a crash")
    }

    @Test func batchBytesAndMessageSizeAreBounded() throws {
        #expect(try ConfigLoader.parse(text: good(), file: "m.toml").config.batchBytes == 64 << 20)
        #expect(try ConfigLoader.parse(text: good(extraTop: "batch_bytes = \"8MiB\""), file: "m.toml").config.batchBytes == 8 << 20)
        for bad in ["batch_bytes = \"512KiB\"", "batch_bytes = \"2GiB\"", "batch_bytes = \"a lot\"", "max_message_size = \"2GiB\"",
                    "max_message_size = 9223372036854775807"] {
            let e = errors(good(extraTop: bad))
            #expect(e.count == 1 && e.first?.keyPath == String(bad.prefix { $0 != " " }) && e.first?.line == 3, "\(bad): \(e)")
        }
    }
}

/// Inputs `make fuzz` found that stopped the process inside TOMLKit's parser (an assertion) or in the key
/// locator: each is now a syntax error with its line, in every TOML file we read.
@Suite struct TOMLCrashInputTests {
    /// `text` after one line, in each of the three TOML files: a syntax error on the line after that one plus
    /// the lines `text` spans (where the trap is on its last line), whose message contains `message`.
    static func expectSyntaxError(_ text: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).count + 1
        for parse in [{ try ConfigLoader.parse(text: "state_dir = \"/tmp/x\"\n" + text + "\n", file: "m.toml") as Any },
                      { try RulesLoader.parse(text: "# rules\n" + text + "\n", file: "m.toml", categories: ["password"]) as Any },
                      { try ServiceLevelsLoader.parse(text: "# levels\n" + text + "\n", file: "m.toml", categories: ["password"]) as Any }] {
            do {
                _ = try parse()
                Issue.record("\(text.debugDescription) was accepted", sourceLocation: sourceLocation)
            } catch let e as ConfigError {
                #expect(e.diagnostics.first?.line == line && e.diagnostics.first?.message.hasPrefix("TOML syntax error") == true
                        && e.diagnostics.first?.message.contains(message) == true, "\(e.diagnostics)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test(arguments: ["[$a]", "[ .a]", "[[$a]]", "[[]]", "[[ ]]", "[#a]", "[=a]", "[\u{01}]", "[é]", "x = 1\n[a]\n[ .b]"])
    func headersThatDoNotStartWithAKeyAreSyntaxErrors(header: String) {
        Self.expectSyntaxError(header, message: "a table header must start with a key")
    }

    /// Where an array waits for a value, toml++ stops the process on a "}" or a Unicode line break: the crash
    /// `make fuzz` found in a service-levels file (`weekdays = [ }"0':00-20:00"]`), and its relatives.
    @Test(arguments: ["a = [ }]", "a = [1, }]", "a = [ # c\n}]", "a = [\n\t}]", "a = [ 1, [ } ] ]", "a = { b = [ } ] }",
                      "a = [[ }]]", "a = [1, \u{2028} 2]", "a = [ \u{85} 1]", "a = { b = [ \u{2029} ] }",
                      "weekdays = [ }\"0':00-20:00\"]"])
    func valuesAnArrayCannotStartWithAreSyntaxErrors(value: String) {
        Self.expectSyntaxError(value, message: "an array needs a value")
    }

    /// Arrays that toml++ reads (or rejects with a parse error of its own) are left to it.
    @Test func ordinaryArraysPass() {
        for text in ["a = [ ]", "a = [\n  1, # one\n  2,\n]", "a = [ { b = 1 }, { c = [2] } ]", "a = [ \"}\", '}' ]",
                     "a = \"\"\"\n[ }\n\"\"\"", "a = [ ,]", "a = [1 }]", "a = { b = } }", "a = [1 \u{2028} ]"] {
            #expect(TOMLParserTraps.firstTrap(text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func valuesThatLookLikeHeadersAreValues() throws {
        let text = """
            a = [
              [1, 2],
              [ "x" ],
            ]
            b = \"\"\"
            [$not a header]
            \"\"\"
            c = "[$a]"  # [$b]
            [t]
            """
        #expect(TOMLParserTraps.firstTrap(text) == nil)
        #expect(TOMLParserTraps.firstTrap(text + "\n[$x]")?.line == 10)
        for f in ["mailtriage.toml", "rules.toml", "service-levels.toml"] {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("config/" + f).path
            #expect(TOMLParserTraps.firstTrap(try String(contentsOfFile: path, encoding: .utf8)) == nil, "\(f)")
        }
    }
}

@Suite struct TOMLKeyLocatorTests {
    @Test func findsKeysInTablesAndArrays() {
        let text = """
            a = 1
            [smtp]
            url = "x"
            [[mailbox]]
            name = "one"
            [[mailbox]]
              "name" = "two"
            """
        let l = TOMLKeyLocator(text: text)
        #expect(l.line(for: ["a"]) == 1)
        #expect(l.line(for: ["smtp", "url"]) == 3)
        #expect(l.line(for: ["mailbox", "0", "name"]) == 5)
        #expect(l.line(for: ["mailbox", "1", "name"]) == 7)
        #expect(l.line(for: ["mailbox", "1", "missing"]) == 6)
        #expect(l.line(for: ["mailbox"]) == 4)
        #expect(l.line(for: ["nothing"]) == nil)
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        components(separatedBy: a).joined(separator: b)
    }
}


/// `auth = "oauth2"` for mailboxes and `[smtp]`.
@Suite struct OAuth2ConfigTests {
    let secretFile: String

    init() throws {
        secretFile = NSTemporaryDirectory() + "mt-oauth-secret-\(UUID().uuidString)"
        try "s\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile)
    }

    func text(_ oauth: String, auth: String = "auth = \"oauth2\"", extra: String = "") -> String {
        """
        [[mailbox]]
        name = "support"
        url = "imaps://outlook.office365.com/INBOX"
        username = "support@contoso.example"
        \(auth)
        \(extra)
        [mailbox.oauth2]
        \(oauth)
        """
    }

    func firstError(_ t: String) -> ConfigDiagnostic? {
        do { _ = try ConfigLoader.parse(text: t, file: "m.toml"); return nil } catch let e as ConfigError {
            return e.diagnostics.first { $0.severity == .error }
        } catch { return nil }
    }

    @Test func microsoftAppOnly() throws {
        let (c, warnings) = try ConfigLoader.parse(text: text("""
            grant = "client_credentials"
            tenant = "contoso.onmicrosoft.com"
            client_id = "00000000-1111-2222-3333-444444444444"
            client_secret_file = "\(secretFile)"
            scope = "https://outlook.office365.com/.default"
            """), file: "m.toml")
        #expect(warnings.isEmpty, "\(warnings)")
        let o = try #require(c.mailboxes[0].oauth2)
        #expect(o.grant == .clientCredentials && o.tokenURL == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        #expect(o.clientSecret == .file(secretFile) && c.mailboxes[0].password == nil)
    }

    @Test func certificateCredentialsInsteadOfASecret() throws {
        let (c, _) = try ConfigLoader.parse(text: text("""
            grant = "client_credentials"
            tenant = "contoso.onmicrosoft.com"
            client_id = "app"
            client_certificate_file = "\(secretFile)"
            client_key_file = "\(secretFile)"
            scope = "https://outlook.office365.com/.default"
            """), file: "m.toml")
        let o = try #require(c.mailboxes[0].oauth2)
        #expect(o.clientCertificate == secretFile && o.clientKey == .file(secretFile) && o.clientSecret == nil)
        let both = firstError(text("""
            grant = "client_credentials"
            tenant = "contoso.onmicrosoft.com"
            client_id = "app"
            client_secret_file = "\(secretFile)"
            client_certificate_file = "\(secretFile)"
            client_key_file = "\(secretFile)"
            scope = "s"
            """))
        #expect(both?.keyPath == "mailbox[0].oauth2.client_certificate_file" && both?.message.contains("not both") == true)
        let noKey = firstError(text("""
            grant = "client_credentials"
            tenant = "contoso.onmicrosoft.com"
            client_id = "app"
            client_certificate_file = "\(secretFile)"
            scope = "s"
            """))
        #expect(noKey?.keyPath == "mailbox[0].oauth2.client_key_file", "\(String(describing: noKey))")
    }

    @Test func googleRefreshTokenIsStoredBackInItsFile() throws {
        let (c, _) = try ConfigLoader.parse(text: text("""
            grant = "refresh_token"
            provider = "google"
            client_id = "app.apps.googleusercontent.com"
            client_secret_file = "\(secretFile)"
            refresh_token_file = "\(secretFile)"
            """), file: "m.toml")
        let o = try #require(c.mailboxes[0].oauth2)
        #expect(o.tokenURL == OAuth2Config.googleTokenURL && o.refreshToken == .file(secretFile) && o.refreshTokenStore == secretFile)
    }

    @Test(arguments: [
        ("grant = \"password\"\nclient_id = \"x\"\ntoken_url = \"https://t.example/token\"", "mailbox[0].oauth2.grant", "is not \"client_credentials\""),
        ("grant = \"client_credentials\"\nclient_id = \"x\"\ntoken_url = \"http://t.example/token\"\nscope = \"s\"\nclient_secret_file = \"SECRET\"", "mailbox[0].oauth2.token_url", "is not an https:// URL"),
        ("grant = \"client_credentials\"\nclient_id = \"x\"\ntoken_url = \"https://t.example/token\"\nscope = \"s\"\nclient_secret = \"inline\"", "mailbox[0].oauth2.client_secret", "secrets never go in this file"),
        ("grant = \"client_credentials\"\nclient_id = \"x\"\ntenant = \"contoso.example\"\nclient_secret_file = \"SECRET\"", "mailbox[0].oauth2.scope", "missing key"),
        ("grant = \"refresh_token\"\nclient_id = \"x\"\nprovider = \"google\"", "mailbox[0].oauth2.refresh_token_file", "missing key"),
        ("grant = \"refresh_token\"\nprovider = \"google\"\nrefresh_token_file = \"SECRET\"", "mailbox[0].oauth2.client_id", "missing key"),
        // A credential is read-only: the rotated token needs a file of its own.
        ("grant = \"refresh_token\"\nclient_id = \"x\"\nprovider = \"google\"\nclient_secret_file = \"SECRET\"\nrefresh_token_credential = \"rt\"",
         "mailbox[0].oauth2.refresh_token_store", "missing key"),
    ])
    func mistakesNameTheKey(oauth: String, key: String, message: String) {
        let e = firstError(text(oauth.replacingOccurrences(of: "SECRET", with: secretFile)))
        #expect(e?.keyPath == key && e?.message.contains(message) == true, "\(String(describing: e))")
        #expect(e?.line != nil)
    }

    @Test func passwordAndOAuthDoNotMix() {
        let oauth = "grant = \"client_credentials\"\nclient_id = \"x\"\ntenant = \"c.example\"\nscope = \"s\"\nclient_secret_file = \"\(secretFile)\""
        #expect(firstError(text(oauth, extra: "password_file = \"\(secretFile)\""))?.keyPath == "mailbox[0].password_file")
        #expect(firstError(text(oauth, auth: ""))?.message.contains("needs auth = \"oauth2\"") == true)
        #expect(firstError(text(oauth, auth: "auth = \"kerberos\""))?.keyPath == "mailbox[0].auth")
    }
}
