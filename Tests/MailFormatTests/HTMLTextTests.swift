import MailFormat
import Testing

@Suite struct HTMLTextTests {
    @Test(arguments: [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("Line<br>break<br/><br />x", "Line\nbreak\n\nx"),
        ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
        ("<a href=\"https://x.test/p?a=1&amp;b=2\">link</a>", "link <https://x.test/p?a=1&b=2>"),
        ("<a href=\"https://x.test\">https://x.test</a>", "https://x.test"),
        ("<a href=\"mailto:a@b.c\">a@b.c</a>", "a@b.c"),
        ("<a href=\"#top\">top</a>", "top"),
        ("<script>alert(1)</script><style>.x{}</style>visible", "visible"),
        ("<!--[if mso]><p>outlook</p><![endif]-->shown", "shown"),
        ("&lt;tag&gt; &amp; &quot;q&quot; &#228; &#xE4; &euro; &nbsp;x &bogus;", "<tag> & \"q\" ä ä €  x &bogus;"),
        ("a\n   b\t\tc", "a b c"),
        ("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>", "1\t2\n3\t4"),
        ("<pre>  keep\n   spaces</pre>", "keep\n   spaces"),
        ("<div>unclosed <b>bold", "unclosed bold"),
        ("x < y and a<b", "x < y and a<b"),
        ("<img src=cid:x alt=\"Logo\">text", "Logotext"),
        ("<head><title>T</title></head><body>B</body>", "B"),
    ])
    func converts(_ html: String, _ expected: String) {
        #expect(HTMLText.convert(html) == expected)
    }

    @Test func largeAndDeepInputIsLinear() {
        let deep = String(repeating: "<div>", count: 100_000) + "x" + String(repeating: "</div>", count: 100_000)
        #expect(HTMLText.convert(deep) == "x")
        let unterminated = "<!--" + String(repeating: "a", count: 100_000)
        #expect(HTMLText.convert(unterminated) == "")
    }
}
