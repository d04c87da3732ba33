#if canImport(Glibc)
import Glibc
#endif

/// Text decoding for the charsets mail uses. Undecodable bytes become U+FFFD; decoding never fails.
public enum Charset {
    /// Decodes `bytes` labelled with `label` (any case, common aliases). Unknown labels fall back to
    /// UTF-8 when the bytes are valid UTF-8, else windows-1252.
    public static func decode(_ bytes: [UInt8], label: String) -> String {
        let name = normalize(label)
        switch name {
        case "utf-8", "us-ascii":
            return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case "windows-1252":
            return decodeWindows1252(bytes)
        default:
            if let s = iconvDecode(bytes, from: name) { return s }
            if let s = String(validating: bytes, as: UTF8.self) { return s }
            return decodeWindows1252(bytes)
        }
    }

    /// Maps a charset label to the name used internally (and given to iconv).
    public static func normalize(_ label: String) -> String {
        let l = label.trimmingASCIISpace().lowercased().replacingUnderscores()
        switch l {
        case "utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8": return "utf-8"
        case "ascii", "us-ascii", "ansi_x3.4-1968", "646", "iso646-us", "": return "us-ascii"
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "iso_8859-1", "cp819": return "iso-8859-1"
        case "cp1252", "windows-1252", "x-cp1252": return "windows-1252"
        case "latin2", "iso8859-2": return "iso-8859-2"
        case "latin9", "iso8859-15": return "iso-8859-15"
        case "cp1250": return "windows-1250"
        case "sjis", "shift-jis", "x-sjis", "ms_kanji": return "shift_jis"
        case "gb2312", "euc-cn", "x-gbk", "cp936": return "gbk"
        case "ks_c_5601-1987", "euc-kr": return "euc-kr"
        default: return l
        }
    }

    static let cp1252High: [UInt16] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    /// windows-1252, the de-facto meaning of "ISO-8859-1" and of unlabelled 8-bit mail.
    public static func decodeWindows1252(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        for b in bytes {
            if b >= 0x80 && b < 0xA0 {
                scalars.append(Unicode.Scalar(cp1252High[Int(b - 0x80)])!)
            } else {
                scalars.append(Unicode.Scalar(b))
            }
        }
        return String(scalars)
    }

    static func iconvDecode(_ bytes: [UInt8], from charset: String) -> String? {
        #if canImport(Glibc)
        let cd = iconv_open("UTF-8//IGNORE", charset)
        if cd == iconv_t(bitPattern: -1) { return nil }
        defer { iconv_close(cd) }
        var input = bytes
        var out = [UInt8](repeating: 0, count: max(16, bytes.count * 4 + 16))
        var inLeft = input.count
        var outLeft = out.count
        input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress)?.assumingMemoryBound(to: CChar.self)
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress)?.assumingMemoryBound(to: CChar.self)
                while inLeft > 0 {
                    let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    if r == -1 {
                        if errno == EILSEQ || errno == EINVAL, inLeft > 0 {
                            // Skip one undecodable byte and mark it.
                            inPtr = inPtr! + 1
                            inLeft -= 1
                            if outLeft >= 3 {
                                for b: UInt8 in [0xEF, 0xBF, 0xBD] {
                                    UnsafeMutableRawPointer(outPtr!).storeBytes(of: b, as: UInt8.self)
                                    outPtr = outPtr! + 1
                                    outLeft -= 1
                                }
                            }
                        } else {
                            break
                        }
                    }
                }
            }
        }
        return String(decoding: out[0..<(out.count - outLeft)], as: UTF8.self)
        #else
        return nil
        #endif
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        // "iso_8859-1" and "iso-8859-1" are the same label; keep "shift_jis" recognisable too.
        self == "shift_jis" ? self : String(map { $0 == "_" ? "-" : $0 })
    }
}
