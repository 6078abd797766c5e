import MailFormat
import Testing

@Suite struct ContentTypeTests {
    @Test func parameters() {
        let ct = ContentType.parse("Text/Plain; Charset=\"UTF-8\"; format=flowed (comment)")
        #expect(ct?.mimeType == "text/plain")
        #expect(ct?.parameters["charset"] == "UTF-8")
        #expect(ct?.parameters["format"] == "flowed")
        let missingSemicolon = ContentType.parse("text/plain charset=utf-8 format=flowed")
        #expect(missingSemicolon?.parameters["charset"] == "utf-8")
        #expect(missingSemicolon?.parameters["format"] == "flowed")
        let escaped = ContentType.parse(#"application/pdf; name="a \"quoted\" name.pdf""#)
        #expect(escaped?.parameters["name"] == "a \"quoted\" name.pdf")
        let unquoted = ContentType.parse("application/pdf; name=my file.pdf")
        #expect(unquoted?.parameters["name"] == "my file.pdf")
        #expect(ContentType.parse("garbage") == nil)
        #expect(ContentType.parse("text")?.mimeType == "text/plain")
    }

    @Test func rfc2231() {
        let ct = ContentType.parse(
            "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20;"
                + " title*2=\"isn't it!\"")
        #expect(ct?.parameters["title"] == "This is even more ***fun*** isn't it!")
        let utf8 = ContentType.parse("application/pdf; name*=UTF-8''Gr%C3%BC%C3%9Fe.pdf; name=\"fallback.pdf\"")
        #expect(utf8?.parameters["name"] == "Grüße.pdf")
        let latin = ContentType.parse("application/pdf; name*=iso-8859-1'de'Gr%FC%DFe.pdf")
        #expect(latin?.parameters["name"] == "Grüße.pdf")
        let outOfOrder = ContentType.parse("a/b; n*1=\"def\"; n*0=\"abc\"")
        #expect(outOfOrder?.parameters["n"] == "abcdef")
    }
}

@Suite struct TransferEncodingTests {
    @Test func brokenSpellings() {
        for (cte, body, expected) in [
            ("7-bit", "plain", "plain"), ("8bits", "plain", "plain"), ("quoted printable", "caf=C3=A9", "café"),
            ("Quoted-Printable", "caf=C3=A9", "café"), ("BASE64", "Y2Fmw6k=", "café"), ("base-64", "Y2Fmw6k=", "café"),
            ("x-uuencode", "begin 644 f.txt\n#8V%F\n`\nend\n", "caf"),
        ] {
            let m = parse("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: \(cte)\n\n\(body)")
            #expect(m.text == expected, "\(cte)")
            #expect(m.diagnostics.isEmpty, "\(cte): \(m.diagnostics)")
        }
        let unknown = parse("Content-Transfer-Encoding: x-weird\n\nhello")
        #expect(unknown.text == "hello")
        #expect(unknown.diagnostics.contains { $0.contains("x-weird") })
    }

    @Test func quotedPrintableDetails() {
        let m = parse(
            "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
                + "soft=\nbreak  \ntrailing=20\n=3D sign =ZZ stray = end=")
        #expect(m.text == "softbreak\ntrailing \n= sign =ZZ stray = end")
    }

    @Test func base64Tolerance() {
        let m = parse("Content-Transfer-Encoding: base64\n\naGVs\nbG8g\r\nd29y*bGQ\n")
        #expect(m.text == "hello world")
    }
}

@Suite struct CharsetTests {
    static func body(_ charset: String, _ bytes: [UInt8]) -> MailMessage {
        MailParser.parse(Array("Content-Type: text/plain; charset=\"\(charset)\"\n\n".utf8) + bytes)
    }

    @Test(arguments: [
        ("iso-8859-1", [0x47, 0x72, 0xFC, 0xDF, 0x65] as [UInt8], "Grüße"),
        ("windows-1252", [0x80, 0x20, 0x93, 0x71, 0x94], "€ “q”"),
        ("iso-8859-2", [0xB1, 0xE6], "ąć"),
        ("iso-8859-15", [0xA4], "€"),
        ("windows-1251", [0xCF, 0xF0, 0xE8], "При"),
        ("koi8-r", [0xF0, 0xD2, 0xC9], "При"),
        ("iso-2022-jp", [0x1B, 0x24, 0x42, 0x25, 0x46, 0x25, 0x39, 0x25, 0x48, 0x1B, 0x28, 0x42], "テスト"),
        ("shift_jis", [0x83, 0x65, 0x83, 0x58, 0x83, 0x67], "テスト"),
        ("euc-jp", [0xA5, 0xC6, 0xA5, 0xB9, 0xA5, 0xC8], "テスト"),
        ("big5", [0xA4, 0xA4, 0xA4, 0xE5], "中文"),
        ("gb2312", [0xD6, 0xD0, 0xCE, 0xC4], "中文"),
        ("gb18030", [0xD6, 0xD0, 0xCE, 0xC4], "中文"),
        ("ks_c_5601-1987", [0xC7, 0xD1, 0xB1, 0xDB], "한글"),
        ("euc-kr", [0xC7, 0xD1, 0xB1, 0xDB], "한글"),
        ("utf-16", [0xFE, 0xFF, 0x00, 0x41, 0x00, 0xE4], "Aä"),
        ("utf-16le", [0x41, 0x00, 0xE4, 0x00], "Aä"),
        ("utf-7", Array("Hi +AOQ-".utf8), "Hi ä"),
        ("us-ascii", [0x63, 0x61, 0x66, 0xC3, 0xA9], "café"),
        ("utf-8", [0x63, 0x61, 0x66, 0xE9], "café"),
        ("ISO8859-1", [0xE9], "é"),
        ("latin1", [0xE9], "é"),
    ])
    func decodes(_ charset: String, _ bytes: [UInt8], _ expected: String) {
        let m = Self.body(charset, bytes)
        #expect(m.text == expected)
        #expect(m.parts.charset == charset.lowercased())
    }

    @Test func unknownAndLyingCharsets() {
        let unknown = Self.body("x-martian", [0x63, 0x61, 0x66, 0xC3, 0xA9])
        #expect(unknown.text == "café")
        #expect(unknown.diagnostics.contains { $0.contains("x-martian") })
        let unknownLatin = Self.body("x-martian", [0x63, 0x61, 0x66, 0xE9])
        #expect(unknownLatin.text == "café")
        let lyingLatin1 = Self.body("iso-8859-1", [0x63, 0x61, 0x66, 0xC3, 0xA9])
        #expect(lyingLatin1.text == "café")
        #expect(!lyingLatin1.diagnostics.isEmpty)
        let lyingSJIS = Self.body("shift_jis", Array("naïve café ✓".utf8))
        #expect(lyingSJIS.text == "naïve café ✓")
        let noCharset = MailParser.parse(Array("Content-Type: text/plain\n\n".utf8) + [0xE9, 0x74, 0xE9])
        #expect(noCharset.text == "été")
    }
}

@Suite struct MIMEStructureTests {
    static let alternative = crlf([
        "From: Alice <alice@example.com>",
        "To: bob@example.com",
        "Subject: test",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"outer\"",
        "",
        "This is the preamble.",
        "--outer",
        "Content-Type: multipart/alternative; boundary=inner",
        "",
        "--inner",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Hello B=C3=B6b",
        "--inner",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>Hello <b>Böb</b></p>",
        "--inner--",
        "",
        "--outer",
        "Content-Type: application/pdf; name=\"report.pdf\"",
        "Content-Disposition: attachment; filename*=UTF-8''Bericht%20%C3%BC.pdf",
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjQK",
        "--outer",
        "Content-Type: image/png",
        "Content-ID: <img1@example.com>",
        "Content-Transfer-Encoding: base64",
        "",
        "iVBORw0KGgo=",
        "--outer--",
        "epilogue",
    ])

    @Test func mixedAlternativeAttachments() {
        let m = parse(Self.alternative)
        #expect(m.text == "Hello Böb")
        #expect(m.html == "<p>Hello <b>Böb</b></p>")
        #expect(m.attachments.count == 2)
        let pdf = m.attachments[0]
        #expect(pdf.filename == "Bericht ü.pdf")
        #expect(pdf.contentType == "application/pdf")
        #expect(pdf.data == Array("%PDF-1.4\n".utf8))
        #expect(pdf.size == 9)
        #expect(pdf.sha256 == SHA256.hex(Array("%PDF-1.4\n".utf8)))
        #expect(!pdf.inline)
        let img = m.attachments[1]
        #expect(img.inline)
        #expect(img.contentID == "img1@example.com")
        #expect(img.filename == nil)
        #expect(m.parts.contentType == "multipart/mixed")
        #expect(m.parts.children.map(\.contentType) == ["multipart/alternative", "application/pdf", "image/png"])
        #expect(m.parts.children[0].children.map(\.contentType) == ["text/plain", "text/html"])
        #expect(m.parts.children[0].children[0].transferEncoding == "quoted-printable")
        #expect(m.parts.children[0].children[0].charset == "utf-8")
        #expect(m.diagnostics.isEmpty, "\(m.diagnostics)")
    }

    @Test func htmlOnlyBecomesText() {
        let m = parse(
            "Content-Type: text/html; charset=utf-8\n\n<html><head><title>x</title><style>p{}</style></head>"
                + "<body><p>Hello&nbsp;there</p><p>Visit <a href=\"https://example.com\">our site</a></p></body></html>"
        )
        #expect(m.html != nil)
        #expect(m.text == "Hello there\n\nVisit our site <https://example.com>")
    }

    @Test func unclosedAndMissingBoundary() {
        let unclosed = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond")
        #expect(unclosed.parts.children.count == 2)
        #expect(unclosed.text == "first\n\nsecond")
        #expect(unclosed.diagnostics.contains { $0.contains("not closed") })
        let guessed = parse("Content-Type: multipart/mixed\n\n--xyz\n\nbody\n--xyz--\n")
        #expect(guessed.text == "body")
        let none = parse("Content-Type: multipart/mixed; boundary=nope\n\njust text\n")
        #expect(none.text == "just text\n")
        #expect(!none.diagnostics.isEmpty)
    }

    @Test func boundaryPrefixOfAnother() {
        let m = parse(
            crlf([
                "Content-Type: multipart/mixed; boundary=\"b\"", "", "--b",
                "Content-Type: multipart/alternative; boundary=\"b-inner\"", "", "--b-inner", "", "inner text",
                "--b-inner--", "--b", "Content-Type: text/plain", "Content-Disposition: attachment; filename=a.txt", "",
                "file", "--b--",
            ]))
        #expect(m.text == "inner text")
        #expect(m.attachments.map(\.filename) == ["a.txt"])
    }

    @Test func attachedMessage() {
        let m = parse(
            crlf([
                "Subject: outer", "Content-Type: multipart/mixed; boundary=b", "", "--b", "", "outer body", "--b",
                "Content-Type: message/rfc822", "", "Subject: =?utf-8?q?inner_=C3=A9?=", "From: x@y.z", "",
                "inner body", "--b--",
            ]))
        #expect(m.text == "outer body")
        #expect(m.attachments.count == 1)
        #expect(m.attachments[0].contentType == "message/rfc822")
        #expect(m.attachments[0].filename == "inner é.eml")
        #expect(m.parts.children[1].children.first?.headers.first?.rawValue == "=?utf-8?q?inner_=C3=A9?=")
    }

    @Test func limits() {
        var options = ParseOptions()
        options.maxDepth = 3
        var raw = ""
        for i in 0..<50 { raw += "Content-Type: multipart/mixed; boundary=b\(i)\n\n--b\(i)\n" }
        raw += "\ndeep\n"
        let deep = parse(raw, options: options)
        #expect(deep.diagnostics.contains { $0.contains("deeper") })

        options = ParseOptions()
        options.maxParts = 10
        var many = "Content-Type: multipart/mixed; boundary=b\n\n"
        for i in 0..<100 { many += "--b\nContent-Type: application/octet-stream\n\n\(i)\n" }
        many += "--b--\n"
        let m = parse(many, options: options)
        #expect(m.attachments.count < 10)
        #expect(m.diagnostics.contains { $0.contains("MIME parts") })

        options = ParseOptions()
        options.maxDecodedBytes = 100
        let big = parse("Content-Type: text/plain\n\n" + String(repeating: "x", count: 1_000), options: options)
        #expect(big.diagnostics.contains { $0.contains("limit") })
    }

    @Test func formatFlowed() {
        let m = parse(
            "Content-Type: text/plain; format=flowed\n\nThis is a \nflowed line.\n> quoted \n> more\n-- \nsig")
        #expect(m.text == "This is a flowed line.\n> quoted more\n-- \nsig")
    }
}
