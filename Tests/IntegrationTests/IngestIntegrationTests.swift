import Foundation
import Testing
import TriageCore
import TriageStore
@testable import TriageMail
#if canImport(Glibc)
import Glibc
#endif

/// Ingest end to end: the mailtriage binary against the real Dovecot started by `make test`.
@Suite(.serialized) struct IngestIntegrationTests {
    let server: MailServer

    init() throws {
        server = try MailServer.fromEnvironment()
    }

    @Test func twoHundredMessagesThenNoneThenFiftyMore() throws {
        let user = MailServer.newUser()
        try server.deliver(user, (0..<200).map { testMessage($0) })
        let setup = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile)

        let first = try setup.serveOnce()
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("200 new, 200 stored"))
        let store = try SQLiteTicketStore(path: setup.databasePath)
        #expect(try store.counts().tickets == 200)
        #expect(try store.counts().messages == 200)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == 200)
        // Mail that was there before the first connection is never answered automatically.
        #expect(try store.tickets(TicketQuery()).allSatisfy { !$0.autoEligible })

        let second = try setup.serveOnce()
        #expect(second.status == 0)
        #expect(try store.counts().tickets == 200)

        try server.deliver(user, (200..<250).map { testMessage($0) })
        let third = try setup.serveOnce()
        #expect(third.status == 0, "stderr: \(third.stderr)")
        #expect(try store.counts().tickets == 250)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == 250)
        #expect(try store.tickets(TicketQuery()).filter(\.autoEligible).count == 50)

        let list = try CLI.run(["queue", "list", "--json", "--config", setup.configPath])
        #expect(list.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 250)
        #expect(decoded?.first?["state"] as? String == "open")
    }

    @Test func startTLSWithMoveToAFolder() throws {
        let user = MailServer.newUser()
        try server.deliver(user, (0..<20).map { testMessage($0) })
        let setup = try TestSetup(user: user, url: server.startTLSURL, after: "move:Processed", caFile: server.caFile)
        let r = try setup.serveOnce()
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(try server.count(user, search: "ALL") == 0)
        #expect(try server.count(user, search: "ALL", folder: "Processed") == 20)
        #expect(try SQLiteTicketStore(path: setup.databasePath).counts().tickets == 20)
    }

    @Test func moveCreatesAMissingFolder() throws {
        let user = MailServer.newUser()
        try server.deliver(user, [testMessage(1)])
        let setup = try TestSetup(user: user, url: server.imapsURL, after: "move:Archive/Triaged", caFile: server.caFile)
        let r = try setup.serveOnce()
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(try server.count(user, search: "ALL", folder: "Archive/Triaged") == 1)
    }

    @Test func sigkillDuringALargeFetchLosesAndDuplicatesNothing() throws {
        let user = MailServer.newUser()
        let total = 3000
        try server.deliver(user, (0..<total).map { testMessage($0, size: 5000) })
        let setup = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: "batch_size = 25")
        let (process, _, errPath) = try CLI.start(["serve", "--once", "--config", setup.configPath, "--log-level", "error"])
        // Wait until part of the mailbox is committed, then kill without warning.
        var seen = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: setup.databasePath),
               let s = try? SQLiteTicketStore(path: setup.databasePath), let c = try? s.counts(), c.locations >= 200
            {
                seen = c.locations
                break
            }
            usleep(5000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal,
                "serve ended by itself: \((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        let store = try SQLiteTicketStore(path: setup.databasePath)
        let atKill = try store.counts()
        #expect(seen >= 200)
        #expect(atKill.locations < total, "the fetch had finished before the kill; the test proves nothing")

        let resumed = try setup.serveOnce()
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let after = try store.counts()
        #expect(after.messages == total)
        #expect(after.locations == total)
        #expect(after.tickets == total)
        #expect(try store.pendingServerActions(mailbox: "support", uidValidity: store.cursor(mailbox: "support")!.uidValidity).isEmpty)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == total)
    }

    @Test func uidValidityChangeDoesNotReimport() throws {
        let user = MailServer.newUser()
        try server.deliver(user, (0..<10).map { testMessage($0) })
        let setup = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile)
        #expect(try setup.serveOnce().status == 0)
        let store = try SQLiteTicketStore(path: setup.databasePath)
        let before = try #require(try store.cursor(mailbox: "support"))
        // Dovecot renumbers a Maildir with a new UIDVALIDITY when its UID list and indexes are lost.
        let md = "\(server.dir)/mail/\(user)/Maildir"
        for f in try FileManager.default.contentsOfDirectory(atPath: md) where f.hasPrefix("dovecot") {
            try FileManager.default.removeItem(atPath: md + "/" + f)
        }
        usleep(1_100_000)  // UIDVALIDITY is a timestamp in seconds: make sure it differs
        let r = try setup.serveOnce()
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("10 duplicate"))
        #expect(try store.cursor(mailbox: "support")?.uidValidity != before.uidValidity)
        #expect(try store.counts().tickets == 10)
    }

    @Test func wrongPasswordGivesOneClearLine() throws {
        let setup = try TestSetup(user: "alice", url: server.imapsURL, caFile: server.caFile, password: "wrong")
        let r = try setup.serveOnce()
        #expect(r.status != 0)
        #expect(r.stderrLines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("mailbox support") && r.stderr.contains("login denied"))
    }

    @Test func unreachableServerGivesOneClearLine() throws {
        let setup = try TestSetup(user: "alice", url: "imaps://127.0.0.1:1/INBOX", caFile: server.caFile)
        let r = try setup.serveOnce()
        #expect(r.status != 0)
        #expect(r.stderrLines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("mailbox support") && r.stderr.lowercased().contains("connect"))
    }

    @Test(arguments: [true, false])
    func untrustedCertificateGivesOneClearLine(implicitTLS: Bool) throws {
        // No ca_file: the throwaway CA is not in the system store, so verification must fail.
        let setup = try TestSetup(user: "alice", url: implicitTLS ? server.imapsURL : server.startTLSURL, caFile: nil, password: "alicepw")
        let r = try setup.serveOnce()
        #expect(r.status != 0)
        #expect(r.stderrLines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("TLS failed"))
        if FileManager.default.fileExists(atPath: setup.databasePath) {
            #expect(try SQLiteTicketStore(path: setup.databasePath).counts().messages == 0)
        }
    }

    @Test func checkConfigExitCodes() throws {
        let setup = try TestSetup(user: "alice", url: server.imapsURL, caFile: server.caFile)
        let good = try CLI.run(["check-config", "--config", setup.configPath])
        #expect(good.status == 0 && good.stdout.contains("OK"))
        try "poll_interval = 5\n[[mailbox]]\nname = \"x\"\n".write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["check-config", "--config", setup.configPath])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(setup.configPath):1: error: poll_interval: wrong type"))
        #expect(bad.stderr.contains("mailbox[0].url: missing key"))
    }
}

/// The libcurl IMAP adapter itself against the real server.
@Suite struct IMAPMailboxIntegrationTests {
    let server: MailServer

    init() throws {
        server = try MailServer.fromEnvironment()
    }

    func mailbox(_ user: String, url: String? = nil) -> IMAPMailbox {
        IMAPMailbox(options: .init(url: IMAPURL(url ?? server.imapsURL)!, username: user, password: "test", caFile: server.caFile))
    }

    @Test func keptConnectionSeesNewMailAndIsReused() async throws {
        let user = MailServer.newUser()
        let box = mailbox(user)
        try server.deliver(user, [testMessage(1)])
        let s1 = try await box.status()
        #expect(s1.messages == 1)
        #expect(try await box.searchUIDs(after: 0) == [1])
        try server.deliver(user, [testMessage(2), testMessage(3)])
        let s2 = try await box.status()
        #expect(s2.messages == 3)
        #expect(try await box.searchUIDs(after: 1) == [2, 3])
        #expect(await box.lastCommandConnects() == 0)
    }

    @Test func fetchIsByteExactAndInfoHasSizes() async throws {
        let user = MailServer.newUser()
        let m = testMessage(7, size: 120_000)
        try server.deliver(user, [m])
        let box = mailbox(user, url: server.startTLSURL)
        _ = try await box.status()
        let info = try await box.messageInfo(of: [1])
        #expect(info[1]?.size == m.count)
        #expect(info[1]?.internalDate != nil)
        #expect(try await box.fetchMessage(uid: 1, limit: m.count) == m)
        let header = try await box.fetchHeader(uid: 1)
        #expect(header.count < 400 && String(decoding: header, as: UTF8.self).hasSuffix("\r\n\r\n"))
        // A whole fetch is bounded too: beyond the limit it fails instead of reading on.
        do {
            _ = try await box.fetchMessage(uid: 1, limit: 50_000)
            Issue.record("a fetch read beyond its limit")
        } catch let e as TriageError {
            #expect(e.code == .limitExceeded, "\(e)")
        }
    }

    @Test func searchOfAnEmptyRangeFindsNothing() async throws {
        let user = MailServer.newUser()
        try server.deliver(user, [testMessage(1)])
        let box = mailbox(user)
        _ = try await box.status()
        // "UID 2:*" matches the highest UID when nothing is above it; that must not come back.
        #expect(try await box.searchUIDs(after: 1).isEmpty)
    }
}
