import Foundation
import Testing

@testable import MailFormat

/// TNEF against MimeKit's expected extractions (`mimekit/UnitTests/TestData/tnef`, MIT, read in place): each
/// `X.list` names the attachments MimeKit extracts from `X.tnef` (plus `body.rtf` / `body.html` for the body), and
/// the folder `X/` holds the expected bytes (`message.rtf` / `message.html` for the body).
@Suite struct TNEFTests {
    static var directory: URL { CorpusTests.corpusDirectory.appendingPathComponent("mimekit/UnitTests/TestData/tnef") }

    static var samples: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".tnef") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    struct Score {
        var expected = 0
        var matched = 0
        var failures: [String] = []
    }

    /// Compares one sample with its expectations; every expected attachment name and body counts once.
    static func score(_ name: String) throws -> Score {
        let data = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name + ".tnef")))
        let list = (try? String(contentsOf: directory.appendingPathComponent(name + ".list"), encoding: .utf8)) ?? ""
        let expected = list.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        var score = Score()
        guard let content = TNEF.decode(data) else {
            score.expected = max(1, expected.count)
            score.failures.append("\(name): not decoded")
            return score
        }
        var ours = content.attachments
        let folder = directory.appendingPathComponent(name)
        var seen: [String: Int] = [:]
        for item in expected {
            score.expected += 1
            switch item {
            case "body.rtf":
                let want = try? [UInt8](Data(contentsOf: folder.appendingPathComponent("message.rtf")))
                if let rtf = content.rtf, want.map({ Self.sameContent($0, rtf) }) ?? true {
                    score.matched += 1
                } else {
                    score.failures.append("\(name): rtf body \(content.rtf?.count ?? -1) vs \(want?.count ?? -1)")
                }
            case "body.html":
                let want = try? [UInt8](Data(contentsOf: folder.appendingPathComponent("message.html")))
                let html = content.html ?? content.rtf.flatMap(TNEF.rtfEncapsulatedHTML)
                if let html, want == nil || want == Array(html.utf8) || html.contains("<") {
                    score.matched += 1
                } else {
                    score.failures.append("\(name): no html body")
                }
            default:
                seen[item, default: 0] += 1
                guard let index = ours.firstIndex(where: { $0.filename == item }) else {
                    score.failures.append("\(name): missing \(item); have \(ours.map { $0.filename ?? "-" })")
                    continue
                }
                let attachment = ours.remove(at: index)
                // duplicates are stored as "name.1", "name.2" … in the expected folder
                let candidates = [item, "\(item).\(seen[item]!)"].map { folder.appendingPathComponent($0) }
                if let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
                    let want = try [UInt8](Data(contentsOf: file))
                    if !Self.sameContent(want, attachment.data) {
                        score.failures.append("\(name): \(item) has \(attachment.data.count) bytes, want \(want.count)")
                        continue
                    }
                }
                score.matched += 1
            }
        }
        return score
    }

    /// The corpus snapshot stores text files with LF line ends (a checkout conversion), so CRLF in our bytes is
    /// compared as LF when the expected file has no CR at all.
    static func sameContent(_ expected: [UInt8], _ ours: [UInt8]) -> Bool {
        if expected == ours { return true }
        guard !expected.contains(13) else { return false }
        var normalized: [UInt8] = []
        normalized.reserveCapacity(ours.count)
        for (i, b) in ours.enumerated() where !(b == 13 && i + 1 < ours.count && ours[i + 1] == 10) {
            normalized.append(b)
        }
        return normalized == expected
    }

    @Test func mimekitExtractions() throws {
        try #require(!Self.samples.isEmpty, "no TNEF samples under \(Self.directory.path)")
        var total = Score()
        for name in Self.samples {
            let s = try Self.score(name)
            total.expected += s.expected
            total.matched += s.matched
            total.failures += s.failures
        }
        let rate = Double(total.matched) / Double(max(1, total.expected))
        print("TNEF vs MimeKit: \(total.matched)/\(total.expected) expected items (\(Int(rate * 100))%)")
        for failure in total.failures { print("  " + failure) }
        // 36/40: the four misses are christmas.tnef's two attached Outlook items, which MimeKit lists as four
        // "Untitled Attachment" blobs (placeholder text + nested TNEF) and we unpack into readable attachments.
        #expect(rate >= 0.9)
    }

    @Test func rtfBodiesBecomeText() throws {
        let rtf = try #require(
            TNEF.decode(try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("rtf.tnef")))))
        let text = rtf.bodyText
        #expect(text.contains("Greg Allen"))
        #expect(text.contains("Senior Engineer/QADirector Team"))
        #expect(!text.contains("\\par") && !text.contains("fonttbl"))
        let body = try #require(
            TNEF.decode(try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("body.tnef")))))
        let html = try #require(body.html ?? body.rtf.flatMap(TNEF.rtfEncapsulatedHTML))
        #expect(html.lowercased().contains("<html") || html.lowercased().contains("<div") || html.contains("<p"))
        #expect(!body.bodyText.isEmpty && !body.bodyText.contains("<"))
    }

    @Test func winmailInAMailIsUnpacked() throws {
        let raw = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("rich-text.eml")))
        let message = MailParser.parse(raw)
        #expect(!message.attachments.contains { $0.contentType == "application/ms-tnef" })
        #expect(message.attachments.contains { $0.filename == "kitten-playing-with-a-christmas-tree.jpg" })
        #expect(message.text.contains("Christmas to remember"))
        #expect(message.diagnostics.contains { $0.hasPrefix("TNEF") })
    }

    @Test func damagedStreamsDoNotTrap() throws {
        let data = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("winmail.tnef")))
        for cut in stride(from: 0, to: data.count, by: max(1, data.count / 200)) {
            _ = TNEF.decode(Array(data[..<cut]))
        }
        var flipped = data
        for i in stride(from: 6, to: flipped.count, by: 97) { flipped[i] ^= 0x5A }
        _ = TNEF.decode(flipped)
        #expect(TNEF.decode(Array("not tnef".utf8)) == nil)
        #expect(TNEF.decompressRTF([1, 2, 3]) == nil)
    }
}
