import Foundation
import MailFormat
import Testing

/// Checks the MIME structure and transfer-decoded bodies against mime4j's shipped expectations (`*_decoded.xml`
/// lists the leaves in order; `*_decoded_N.txt/.bin` hold their decoded bytes).
@Suite struct Mime4jFixtureTests {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("mime4j")
    }

    static var messages: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".msg") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Leaf bodies in document order, descending into multiparts and attached messages.
    static func leafBodies(_ part: MIMEPart) -> [[UInt8]] {
        if part.isMultipart { return part.children.flatMap(leafBodies) }
        if part.contentType == "message/rfc822", !part.children.isEmpty { return part.children.flatMap(leafBodies) }
        return [part.body]
    }

    /// The `name="…"` attributes of text-body / binary-body elements, in order.
    static func expectedBodyFiles(_ xml: String) -> [String] {
        var names: [String] = []
        var rest = Substring(xml)
        while let r = rest.range(of: "-body name=\"") {
            let after = rest[r.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            names.append(String(after[..<end]))
            rest = after[end...]
        }
        return names
    }

    @Test func fixturesArePresent() {
        #expect(Self.messages.count >= 30)
    }

    /// Where we deliberately differ from mime4j, with the text we expect instead (a ticket must keep the words).
    static let divergences: [String: (reason: String, textContains: String)] = [
        "basic-plain-with-bad-header-separator": (
            "a blank line holding a space ends the header instead of folding the body into bogus fields",
            "This is a very simple message"
        ),
        "malformedHeader-noheader": ("headerless input is all body", "The whole text should be recognized as body."),
        "malformedHeaderStartsBody-noheader": (
            "headerless input is all body", "The whole text should be recognized as body."
        ),
        "malformedHeaderStartsBody-nocrlfcrlf": (
            "mime4j's alternative configuration; we follow its default (skip the damaged line)", "Body text"
        ),
        "missing-boundary": ("a multipart without any delimiter keeps its text as a text/plain leaf", "AAA"),
        "missing-inner-boundary": ("an inner multipart without any delimiter keeps its text", "AAA"),
    ]

    @Test(arguments: messages)
    func structureAndBodies(_ name: String) throws {
        let raw = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name + ".msg")))
        if let divergence = Self.divergences[name] {
            let m = MailParser.parse(raw)
            #expect(m.text.contains(divergence.textContains), "\(name): \(divergence.reason)")
            return
        }
        let xml = try String(
            decoding: Data(contentsOf: Self.directory.appendingPathComponent(name + "_decoded.xml")), as: UTF8.self)
        let m = MailParser.parse(raw)
        let expected = Self.expectedBodyFiles(xml)
        let actual = Self.leafBodies(m.parts)
        #expect(actual.count == expected.count, "\(name): \(actual.count) leaves, expected \(expected.count)")
        for (file, body) in zip(expected, actual) {
            let want = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(file)))
            #expect(body == want, "\(file): got \(String(decoding: body.prefix(200), as: UTF8.self).debugDescription)")
        }
    }
}
