import Foundation
import Testing

@testable import MailTransport

@Suite("IMAP response framing")
struct IMAPResponseReaderTests {
    func frame(_ text: String, chunk: Int = .max) throws -> [IMAPResponse] {
        var reader = IMAPResponseReader()
        var responses: [IMAPResponse] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            reader.append(bytes[index..<end])
            while let response = try reader.next() { responses.append(response) }
            index = end
        }
        #expect(reader.bufferedCount == 0)
        return responses
    }

    @Test("a body line that looks like a tagged OK stays inside its literal", arguments: [1, 3, 7, 4096])
    func hostileLiteral(chunk: Int) throws {
        let body = "Subject: x\r\n\r\nA004 OK LOGOUT completed\r\ntg2 OK done\r\n* BYE"
        let text = "* 1 FETCH (UID 7 BODY[] {\(body.utf8.count)}\r\n\(body))\r\ntg2 OK Fetch completed.\r\n"
        let responses = try frame(text, chunk: chunk)
        #expect(responses.count == 2)
        #expect(responses[0].kind == .untagged)
        #expect(responses[0].literals == [Array(body.utf8)])
        #expect(responses[1].kind == .tagged("tg2"))
        #expect(responses[1].status == "OK")
        let messages = IMAPSession.parseFetch([responses[0]])
        #expect(messages.count == 1)
        #expect(messages[0].uid == 7)
        #expect(messages[0].raw == Array(body.utf8))
    }

    @Test("a 100 KB line without a final newline survives inside a literal")
    func longLine() throws {
        let body = "Subject: big\r\n\r\n" + String(repeating: "x", count: 100_000)
        let text =
            "* 3 FETCH (UID 9 RFC822.SIZE \(body.utf8.count) BODY[] {\(body.utf8.count)}\r\n\(body) FLAGS (\\Seen $Ticketgate))\r\n"
        let responses = try frame(text, chunk: 1500)
        let messages = IMAPSession.parseFetch(responses)
        #expect(messages.first?.raw.count == body.utf8.count)
        #expect(messages.first?.size == body.utf8.count)
        #expect(messages.first?.flags == ["\\Seen", "$Ticketgate"])
    }

    @Test("several literals in one response are substituted in order")
    func twoLiterals() throws {
        let text = "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT FROM)] {5}\r\nhello BODY[] {3}\r\nabc)\r\n"
        let responses = try frame(text)
        let values = responses[0].values()
        let items = try #require(values.last?.list)
        #expect(items[2] == .atom("BODY[HEADER.FIELDS (SUBJECT FROM)]"))
        #expect(items[3] == .string(Array("hello".utf8)))
        #expect(items[5] == .string(Array("abc".utf8)))
    }

    @Test("quoted strings, NIL and nested lists tokenise")
    func tokens() throws {
        let responses = try frame("* 2 FETCH (UID 4 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" X NIL Y (a (b c)))\r\n")
        let items = try #require(responses[0].values()[3].list)
        #expect(items[3] == .string(Array("17-Jul-1996 02:44:25 -0700".utf8)))
        #expect(items[5] == .null)
        #expect(items[7] == .list([.atom("a"), .list([.atom("b"), .atom("c")])]))
    }

    @Test("the direct FETCH reader gives what the general tokenizer gives, or leaves the response to it")
    func fetchLineAgreesWithTokenizer() throws {
        let body = "Subject: x\r\n\r\nA004 OK\r\n"
        let n = body.utf8.count
        let common = [
            "* 1 FETCH (UID 7 FLAGS (\\Seen $Done) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE \(n) BODY[] {\(n)}\r\n\(body))\r\n",
            "* 2 fetch (uid 8 rfc822.size 12)\r\n",
            "* 3 FETCH (UID 9 FLAGS () BODY[]<0> {\(n)}\r\n\(body))\r\n",
            "* 4 FETCH (UID 10 MODSEQ (12345) FLAGS (\\Recent) BODY[] \"quoted \\\"body\\\"\")\r\n",
            "* 5 FETCH (UID 11 BODY[HEADER.FIELDS (SUBJECT FROM)] {5}\r\nhello BODY[] NIL)\r\n",
            "* 6 FETCH (FLAGS (\\Seen))\r\n",
            "* 7 FETCH (UID 4294967295 BODY[] {3+}\r\nabc)\r\n",
        ]
        let unusual = [
            "* 8 FETCH (UID 12 FLAGS (\\Seen \"odd\") RFC822.SIZE 3)\r\n",
            "* 9 FETCH (UID 13 X (a (b c)) RFC822.SIZE 4)\r\n",
            "* 10 FETCH (UID +14 RFC822.SIZE 5)\r\n",
            "* 11 FETCH (UID 4294967296 RFC822.SIZE 6)\r\n",
            "* 12 FETCH (UID 15 RFC822.SIZE 7abc)\r\n",
            "* 13 FETCH (UID 16 FLAGS)\r\n",
            "* 14 FETCH (UID 17 INTERNALDATE NIL)\r\n",
            "* 15 FETCH (UID 18 BODY[] (a b))\r\n",
            "* 16 FETCH (UID 19) trailing\r\n",
            "*  17 FETCH (UID 20)\r\n",
            "* 18 FETCH (UID 21 FLAGS (nıl \\Seen))\r\n",
            "* 19 EXISTS\r\n",
            "* OK [UIDVALIDITY 3] ok\r\n",
        ]
        for text in common + unusual {
            let response = try #require(try frame(text).first)
            let direct = FetchLine.parse(response)
            if common.contains(text) { #expect(direct != nil, "\(text)") }
            if let direct { #expect(direct == IMAPSession.tokenizedFetch(response), "\(text)") }
            // Whichever reads it, the session's result is the general tokenizer's.
            #expect(
                IMAPSession.parseFetch([response])
                    == [IMAPSession.tokenizedFetch(response)].compactMap { $0 }.filter { $0.uid != 0 }, "\(text)")
        }
        let opening = try #require(try frame(common[0]).first)
        let first = try #require(FetchLine.parse(opening))
        #expect(first.uid == 7)
        #expect(first.flags == ["\\Seen", "$Done"])
        #expect(first.internalDate == "17-Jul-1996 02:44:25 -0700")
        #expect(first.size == n)
        #expect(first.raw == Array(body.utf8))
    }

    @Test("a response's opening is compared without regard to case")
    func startsWith() throws {
        let lines = try ["* bye server going down", "* BYE", "* BY", "* 1 FETCH (UID 1)"].map { text in
            try #require(try frame(text + "\r\n").first)
        }
        #expect(lines.map { $0.startsWith("* BYE") } == [true, true, false, false])
    }

    @Test("literal markers are recognised only at the end of a line")
    func literalMarker() {
        #expect(IMAPResponseReader.trailingLiteralSize(Array("* X {12}".utf8)[...]) == 12)
        #expect(IMAPResponseReader.trailingLiteralSize(Array("* X {12+}".utf8)[...]) == 12)
        #expect(IMAPResponseReader.trailingLiteralSize(Array("* X {12} y".utf8)[...]) == nil)
        #expect(IMAPResponseReader.trailingLiteralSize(Array("* X {}".utf8)[...]) == nil)
        #expect(IMAPResponseReader.trailingLiteralSize(Array("* X 12}".utf8)[...]) == nil)
    }

    @Test("an endless line without a literal is refused instead of eating memory")
    func lineLimit() throws {
        var reader = IMAPResponseReader(maxLineBytes: 1000)
        reader.append(Array(String(repeating: "a", count: 2000).utf8))
        #expect(throws: IMAPResponseReader.FramingError.lineTooLong(1000)) { try reader.next() }
    }

    @Test("SELECT responses give UIDVALIDITY, UIDNEXT and EXISTS")
    func select() throws {
        let responses = try frame(
            "* 3 EXISTS\r\n* OK [UIDVALIDITY 1700000001] UIDs valid\r\n* OK [UIDNEXT 12] Predicted\r\n"
                + "* OK [HIGHESTMODSEQ 40] Highest\r\ntg3 OK [READ-WRITE] Select completed.\r\n")
        let status = try IMAPSession.parseSelect(responses, server: "test")
        #expect(status == MailboxStatus(uidValidity: 1_700_000_001, uidNext: 12, exists: 3, highestModSeq: 40))
    }

    @Test(
        "mailbox names are encoded in modified UTF-7",
        arguments: [
            ("INBOX", "INBOX"), ("Entwürfe", "Entw&APw-rfe"), ("A&B", "A&-B"), ("日本語", "&ZeVnLIqe-"),
        ])
    func modifiedUTF7(input: String, expected: String) {
        #expect(ModifiedUTF7.encode(input) == expected)
    }

    @Test("quoting refuses CR, LF and NUL and escapes quotes")
    func quoting() throws {
        #expect(try IMAPSession.quoted("a\"b\\c") == "\"a\\\"b\\\\c\"")
        #expect(throws: TransportError.self) { try IMAPSession.quoted("a\r\nb") }
    }

    @Test("our own LOGIN carries printable ASCII credentials quoted; anything else is left to libcurl's SASL login")
    func loginCommand() {
        func login(_ user: String, _ password: String?, token: String? = nil) -> String? {
            IMAPSession.loginCommand(
                for: IMAPEndpoint(
                    url: URL(string: "imap://mail.example.test")!, username: user, password: password,
                    oauthToken: token))
        }
        #expect(login("anna", "secret") == #"LOGIN "anna" "secret""#)
        #expect(login(#"it\desk"#, #"se"cr\et x"#) == #"LOGIN "it\\desk" "se\"cr\\et x""#)
        #expect(login("anna", nil) == #"LOGIN "anna" """#)
        #expect(login("anna", "gehéim") == nil)  // needs a literal: libcurl's AUTHENTICATE PLAIN carries UTF-8
        #expect(login("anna", "a\tb") == nil)
        #expect(login("anna", "x", token: "ya29.token") == nil)  // XOAUTH2 stays with libcurl
    }
}
