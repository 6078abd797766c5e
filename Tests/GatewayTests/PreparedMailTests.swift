import Testing

@testable import Gateway

/// The store-free readings of a mail that the intake relies on: an agent's `/change` first line, the null path.
@Suite struct PreparedMailTests {
    @Test(
        "the first line is the first non-empty one, trimmed and lowercased",
        arguments: [
            ("/Change Standard\nrest", "/change standard"),
            ("\n\n  \t/change  \nrest", "/change"),
            ("   \nHello", ""),
            ("\u{2028}Über\u{2029}x", "über"),
            ("only", "only"),
        ])
    func firstLine(text: String, expected: String) {
        #expect(MailProcessor.firstLine(of: text) == expected)
    }

    @Test("no line at all in an empty or newline-only text")
    func noFirstLine() {
        #expect(MailProcessor.firstLine(of: "") == nil)
        #expect(MailProcessor.firstLine(of: "\n\r\n") == nil)
    }

    @Test("the null reverse path is <> between blanks, nothing else")
    func nullPath() {
        #expect(MailProcessor.isNullPath("<>"))
        #expect(MailProcessor.isNullPath(" \t<> "))
        #expect(!MailProcessor.isNullPath("< >"))
        #expect(!MailProcessor.isNullPath("<a@b.test>"))
        #expect(!MailProcessor.isNullPath(""))
    }
}
