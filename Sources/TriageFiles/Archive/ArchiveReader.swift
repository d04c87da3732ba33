import Foundation

/// One message read from an archive: where it came from, its bytes (at most the size limit), and its
/// file's modification time (a Maildir file's delivery time, for messages without a readable Date).
public struct ArchiveMessage: Sendable {
    /// "path" for a message file, "path#N" (1-based) for the Nth message of an mbox file.
    public var source: String
    public var raw: [UInt8]
    /// The message's real size; larger than `raw.count` when it was cut at the size limit.
    public var size: Int
    public var fileTime: Int64?

    public var truncated: Bool { size > raw.count }

    public init(source: String, raw: [UInt8], size: Int, fileTime: Int64?) {
        self.source = source
        self.raw = raw
        self.size = size
        self.fileTime = fileTime
    }
}

/// A file to read: an mbox (many messages) or one message.
public struct ArchiveInput: Sendable, Equatable {
    public enum Kind: String, Sendable { case mbox, message }
    public var path: String
    public var kind: Kind
    public var bytes: Int

    public init(path: String, kind: Kind, bytes: Int) {
        self.path = path
        self.kind = kind
        self.bytes = bytes
    }
}

/// What `ArchiveReader.inputs` found under the given paths.
public struct ArchiveInputs: Sendable {
    public var files: [ArchiveInput] = []
    /// Files under a directory that are neither an mbox nor a message (a README, an HTML page).
    public var skipped: [String] = []
    public var totalBytes: Int { files.reduce(0) { $0 + $1.bytes } }
}

/// Reads exported mail: mbox files (streamed: a file of any size is read in pieces, never whole),
/// Maildir folders (`cur/` and `new/`) and folders of message files, in a stable order (names sorted).
public enum ArchiveReader {
    /// Thrown for a path that does not exist or cannot be read.
    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// The files under `paths`. A file given by name is read as an mbox when it starts with "From ", else as
    /// one message. In directories, Maildir folders give their `cur/` and `new/` files; other files count
    /// when they end in `.eml` (one message, even after a "From " line), start with "From " (mbox) or start
    /// with a mail header.
    public static func inputs(_ paths: [String]) throws -> ArchiveInputs {
        var out = ArchiveInputs()
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw ReadError(path: path, message: "no such file or directory") }
            if isDir.boolValue {
                try walk(path, into: &out)
            } else {
                let head = try sniff(path)
                out.files.append(ArchiveInput(path: path, kind: isMbox(head) ? .mbox : .message, bytes: fileSize(path)))
            }
        }
        return out
    }

    private static func walk(_ dir: String, into out: inout ArchiveInputs) throws {
        let fm = FileManager.default
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: dir).sorted() } catch {
            throw ReadError(path: dir, message: "cannot read the directory: \(error.localizedDescription)")
        }
        let set = Set(names)
        if set.contains("cur") && set.contains("new") {
            // A Maildir: its messages, then any subfolders (Maildir++ folders start with a dot).
            for sub in ["cur", "new"] {
                let d = dir + "/" + sub
                for name in ((try? fm.contentsOfDirectory(atPath: d)) ?? []).sorted() where !name.hasPrefix(".") {
                    let p = d + "/" + name
                    out.files.append(ArchiveInput(path: p, kind: .message, bytes: fileSize(p)))
                }
            }
            for name in names where name.hasPrefix(".") && name != "." && name != ".." {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: dir + "/" + name, isDirectory: &isDir), isDir.boolValue { try walk(dir + "/" + name, into: &out) }
            }
            return
        }
        for name in names where !name.hasPrefix(".") {
            let p = dir + "/" + name
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                try walk(p, into: &out)
                continue
            }
            guard let head = try? sniff(p) else {
                out.skipped.append(p)
                continue
            }
            let eml = name.lowercased().hasSuffix(".eml")
            if isMbox(head) && !eml {
                out.files.append(ArchiveInput(path: p, kind: .mbox, bytes: fileSize(p)))
            } else if eml || looksLikeHeader(head) {
                out.files.append(ArchiveInput(path: p, kind: .message, bytes: fileSize(p)))
            } else {
                out.skipped.append(p)
            }
        }
    }

    /// Calls `body` with every message of `inputs`, in order, and the bytes of input read so far. A message
    /// larger than `maxMessageBytes` is cut there (its `size` tells the real size). A file that cannot be read
    /// is passed to `failed` and skipped; reading goes on with the next one.
    public static func read(_ inputs: [ArchiveInput], maxMessageBytes: Int, failed: (String, String) -> Void,
                            _ body: (ArchiveMessage, Int) throws -> Void) throws
    {
        var done = 0
        for input in inputs {
            do {
                switch input.kind {
                case .message:
                    let message = try readMessage(input.path, limit: maxMessageBytes)
                    done += input.bytes
                    try body(message, done)
                case .mbox:
                    let base = done
                    try readMbox(input.path, limit: maxMessageBytes) { m, offset in try body(m, base + offset) }
                    done = base + input.bytes
                }
            } catch let e as ReadError {
                failed(e.path, e.message)
                done += input.bytes
            }
        }
    }

    static func readMessage(_ path: String, limit: Int) throws -> ArchiveMessage {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ReadError(path: path, message: "cannot open") }
        defer { try? h.close() }
        let size = fileSize(path)
        let data: Data
        do { data = try h.read(upToCount: max(limit, 1)) ?? Data() } catch {
            throw ReadError(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        return ArchiveMessage(source: path, raw: [UInt8](data), size: max(size, data.count), fileTime: modificationTime(path))
    }

    /// Streams an mbox: messages start at lines beginning with "From " (the first line of the file, or after a
    /// line end). The "From " line itself is not part of the message; ">From " lines (mboxrd quoting) lose
    /// one ">". Memory: one read buffer and the current message (at most `limit` bytes).
    static func readMbox(_ path: String, limit: Int, chunk: Int = 1 << 20, _ body: (ArchiveMessage, Int) throws -> Void) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ReadError(path: path, message: "cannot open") }
        defer { try? h.close() }
        let mtime = modificationTime(path)
        var splitter = MboxSplitter(limit: limit)
        var offset = 0
        var index = 0
        func emit(_ raw: [UInt8], _ size: Int) throws {
            index += 1
            try body(ArchiveMessage(source: "\(path)#\(index)", raw: raw, size: size, fileTime: mtime), offset)
        }
        while true {
            let data: Data
            do { data = try h.read(upToCount: chunk) ?? Data() } catch {
                throw ReadError(path: path, message: "cannot read: \(error.localizedDescription)")
            }
            if data.isEmpty { break }
            offset += data.count
            try data.withUnsafeBytes { buf in
                try splitter.feed(buf.bindMemory(to: UInt8.self)) { raw, size in try emit(raw, size) }
            }
        }
        if let (raw, size) = splitter.finish() { try emit(raw, size) }
    }

    static func isMbox(_ head: [UInt8]) -> Bool { head.starts(with: Array("From ".utf8)) }

    /// A header line ("Name: value", the name printable ASCII without a colon or space) whose block names
    /// at least one field every message has.
    static func looksLikeHeader(_ head: [UInt8]) -> Bool {
        guard let colon = head.firstIndex(of: 0x3A), colon > 0, head[..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
        // CR bytes out first: in a Swift string "\r\n" is one character, and the lines are split at "\n".
        let text = String(decoding: head.filter { $0 != 0x0D }, as: UTF8.self).lowercased()
        let block = text.components(separatedBy: "\n\n").first ?? text
        let lines = block.split(separator: "\n").map { $0.hasPrefix(" ") || $0.hasPrefix("\t") ? "" : $0 }
        let known = ["from:", "date:", "subject:", "received:", "message-id:", "return-path:", "mime-version:", "to:"]
        return lines.contains { l in known.contains { l.hasPrefix($0) } }
    }

    static func sniff(_ path: String) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ReadError(path: path, message: "cannot open") }
        defer { try? h.close() }
        do { return [UInt8]((try h.read(upToCount: 4096)) ?? Data()) } catch {
            throw ReadError(path: path, message: "cannot read: \(error.localizedDescription)")
        }
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    static func modificationTime(_ path: String) -> Int64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970) }
    }
}

/// Splits an mbox byte stream into messages, fed in pieces of any size.
struct MboxSplitter {
    let limit: Int
    /// The current message (without its "From " line), at most `limit` bytes.
    private var message: [UInt8] = []
    private var size = 0
    /// The current line, until its end is seen (a line is inspected whole: "From " and ">From ").
    private var line: [UInt8] = []
    private var started = false
    /// In the middle of a long line: its rest is appended (true) or dropped (false, a separator line).
    private var restOfLine: Bool?

    init(limit: Int) { self.limit = limit }

    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ emit: ([UInt8], Int) throws -> Void) rethrows {
        guard let base = bytes.baseAddress else { return }
        var i = 0
        let n = bytes.count
        while i < n {
            let found = memchr(base + i, 0x0A, n - i)
            let complete = found != nil
            let end = found.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) + 1 } ?? n
            let piece = UnsafeBufferPointer(rebasing: bytes[i..<end])
            i = end
            if let rest = restOfLine {
                // The rest of a very long line already passed on (or, after a separator, dropped).
                if rest { append(piece) }
                if complete { restOfLine = nil }
                continue
            }
            if line.isEmpty && complete {
                try take(piece, emit)
                continue
            }
            line.append(contentsOf: piece)
            if complete {
                let l = line
                line.removeAll(keepingCapacity: true)
                try l.withUnsafeBufferPointer { try take($0, emit) }
            } else if line.count > 4096 {
                // A very long line (a base64 blob without breaks): decided by its start, the rest follows.
                let l = line
                line.removeAll(keepingCapacity: true)
                let separator = l.withUnsafeBufferPointer { Self.isSeparator($0) }
                try l.withUnsafeBufferPointer { try take($0, emit) }
                restOfLine = !separator
            }
        }
    }

    /// One whole line (with its LF).
    private mutating func take(_ l: UnsafeBufferPointer<UInt8>, _ emit: ([UInt8], Int) throws -> Void) rethrows {
        if Self.isSeparator(l) {
            if started { try emit(message, size) }
            started = true
            message.removeAll(keepingCapacity: true)
            size = 0
            return
        }
        if !started {
            // Text before the first separator (not an mbox after all, or a damaged start): one message.
            started = true
        }
        if l.count > 5 && l[0] == 0x3E {
            // mboxrd: ">From " and ">>From " lose one ">".
            var k = 0
            while k < l.count && l[k] == 0x3E { k += 1 }
            if l.count - k >= 5 && l[k] == 0x46 && l[k + 1] == 0x72 && l[k + 2] == 0x6F && l[k + 3] == 0x6D && l[k + 4] == 0x20 {
                append(UnsafeBufferPointer(rebasing: l[1...]))
                return
            }
        }
        append(l)
    }

    private mutating func append(_ b: some Collection<UInt8>) {
        size += b.count
        let room = limit - message.count
        if room > 0 { message.append(contentsOf: b.prefix(room)) }
    }

    static func isSeparator(_ l: UnsafeBufferPointer<UInt8>) -> Bool {
        l.count >= 5 && l[0] == 0x46 && l[1] == 0x72 && l[2] == 0x6F && l[3] == 0x6D && l[4] == 0x20
    }

    /// The last message, if any.
    mutating func finish() -> ([UInt8], Int)? {
        if !line.isEmpty {
            let l = line
            line.removeAll()
            if l.withUnsafeBufferPointer({ Self.isSeparator($0) }) {
                // A last "From " line with nothing after it.
                defer { started = false }
                return started && (size > 0 || !message.isEmpty) ? (message, size) : nil
            }
            l.withUnsafeBufferPointer { take($0, { _, _ in }) }
        }
        guard started, size > 0 || !message.isEmpty else { return nil }
        started = false
        return (message, size)
    }
}
