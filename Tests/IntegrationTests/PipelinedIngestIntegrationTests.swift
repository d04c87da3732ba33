import Foundation
import GRDB
import Testing
import TriageCore
import TriageStore
@testable import TriageMail

/// Pipelined ingest (`IMAPSession`: libcurl connects and logs in, many messages per `UID FETCH`) against the real
/// Dovecot, beside the one-transfer-per-message path it replaced as the default.
@Suite(.serialized) struct PipelinedIngestIntegrationTests {
    let server: MailServer

    init() throws {
        server = try MailServer.fromEnvironment()
    }

    /// Both paths store the same bytes the server holds, flag every message after recording it, and keep
    /// a message over `max_message_size` as its header only.
    @Test(arguments: [true, false])
    func everyMessageByteExactAndTheOversizedOneAsItsHeader(pipelining: Bool) throws {
        let user = MailServer.newUser("pl")
        var messages = (0..<120).map { testMessage($0, size: 800 + $0 * 37) }
        messages.insert(testMessage(999, size: 200_000), at: 60)
        try server.deliver(user, messages)
        let setup = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: "max_message_size = 65536\nbatch_size = 25",
                                  mailboxExtra: "pipelining = \(pipelining)")
        let r = try setup.serveOnce()
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(storeInt(setup, "SELECT count(*) FROM message") == 121)
        #expect(storeInt(setup, "SELECT count(*) FROM ticket") == 121)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == 121)
        // Dovecot numbers new Maildir files in its own order: compare contents, not UIDs.
        let rows = storeRows(setup, "SELECT r.raw, m.truncated, m.size FROM message m JOIN message_raw r ON r.message_row = m.id")
        let whole = Set(rows.filter { $0["truncated"] as Bool? == false }.map { [UInt8]($0["raw"] as Data) })
        #expect(whole.count == 120)
        #expect(whole == Set(messages.filter { $0.count <= 65536 }), "stored bytes differ from the delivered ones")
        let big = messages[60]
        let cut = try #require(rows.first { $0["truncated"] as Bool? == true })
        #expect(cut["size"] as Int? == big.count)
        let header = Array(big[..<(big.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound)])
        #expect([UInt8](cut["raw"] as Data) == header, "the oversized message is stored as its header")
    }

    /// The connection is cut in the middle of a pipelined fetch (inside a message): the cycle ends with a
    /// connection error, what was complete is recorded, and the next cycle brings the rest, each message once.
    @Test func connectionCutInTheMiddleOfAPipelinedFetchLosesAndDuplicatesNothing() throws {
        let proxy = try FaultServer(["proxy", "--target", "127.0.0.1:\(server.imapsPort)"])
        defer { proxy.stop() }
        let user = MailServer.newUser("pc")
        let total = 400
        try server.deliver(user, (0..<total).map { testMessage($0, size: 5000) })
        let setup = try TestSetup(user: user, url: "imaps://127.0.0.1:\(proxy.port)/INBOX", caFile: server.caFile, extra: "batch_size = 50")
        // Past the login, the sizes and the first batches, in the middle of a message.
        #expect(try proxy.control("cut 1000000") == "ok")
        let first = try setup.serveOnce()
        #expect(first.status != 0, "the cut did not end the cycle: \(first.stdout)")
        #expect(first.stderr.contains("connection") || first.stderr.contains("closed"), "stderr: \(first.stderr)")
        let afterCut = storeInt(setup, "SELECT count(*) FROM message") ?? -1
        #expect(afterCut > 0 && afterCut < total, "recorded before the cut: \(afterCut)")
        // Flags only for what is recorded.
        #expect(try server.count(user, search: "KEYWORD $Triaged") == afterCut)

        let second = try setup.serveOnce()
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(storeInt(setup, "SELECT count(*) FROM message") == total)
        #expect(storeInt(setup, "SELECT count(DISTINCT message_id) FROM message") == total)
        #expect(storeInt(setup, "SELECT count(*) FROM message_location") == total)
        #expect(storeInt(setup, "SELECT count(*) FROM ticket") == total)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == total)
    }

    /// Requests for UIDs that are gone come back as `.notFound` in their place; the others arrive, in order.
    @Test func aMissingUIDInTheMiddleOfABatch() async throws {
        let user = MailServer.newUser("pm")
        let messages = (0..<5).map { testMessage($0) }
        try server.deliver(user, messages)
        let box = IMAPMailbox(options: .init(url: IMAPURL(server.imapsURL)!, username: user, password: "test", caFile: server.caFile))
        _ = try await box.status()
        let results = await box.download([1, 2, 9, 4].map { DownloadRequest(uid: $0, headerOnly: false, limit: 1 << 20) })
        #expect(results.count == 4)
        // UIDs follow Dovecot's order of the Maildir files: each fetched message is one of those delivered.
        let delivered = Set(messages)
        #expect(try [0, 1, 3].allSatisfy { delivered.contains(try results[$0].get()) })
        if case .failure(let e) = results[2] { #expect(e.code == .notFound) } else { Issue.record("UID 9 came back") }
        // A limit below a message's size: that one fails with .limitExceeded, the next still arrives.
        let limited = await box.download([DownloadRequest(uid: 3, headerOnly: false, limit: 100), DownloadRequest(uid: 5, headerOnly: false, limit: 1 << 20)])
        if case .failure(let e) = limited.first { #expect(e.code == .limitExceeded) } else { Issue.record("UID 3 over the limit came back") }
        #expect(try limited.last.map { delivered.contains(try $0.get()) } == true)
        await box.disconnect()
    }

    /// A wrong password fails the login that libcurl does for the pipelined connection, as `login denied`.
    @Test func wrongPasswordIsLoginDenied() async throws {
        let box = IMAPMailbox(options: .init(url: IMAPURL(server.startTLSURL)!, username: "alice", password: "wrong", caFile: server.caFile))
        await #expect { try await box.status() } throws: { ($0 as? TriageError)?.code == .authentication }
    }
}
