/// Base64 decoding that skips whitespace and junk and tolerates missing padding.
public enum Base64 {
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(c)] = UInt8(i)
        }
        t[Int(UInt8(ascii: "-"))] = 62  // URL-safe alphabet, seen in broken mailers
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// How many of the `n` bytes at `p` are in the alphabet (`table`), without a branch per byte.
    static func alphabetCount(_ p: UnsafePointer<UInt8>, _ n: Int, table t: UnsafePointer<UInt8>) -> Int {
        var outside = 0  // the table holds 0xFF for a byte outside the alphabet, values below 64 inside
        for i in 0..<n { outside &+= Int(t[Int(p[i])] >> 7) }
        return n - outside
    }

    public static func decodeLenient(_ input: some Collection<UInt8>) -> [UInt8] {
        if let out = input.withContiguousStorageIfAvailable(decodeLenient(buffer:)) { return out }
        return Array(input).withUnsafeBufferPointer(decodeLenient(buffer:))
    }

    static func decodeLenient(buffer input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        table.withUnsafeBufferPointer { t in
            [UInt8](unsafeUninitializedCapacity: input.count * 3 / 4 + 3) { out, count in
                var o = 0
                var acc: UInt32 = 0
                var n = 0
                for c in input {
                    if c == UInt8(ascii: "=") { break }
                    let v = t[Int(c)]
                    if v == 0xFF { continue }
                    acc = (acc << 6) | UInt32(v)
                    n += 1
                    if n == 4 {
                        out[o] = UInt8(truncatingIfNeeded: acc >> 16)
                        out[o + 1] = UInt8(truncatingIfNeeded: acc >> 8)
                        out[o + 2] = UInt8(truncatingIfNeeded: acc)
                        o += 3
                        acc = 0
                        n = 0
                    }
                }
                if n == 2 {
                    out[o] = UInt8(truncatingIfNeeded: acc >> 4)
                    o += 1
                }
                if n == 3 {
                    out[o] = UInt8(truncatingIfNeeded: acc >> 10)
                    out[o + 1] = UInt8(truncatingIfNeeded: acc >> 2)
                    o += 2
                }
                count = o
            }
        }
    }
}
