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

/// A table of weights: an array of its own (a model just trained) or a page-aligned section of a model
/// file's bytes (a model read from a file of format 3 and later), read in place. Single precision, or half
/// precision (`halved()`: IEEE binary16, half the memory traffic; the answer model's weights).
public struct WeightTable: Sendable, Equatable {
    public enum Precision: UInt32, Sendable {
        case single = 0, half = 1
        var size: Int { self == .single ? 4 : 2 }
    }

    public let precision: Precision
    private let owned: [Float]
    private let ownedHalves: [UInt16]
    private let source: ModelBytes?
    private let offset: Int
    public let count: Int

    public init(_ values: [Float]) {
        precision = .single
        owned = values
        ownedHalves = []
        source = nil
        offset = 0
        count = values.count
    }

    private init(halves: [UInt16]) {
        precision = .half
        owned = []
        ownedHalves = halves
        source = nil
        offset = 0
        count = halves.count
    }

    /// `count` values at `offset` of `source` (the caller checked the bounds and the alignment).
    init(source: ModelBytes, offset: Int, count: Int, precision: Precision) {
        precondition(offset >= 0 && offset + count * precision.size <= source.bytes.count && offset % 4 == 0)
        self.precision = precision
        owned = []
        ownedHalves = []
        self.source = source
        self.offset = offset
        self.count = count
    }

    /// Whether the weights are read from a file's bytes in place.
    public var isMapped: Bool { source != nil }

    /// The values in single precision (half-precision tables are decoded into a temporary array: the hot
    /// paths of half tables use `withHalves`).
    @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if precision == .half {
            let decoded = withHalves { $0.map(WeightTable.single) }
            return try decoded.withUnsafeBufferPointer(body)
        }
        if let source {
            let p = (source.bytes.baseAddress! + offset).assumingMemoryBound(to: Float.self)
            return try body(UnsafeBufferPointer(start: p, count: count))
        }
        return try owned.withUnsafeBufferPointer(body)
    }

    /// The binary16 bit patterns of a half-precision table (empty for a single-precision one).
    @inline(__always)
    public func withHalves<R>(_ body: (UnsafeBufferPointer<UInt16>) throws -> R) rethrows -> R {
        guard precision == .half else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        if let source {
            let p = (source.bytes.baseAddress! + offset).assumingMemoryBound(to: UInt16.self)
            return try body(UnsafeBufferPointer(start: p, count: count))
        }
        return try ownedHalves.withUnsafeBufferPointer(body)
    }

    public var array: [Float] { source == nil && precision == .single ? owned : withUnsafeBufferPointer { Array($0) } }

    /// The raw bytes of the table as stored (little-endian hosts).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        precision == .half ? withHalves { body(UnsafeRawBufferPointer($0)) } : withUnsafeBufferPointer { body(UnsafeRawBufferPointer($0)) }
    }

    /// The same weights in half precision: rounded to the nearest binary16, magnitudes below 2^-14 (its
    /// smallest normal number) to zero, beyond its range to its largest finite value.
    public func halved() -> WeightTable {
        if precision == .half { return self }
        return withUnsafeBufferPointer { WeightTable(halves: $0.map(WeightTable.half)) }
    }

    static func half(_ f: Float) -> UInt16 {
        let sign = UInt16(truncatingIfNeeded: f.bitPattern >> 16) & 0x8000
        let a = f.magnitude
        guard a >= 0x1p-14 else { return sign }  // zero, too small, NaN
        guard a < 65504 else { return sign | 0x7BFF }
        // Re-bias the exponent (127 -> 15), then round the 13 dropped mantissa bits to nearest, ties to even.
        let m = a.bitPattern - (112 << 23)
        let r = (m + 0xFFF + ((m >> 13) & 1)) >> 13
        return sign | UInt16(min(r, 0x7BFF))
    }

    /// A binary16 value (no subnormals, infinities or NaNs: `half` writes none) as a Float, times 2^-112: the
    /// bits moved into place without re-biasing the exponent (multiply by 2^112 for the value). Branch-free,
    /// so loops over it vectorise.
    @inline(__always)
    static func scaledSingle(_ h: UInt16) -> Float {
        let x = UInt32(h)
        return Float(bitPattern: ((x & 0x7FFF) << 13) | ((x & 0x8000) << 16))
    }

    @inline(__always)
    static func single(_ h: UInt16) -> Float { scaledSingle(h) * 0x1p112 }

    public static func == (a: WeightTable, b: WeightTable) -> Bool {
        guard a.count == b.count, a.precision == b.precision else { return false }
        if a.precision == .half { return a.withHalves { x in b.withHalves { y in x.elementsEqual(y) } } }
        return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}
