import Foundation
import Gateway
import Testing

/// One golden file pair: a template's sample (or a named variant) rendered in one locale.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    var locale: String
    var name: String
    var variant: String?

    var fileStem: String { variant.map { "\(name)@\($0)" } ?? name }
    var testDescription: String { "\(locale)/\(fileStem)" }
}

/// Paths of the repository's shipped templates and of the golden files, found from this file's location.
enum TemplatePaths {
    static let testsFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    static let golden = testsFolder.appendingPathComponent("Golden")
    static let templates = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path
}

/// Renders every template's samples in both shipped locales and compares them with `Golden/<locale>/<name>.txt`
/// (subject line, blank line, text) and `.html`. `TG_UPDATE_GOLDEN=1` rewrites the files instead.
@Suite struct TemplateGoldenTests {
    static let locales = ["en", "de"]

    static var cases: [GoldenCase] {
        locales.flatMap { locale in
            TemplateViews.all.flatMap { view in
                [GoldenCase(locale: locale, name: view.templateName, variant: nil)]
                    + variantNames(view).map { GoldenCase(locale: locale, name: view.templateName, variant: $0) }
            }
        }
    }

    static func variantNames<View: TemplateViewModel>(_ view: View.Type) -> [String] {
        View.variants.keys.sorted()
    }

    static func render<View: TemplateViewModel>(
        _ view: View.Type, variant: String?, set: TemplateSet, locale: String
    ) throws -> RenderedMail {
        let sample = try #require(variant.map { View.variants[$0] } ?? View.sample)
        return try set.render(sample, locale: locale)
    }

    @Test(arguments: cases)
    func golden(_ golden: GoldenCase) throws {
        let set = try TemplateSet(directory: TemplatePaths.templates)
        let view = try #require(TemplateViews.all.first { $0.templateName == golden.name })
        let mail = try Self.render(view, variant: golden.variant, set: set, locale: golden.locale)
        let text = "Subject: \(mail.subject)\n\n\(mail.text)"
        let html = try #require(mail.html, "every shipped template has an HTML part")
        let folder = TemplatePaths.golden.appendingPathComponent(golden.locale)
        let textFile = folder.appendingPathComponent("\(golden.fileStem).txt")
        let htmlFile = folder.appendingPathComponent("\(golden.fileStem).html")
        if ProcessInfo.processInfo.environment["TG_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: textFile)
            try Data(html.utf8).write(to: htmlFile)
            return
        }
        let expectedText = try String(contentsOf: textFile, encoding: .utf8)
        let expectedHTML = try String(contentsOf: htmlFile, encoding: .utf8)
        #expect(text == expectedText, "\(textFile.path) differs; TG_UPDATE_GOLDEN=1 rewrites it")
        #expect(html == expectedHTML, "\(htmlFile.path) differs; TG_UPDATE_GOLDEN=1 rewrites it")
    }

    @Test(arguments: locales)
    func everyTextEndsWithTheReference(locale: String) throws {
        let set = try TemplateSet(directory: TemplatePaths.templates)
        let mail = try set.render(ClosedView.sample, locale: locale)
        let lastLine = mail.text.split(separator: "\n").last.map(String.init)
        #expect(lastLine == ClosedView.sample.ticketRef)
    }

    @Test func legacyKeysStillRender() throws {
        let set = try TemplateSet(directory: TemplatePaths.templates)
        let values: [String: Any] = [
            "ticket_id": "INC-000001", "subject": "Printer", "priority": "P3", "kind_label": "incident",
            "instance_name": "IT Service Desk", "requester_name": "Jana", "reply_text": "Done.", "agent_name": "Anna",
        ]
        let ack = try set.render("acknowledgement", locale: "en", values: values)
        #expect(ack.subject == "[INC-000001] Printer")
        #expect(ack.text.contains("Hello Jana,"))
        #expect(ack.text.hasSuffix("IT Service Desk\n"))
        let reply = try set.render("agent_reply", locale: "de", values: values)
        #expect(reply.subject == "Re: [INC-000001] Printer")
        #expect(reply.text.hasPrefix("Done.\n"))
    }

    @Test func htmlEscapesValuesAndTextDoesNot() throws {
        let set = try TemplateSet(directory: TemplatePaths.templates)
        var view = AgentReplyView.sample
        view.replyText = "Use <b>this</b> & that"
        let mail = try set.render(view, locale: "en")
        #expect(mail.text.hasPrefix("Use <b>this</b> & that"))
        #expect(mail.html?.contains("Use &lt;b&gt;this&lt;/b&gt; &amp; that") == true)
    }

    @Test func labelsFollowTheLocale() throws {
        let set = try TemplateSet(directory: TemplatePaths.templates)
        #expect(try set.render(StatusChangeView.sample, locale: "de").text.contains("„in Bearbeitung“"))
        #expect(try set.render(StatusChangeView.sample, locale: "en").text.contains("\"in progress\""))
        // A locale without templates falls back to the default one, labels included.
        #expect(try set.render(StatusChangeView.sample, locale: "fr").text.contains("\"in progress\""))
    }
}
