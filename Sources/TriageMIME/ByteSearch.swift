#if canImport(Glibc)
import Glibc
#endif

/// Byte and substring search on bytes: memchr for a byte (the first of a substring, then a compare).
enum ByteSearch {
    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        return hay.withUnsafeBufferPointer { offset(of: needle, in: $0) } != nil
    }

    /// Where the byte `b` first occurs in `h[from..<to]` (memchr), or nil.
    @inline(__always)
    static func index(of b: UInt8, in h: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = h.baseAddress else { return nil }
        #if canImport(Glibc)
        guard let p = memchr(base + from, Int32(b), to - from) else { return nil }
        return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        #else
        var i = from
        while i < to && base[i] != b { i += 1 }
        return i < to ? i : nil
        #endif
    }

    /// Whether `bytes` contains the byte `b` (memchr).
    static func contains(_ bytes: [UInt8], byte b: UInt8) -> Bool {
        bytes.withUnsafeBufferPointer { index(of: b, in: $0, from: 0, to: $0.count) != nil }
    }

    /// Where `needle` first starts in `h`, or nil.
    static func offset(of needle: [UInt8], in h: UnsafeBufferPointer<UInt8>) -> Int? {
        needle.withUnsafeBufferPointer { offset(of: $0, in: h) }
    }

    static func offset(of n: UnsafeBufferPointer<UInt8>, in h: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let nb = n.baseAddress, !n.isEmpty, h.count >= n.count, let hb = h.baseAddress else { return nil }
        var i = 0
        let last = h.count - n.count
        while let k = index(of: nb[0], in: h, from: i, to: last + 1) {
            // The second byte tells most candidates apart without a call.
            if n.count == 1 || (hb[k + 1] == nb[1] && memcmp(hb + k, nb, n.count) == 0) { return k }
            i = k + 1
        }
        return nil
    }
}

extension String {
    /// Without the given characters at either end.
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
