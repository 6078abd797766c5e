import Foundation
import Testing

@testable import MailFormat

#if canImport(Glibc)
    import Glibc
#endif

/// The torture inputs of the corpus must finish fast and within bounded memory. Bounds are generous for debug
/// builds (and tests run in parallel). Measured in a release build on the 2-core dev VM (best of 5; parse, then
/// replyText, deliveryReport, decodedText of every part):
/// enclosed-endless.eml (3,043 parts, 2.9 MB; cut at 1,000 parts) 3.0 + 0.0 + 0.7 + 1.0 ms;
/// stack-overflow.txt 2.4 ms parse; outofmemory.eml 1.3 + 7.8 ms; htmllargecallstack.eml 0.7 + 3.7 ms;
/// pathological.txt < 0.1 ms.
@Suite struct LimitsTests {
    static let tortures = [
        "flanker/tests/fixtures/messages/enclosed-endless.eml",
        "mimekit/UnitTests/TestData/messages/stack-overflow.txt",
        "nodemailer-mailparser/test/fixtures/outofmemory.eml",
        "nodemailer-mailparser/test/fixtures/htmllargecallstack.eml",
        "github-email_reply_parser/test/emails/pathological.txt",
        "zapier-email-reply-parser/test/emails/pathological.txt",
    ]

    static func peakRSSKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    @Test(arguments: tortures)
    func tortureInputFinishesQuickly(_ path: String) throws {
        let data = try [UInt8](Data(contentsOf: CorpusTests.corpusDirectory.appendingPathComponent(path)))
        let rssBefore = Self.peakRSSKiB()
        let clock = ContinuousClock()
        let start = clock.now
        let message = MailParser.parse(data)
        let reply = message.replyText
        let report = message.deliveryReport
        var decoded = 0
        for part in message.parts.allParts { decoded += part.decodedText?.utf8.count ?? 0 }
        let text = ReplyText.strip(String(decoding: data, as: UTF8.self))  // the raw file as a reply body too
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let grownMiB = (Self.peakRSSKiB() - rssBefore) / 1024
        print(
            "limits \(path.split(separator: "/").last!): \(String(format: "%.1f", seconds * 1000)) ms (debug),"
                + " \(message.parts.allParts.count) parts, peak RSS +\(grownMiB) MiB")
        #expect(seconds < 3.0, "\(path) took \(seconds) s")
        #expect(grownMiB < 512, "\(path) grew the peak RSS by \(grownMiB) MiB")
        #expect(message.parts.allParts.count <= ParseOptions().maxParts + 1)
        _ = (reply, report, decoded, text)
    }

    @Test func enclosedEndlessIsCutAtThePartLimit() throws {
        let data = try [UInt8](
            Data(contentsOf: CorpusTests.corpusDirectory.appendingPathComponent(Self.tortures[0])))
        var options = ParseOptions()
        options.maxParts = 100
        let message = MailParser.parse(data, options: options)
        #expect(message.parts.allParts.count <= 101)
        #expect(message.diagnostics.contains { $0.contains("MIME parts") })
    }
}
