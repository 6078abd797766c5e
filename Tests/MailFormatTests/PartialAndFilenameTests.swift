import Foundation
import Testing

@testable import MailFormat

/// `message/partial` reassembly against MimeKit's samples (MIT, read in place: `X.0.eml`, `X.1.eml` … and the
/// expected whole `X.eml`), and RFC 5987 / RFC 2231 extended filenames in every header form.
@Suite struct PartialAndFilenameTests {
    static var directory: URL {
        CorpusTests.corpusDirectory.appendingPathComponent("mimekit/UnitTests/TestData/partial")
    }

    static func load(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func body(_ raw: [UInt8]) -> [UInt8] {
        raw.withUnsafeBufferPointer { b in
            var d: [String] = []
            let block = MailParser.parseHeaderBlock(
                b, start: 0, end: b.count, topLevel: true, options: ParseOptions(), diagnostics: &d)
            return Array(raw[block.bodyStart...])
        }
    }

    @Test(arguments: [("rfc2046", 2), ("message-partial", 3)])
    func mimekitPartials(_ name: String, _ count: Int) throws {
        // fragments given out of order on purpose
        let parts = try (0..<count).reversed().map { try Self.load("\(name).\($0).eml") }
        let whole = try #require(MailParser.reassemble(parts))
        let expected = try Self.load("\(name).eml")
        #expect(Self.body(whole) == Self.body(expected))
        let ours = MailParser.parse(whole)
        let theirs = MailParser.parse(expected)
        #expect(ours.subject == theirs.subject)
        #expect(ours.messageID == theirs.messageID)
        #expect(ours.from == theirs.from)
        // RFC 2046 appends the enclosed fields; MimeKit keeps them where the outer ones stood: same set, other order
        #expect(
            ours.headers.map { $0.name.lowercased() }.sorted() == theirs.headers.map { $0.name.lowercased() }.sorted())
        #expect(ours.attachments.map(\.data) == theirs.attachments.map(\.data))
        #expect(ours.text == theirs.text)
    }

    @Test func incompleteSetsAreRefused() throws {
        let first = try Self.load("message-partial.0.eml")
        let second = try Self.load("message-partial.1.eml")
        #expect(MailParser.reassemble([first, second]) == nil)  // total=3
        #expect(MailParser.reassemble([first, first, second]) == nil)
        #expect(MailParser.reassemble([Array("Subject: x\n\nbody".utf8)]) == nil)
        let info = try #require(MailParser.partialInfo(second))
        #expect(info.number == 2)
        #expect(info.total == 3)
        #expect(info.id == "6MCVORPHW0U4.BCPTXD0EM9BT3@mit.edu")
    }

    @Test(arguments: [
        ("Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", "€ rates.pdf"),
        ("Content-Disposition: attachment; filename*=utf-8'en'%C3%BCbersicht.txt", "übersicht.txt"),
        ("Content-Disposition: attachment; filename*=\"UTF-8''%E2%82%AC%20quoted.pdf\"", "€ quoted.pdf"),
        ("Content-Disposition: attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%C3%A9t%C3%A9.pdf", "été.pdf"),
        ("Content-Disposition: attachment; filename*=UTF-8''%C3%A9t%C3%A9.pdf; filename=\"fallback.pdf\"", "été.pdf"),
        ("Content-Disposition: attachment; FILENAME*=UTF-8''%E6%97%A5%E6%9C%AC.txt", "日本.txt"),
        ("Content-Disposition: attachment; filename*=ISO-8859-1''%E9t%E9.txt", "été.txt"),
        ("Content-Disposition: attachment; filename*=''plain%20name.txt", "plain name.txt"),
        (
            "Content-Disposition: attachment;\n filename*0*=UTF-8''%E2%82%AC%20long;\n filename*1=\" name\";\n"
                + " filename*2*=%C3%A9.txt",
            "€ long nameé.txt"
        ),
        ("Content-Disposition: attachment\nContent-Type: application/pdf; name*=UTF-8''%E2%82%AC.pdf", "€.pdf"),
        ("Content-Disposition: attachment; filename*=UTF-8''%F0%9F%98%80.png", "😀.png"),
        ("Content-Disposition: attachment; filename*=UTF-8''bad%ZZname.txt", "bad%ZZname.txt"),
    ])
    func rfc5987Filenames(_ header: String, _ expected: String) {
        let header = header.contains("Content-Type:") ? header : header + "\nContent-Type: application/octet-stream"
        let m = parse(
            "From: a@example.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
                + "--b\n\(header)\n\nDATA\n--b--\n")
        #expect(m.attachments.first?.filename == expected)
    }
}
