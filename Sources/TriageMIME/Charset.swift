#if canImport(Glibc)
import Glibc
#endif

/// Text decoding for the charsets mail uses. Undecodable bytes become U+FFFD; decoding never fails.
public enum Charset {
    /// Decodes `bytes` labelled with `label` (any case, common aliases). UTF-8 text with stray 8-bit
    /// bytes keeps its valid sequences and reads the stray bytes as windows-1252; unknown labels fall
    /// back to the same UTF-8-then-windows-1252 reading.
    public static func decode(_ bytes: some Collection<UInt8>, label: String) -> String {
        decodeReporting(bytes, label: label).text
    }

    /// `decode`, and whether the label was known (`isKnown`), found with the same iconv_open.
    static func decodeReporting(_ bytes: some Collection<UInt8>, label: String) -> (text: String, known: Bool) {
        let name = normalize(label)
        switch name {
        case "utf-8", "us-ascii", "":
            return (decodeUTF8Lenient(bytes), true)
        case "iso-8859-1":
            // Mail labelled ISO-8859-1 is in practice windows-1252 (the WHATWG encoding standard agrees).
            return (decodeWindows1252(bytes), true)
        case "windows-1252":
            return (decodeWindows1252(bytes), true)
        default:
            if let s = iconvDecode(Array(bytes), from: name) { return (s, true) }
            return (decodeUTF8Lenient(bytes), false)
        }
    }

    /// Whether the label is read by the built-in decoders (UTF-8, ASCII, windows-1252), where every CR and LF
    /// byte is that character and no other character contains those bytes.
    static func keepsLineEnds(_ label: String) -> Bool {
        switch normalize(label) {
        case "utf-8", "us-ascii", "", "iso-8859-1", "windows-1252": return true
        default: return false
        }
    }

    /// Whether iconv (or the built-in decoders) knows the label.
    public static func isKnown(_ label: String) -> Bool {
        let name = normalize(label)
        switch name {
        case "utf-8", "us-ascii", "iso-8859-1", "windows-1252": return true
        default: return iconvAvailable(name)
        }
    }

    /// UTF-8 where it is valid; every byte of an invalid sequence is read as windows-1252, so mail that
    /// mixes encodings (a Latin-1 signature under UTF-8 text) stays readable.
    public static func decodeUTF8Lenient(_ bytes: some Collection<UInt8>) -> String {
        if let s = bytes.withContiguousStorageIfAvailable(decodeUTF8Lenient(buffer:)) { return s }
        return Array(bytes).withUnsafeBufferPointer(decodeUTF8Lenient(buffer:))
    }

    /// Valid UTF-8 is validated once; otherwise one pass copies ASCII eight bytes at a time and valid
    /// sequences whole, and writes each other byte from the windows-1252 table.
    static func decodeUTF8Lenient(buffer b: UnsafeBufferPointer<UInt8>) -> String {
        if let s = String(validating: b, as: UTF8.self) { return s }
        return transcode(b) { src, n, t, dst in
            var o = 0, i = 0
            while i < n {
                if copyASCIIWord(src, &i, n, to: dst, &o) { continue }
                let c = src[i]
                if c < 0x80 {
                    dst.storeBytes(of: c, toByteOffset: o, as: UInt8.self)
                    o += 1
                    i += 1
                    continue
                }
                let len = utf8SequenceLength(b, at: i)
                if len > 0 {
                    for k in 0..<len { dst.storeBytes(of: src[i + k], toByteOffset: o + k, as: UInt8.self) }
                    o += len
                    i += len
                } else {
                    putWindows1252(c, t, to: dst, &o)
                    i += 1
                }
            }
            return o
        }
    }

    /// A String written by `write(src, n, highUTF8, dst)`, which returns how many bytes it wrote. Only a byte
    /// of 0x80 or more grows (to at most three), so the room is the input plus two per such byte, plus one to
    /// spare for the last four-byte store of `putWindows1252` (and enough for `copyASCIIWord`).
    @inline(__always)
    static func transcode(_ b: UnsafeBufferPointer<UInt8>,
                          _ write: (UnsafePointer<UInt8>, Int, UnsafeBufferPointer<UInt32>, UnsafeMutableRawPointer) -> Int) -> String
    {
        guard let src = b.baseAddress, !b.isEmpty else { return "" }
        var high = 0
        for c in b { high &+= Int(c >> 7) }
        return highUTF8.withUnsafeBufferPointer { t in
            String(unsafeUninitializedCapacity: b.count + 2 * high + 1) { out in
                write(src, b.count, t, UnsafeMutableRawPointer(out.baseAddress!))
            }
        }
    }

    /// Length of the valid UTF-8 sequence starting at `i`, or 0.
    @inline(__always)
    static func utf8SequenceLength(_ a: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b = a[i]
        let n = a.count
        func cont(_ k: Int) -> Bool { i + k < n && a[i + k] & 0xC0 == 0x80 }
        switch b {
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return i + 1 < n && (0xA0...0xBF).contains(a[i + 1]) && cont(2) ? 3 : 0
        case 0xED: return i + 1 < n && (0x80...0x9F).contains(a[i + 1]) && cont(2) ? 3 : 0
        case 0xE1...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xF0: return i + 1 < n && (0x90...0xBF).contains(a[i + 1]) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return i + 1 < n && (0x80...0x8F).contains(a[i + 1]) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }

    static func appendWindows1252(_ b: UInt8, to out: inout [UInt8]) {
        let scalar: UInt32 = b >= 0x80 && b < 0xA0 ? UInt32(cp1252High[Int(b - 0x80)]) : UInt32(b)
        if scalar < 0x80 {
            out.append(UInt8(scalar))
        } else if scalar < 0x800 {
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        } else {
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Maps a charset label to the name used internally (and given to iconv).
    public static func normalize(_ label: String) -> String {
        var l = label.trimmingASCIISpace().lowercased()
        if l.hasPrefix("\"") && l.hasSuffix("\"") && l.count >= 2 { l = String(l.dropFirst().dropLast()) }
        if let alias = aliases[l] { return alias }
        let dashed = l.replacingUnderscores()
        if let alias = aliases[dashed] { return alias }
        // "iso8859-2", "iso_8859-2:1987", "iso-8859-2" are the same charset.
        if dashed.hasPrefix("iso8859") { return normalize("iso-8859" + dashed.dropFirst(7)) }
        if let colon = dashed.firstIndex(of: ":") { return normalize(String(dashed[..<colon])) }
        if dashed.hasPrefix("cp125"), dashed.count == 6 { return "windows-" + dashed.dropFirst(2) }
        if dashed.hasPrefix("x-") { return normalize(String(dashed.dropFirst(2))) }
        return dashed
    }

    static let aliases: [String: String] = [
        "utf8": "utf-8", "utf-8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8", "unicode-2-0-utf-8": "utf-8",
        "ascii": "us-ascii", "us-ascii": "us-ascii", "ansi_x3.4-1968": "us-ascii", "ansi-x3.4-1968": "us-ascii",
        "646": "us-ascii", "iso646-us": "us-ascii", "us": "us-ascii", "": "us-ascii", "7bit": "us-ascii", "8bit": "utf-8",
        "default": "us-ascii", "unknown": "us-ascii", "unknown-8bit": "utf-8", "x-unknown": "utf-8", "none": "us-ascii",
        "latin1": "iso-8859-1", "latin-1": "iso-8859-1", "iso-8859-1": "iso-8859-1", "l1": "iso-8859-1", "cp819": "iso-8859-1",
        "ibm819": "iso-8859-1", "iso-ir-100": "iso-8859-1", "csisolatin1": "iso-8859-1",
        "cp1252": "windows-1252", "windows-1252": "windows-1252", "x-cp1252": "windows-1252", "win-1252": "windows-1252",
        "latin2": "iso-8859-2", "l2": "iso-8859-2", "iso-ir-101": "iso-8859-2", "csisolatin2": "iso-8859-2",
        "latin9": "iso-8859-15", "latin-9": "iso-8859-15", "l9": "iso-8859-15", "iso-8859-15": "iso-8859-15",
        "cp1250": "windows-1250", "x-cp1250": "windows-1250", "win-1250": "windows-1250",
        "koi8r": "koi8-r", "koi8-r": "koi8-r", "cskoi8r": "koi8-r", "koi8-u": "koi8-u", "koi8": "koi8-r",
        "sjis": "shift_jis", "shift-jis": "shift_jis", "shift_jis": "shift_jis", "x-sjis": "shift_jis", "ms_kanji": "shift_jis",
        "ms-kanji": "shift_jis", "csshiftjis": "shift_jis", "windows-31j": "cp932", "cp932": "cp932", "x-ms-cp932": "cp932",
        "euc-jp": "euc-jp", "eucjp": "euc-jp", "x-euc-jp": "euc-jp", "cseucpkdfmtjapanese": "euc-jp",
        "iso-2022-jp": "iso-2022-jp", "csiso2022jp": "iso-2022-jp", "iso-2022-jp-2": "iso-2022-jp-2",
        // GB2312 mail routinely contains GBK characters; GB18030 is a superset of both.
        "gb2312": "gb18030", "euc-cn": "gb18030", "x-gbk": "gb18030", "gbk": "gb18030", "cp936": "gb18030",
        "gb18030": "gb18030", "csgb2312": "gb18030", "chinese": "gb18030", "x-euc-cn": "gb18030",
        "big5": "big5", "big-5": "big5", "x-x-big5": "big5", "cn-big5": "big5", "csbig5": "big5", "big5-hkscs": "big5-hkscs",
        "ks_c_5601-1987": "cp949", "ks-c-5601-1987": "cp949", "euc-kr": "cp949", "ks_c_5601": "cp949", "cp949": "cp949",
        "utf-16": "utf-16", "utf16": "utf-16", "utf-16le": "utf-16le", "utf-16be": "utf-16be", "ucs-2": "utf-16",
        "utf-32": "utf-32", "utf-7": "utf-7", "unicode-1-1-utf-7": "utf-7",
        "tis-620": "tis-620", "windows-874": "cp874", "macintosh": "macintosh", "mac": "macintosh", "x-mac-roman": "macintosh",
    ]

    static let cp1252High: [UInt16] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    /// windows-1252, the de-facto meaning of "ISO-8859-1" and of unlabelled 8-bit mail.
    public static func decodeWindows1252(_ bytes: some Collection<UInt8>) -> String {
        if let s = bytes.withContiguousStorageIfAvailable(decodeWindows1252(buffer:)) { return s }
        return Array(bytes).withUnsafeBufferPointer(decodeWindows1252(buffer:))
    }

    /// One pass: ASCII is copied eight bytes at a time, the other bytes written from a table of their UTF-8
    /// (four bytes stored at once, the position moved by the character's length).
    static func decodeWindows1252(buffer b: UnsafeBufferPointer<UInt8>) -> String {
        transcode(b) { src, n, t, dst in
            var o = 0, i = 0
            while i < n {
                if copyASCIIWord(src, &i, n, to: dst, &o) { continue }
                let c = src[i]
                i += 1
                if c < 0x80 {
                    dst.storeBytes(of: c, toByteOffset: o, as: UInt8.self)
                    o += 1
                } else {
                    putWindows1252(c, t, to: dst, &o)
                }
            }
            return o
        }
    }

    /// The UTF-8 of the windows-1252 characters 0x80...0xFF: up to three bytes (the first in the low byte),
    /// their count in the top byte.
    static let highUTF8: [UInt32] = (0x80...0xFF).map { b in
        var bytes: [UInt8] = []
        appendWindows1252(UInt8(b), to: &bytes)
        var e = UInt32(bytes.count) << 24
        for (k, x) in bytes.enumerated() { e |= UInt32(x) << (8 * k) }
        return e
    }

    /// Copies the eight bytes at `src + i` to `dst + o` and moves both on when there are eight left and all
    /// are ASCII.
    @inline(__always)
    static func copyASCIIWord(_ src: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int, to dst: UnsafeMutableRawPointer, _ o: inout Int) -> Bool {
        guard i + 8 <= n else { return false }
        let w = UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self)
        guard w & 0x8080_8080_8080_8080 == 0 else { return false }
        dst.storeBytes(of: w, toByteOffset: o, as: UInt64.self)
        o += 8
        i += 8
        return true
    }

    /// Writes the UTF-8 of the windows-1252 byte `c` (0x80 or more) from the `highUTF8` table `t`: four bytes
    /// stored at once (the output has room for them), the position moved by the character's length.
    @inline(__always)
    static func putWindows1252(_ c: UInt8, _ t: UnsafeBufferPointer<UInt32>, to dst: UnsafeMutableRawPointer, _ o: inout Int) {
        let e = t[Int(c) - 0x80]
        dst.storeBytes(of: e.littleEndian, toByteOffset: o, as: UInt32.self)
        o += Int(e >> 24)
    }

    /// iconv descriptors cannot be shared between threads, so availability is remembered, not the handle.
    static func iconvAvailable(_ charset: String) -> Bool {
        #if canImport(Glibc)
        let cd = iconv_open("UTF-8", charset)
        if cd == iconv_t(bitPattern: -1) { return false }
        iconv_close(cd)
        return true
        #else
        return false
        #endif
    }

    static func iconvDecode(_ bytes: [UInt8], from charset: String) -> String? {
        #if canImport(Glibc)
        let cd = iconv_open("UTF-8", charset)
        if cd == iconv_t(bitPattern: -1) { return nil }
        defer { iconv_close(cd) }
        IconvModules.shared.keepLoaded(charset)
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
                // Stateful charsets (ISO-2022-JP) may owe a final shift sequence.
                if outPtr != nil { _ = iconv(cd, nil, nil, &outPtr, &outLeft) }
            }
        }
        return String(decoding: out[0..<(out.count - outLeft)], as: UTF8.self)
        #else
        return nil
        #endif
    }
}

#if canImport(Glibc)
/// glibc unloads a charset's conversion module when its last descriptor is closed, and loading it again
/// (dlopen) costs more than converting a whole message: a corpus that alternates charsets paid that for
/// every part. One descriptor per charset used is opened and never closed (nor used to convert, so threads do
/// not share it), which keeps the module loaded; at most `limit` charsets.
final class IconvModules: @unchecked Sendable {
    static let shared = IconvModules()
    static let limit = 64
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var loaded: [String: iconv_t] = [:]  // held, so the descriptors stay reachable

    private init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    func keepLoaded(_ charset: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard loaded.count < IconvModules.limit, loaded[charset] == nil else { return }
        let cd = iconv_open("UTF-8", charset)
        if cd != iconv_t(bitPattern: -1) { loaded[charset] = cd }
    }
}
#endif

extension String {
    fileprivate func replacingUnderscores() -> String {
        // "iso_8859-1" and "iso-8859-1" are the same label.
        String(map { $0 == "_" ? "-" : $0 })
    }
}
