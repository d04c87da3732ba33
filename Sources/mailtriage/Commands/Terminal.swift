import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the output goes to: a terminal's width and whether to colour (not when piped, not with NO_COLOR).
/// Widths are display columns: umlauts take one, East Asian wide characters two, combining marks none.
struct Terminal {
    var columns: Int?
    var colour: Bool

    static var current: Terminal {
        let tty = isatty(STDOUT_FILENO) == 1
        let env = ProcessInfo.processInfo.environment
        var ws = winsize()
        var columns: Int?
        if tty, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { columns = Int(ws.ws_col) }
        return Terminal(columns: columns, colour: tty && env["NO_COLOR"] == nil && env["TERM"] != "dumb")
    }

    static let red = "\u{1B}[31m", yellow = "\u{1B}[33m", cyan = "\u{1B}[36m", bold = "\u{1B}[1m", reset = "\u{1B}[0m"

    /// Display columns of one character: none for controls and combining marks, two for East Asian wide
    /// and fullwidth characters and emoji, one for the rest.
    static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        let wide: [ClosedRange<UInt32>] = [0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                                           0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
                                           0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD]
        return wide.contains { $0.contains(v) } ? 2 : 1
    }

    static func width(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + width(of: $1) } }

    /// Cut to `n` columns, with "…" where something was cut.
    static func clip(_ s: String, _ n: Int) -> String {
        guard width(s) > n else { return s }
        var out = String.UnicodeScalarView()
        var used = 0
        for u in s.unicodeScalars {
            let w = width(of: u)
            if used + w > n - 1 { break }
            out.append(u)
            used += w
        }
        return String(out) + "…"
    }

    static func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - width(s))) }
}
