#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a model file: a read-only shared mapping of the file (`mapping(_:)`), or a copy in memory.
/// The weight tables of a model read from it point into these bytes instead of being decoded into arrays,
/// so a mapped model costs only the pages a message touches, and they are the page cache's, not the
/// process's private memory.
///
/// A mapping stays valid when the file is replaced by a rename (the daemon writes a new model beside the
/// old one and renames it over): the old inode lives on until it is unmapped. Writing into the mapped file
/// in place (or truncating it) would change or take away pages under a running classifier; nothing here does.
public final class ModelBytes: @unchecked Sendable {
    /// Immutable after init; the memory is either `storage`'s or the mapping's (read-only).
    public let bytes: UnsafeRawBufferPointer
    private let mapped: Bool

    /// A copy of `array` (files read whole, tests), page-aligned like a mapping.
    public init(_ array: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(array.count, 1), alignment: ModelBytes.pageSize)
        array.withUnsafeBytes { copy.copyMemory(from: $0) }
        bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(copy)[0..<array.count])
        mapped = false
    }

    private init(mapping base: UnsafeRawPointer, count: Int) {
        bytes = UnsafeRawBufferPointer(start: base, count: count)
        mapped = true
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) } else { base.deallocate() }
    }

    /// Sections of a model file start at multiples of this (the page size of the machines it runs on).
    public static let pageSize = 4096

    /// Maps the file at `path` read-only; nil when there is no file. An empty file is an empty buffer
    /// (not a model: the reader says so); other failures are a `TriageError` with the reason.
    public static func mapping(_ path: String) throws -> ModelBytes? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw TriageError(.model, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TriageError(.model, "cannot read \(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & 0o170000 == 0o100000 else { throw TriageError(.model, "\(path) is not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { return ModelBytes([]) }
        guard let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw TriageError(.model, "cannot map \(path): \(String(cString: strerror(errno)))")
        }
        return ModelBytes(mapping: UnsafeRawPointer(p), count: size)
    }
}

/// A table of `Float` weights: an array of its own (a model just trained) or a page-aligned section of a
/// model file's bytes (a model read from a file of format 3 and later), read in place.
public struct WeightTable: Sendable, Equatable {
    private let owned: [Float]
    private let source: ModelBytes?
    private let offset: Int
    public let count: Int

    public init(_ values: [Float]) {
        owned = values
        source = nil
        offset = 0
        count = values.count
    }

    /// `count` floats at `offset` of `source` (the caller checked the bounds and the alignment).
    init(source: ModelBytes, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count * 4 <= source.bytes.count && offset % MemoryLayout<Float>.alignment == 0)
        owned = []
        self.source = source
        self.offset = offset
        self.count = count
    }

    /// Whether the weights are read from a file's bytes in place.
    public var isMapped: Bool { source != nil }

    @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if let source {
            let p = (source.bytes.baseAddress! + offset).assumingMemoryBound(to: Float.self)
            return try body(UnsafeBufferPointer(start: p, count: count))
        }
        return try owned.withUnsafeBufferPointer(body)
    }

    public var array: [Float] { source == nil ? owned : withUnsafeBufferPointer { Array($0) } }

    public static func == (a: WeightTable, b: WeightTable) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}
