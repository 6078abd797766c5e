import Foundation
import MailFormat
import Testing

@Suite struct MailComposerTests {
    static func sample(
        text: String = "Hello Bob,\nthe printer is fixed.\n", html: String? = nil,
        attachments: [OutgoingAttachment] = [], subject: String = "[#42] Printer broken"
    )
        -> OutgoingMail
    {
        OutgoingMail(
            from: MailAddress(name: "Service Desk", address: "desk@example.com"),
            to: [MailAddress(name: "Bob Müller", address: "bob@example.com"), MailAddress(address: "c@example.com")],
            cc: [MailAddress(name: "Doe, Jane", address: "jane@example.com")],
            replyTo: [MailAddress(address: "reply@example.com")],
            subject: subject, messageID: "tg.42.1@example.com", inReplyTo: "orig@client.example",
            references: ["root@client.example", "orig@client.example"],
            date: Date(timeIntervalSince1970: 1_730_800_800),
            extraHeaders: [
                HeaderField(name: "Auto-Submitted", rawValue: "auto-replied"),
                HeaderField(name: "X-Injected", rawValue: "a\r\nBcc: evil@example.com"),
            ],
            text: text, html: html, attachments: attachments)
    }

    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: 10, omittingEmptySubsequences: false)
    }

    static func checkWireFormat(_ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() {
            if b == 10 { #expect(i > 0 && bytes[i - 1] == 13, "bare LF at \(i)") }
            if b == 13 { #expect(i + 1 < bytes.count && bytes[i + 1] == 10, "bare CR at \(i)") }
        }
        for line in lines(bytes) { #expect(line.count <= 998) }
        let headerEnd = bytes.firstRange(of: [13, 10, 13, 10]).map { $0.lowerBound } ?? bytes.count
        #expect(bytes[..<headerEnd].allSatisfy { $0 < 0x80 }, "8-bit header")
    }

    @Test func plainRoundTrip() {
        let mail = Self.sample()
        let bytes = MailComposer.compose(mail)
        Self.checkWireFormat(bytes)
        let m = MailParser.parse(bytes)
        #expect(m.subject == mail.subject)
        #expect(m.from == [mail.from])
        #expect(m.to == mail.to)
        #expect(m.cc == mail.cc)
        #expect(m.replyTo == mail.replyTo)
        #expect(m.messageID == "tg.42.1@example.com")
        #expect(m.inReplyTo == ["orig@client.example"])
        #expect(m.references == mail.references)
        #expect(m.date == mail.date)
        #expect(m.text == mail.text)
        #expect(m.html == nil)
        #expect(m.header("MIME-Version") == "1.0")
        #expect(m.header("Auto-Submitted") == "auto-replied")
        #expect(m.header("Bcc") == nil)
        #expect(m.header("Date") == "Tue, 05 Nov 2024 10:00:00 +0000")
        #expect(m.parts.transferEncoding == "7bit")
        #expect(m.diagnostics.isEmpty, "\(m.diagnostics)")
    }

    @Test(arguments: [
        "Grüße aus Köln – Störung behoben", "日本語の件名です。とても長い件名になるかもしれません、本当に長い件名です。", "Emoji 🎉🎉🎉",
        String(repeating: "Very long ASCII subject ", count: 20),
        String(repeating: "x", count: 1_500),
        "Looks like =?utf-8?q?encoded?= but is not",
    ])
    func subjectRoundTrip(_ subject: String) {
        let bytes = MailComposer.compose(Self.sample(subject: subject))
        Self.checkWireFormat(bytes)
        #expect(MailParser.parse(bytes).subject == subject.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: [
        "Plain ASCII\nwith lines\n", "Grüße,\nüber alles\n", "Ελληνικά κείμενα παντού\nκαι άλλη γραμμή",
        String(repeating: "a", count: 3_000), "line with trailing space \nnext", "=3D not encoded\n.\n.dot\nFrom me",
        "\r\nCRLF\r\ninput\r\n", "",
    ])
    func bodyRoundTrip(_ text: String) {
        let bytes = MailComposer.compose(Self.sample(text: text))
        Self.checkWireFormat(bytes)
        let expected = text.replacingOccurrences(of: "\r\n", with: "\n")
        let parsed = MailParser.parse(bytes).text
        // composer ends the body with a line break
        #expect(parsed == expected || parsed == expected + "\n", "\(parsed.debugDescription)")
    }

    @Test func headerInjectionIsNeutralised() {
        let m = MailParser.parse(MailComposer.compose(Self.sample(subject: "Hi\r\nBcc: evil@example.com\nX: y")))
        #expect(m.subject == "Hi Bcc: evil@example.com X: y")
        #expect(m.header("Bcc") == nil)
        #expect(m.header("X") == nil)
    }

    @Test func encodingChoice() {
        let qp = MailParser.parse(MailComposer.compose(Self.sample(text: "Grüße, alles gut hier im Büro.\n")))
        #expect(qp.parts.transferEncoding == "quoted-printable")
        let b64 = MailParser.parse(MailComposer.compose(Self.sample(text: "日本語のテキストです。\n")))
        #expect(b64.parts.transferEncoding == "base64")
    }

    @Test func htmlAndAttachments() {
        let pdf = [UInt8](repeating: 0xAB, count: 5_000) + Array("%PDF".utf8)
        let mail = Self.sample(
            text: "See attached.\n", html: "<p>See <b>attached</b> – ok</p>",
            attachments: [
                OutgoingAttachment(
                    filename: "Bericht Übersicht 2024 mit einem sehr langen Namen.pdf",
                    contentType: "application/pdf", data: pdf),
                OutgoingAttachment(filename: "notes.txt", contentType: "text/plain", data: Array("note\n".utf8)),
                OutgoingAttachment(filename: "bad\"name.bin", contentType: "not a type", data: [0, 1, 2]),
            ])
        let bytes = MailComposer.compose(mail)
        Self.checkWireFormat(bytes)
        let m = MailParser.parse(bytes)
        #expect(m.text == "See attached.\n")
        #expect(m.html == "<p>See <b>attached</b> – ok</p>\n")
        #expect(m.parts.contentType == "multipart/mixed")
        #expect(m.parts.children.first?.contentType == "multipart/alternative")
        #expect(m.attachments.count == 3)
        #expect(m.attachments[0].filename == "Bericht Übersicht 2024 mit einem sehr langen Namen.pdf")
        #expect(m.attachments[0].data == pdf)
        #expect(m.attachments[0].contentType == "application/pdf")
        #expect(m.attachments[1].filename == "notes.txt")
        #expect(m.attachments[1].data == Array("note\n".utf8))
        #expect(m.attachments[2].filename == "bad\"name.bin")
        #expect(m.attachments[2].contentType == "application/octet-stream")
        #expect(m.diagnostics.isEmpty, "\(m.diagnostics)")
    }

    @Test func htmlOnlyAlternative() {
        let m = MailParser.parse(MailComposer.compose(Self.sample(text: "Hi", html: "<p>Hi</p>")))
        #expect(m.parts.contentType == "multipart/alternative")
        #expect(m.text == "Hi\n")
        #expect(m.html == "<p>Hi</p>\n")
    }

    @Test func boundaryNotInContent() {
        let seed = String(SHA256.hex(Array("tg.42.1@example.com".utf8)).prefix(20))
        let text = "--=_tg_alt_\(seed)\n"
        let m = MailParser.parse(MailComposer.compose(Self.sample(text: text, html: "<p>x</p>")))
        #expect(m.text == text)
    }

    @Test func nonASCIINamesAreEncoded() {
        let bytes = MailComposer.compose(Self.sample())
        let header = String(decoding: bytes, as: UTF8.self)
        #expect(header.contains("=?UTF-8?Q?Bob_M=C3=BCller?= <bob@example.com>"))
        #expect(header.contains("\"Doe, Jane\" <jane@example.com>"))
        #expect(header.contains("Message-ID: <tg.42.1@example.com>"))
    }
}
