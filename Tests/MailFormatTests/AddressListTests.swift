import MailFormat
import Testing

@Suite struct AddressListTests {
    static let cases: [(String, [MailAddress])] = [
        ("a@example.com", [MailAddress(address: "a@example.com")]),
        ("John Doe <jdoe@example.com>", [MailAddress(name: "John Doe", address: "jdoe@example.com")]),
        (
            "\"Doe, John\" <jdoe@example.com>, b@x.org",
            [
                MailAddress(name: "Doe, John", address: "jdoe@example.com"), MailAddress(address: "b@x.org"),
            ]
        ),
        ("jdoe@example.com (John Doe)", [MailAddress(name: "John Doe", address: "jdoe@example.com")]),
        (
            "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
            [
                MailAddress(name: "Ed Jones", address: "c@a.test"), MailAddress(address: "joe@where.test"),
                MailAddress(name: "John", address: "jdoe@one.test"),
            ]
        ),
        ("Undisclosed recipients:;", []),
        (
            "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>",
            [
                MailAddress(name: "Jürgen Müller", address: "jm@example.de")
            ]
        ),
        ("\"=?utf-8?q?J=C3=BCrgen?=\" <jm@example.de>", [MailAddress(name: "Jürgen", address: "jm@example.de")]),
        ("a@x.org; b@y.org", [MailAddress(address: "a@x.org"), MailAddress(address: "b@y.org")]),
        (
            "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
            [
                MailAddress(name: "Pete", address: "pete@silly.test")
            ]
        ),
        ("<@route.example:user@host.example>", [MailAddress(address: "user@host.example")]),
        (
            "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
            [
                MailAddress(name: "Mary Smith", address: "mary@x.test"), MailAddress(address: "jdoe@example.org"),
                MailAddress(name: "Who?", address: "one@y.test"),
            ]
        ),
        (
            "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
            [
                MailAddress(name: "Giant; \"Big\" Box", address: "sysservices@example.net")
            ]
        ),
        ("John Doe jdoe@example.com", [MailAddress(name: "John Doe", address: "jdoe@example.com")]),
        ("", []),
        (" , ,", []),
        ("<mailto:x@y.z>", [MailAddress(address: "x@y.z")]),
        ("'Single Quoted' <s@q.test>", [MailAddress(name: "Single Quoted", address: "s@q.test")]),
        (
            "Doe, John <jdoe@example.com>, x@y.test",
            [
                MailAddress(name: "Doe, John", address: "jdoe@example.com"), MailAddress(address: "x@y.test"),
            ]
        ),
        ("MAILER-DAEMON", [MailAddress(address: "MAILER-DAEMON")]),
        ("postmaster, a@b.test", [MailAddress(address: "postmaster"), MailAddress(address: "a@b.test")]),
    ]

    @Test(arguments: cases)
    func parse(_ input: String, _ expected: [MailAddress]) {
        #expect(AddressList.parse(input) == expected)
    }

    @Test func headersCombineToAndCc() {
        let m = MailFormatTests.parse("To: a@x.org\r\nTo: b@x.org\r\nCc: c@x.org, d@x.org\r\nReply-To: r@x.org\r\n\r\n")
        #expect(m.to.map(\.address) == ["a@x.org", "b@x.org"])
        #expect(m.cc.map(\.address) == ["c@x.org", "d@x.org"])
        #expect(m.replyTo.map(\.address) == ["r@x.org"])
    }
}

@Suite struct MessageIDTests {
    @Test(arguments: [
        ("<a@b> <c@d>", ["a@b", "c@d"]),
        ("<a@b>\r\n\t<c@d>", ["a@b", "c@d"]),
        ("<a@b>, garbage (comment <x@y>) <c@d>", ["a@b", "c@d"]),
        ("a@b c@d", ["a@b", "c@d"]),
        ("<a@b> \"Re: something\" <c@d>", ["a@b", "c@d"]),
        ("Your message of Mon, 1 Jan <a@b>", ["a@b"]),
        ("<a @ b>", ["a@b"]),
        ("", []),
        ("<<a@b>>", ["a@b"]),
    ])
    func list(_ input: String, _ expected: [String]) {
        #expect(MessageID.parseList(input) == expected)
    }

    @Test func headers() {
        let m = parse(
            "Message-ID: <id1@example.com>\r\nIn-Reply-To: <p@x> (from Joe)\r\nReferences: <r1@x>\r\n <r2@x> <p@x>\r\n\r\n"
        )
        #expect(m.messageID == "id1@example.com")
        #expect(m.inReplyTo == ["p@x"])
        #expect(m.references == ["r1@x", "r2@x", "p@x"])
        #expect(parse("Message-ID: bare@example.com\r\n\r\n").messageID == "bare@example.com")
        #expect(MessageID.generate(localPart: "abc", domain: "example.com") == "abc@example.com")
    }
}
