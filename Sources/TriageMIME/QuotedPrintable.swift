/// Quoted-printable decoding (RFC 2045 6.7), lenient: bad escapes are kept literally.
public enum QuotedPrintable {
    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    public static func decode(_ bytes: some Collection<UInt8>, underscoreIsSpace: Bool = false) -> [UInt8] {
        if let out = bytes.withContiguousStorageIfAvailable({ decode(buffer: $0, underscoreIsSpace: underscoreIsSpace) }) { return out }
        return Array(bytes).withUnsafeBufferPointer { decode(buffer: $0, underscoreIsSpace: underscoreIsSpace) }
    }

    /// The output is never longer than the input: written straight into the result's storage.
    static func decode(buffer input: UnsafeBufferPointer<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: input.count) { out, count in
            var o = 0
            var i = 0
            while i < input.count {
                let c = input[i]
                if c == UInt8(ascii: "=") {
                    if i + 2 < input.count, let h = hex(input[i + 1]), let l = hex(input[i + 2]) {
                        out[o] = h << 4 | l
                        o += 1
                        i += 3
                        continue
                    }
                    // Soft line break: "=" followed by optional whitespace and a line end.
                    var j = i + 1
                    while j < input.count && (input[j] == 0x20 || input[j] == 0x09) { j += 1 }
                    if j < input.count && input[j] == 0x0D { j += 1 }
                    if j < input.count && input[j] == 0x0A { i = j + 1; continue }
                    if j >= input.count { i = j; continue }
                    out[o] = c
                } else if underscoreIsSpace && c == UInt8(ascii: "_") {
                    out[o] = 0x20
                } else {
                    out[o] = c
                }
                o += 1
                i += 1
            }
            count = o
        }
    }
}
