/// Text that toml++ (inside TOMLKit 0.6) cannot take: instead of a parse error, its parser stops the whole process
/// with an assertion. Found by `make fuzz`; checked here first so that such a file is a syntax error like any
/// other (and a bad SIGHUP reload keeps the last good configuration):
/// - a table header whose name does not start with a key character or a quote (`[$a]`, `[ .a]`, `[[]]`);
/// - where an array expects a value (after `[` or a comma, past spaces, line breaks and comments): a `}` or a
///   Unicode line break (U+0085, U+2028, U+2029), e.g. `days = [ }"08:00"]`.
enum TOMLParserTraps {
    struct Trap: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// The first such place in `text` (line and column 1-based), if any. Lines inside a multi-line array or
    /// string are values, not headers.
    static func firstTrap(_ text: String) -> Trap? {
        var open: [UInt8] = []  // the arrays ("[") and inline tables ("{") open in a value
        var expectValue = false  // the innermost array waits for a value
        var multiline: UInt8?  // the quote of an open multi-line string
        for (n, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let b = Array(line)
            var k = 0
            if multiline == nil && open.isEmpty {
                while k < b.count && (b[k] == 0x20 || b[k] == 0x09) { k += 1 }
                if k < b.count && b[k] == 0x5B {  // "["
                    var j = k + 1
                    if j < b.count && b[j] == 0x5B { j += 1 }
                    while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                    guard j < b.count, isBareKey(b[j]) || b[j] == 0x22 || b[j] == 0x27 else {
                        return Trap(line: n + 1, column: j + 1, message: "a table header must start with a key")
                    }
                    continue
                }
            }
            while k < b.count {
                let c = b[k]
                if let q = multiline {
                    if c == q && k + 2 < b.count && b[k + 1] == q && b[k + 2] == q { multiline = nil; k += 3 }
                    else { k += c == 0x5C && q == 0x22 ? 2 : 1 }
                    continue
                }
                if expectValue {
                    if c == 0x20 || c == 0x09 || c == 0x0D { k += 1; continue }
                    let lineBreak = (c == 0xE2 && k + 2 < b.count && b[k + 1] == 0x80 && (b[k + 2] == 0xA8 || b[k + 2] == 0xA9))
                        || (c == 0xC2 && k + 1 < b.count && b[k + 1] == 0x85)
                    if c == 0x7D || lineBreak {
                        return Trap(line: n + 1, column: k + 1, message: "an array needs a value or ']' here")
                    }
                    if c != 0x23 { expectValue = false }  // a comment keeps it waiting
                }
                switch c {
                case 0x23: k = b.count  // "#": a comment to the end of the line
                case 0x22, 0x27:  // a string: multi-line, or to its closing quote on this line
                    if k + 2 < b.count && b[k + 1] == c && b[k + 2] == c {
                        multiline = c
                        k += 3
                    } else {
                        k += 1
                        while k < b.count && b[k] != c { k += c == 0x22 && b[k] == 0x5C ? 2 : 1 }
                        k += 1
                    }
                case 0x5B:
                    open.append(c)
                    expectValue = true
                    k += 1
                case 0x7B:
                    open.append(c)
                    k += 1
                case 0x5D, 0x7D:
                    _ = open.popLast()
                    k += 1
                case 0x2C:
                    expectValue = open.last == 0x5B
                    k += 1
                default: k += 1
                }
            }
        }
        return nil
    }

    /// A-Z, a-z, 0-9, "-" and "_".
    static func isBareKey(_ c: UInt8) -> Bool {
        (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) || c == 0x2D || c == 0x5F
    }
}
