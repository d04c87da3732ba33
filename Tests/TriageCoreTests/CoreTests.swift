import Testing
#if canImport(Glibc)
import Glibc
#endif
import TriageTesting
@testable import TriageCore

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(input: String, digest: String) {
        #expect(SHA256.hex(Array(input.utf8)) == digest)
    }
}

@Suite struct BackoffTests {
    @Test func doublesUpToTheCap() {
        let b = Backoff(base: .seconds(60), cap: .seconds(900))
        #expect(b.delay(afterFailures: 1) == .seconds(60))
        #expect(b.delay(afterFailures: 2) == .seconds(120))
        #expect(b.delay(afterFailures: 4) == .seconds(480))
        #expect(b.delay(afterFailures: 5) == .seconds(900))
        #expect(b.delay(afterFailures: 500) == .seconds(900))
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("60s", Duration.seconds(60)), ("5m", .seconds(300)), ("1h30m", .seconds(5400)), ("250ms", .milliseconds(250)),
        ("2d", .seconds(172_800)), ("1.5s", .milliseconds(1500)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "60", "s", "5 minutes", "-1s", "1x"])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func formats() {
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
        #expect(DurationText.format(.zero) == "0s")
    }
}

@Suite struct IMAPURLTests {
    @Test func implicitTLSWithDefaults() throws {
        let u = try #require(IMAPURL("imaps://mail.example.com"))
        #expect(u.security == .implicitTLS && u.port == 993 && u.folder == "INBOX")
    }

    @Test func startTLSWithPortAndFolder() throws {
        let u = try #require(IMAPURL("imap://127.0.0.1:10143/Support%20Queue"))
        #expect(u.security == .startTLS && u.port == 10143 && u.folder == "Support Queue" && u.host == "127.0.0.1")
        #expect(u.serverURL == "imap://127.0.0.1:10143")
    }

    @Test(arguments: ["http://x", "imaps://", "imaps://user:pw@host/INBOX", "imaps://h:99999", "imaps://h:abc", "pop3://h"])
    func rejects(text: String) {
        #expect(IMAPURL(text) == nil)
    }
}

@Suite struct AfterProcessingTests {
    @Test(arguments: [
        ("flag", AfterProcessing.flag("\\Seen")), ("flag:$Triaged", .flag("$Triaged")), ("move:Processed", .move("Processed")),
        ("none", AfterProcessing.none),
    ])
    func parses(text: String, expected: AfterProcessing) {
        #expect(AfterProcessing(configValue: text) == expected)
        #expect(AfterProcessing(configValue: text)?.description == text)
    }

    @Test(arguments: ["", "delete", "flag:", "flag:a b", "flag:(x)", "move:", "move:a\"b", "flag:\\Seen) UID EXPUNGE"])
    func rejects(text: String) {
        #expect(AfterProcessing(configValue: text) == nil)
    }
}

@Suite struct DedupeKeyTests {
    @Test func sameMessageWithOtherTraceHeadersIsTheSame() {
        let m = Fixtures.message(1)
        let copy = Array("Received: from relay by mx2\r\nDelivered-To: sales@example.com\r\n".utf8) + m
        #expect(DedupeKey.compute(m) == DedupeKey.compute(copy))
        #expect(DedupeKey.compute(m).hasPrefix("mid:msg-1@example.org#"))
    }

    @Test func reusedMessageIDWithOtherContentIsNotADuplicate() {
        let a = Fixtures.message(1, body: "first", messageID: "same@x")
        let b = Fixtures.message(2, body: "second", messageID: "same@x")
        #expect(DedupeKey.compute(a) != DedupeKey.compute(b))
    }

    @Test func withoutMessageIDTheWholeMessageIsHashed() {
        let raw = Array("Subject: x\r\n\r\nbody".utf8)
        #expect(DedupeKey.compute(raw) == "sha256:" + SHA256.hex(raw))
    }
}

@Suite struct DiskFullStateTests {
    @Test func aFullDiskIsNewsOnceAndItsEndOnce() {
        var s = DiskFullState(reserve: 1000)
        #expect(s.mayTry(freeBytes: 0), "not full: writes are tried whatever the free space")
        let before = s.succeeded()
        #expect(before == nil)
        let first = s.failed(), second = s.failed(), third = s.failed()
        #expect(first && !second && !third, "later failures of the same outage are not logged again")
        #expect(s.isFull && s.failures == 3)
        #expect(!s.mayTry(freeBytes: 0) && !s.mayTry(freeBytes: 999))
        #expect(s.mayTry(freeBytes: 1000) && s.mayTry(freeBytes: nil))
        let again = s.failed()
        #expect(!again, "a try that fails again is the same outage")
        let ended = s.succeeded(), endedTwice = s.succeeded()
        #expect(ended == 4 && endedTwice == nil && !s.isFull)
        let next = s.failed()
        #expect(next, "a new outage is news again")
    }

    @Test(arguments: [(ENOSPC, TriageError.Code.diskFull), (EDQUOT, .diskFull), (EIO, .io), (EACCES, .io), (0, .io)])
    func writeErrnosThatMeanAFullDisk(errno: Int32, code: TriageError.Code) {
        #expect(TriageError.code(forWriteErrno: errno, fallback: .io) == code)
    }
}
