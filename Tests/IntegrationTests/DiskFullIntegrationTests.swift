import Foundation
import Testing
import TriageCore
#if canImport(Glibc)
import Glibc
#endif

/// A full disk (issue 15): the daemon's state directory (the SQLite database, the metrics file) on a small
/// tmpfs, filled up by another file while mail arrives. The daemon must say so once, stop downloading, flag
/// nothing on the server that it has not recorded, keep running, and record everything once when the space
/// is back. Needs root for `mount` (as CI has); without it the test fails and says why.
@Suite(.serialized) struct DiskFullIntegrationTests {
    let server: MailServer

    init() throws {
        server = try MailServer.fromEnvironment()
    }

    @Test func aFullDiskStopsFetchingIsLoggedOnceAndRecordingResumes() throws {
        let user = MailServer.newUser("df")
        try server.deliver(user, [])
        let s = try TestSetup(user: user, url: server.imapsURL, caFile: server.caFile, extra: "max_backoff = \"2s\"")
        let state = s.root + "/state"
        let disk = try TmpfsMount(at: state, size: "16m")
        defer { disk.unmount() }  // runs last: after the daemon is gone
        let (process, stderr) = try FaultIntegrationTests.serveUntilFirstPoll(s, logLevel: "info")
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        try server.deliver(user, (0..<5).map { testMessage($0) })
        #expect(waitFor(30) { storeInt(s, "SELECT count(*) FROM ticket") == 5 }, "\(stderr())")

        func count(_ needle: String) -> Int { FaultIntegrationTests.lines(stderr()).filter { $0.contains(needle) }.count }
        // Fill the file system but for 200 KB (the metrics file still fits), then 1.2 MB of mail arrives: its record fails.
        let filler = state + "/filler"
        let filled = try disk.fill(filler, leaving: 200_000)
        let downloadsBefore = count("new messages")
        try server.deliver(user, (5..<15).map { testMessage($0, size: 120_000) })
        #expect(waitFor(30) { count("disk full") > 0 }, "\(stderr())")
        // Several polls (1 s apart) while full: no further download, nothing recorded, nothing flagged.
        usleep(2_000_000)
        let downloadsThen = count("new messages")
        usleep(5_000_000)
        let downloadsLater = count("new messages")
        let storedWhileFull = storeInt(s, "SELECT count(*) FROM message")
        let flaggedWhileFull = try server.count(user, search: "KEYWORD $Triaged")
        let unflaggedWhileFull = try server.count(user, search: "UNKEYWORD $Triaged")
        let runningWhileFull = process.isRunning
        #expect(runningWhileFull, "\(stderr())")
        #expect(downloadsLater == downloadsThen, "downloads went on while the disk was full: \(stderr())")
        // The poll's own commit is what failed (SQLITE_FULL), after one download of what arrived.
        let fullLine = FaultIntegrationTests.lines(stderr()).first { $0.contains("disk full") }.map(String.init) ?? ""
        #expect(fullLine.contains("loop=mailbox support") && downloadsThen > downloadsBefore, "\(stderr())")
        #expect(storedWhileFull == 5 && flaggedWhileFull == 5 && unflaggedWhileFull == 10,
                "stored \(storedWhileFull ?? -1), flagged \(flaggedWhileFull), unflagged \(unflaggedWhileFull) while full")

        // Room again: everything is recorded once, flagged, decided; the condition was logged once, and its end once.
        guard unlink(filler) == 0 else { throw SetupError("cannot remove \(filler)") }
        let err = FaultIntegrationTests.stopAfter(tickets: 15, s, process, stderr)
        #expect(storeInt(s, "SELECT count(*) FROM message") == 15 && storeInt(s, "SELECT count(DISTINCT message_id) FROM message") == 15)
        #expect(storeInt(s, "SELECT count(*) FROM message WHERE fetch_error IS NOT NULL OR truncated != 0 OR attempts > 1") == 0, "\(err)")
        #expect(storeInt(s, "SELECT count(*) FROM message_location WHERE server_action != 'done'") == 0)
        #expect(try server.count(user, search: "KEYWORD $Triaged") == 15)
        let full = FaultIntegrationTests.lines(err).filter { $0.contains("disk full") }
        let resumed = FaultIntegrationTests.lines(err).filter { $0.contains("disk space available again") }
        #expect(full.count == 1 && resumed.count == 1, "\(err)")
        let otherErrors = FaultIntegrationTests.lines(err).filter {
            $0.contains("poll failed") || $0.contains("processing failed") || $0.contains("outbox pass failed") || $0.contains("metrics file")
                || $0.contains("SLA watch failed")
        }
        #expect(otherErrors.isEmpty, "a full disk logged by a loop of its own: \(otherErrors)")
        let failedWrites = resumed.first.flatMap { FaultIntegrationTests.field($0, "failed_writes") } ?? "?"
        print("disk full: \(filled / 1024) KiB filler on a 16 MiB tmpfs (200 KB left); 10 messages of 120 KB arrived: \(storedWhileFull ?? -1) stored, \(flaggedWhileFull) flagged,"
            + " \(downloadsLater - downloadsThen) downloads in 5 s; \(full.count) disk-full line (\(failedWrites) failed writes), \(resumed.count) resume line;"
            + " after: 15 stored once, 15 flagged, 15 tickets")
    }
}

/// A tmpfs of `size` mounted at `path` (created if missing) for one test; `unmount()` in a `defer`.
struct TmpfsMount {
    let path: String

    init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = try runToEnd(["/bin/mount", "-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", path], environment: [:])
        guard status == 0 else {
            throw SetupError("cannot mount a tmpfs of \(size) at \(path) (mount exited \(status)): the disk-full test needs root, as in CI")
        }
    }

    /// Writes `file` until the file system is full, then gives back `leaving` bytes; the bytes it keeps.
    func fill(_ file: String, leaving: Int) throws -> Int {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SetupError("cannot create \(file)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5a, count: 4096)
        var total = 0
        while true {
            let n = write(fd, chunk, chunk.count)
            if n > 0 { total += n; continue }
            if errno == EINTR { continue }
            guard errno == ENOSPC else { throw SetupError("filling \(file): \(String(cString: strerror(errno)))") }
            let kept = max(0, total - leaving)
            guard ftruncate(fd, off_t(kept)) == 0 else { throw SetupError("truncating \(file): \(String(cString: strerror(errno)))") }
            return kept
        }
    }

    func unmount() {
        if (try? runToEnd(["/bin/umount", path], environment: [:])) != 0 {
            _ = try? runToEnd(["/bin/umount", "-l", path], environment: [:])
        }
    }
}
