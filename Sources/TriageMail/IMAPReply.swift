/// One complete server response (RFC 3501 §7): a tagged status, an untagged `*` response or a `+`
/// continuation, with its literals cut out of the text.
public struct IMAPReply: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case untagged
        case continuation
        case tagged(String)
    }

    /// A literal `{n}` of the response: its bytes, or none when it was larger than the reader accepts
    /// (then it was read and thrown away, and only its announced size is kept).
    public struct Literal: Sendable, Equatable {
        public var bytes: [UInt8]
        public var announced: Int
        public var dropped: Bool { bytes.count != announced }
    }

    public var kind: Kind
    /// The response after its tag, without CRLFs; each literal's `{n}` marker stays where the literal was.
    public var text: String
    public var literals: [Literal]

    /// `OK`, `NO`, `BAD`, `BYE`, `PREAUTH` or the response name (`FETCH` after a number, `SEARCH`, ...), uppercased.
    public var status: String {
        var words = text.split(separator: " ", maxSplits: 2)
        if words.count > 1, words[0].allSatisfy(\.isNumber) { words.removeFirst() }
        return words.first.map { $0.uppercased() } ?? ""
    }
}

extension IMAPReply {
    /// What a `* n FETCH (...)` response carries that ingest needs.
    public struct FetchData: Sendable, Equatable {
        public var uid: UInt32?
        public var size: Int?
        public var internalDate: Int64?
        /// The first `BODY[...]` item's content: the literal's index in `literals`, or an inline string.
        public var body: Body?

        public enum Body: Sendable, Equatable {
            case literal(Int)
            case inline([UInt8])
        }
    }

    /// The items of a FETCH response, or nil when this is not one. Unknown items are skipped, with nested lists.
    public var fetchData: FetchData? {
        guard kind == .untagged else { return nil }
        let toks = IMAPReply.tokens(text)
        guard toks.count >= 3, case .atom(let n) = toks[0], n.allSatisfy(\.isNumber),
              case .atom(let verb) = toks[1], verb.uppercased() == "FETCH", toks[2] == .open
        else { return nil }
        var data = FetchData()
        var literalIndex = 0
        var i = 3
        // Counts the literals inside a value that is skipped, so that later literals keep their index.
        func skipValue() {
            var depth = 0
            repeat {
                guard i < toks.count else { return }
                switch toks[i] {
                case .open: depth += 1
                case .close: depth -= 1
                case .literal: literalIndex += 1
                default: break
                }
                i += 1
            } while depth > 0
        }
        while i < toks.count {
            guard case .atom(let key) = toks[i] else { break }  // the closing parenthesis, or junk
            i += 1
            guard i < toks.count else { break }
            let upper = key.uppercased()
            let value = toks[i]
            switch (upper, value) {
            case ("UID", .atom(let v)):
                data.uid = UInt32(v)
                i += 1
            case ("RFC822.SIZE", .atom(let v)):
                data.size = Int(v)
                i += 1
            case ("INTERNALDATE", .quoted(let v)):
                data.internalDate = IMAPResponse.parseInternalDate(String(decoding: v, as: UTF8.self))
                i += 1
            case (_, .literal) where upper.hasPrefix("BODY[") && data.body == nil:
                data.body = .literal(literalIndex)
                literalIndex += 1
                i += 1
            case (_, .quoted(let v)) where upper.hasPrefix("BODY[") && data.body == nil:
                data.body = .inline(v)
                i += 1
            case (_, .atom(let v)) where upper.hasPrefix("BODY[") && data.body == nil && v.uppercased() == "NIL":
                data.body = .inline([])
                i += 1
            default:
                skipValue()
            }
        }
        return data
    }

    enum Token: Equatable {
        case atom(String)
        case quoted([UInt8])
        case literal
        case open
        case close
    }

    /// Atoms (a `[...]` section with its spaces belongs to its atom, as in `BODY[HEADER.FIELDS (A B)]<0>`),
    /// quoted strings, literal markers and parentheses.
    static func tokens(_ text: String) -> [Token] {
        var out: [Token] = []
        let b = Array(text.utf8)
        var i = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: " "):
                i += 1
            case UInt8(ascii: "("):
                out.append(.open); i += 1
            case UInt8(ascii: ")"):
                out.append(.close); i += 1
            case UInt8(ascii: "\""):
                var v: [UInt8] = []
                i += 1
                while i < b.count && b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\") && i + 1 < b.count { i += 1 }
                    v.append(b[i]); i += 1
                }
                i += 1
                out.append(.quoted(v))
            case _ where b[i] == UInt8(ascii: "{") || (b[i] == UInt8(ascii: "~") && i + 1 < b.count && b[i + 1] == UInt8(ascii: "{")):
                // A literal marker ({n}, or ~{n} for BINARY): the literal itself is in `literals`.
                while i < b.count && b[i] != UInt8(ascii: "}") { i += 1 }
                i += 1
                out.append(.literal)
            default:
                let s = i
                var bracket = 0
                while i < b.count {
                    let c = b[i]
                    if c == UInt8(ascii: "[") { bracket += 1 } else if c == UInt8(ascii: "]") { bracket -= 1 }
                    else if bracket <= 0 && (c == UInt8(ascii: " ") || c == UInt8(ascii: "(") || c == UInt8(ascii: ")")) { break }
                    i += 1
                }
                out.append(.atom(String(decoding: b[s..<i], as: UTF8.self)))
            }
        }
        return out
    }
}
