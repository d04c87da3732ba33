import Testing
import TriageCore
@testable import TriageMail

@Suite struct IMAPReplyReaderTests {
    /// A pipelined conversation: two FETCH responses with literals, an unsolicited EXISTS between them, a
    /// flags-only FETCH without a body, then the tagged OK; then a refused command.
    static let stream = Array(("* 1 FETCH (UID 11 BODY[] {14}\r\nSubject: a\r\n\r\n)\r\n"
            + "* 3 EXISTS\r\n"
            + "* 2 FETCH (UID 12 BODY[] {0}\r\n)\r\n"
            + "* 2 FETCH (FLAGS (\\Seen))\r\n"
            + "m1 OK Fetch completed.\r\n"
            + "m2 NO [TRYCREATE] Mailbox doesn't exist\r\n").utf8)

    /// Reads `bytes` fed in pieces of `piece` bytes; returns every response.
    static func read(_ bytes: [UInt8], piece: Int, maxLiteral: Int = 1 << 20) throws -> [IMAPReply] {
        var reader = IMAPReplyReader(maxTextBytes: 4096, maxLiteralBytes: maxLiteral)
        var out: [IMAPReply] = []
        var i = 0
        while i < bytes.count {
            reader.feed(Array(bytes[i..<min(i + piece, bytes.count)]))
            i += piece
            while let r = try reader.next() { out.append(r) }
        }
        #expect(reader.buffered == 0)
        return out
    }

    /// Every split point (one byte at a time: literals and `{n}` markers cut anywhere) gives the same responses.
    @Test(arguments: [1, 2, 3, 7, 16, 4096])
    func piecesOfAnySize(piece: Int) throws {
        let replies = try Self.read(Self.stream, piece: piece)
        #expect(replies.map(\.kind) == [.untagged, .untagged, .untagged, .untagged, .tagged("m1"), .tagged("m2")])
        #expect(replies[0].literals.map(\.bytes) == [Array("Subject: a\r\n\r\n".utf8)])
        #expect(replies[0].text == "1 FETCH (UID 11 BODY[] {14})")
        #expect(replies[0].fetchData == .init(uid: 11, body: .literal(0)))
        #expect(replies[1].status == "EXISTS")
        #expect(replies[2].fetchData?.uid == 12 && replies[2].literals.first?.bytes == [])
        #expect(replies[3].fetchData == .init(uid: nil, body: nil))
        #expect(replies[4].status == "OK")
        #expect(replies[5].status == "NO" && replies[5].text.contains("TRYCREATE"))
    }

    @Test func literalOverTheLimitIsReadPastAndKeptAsItsSize() throws {
        let big = String(repeating: "x", count: 5000)
        let bytes = Array(("* 1 FETCH (UID 5 BODY[] {5000}\r\n\(big))\r\n* 2 FETCH (UID 6 BODY[] {3}\r\nabc)\r\nm1 OK done\r\n").utf8)
        let replies = try Self.read(bytes, piece: 1000, maxLiteral: 4096)
        #expect(replies.count == 3)
        #expect(replies[0].literals == [.init(bytes: [], announced: 5000)])
        #expect(replies[0].literals[0].dropped)
        #expect(replies[1].literals == [.init(bytes: Array("abc".utf8), announced: 3)])
        #expect(!replies[1].literals[0].dropped)
    }

    @Test func textOverTheLimitIsAProtocolError() {
        var reader = IMAPReplyReader(maxTextBytes: 100)
        reader.feed(Array(("* SEARCH " + String(repeating: "1 ", count: 100)).utf8))
        #expect(throws: TriageError.self) { _ = try reader.next() }
        var whole = IMAPReplyReader(maxTextBytes: 100)
        whole.feed(Array(("* SEARCH " + String(repeating: "1 ", count: 100) + "\r\n").utf8))
        #expect(throws: TriageError.self) { _ = try whole.next() }
    }

    @Test func byeAndBareLineEnds() throws {
        let replies = try Self.read(Array("* BYE Server shutting down.\nm3 BAD Error in IMAP command\r\n".utf8), piece: 5)
        #expect(replies.map(\.status) == ["BYE", "BAD"])
        #expect(replies[0].kind == .untagged && replies[1].kind == .tagged("m3"))
    }

    @Test(arguments: [
        ("a {12}", 12), ("a {12+}", 12), ("a ~{7}", 7), ("{0}", 0),
        ("a {12", nil), ("a 12}", nil), ("a {}", nil), ("a {1x}", nil), ("a {99999999999999999999}", nil),
    ] as [(String, Int?)])
    func literalMarkers(line: String, size: Int?) {
        #expect(IMAPReplyReader.literalSize(atEndOf: Array(line.utf8)) == size)
    }

    @Test func fetchItemsInAnyOrderWithNestedListsAndQuotedBodies() {
        let r = IMAPReply(kind: .untagged, text: "7 FETCH (FLAGS (\\Seen (x)) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
                              + "BODY[HEADER.FIELDS (FROM TO)] {4} RFC822.SIZE 4410 UID 99 BODY[] \"a\\\"b\")",
                          literals: [.init(bytes: Array("abcd".utf8), announced: 4)])
        let f = r.fetchData
        #expect(f?.uid == 99 && f?.size == 4410)
        #expect(f?.internalDate == 837_596_665)
        // The first BODY[...] item is the body: here a header-fields section, the literal.
        #expect(f?.body == .literal(0))
        let quoted = IMAPReply(kind: .untagged, text: "7 FETCH (UID 3 BODY[] \"a\\\"b\")", literals: [])
        #expect(quoted.fetchData?.body == .inline(Array("a\"b".utf8)))
        #expect(IMAPReply(kind: .untagged, text: "7 EXPUNGE", literals: []).fetchData == nil)
        #expect(IMAPReply(kind: .tagged("m1"), text: "OK FETCH done", literals: []).fetchData == nil)
    }
}
