import MailFormat
import Testing

@Suite struct EncodedWordTests {
    @Test(arguments: [
        ("=?utf-8?B?SGVsbG8gV29ybGQ=?=", "Hello World"),
        ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
        ("=?iso-8859-1?q?this=20is=20some=20text?=", "this is some text"),
        ("=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"),
        ("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("=?ISO-8859-1?Q?a?=  \r\n  =?ISO-8859-1?Q?b?=", "ab"),
        ("=?ISO-8859-1?Q?a_b?=", "a b"),
        ("=?ISO-8859-1?Q?a?= b", "a b"),
        ("a =?ISO-8859-1?Q?b?=", "a b"),
        ("no encoding here", "no encoding here"),
        ("=?utf-8?q?caf=C3=A9?=x", "caféx"),
        ("x=?utf-8?q?caf=C3=A9?=", "xcafé"),
        // split multi-byte sequence across two words
        ("=?utf-8?B?w6Q=?= =?utf-8?B?w7Y=?=", "äö"),
        ("=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "€"),
        ("=?UTF-8*en?Q?Hi?=", "Hi"),
        ("=?utf-8?b?SGVsbG8?=", "Hello"),  // missing padding
        ("=?utf-8?x?abc?=", "=?utf-8?x?abc?="),  // unknown encoding kept
        ("=?utf-8?q?broken", "=?utf-8?q?broken"),
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        ("=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=", "テスト"),
        ("=?shift_jis?B?g2WDWINn?=", "テスト"),
        ("=?gb2312?B?1tDOxA==?=", "中文"),
        ("=?ks_c_5601-1987?B?x9Gx2w==?=", "한글"),
        ("=?windows-1252?Q?=80_10?=", "€ 10"),
        ("=?utf-8?q?hello world?=", "hello world"),
    ])
    func decode(_ input: String, _ expected: String) {
        #expect(EncodedWord.decode(input) == expected)
    }

    @Test func unknownCharsetIsDiagnosed() {
        let m = parse("Subject: =?x-klingon?q?caf=C3=A9?=\r\n\r\n")
        #expect(m.subject == "café")
        #expect(m.diagnostics.contains { $0.contains("x-klingon") })
    }

    @Test(arguments: [
        "plain ascii", "Grüße aus Köln", "日本語のテキスト", "Ünïcödé " + String(repeating: "long text ", count: 20),
        "=?not an encoded word?=", "emoji 🎉 party", "",
    ])
    func encodeRoundTrips(_ s: String) {
        let encoded = EncodedWord.encode(s)
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
        for word in encoded.split(separator: " ") where word.hasPrefix("=?") {
            #expect(word.utf8.count <= 75)
        }
        #expect(EncodedWord.decode(encoded) == s)
    }

    @Test func asciiIsNotEncoded() {
        #expect(EncodedWord.encode("Hello World") == "Hello World")
    }
}
