import Foundation
import Testing

@testable import MailFormat

/// Reply stripping against the reply-parser corpora (read in place). talon ships expected replies: standard
/// replies are "Hello" unless `X_reply_text` says otherwise, and its HTML replies all answer "Hi. I am fine.
/// Thanks, Alex". The other parsers (github, crisp, zapier, willdurand) ship bodies without expectations as data,
/// so for them the check is what every correct answer shares: something is left, and no `>` quote or
/// "… wrote:" attribution survives.
@Suite struct ReplyCorpusTests {
    static var corpus: URL { CorpusTests.corpusDirectory }

    /// Whitespace-collapsed form. talon keeps signatures ("-- " blocks, "Sent from my iPhone"), which we drop by
    /// design, so they are cut from its expectation too.
    static func normalized(_ s: String) -> String {
        var lines = s.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
        if let sig = lines.firstIndex(where: { $0 == "-- " || $0 == "--" }) { lines = Array(lines[..<sig]) }
        return lines.filter { !$0.lowercased().hasPrefix("sent from my") }
            .joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func files(_ folder: String, suffix: String) -> [URL] {
        let root = corpus.appendingPathComponent(folder)
        return ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasSuffix(suffix) }
            .sorted().map { root.appendingPathComponent($0) }
    }

    @Test func talonStandardReplies() throws {
        let emails = Self.files("talon/tests/fixtures/standard_replies", suffix: ".eml")
        try #require(!emails.isEmpty)
        var matched = 0
        for url in emails {
            let message = MailParser.parse(try [UInt8](Data(contentsOf: url)))
            let expectedURL = url.deletingPathExtension().appendingPathExtension("").deletingPathExtension()
                .appendingPathComponent("").deletingLastPathComponent()
                .appendingPathComponent(url.deletingPathExtension().lastPathComponent + "_reply_text")
            let expected = (try? String(contentsOf: expectedURL, encoding: .utf8)) ?? "Hello"
            if Self.normalized(message.replyText) == Self.normalized(expected) {
                matched += 1
            } else {
                print("  talon \(url.lastPathComponent): \(message.replyText.prefix(120).debugDescription)")
            }
        }
        print("talon standard replies: \(matched)/\(emails.count)")
        #expect(matched * 100 >= emails.count * 90)
    }

    @Test func talonHTMLReplies() throws {
        let pages = Self.files("talon/tests/fixtures/html_replies", suffix: ".html")
        try #require(!pages.isEmpty)
        var matched = 0
        for url in pages {
            let html = try String(decoding: Data(contentsOf: url), as: UTF8.self)
            let reply = ReplyText.strip(HTMLText.convert(html), html: html)
            if Self.normalized(reply) == "Hi. I am fine. Thanks, Alex" {
                matched += 1
            } else {
                print("  talon html \(url.lastPathComponent): \(reply.prefix(160).debugDescription)")
            }
        }
        print("talon HTML replies: \(matched)/\(pages.count)")
        #expect(matched * 100 >= pages.count * 75)
    }

    @Test func htmlOnlyRepliesFromCommonClients() {
        let cases: [(String, String)] = [
            (
                "<div dir=\"ltr\">Thanks, fixed.</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">"
                    + "Am Mo., 3. März 2025 um 10:00 Uhr schrieb Ann &lt;a@x.test&gt;:</div><blockquote>old</blockquote></div>",
                "Thanks, fixed."
            ),
            (
                "<p>Works now.</p><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> Ann"
                    + "<br><b>Sent:</b> Monday</div><div>old text</div>",
                "Works now."
            ),
            (
                "<div>Yes please.</div><div><br><blockquote type=\"cite\"><div>On 3 Mar 2025, at 10:00, Ann wrote:"
                    + "</div><div>old</div></blockquote></div>",
                "Yes please."
            ),
            (
                "<p>See attached.</p><div class=\"moz-cite-prefix\">On 03.03.25 10:00, Ann wrote:<br></div>"
                    + "<blockquote type=\"cite\">old</blockquote>",
                "See attached."
            ),
        ]
        for (html, expected) in cases {
            let message = parse("Content-Type: text/html; charset=utf-8\n\n" + html)
            #expect(message.replyText == expected, "\(html.prefix(60))")
        }
    }

    /// github-email_reply_parser, crisp, zapier and willdurand bodies: no quote line and no attribution may remain.
    @Test func replyParserBodiesLoseTheirHistory() throws {
        let folders = [
            "github-email_reply_parser/test/emails", "crisp-email-reply-parser/test/fixtures",
            "zapier-email-reply-parser/test/emails", "willdurand-EmailReplyParser/tests/Fixtures",
        ]
        var total = 0
        var clean = 0
        for folder in folders {
            for url in Self.files(folder, suffix: ".txt") where !url.lastPathComponent.contains("pathological") {
                let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
                guard
                    text.split(whereSeparator: \.isNewline).contains(where: {
                        $0.hasPrefix(">") || Self.isAttribution($0)
                    })
                else { continue }  // nothing quoted: nothing to check
                total += 1
                let reply = ReplyText.strip(MIMEWalker.normalizeLineEnds(text))
                let lines = reply.split(whereSeparator: \.isNewline)
                if !reply.trimmingBlanks().isEmpty,
                    !lines.contains(where: { $0.hasPrefix(">") || Self.isAttribution($0) })
                {
                    clean += 1
                } else if ProcessInfo.processInfo.environment["TG_SHOW_FAILURES"] != nil {
                    print("  \(folder)/\(url.lastPathComponent): \(reply.prefix(200).debugDescription)")
                }
            }
        }
        let rate = Double(clean) / Double(max(total, 1))
        print("reply-parser corpora: \(clean)/\(total) quoted bodies fully stripped (\(Int(rate * 100))%)")
        #expect(total > 50)
        #expect(rate >= 0.95)
    }

    static func isAttribution(_ line: Substring) -> Bool {
        let l = line.lowercased().trimmingBlanks()
        return l.hasSuffix("wrote:") || l.hasSuffix("a écrit :") || l.hasSuffix("schrieb:") || l.hasSuffix("escribió:")
    }
}
