import Foundation
import Testing
import TriageCore
import TriageMIME
@testable import TriageMail

/// Sending through libcurl to the real aiosmtpd receiver (STARTTLS required, test CA) started by `make test`.
@Suite(.serialized) struct SMTPIntegrationTests {
    let server: MailServer
    let smtpPort: Int

    init() throws {
        server = try MailServer.fromEnvironment()
        smtpPort = Int(ProcessInfo.processInfo.environment["SMTP_PORT"] ?? "") ?? 10025
    }

    var captured: String { server.dir + "/smtp/captured/new" }

    /// The captured message that carries `marker`, waiting briefly for the receiver to write it.
    func capturedMessage(containing marker: String) throws -> String? {
        for _ in 0..<100 {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: captured)) ?? [] {
                if let s = try? String(contentsOfFile: captured + "/" + f, encoding: .utf8), s.contains(marker) { return s }
            }
            usleep(20_000)
        }
        return nil
    }

    func settings(ca: Bool = true, port: Int? = nil) -> SMTPSettings {
        var s = SMTPSettings(url: "smtp://localhost:\(port ?? smtpPort)", caFile: ca ? server.caFile : nil, heloName: "mailtriage.test")
        s.connectTimeout = .seconds(10)
        return s
    }

    @Test func answerIsDeliveredWithNullSenderOverSTARTTLS() async throws {
        let token = UUID().uuidString.prefix(8).lowercased()
        let id = ReplyComposer.messageID(ticket: 7, token: String(token), domain: "mailtriage.example.com")
        let raw = ReplyComposer().render(.init(
            from: MailAddress(name: "Example Support", address: "support@example.com"),
            to: MailAddress(name: "Jürgen Weiß", address: "j@example.de"),
            subject: ReplyComposer.subject(original: "Passwort vergessen", ticket: 7), messageID: id,
            inReplyTo: "orig@example.de", references: ["orig@example.de"], date: 1_795_341_600,
            body: "Hallo Jürgen,\n.\nein Punkt allein in einer Zeile bleibt erhalten.\nGrüße"))
        let sender = SMTPSender(settings: settings())
        let code = try await sender.send(raw, from: "", to: ["j@example.de"])
        #expect(code == 250)
        // The connection is kept: a second answer goes over the same one.
        try await sender.send(raw, from: "", to: ["j@example.de"])
        await sender.disconnect()
        let got = try #require(try capturedMessage(containing: id))
        #expect(got.contains("X-MailFrom: <>"))
        #expect(got.contains("X-RcptTo: j@example.de"))
        let m = MIMEParser.parse(Array(got.utf8))
        #expect(m.envelope.subject == "Re: Passwort vergessen [#7]")
        #expect(m.text.contains("\n.\n"))
        #expect(m.headers["Auto-Submitted"] == "auto-replied")
    }

    @Test func untrustedCertificateIsAPermanentTLSError() async {
        let sender = SMTPSender(settings: settings(ca: false))
        do {
            try await sender.send(Array("Subject: x\r\n\r\nx\r\n".utf8), from: "support@example.com", to: ["a@example.org"])
            Issue.record("sent without verifying the certificate")
        } catch let e as TriageError {
            #expect(e.code == .tls && !e.isTransient, "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func closedPortIsTransient() async {
        let sender = SMTPSender(settings: settings(port: 1))
        do {
            try await sender.send(Array("Subject: x\r\n\r\nx\r\n".utf8), from: "", to: ["a@example.org"])
            Issue.record("sent to a closed port")
        } catch let e as TriageError {
            #expect(e.isTransient && e.code == .connection, "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func envelopeInjectionIsRefused() async {
        let sender = SMTPSender(settings: settings())
        await #expect(throws: TriageError.self) {
            try await sender.send(Array("x".utf8), from: "", to: ["a@example.org>\r\nRCPT TO:<b@example.org"])
        }
    }
}
