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
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "=") {
                if i + 2 < input.count, let h = hex(input[i + 1]), let l = hex(input[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                // Soft line break: "=" followed by optional whitespace and a line end.
                var j = i + 1
                while j < input.count && (input[j] == 0x20 || input[j] == 0x09) { j += 1 }
                if j < input.count && input[j] == 0x0D { j += 1 }
                if j < input.count && input[j] == 0x0A { i = j + 1; continue }
                if j >= input.count { i = j; continue }
                out.append(c)
                i += 1
            } else if underscoreIsSpace && c == UInt8(ascii: "_") {
                out.append(0x20)
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }
}
