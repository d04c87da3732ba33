#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// Gives back memory that the start-up used and the steady state does not need, so that a daemon that
/// polls and waits stays small:
/// - the C heap: `malloc_trim(0)` returns free pages of every malloc arena to the kernel (after the
///   start-up's configuration parsing, model loading and training, and after a reload or a retraining);
/// - pages of the program and its shared libraries: the start-up runs code (TOML and Markdown parsing, the
///   model decoder, training, migrations) and reads tables (ICU's data) that polling never touches again.
///   `MADV_DONTNEED` on the process's clean, read-only file mappings takes those pages out of the process's
///   page tables. Only mappings without a private (copy-on-write) page qualify: their contents are exactly
///   the file's, so nothing is lost; the page cache keeps the pages, and a page needed later comes
///   back with a minor fault (no disk read) and stays. What the kernel reports as the process's resident set
///   (VmRSS) is then what the steady state uses.
public enum MemoryRelease {
    /// One mapping of /proc/self/smaps: its address range, permissions, file, resident and private
    /// (anonymous, copy-on-write) kilobytes.
    struct Mapping: Equatable {
        var start: UInt
        var end: UInt
        var permissions: String
        var path: String
        var rssKiB: Int
        var anonymousKiB: Int
    }

    /// What one release gave back, in KiB of VmRSS (RssAnon: the heap; RssFile: pages of mapped files).
    public struct Report: Sendable, Equatable {
        public var anonymousKiB: Int
        public var fileKiB: Int
        public var mappings: Int
    }

    /// Fewer malloc arenas than glibc's default (8 per core): each thread that allocates otherwise gets one
    /// of up to 16 arenas on two cores, and each keeps its own free memory. The daemon's threads mostly wait
    /// (transfers, SQLite), so two arenas are not contended. Call before any thread starts.
    public static func limitArenas(_ count: Int32 = 2) {
        #if canImport(Glibc)
        _ = mallopt(M_ARENA_MAX, count)
        #endif
    }

    /// `malloc_trim(0)`: free pages of every arena back to the kernel.
    public static func trimHeap() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }

    /// Trims the heap and drops the resident pages of clean read-only file mappings (see above).
    @discardableResult
    public static func release() -> Report {
        let before = status()
        trimHeap()
        var n = 0
        #if canImport(Glibc)
        if let text = read("/proc/self/smaps") {
            for m in droppable(parse(text)) where madvise(UnsafeMutableRawPointer(bitPattern: m.start), Int(m.end - m.start), MADV_DONTNEED) == 0 {
                n += 1
            }
        }
        #endif
        let after = status()
        return Report(anonymousKiB: max(0, before.anonymous - after.anonymous), fileKiB: max(0, before.file - after.file), mappings: n)
    }

    /// The mappings whose pages may be dropped: mappings of a file, readable but not writable, with resident
    /// pages and no anonymous (copy-on-write) page among them. A private mapping that was written
    /// (relocations, `RELRO`) is left alone: its pages are no longer the file's; so is every writable mapping
    /// (SQLite's shared memory).
    static func droppable(_ mappings: [Mapping]) -> [Mapping] {
        mappings.filter { m in
            m.path.hasPrefix("/") && m.permissions.count == 4 && m.permissions.hasPrefix("r") && !m.permissions.contains("w")
                && m.rssKiB > 0 && m.anonymousKiB == 0
        }
    }

    /// Parses /proc/PID/smaps: a header line per mapping ("start-end perms offset dev inode [path]"), then
    /// "Key: value kB" lines.
    static func parse(_ text: String) -> [Mapping] {
        var out: [Mapping] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                guard !out.isEmpty, fields.count >= 2, let v = Int(fields[1]) else { continue }
                switch first {
                case "Rss:": out[out.count - 1].rssKiB = v
                case "Anonymous:": out[out.count - 1].anonymousKiB = v
                default: break
                }
                continue
            }
            let range = first.split(separator: "-")
            guard fields.count >= 5, range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16), lo < hi else {
                continue
            }
            let path = fields.count >= 6 ? fields[5...].joined(separator: " ") : ""
            out.append(Mapping(start: lo, end: hi, permissions: String(fields[1]), path: path, rssKiB: 0, anonymousKiB: 0))
        }
        return out
    }

    /// RssAnon and RssFile of /proc/self/status, in KiB.
    static func status() -> (anonymous: Int, file: Int) { residentFigures(read("/proc/self/status") ?? "") }

    /// RssAnon and RssFile ("RssAnon:\t  28180 kB") of a /proc/PID/status text, in KiB.
    static func residentFigures(_ text: String) -> (anonymous: Int, file: Int) {
        var anonymous = 0, file = 0
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 2, let v = Int(f[1]) else { continue }
            if f[0] == "RssAnon:" { anonymous = v } else if f[0] == "RssFile:" { file = v }
        }
        return (anonymous, file)
    }

    /// A file of /proc (whose size is given as 0) read to its end.
    static func read(_ path: String) -> String? {
        #if canImport(Glibc)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
