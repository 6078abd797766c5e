import MailFormat
import Testing

@Suite struct HeaderParsingTests {
    @Test(arguments: ["\r\n", "\n", "\r"])
    func lineEndings(_ eol: String) {
        let raw = ["From: a@example.com", "Subject: Hello", "  world", "X-Dup: 1", "X-Dup: 2", "", "Body line", "2"]
            .joined(separator: eol)
        let m = parse(raw)
        #expect(m.headers.count == 4)
        #expect(m.subject == "Hello  world")
        #expect(m.headers(named: "x-dup") == ["1", "2"])
        #expect(m.header("X-DUP") == "1")
        #expect(m.text == "Body line\n2")
        #expect(m.from == [MailAddress(address: "a@example.com")])
    }

    /// Intake rules match every field by its own value: a repeated field must not repeat the first one's value.
    @Test func decodedHeadersKeepEachOccurrence() {
        let m = parse("Received: from mx1\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nReceived: from mx2 \r\n\r\nbody")
        #expect(m.decodedHeaders.map(\.name) == ["Received", "Subject", "Received"])
        #expect(m.decodedHeaders.map(\.value) == ["from mx1", "café", "from mx2"])
    }

    @Test func foldingKeepsRawValueUnfolded() {
        let m = parse("Subject: =?utf-8?q?caf=C3=A9?=\r\n\t=?utf-8?q?_bar?=\r\nX-Long: a\r\n  b\r\n\r\n")
        let field = m.headers.first { $0.name == "X-Long" }
        #expect(field?.rawValue == "a  b")
        #expect(m.subject == "café bar")
        #expect(m.headers[0].rawValue == "=?utf-8?q?caf=C3=A9?=\t=?utf-8?q?_bar?=")
    }

    @Test func leadingBlankLinesAndWhitespace() {
        let m1 = parse("\r\n\r\nSubject: x\r\nFrom: a@b.c\r\n\r\nbody")
        #expect(m1.subject == "x")
        #expect(m1.text == "body")
        let m2 = parse("   Subject: y\nFrom: a@b.c\n\nbody")
        #expect(m2.subject == "y")
        #expect(!m2.diagnostics.isEmpty)
        let m3 = parse("From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: mbox\n\nhi")
        #expect(m3.subject == "mbox")
    }

    @Test func headerlessInput() {
        let m = parse("just some text\nwithout headers\n")
        #expect(m.headers.isEmpty)
        #expect(m.text == "just some text\nwithout headers\n")
        #expect(m.subject == "")
        #expect(parse("").text == "")
    }

    @Test func missingBlankLineBeforeBody() {
        let m = parse("Subject: x\nThis is the body\n")
        #expect(m.subject == "x")
        #expect(m.text == "This is the body\n")
    }

    @Test func obsoleteSpaceBeforeColon() {
        let m = parse("Subject : spaced\r\nFrom:a@b.c\r\n\r\n")
        #expect(m.subject == "spaced")
        #expect(m.headers[0].name == "Subject")
        #expect(m.from.first?.address == "a@b.c")
    }

    @Test func eightBitHeaders() {
        var raw = Array("Subject: Grüße aus Köln\r\nFrom: \"Jürgen\" <j@example.de>\r\n".utf8)
        raw += Array("X-Latin: ".utf8) + [0x47, 0x72, 0xFC, 0xDF, 0x65] + Array("\r\n\r\nhi".utf8)
        let m = MailParser.parse(raw)
        #expect(m.subject == "Grüße aus Köln")
        #expect(m.from.first?.name == "Jürgen")
        #expect(m.header("x-latin") == "Grüße")
    }

    @Test func hugeHeaderIsBounded() {
        var options = ParseOptions()
        options.maxHeaderBytes = 1_000
        var raw = "Subject: s\r\n"
        for i in 0..<200 { raw += "X-H\(i): \(String(repeating: "v", count: 50))\r\n" }
        raw += "\r\nbody"
        let m = parse(raw, options: options)
        #expect(m.subject == "s")
        #expect(m.headers.count < 30)
        #expect(m.text == "body")
        #expect(m.diagnostics.contains { $0.contains("header block larger") })
    }

    @Test func rawSizeAndMissingSubject() {
        let m = parse("From: a@b.c\n\nx")
        #expect(m.rawSize == 14)
        #expect(m.subject == "")
        #expect(m.header("Subject") == nil)
    }
}
