import Foundation
import MailFormat
import Testing

/// Hunnysoft MUA samples shipped with zbateson/mail-mime-parser (read in place from the corpus): the decoded
/// attachments must equal the expected files, and the fable text must come out of every charset/encoding.
@Suite struct ZbatesonCorpusTests {
    static var directory: URL {
        CorpusTests.corpusDirectory.appendingPathComponent("zbateson-mail-mime-parser/tests/_data/emails")
    }

    static var messages: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("m") && $0.hasSuffix(".txt") }.sorted()
    }

    static func load(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// Attachments we deliberately do not reproduce byte for byte.
    static let attachmentExceptions: [String: String] = [
        "m0022.txt": "expected file keeps the CRLF that RFC 2046 assigns to the following boundary",
        "m2011.txt": "application/mac-binhex40 is not decoded",
    ]

    static func squashed(_ s: String) -> String {
        s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    @Test func samplesArePresent() {
        #expect(Self.messages.count >= 60)
    }

    @Test(arguments: messages)
    func attachmentsMatchExpectedFiles(_ name: String) throws {
        let m = MailParser.parse(try Self.load(name))
        let files = Set((try? FileManager.default.contentsOfDirectory(atPath: Self.directory.path + "/files")) ?? [])
        for a in m.attachments {
            guard let filename = a.filename, files.contains(filename), Self.attachmentExceptions[name] == nil else {
                continue
            }
            let expected = try Self.load("files/" + filename)
            #expect(a.data == expected, "\(name): \(filename)")
            #expect(a.sha256 == SHA256.hex(expected))
        }
    }

    @Test func fableTextDecodesInEveryCharset() throws {
        let fable = String(decoding: try Self.load("files/HasenundFrosche.txt"), as: Unicode.UTF8.self)
        let expected = Self.squashed(
            String(bytes: try Self.load("files/HasenundFrosche.txt"), encoding: .isoLatin1) ?? fable)
        let firstSentence = String(expected.prefix(120))
        var checked = 0
        for name in Self.messages {
            let m = MailParser.parse(try Self.load(name))
            guard m.subject.hasPrefix("Die Hasen und die Frösche"), !m.text.isEmpty else { continue }
            #expect(Self.squashed(m.text).contains(firstSentence), "\(name): \(m.text.prefix(200))")
            checked += 1
        }
        #expect(checked >= 25)
    }
}
