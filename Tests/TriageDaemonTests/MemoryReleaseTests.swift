import Foundation
import Testing
@testable import TriageDaemon

@Suite struct MemoryReleaseTests {
    @Test func utcTimesAsRFC3339() {
        #expect(ClockText.utc(0) == "1970-01-01T00:00:00Z")
        #expect(ClockText.utc(1_796_119_200) == "2026-12-01T10:00:00Z")
        #expect(ClockText.utc(1_709_251_199) == "2024-02-29T23:59:59Z")
    }

    /// The status line's times of day are what Foundation's formatter says in the same (local) zone.
    @Test(arguments: [0, 1_711_846_799, 1_711_846_800, 1_729_990_800, 1_796_119_200, 1_796_161_599] as [Int64])
    func localTimeOfDayAsFoundationFormatsIt(seconds: Int64) {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        #expect(ClockText.localTimeOfDay(seconds) == f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    static let smaps = """
        55d0c0000000-55d0c0400000 r-xp 00000000 08:01 1234                       /usr/bin/mailtriage
        Size:               4096 kB
        Rss:                2048 kB
        Anonymous:             0 kB
        55d0c0400000-55d0c0440000 r--p 00400000 08:01 1234                       /usr/bin/mailtriage
        Rss:                 256 kB
        Anonymous:           256 kB
        55d0c0440000-55d0c0460000 rw-p 00440000 08:01 1234                       /usr/bin/mailtriage
        Rss:                 128 kB
        Anonymous:            64 kB
        7f0000000000-7f0000100000 rw-p 00000000 00:00 0
        Rss:                1024 kB
        Anonymous:          1024 kB
        7f0000200000-7f0000300000 r--p 00000000 08:01 99                         /usr/lib/x86_64-linux-gnu/libdata.so
        Rss:                   0 kB
        Anonymous:             0 kB
        7f0000300000-7f0000400000 rw-s 00000000 08:01 77                         /var/lib/mailtriage/mailtriage.sqlite-shm
        Rss:                  32 kB
        Anonymous:             0 kB
        7f0000380000-7f0000390000 r--s 00000000 08:01 78                         /var/lib/mailtriage/classifier.model
        Rss:                  16 kB
        Anonymous:             0 kB
        7f0000400000-7f0000500000 r--p 00000000 08:01 88                         /opt/lib/with space.so
        Rss:                  12 kB
        Anonymous:             0 kB
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        """

    @Test func parsesSmaps() {
        let m = MemoryRelease.parse(Self.smaps)
        #expect(m.count == 9)
        #expect(m[0] == MemoryRelease.Mapping(start: 0x55d0_c000_0000, end: 0x55d0_c040_0000, permissions: "r-xp", path: "/usr/bin/mailtriage",
                                              rssKiB: 2048, anonymousKiB: 0))
        #expect(m[3].path == "" && m[3].anonymousKiB == 1024)
        #expect(m[7].path == "/opt/lib/with space.so")
    }

    /// Only clean, read-only file mappings with resident pages: never written pages (relocations), anonymous
    /// memory, writable mappings (SQLite's shared memory), or the kernel's [vdso].
    @Test func dropsOnlyCleanReadOnlyFilePages() {
        let d = MemoryRelease.droppable(MemoryRelease.parse(Self.smaps))
        #expect(d.map(\.start) == [0x55d0_c000_0000, 0x7f00_0038_0000, 0x7f00_0040_0000])
    }

    @Test func readsTheResidentFiguresOfStatus() {
        let text = "Name:\tmailtriage\nVmRSS:\t   45560 kB\nRssAnon:\t   28508 kB\nRssFile:\t   17052 kB\nRssShmem:\t       0 kB\n"
        #expect(MemoryRelease.residentFigures(text) == (28508, 17052))
    }

    /// In this very process: pages of its libraries go, and the code that runs next (this test, Foundation,
    /// the test runner) simply faults back in.
    @Test func givesBackPagesOfTheRunningProcess() {
        let r = MemoryRelease.release()
        #expect(r.mappings > 0)
        #expect(r.fileKiB > 0)
        #expect(MemoryRelease.status().file > 0)
        #expect(ClockText.utc(0) == "1970-01-01T00:00:00Z")
    }

    @Test func startUpEndsWithTheLastMailboxsFirstRound() {
        let rounds = FirstRounds(mailboxes: ["support", "sales"])
        #expect(!rounds.done("support"))
        #expect(!rounds.done("support"))
        #expect(!rounds.done("unknown"))
        #expect(rounds.done("sales"))
        #expect(!rounds.done("sales") && !rounds.done("support"))
        #expect(!FirstRounds(mailboxes: []).done("support"))
    }
}
