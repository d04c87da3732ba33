import Testing
@testable import TriageMail

@Suite struct IMAPResponseTests {
    @Test func status() {
        let lines = ["* STATUS \"INBOX\" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1795369118)"]
        let a = IMAPResponse.statusAttributes(lines)
        #expect(a["MESSAGES"] == 3)
        #expect(a["UIDNEXT"] == 4)
        #expect(a["UIDVALIDITY"] == 1_795_369_118)
    }

    @Test(arguments: [
        (["* SEARCH 2 3 4"], [UInt32(2), 3, 4]),
        (["* SEARCH"], []),
        (["* ESEARCH (TAG \"A4\") UID ALL 1:3,7"], [1, 2, 3, 7]),
        (["* OK still here", "* SEARCH 10"], [10]),
    ])
    func search(lines: [String], expected: [UInt32]) {
        #expect(IMAPResponse.searchResults(lines) == expected)
    }

    @Test(arguments: [
        ([UInt32(1), 2, 3, 7], "1:3,7"),
        ([9, 1, 2], "1:2,9"),
        ([5], "5"),
    ])
    func sequenceSet(uids: [UInt32], expected: String) {
        #expect(IMAPResponse.sequenceSet(uids) == expected)
        #expect(IMAPResponse.expandSequenceSet(expected) == Array(Set(uids)).sorted())
    }

    @Test func fetchAttributes() {
        let lines = [
            "* 1 FETCH (UID 5 RFC822.SIZE 1234 INTERNALDATE \"22-Nov-2026 10:00:00 +0000\")",
            "* 2 FETCH (RFC822.SIZE 99 UID 6)",
            "* 3 EXPUNGE",
        ]
        let a = IMAPResponse.fetchAttributes(lines)
        #expect(a.count == 2)
        #expect(a[0] == .init(uid: 5, size: 1234, internalDate: 1_795_341_600))
        #expect(a[1] == .init(uid: 6, size: 99, internalDate: nil))
    }

    @Test(arguments: [
        ("17-Jul-1996 02:44:25 -0700", Int64(837_596_665)),
        (" 2-Jan-2026 00:00:00 +0100", 1_767_308_400),
        ("garbage", nil),
    ])
    func internalDate(input: String, expected: Int64?) {
        #expect(IMAPResponse.parseInternalDate(input) == expected)
    }

    @Test func capabilities() {
        let caps = IMAPResponse.capabilities([
            "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE MOVE UIDPLUS",
            "A001 OK [CAPABILITY IMAP4rev1 ESEARCH] Logged in",
        ])
        #expect(caps.isSuperset(of: ["MOVE", "UIDPLUS", "ESEARCH", "IMAP4REV1"]))
    }

    @Test func listedMailboxes() {
        let names = IMAPResponse.listedMailboxes([
            "* LIST (\\HasNoChildren) \"/\" Processed",
            "* LIST (\\HasNoChildren \\Junk) \"/\" \"Support Queue\"",
        ])
        #expect(names == ["Processed", "Support Queue"])
    }

    @Test func refusalKeepsTheServersWords() {
        let lines = ["* OK [CAPABILITY IMAP4rev1] ready", "A003 NO [AUTHENTICATIONFAILED] Authentication failed.", "A004 OK Logout completed"]
        #expect(IMAPResponse.refusal(lines) == "NO [AUTHENTICATIONFAILED] Authentication failed.")
        #expect(IMAPResponse.refusal(["A1 OK done"]) == nil)
    }

    @Test func quoting() {
        #expect(IMAPResponse.quoted("a\"b\\c") == "\"a\\\"b\\\\c\"")
    }

    @Test func pathEncoding() {
        #expect(IMAPConnection.encodePath("Support Queue/Ä") == "Support%20Queue/%C3%84")
    }
}
