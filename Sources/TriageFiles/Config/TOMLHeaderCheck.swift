/// Table headers that toml++ (inside TOMLKit 0.6) cannot take: one whose name does not start with a key
/// character or a quote (`[$a]`, `[ .a]`, `[[]]`) stops the whole process with an assertion in its parser
/// instead of a parse error. Found by `make fuzz`; checked here first so that such a file is a syntax error
/// like any other (and a bad SIGHUP reload keeps the last good configuration).
enum TOMLHeaderCheck {
    /// The line and column (1-based) of the first such header at the top level of `text`, if any. Lines inside
    /// a multi-line array or string are values, not headers.
    static func badHeader(_ text: String) -> (line: Int, column: Int)? {
        var depth = 0  // brackets and braces open in a value
        var multiline: UInt8?  // the quote of an open multi-line string
        for (n, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let b = Array(line)
            var k = 0
            if multiline == nil && depth == 0 {
                while k < b.count && (b[k] == 0x20 || b[k] == 0x09) { k += 1 }
                if k < b.count && b[k] == 0x5B {  // "["
                    var j = k + 1
                    if j < b.count && b[j] == 0x5B { j += 1 }
                    while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                    guard j < b.count, isBareKey(b[j]) || b[j] == 0x22 || b[j] == 0x27 else { return (n + 1, j + 1) }
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
                case 0x5B, 0x7B: depth += 1; k += 1
                case 0x5D, 0x7D: depth = max(0, depth - 1); k += 1
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
