import Foundation
import Gateway
import Testing

/// `templates check` and admin overrides, against throwaway override folders laid over the shipped templates.
@Suite struct TemplateCheckerTests {
    /// A fresh overrides folder with the given files (`"en/closed.subject.mustache": "…"`).
    static func overrides(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tg-overrides-\(UUID().uuidString)")
        for (path, content) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root.path
    }

    @Test func shippedTemplatesHaveNoProblems() {
        let problems = TemplateChecker.check(directory: TemplatePaths.templates)
        #expect(problems.map(\.description) == [])
    }

    @Test func parseErrorNamesFileLineAndColumn() throws {
        let folder = try Self.overrides([
            "en/closed.text.mustache":
                "Hello {{requester_name}},\n\n{{#ticket_ref}}\n  ref {{ticket_ref}}\n{{/ticket_id}}\n"
        ])
        let problems = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder)
        let problem = try #require(problems.first)
        #expect(problems.count == 1)
        #expect(problem.file == "\(folder)/en/closed.text.mustache")
        #expect((problem.line, problem.column) == (5, 1))
        #expect(problem.message == "closing tag does not match the open section")
        #expect(problem.description.hasPrefix("\(folder)/en/closed.text.mustache:5:1: "))
        // Loading the set fails with the same position.
        #expect {
            try TemplateSet(directory: TemplatePaths.templates, overrides: folder)
        } throws: { error in
            (error as? TemplateError).map { ($0.line, $0.column) == (5, 1) } ?? false
        }
    }

    @Test func unclosedTagInHTMLIsReportedWithoutPragmaOffset() throws {
        let folder = try Self.overrides(["de/closed.html.mustache": "<p>{{ticket_id}</p>\n"])
        let problems = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder)
        #expect(
            problems.map(\.description) == [
                "\(folder)/de/closed.html.mustache:1:4: unfinished tag (missing closing braces?)"
            ])
    }

    @Test func unclosedSectionPointsAtItsOpeningTag() throws {
        let folder = try Self.overrides(["en/resolved.text.mustache": "Hello,\n\n  {{#resolution}}\n{{resolution}}\n"])
        let problems = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder)
        #expect(
            problems.map(\.description) == [
                "\(folder)/en/resolved.text.mustache:3:3: section {{#resolution}} is never closed"
            ])
    }

    @Test func missingKeyIsReportedAtItsTag() throws {
        let folder = try Self.overrides([
            "de/closed.text.mustache":
                "Guten Tag {{requster_name}},\n\n{{#ticket_ref}}\nRef {{ticket_ref}} {{ticket_ref.x}}\n{{/ticket_ref}}\n"
        ])
        let problems = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder)
        #expect(
            problems.map(\.description) == [
                "\(folder)/de/closed.text.mustache:1:11: missing key \"requster_name\": the view model does not provide it",
                "\(folder)/de/closed.text.mustache:4:20: missing key \"ticket_ref.x\": the view model does not provide it",
            ])
    }

    @Test func sectionsSeeOuterKeysAndLabels() throws {
        let folder = try Self.overrides([
            "en/status_change.subject.mustache":
                "{{#requester_name}}{{ticket_id}} {{/requester_name}}{{new_status_label}}"
        ])
        #expect(TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder).isEmpty)
    }

    @Test func subjectsMustRenderOnOneNonEmptyLine() throws {
        let folder = try Self.overrides([
            "en/closed.subject.mustache": "{{#nothing_here}}x{{/nothing_here}}\n",
            "de/closed.subject.mustache": "[{{ticket_id}}]\n{{subject}}\n",
        ])
        let messages = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder).map(\.message)
        #expect(messages.contains("missing key \"nothing_here\": the view model does not provide it"))
        #expect(messages.contains("the subject renders empty (sample, en)"))
        #expect(messages.contains("the subject renders on several lines (sample, de)"))
    }

    @Test func textMustEndWithTheReference() throws {
        let folder = try Self.overrides(["en/workaround.text.mustache": "{{workaround}}\n\n{{instance_name}}\n"])
        let problems = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder)
        #expect(
            problems.map(\.description) == [
                "\(folder)/en/workaround.text.mustache:1:1: the text does not end with a line carrying {{ticket_ref}} (sample, en)"
            ])
    }

    @Test func missingLocaleFilesAndUnknownFilesAreReported() throws {
        let folder = try Self.overrides([
            "fr/closed.subject.mustache": "[{{ticket_id}}] {{subject}}",
            "en/acknowledgment.text.mustache": "typo in the name",
            "en/closed.txt.mustache": "wrong part",
        ])
        let problems = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder)
        let descriptions = problems.map(\.description)
        #expect(
            descriptions.contains(
                "\(folder)/en/acknowledgment.text.mustache:1:1: no template named \"acknowledgment\" is ever sent"))
        #expect(
            descriptions.contains { $0.hasPrefix("\(folder)/en/closed.txt.mustache:1:1: not a template file name") })
        #expect(
            descriptions.contains(
                "\(TemplatePaths.templates)/fr/closed.text.mustache:1:1: missing for locale fr (the en one is used)"))
        #expect(!descriptions.contains { $0.contains("fr/closed.subject.mustache") })
        #expect(
            descriptions.contains(
                "\(TemplatePaths.templates)/fr/labels.yaml:1:1: no label for kind.incident (the en word is used)"))
    }

    @Test func overridesReplaceSingleFiles() throws {
        let folder = try Self.overrides([
            "en/closed.subject.mustache": "Closed: {{ticket_id}}",
            "de/labels.yaml": "state:\n  in_progress: in Arbeit\n",
        ])
        let set = try TemplateSet(directory: TemplatePaths.templates, overrides: folder)
        let shipped = try TemplateSet(directory: TemplatePaths.templates)
        let closed = try set.render(ClosedView.sample, locale: "en")
        #expect(closed.subject == "Closed: INC-000042")
        #expect(closed.text == (try shipped.render(ClosedView.sample, locale: "en")).text)
        #expect(try set.render(ClosedView.sample, locale: "de").subject.hasPrefix("Re: [INC-000042]"))
        let status = try set.render(StatusChangeView.sample, locale: "de").text
        #expect(status.contains("von „neu“ auf „in Arbeit“"))
        #expect(TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder).isEmpty)
    }

    @Test func missingLabelsAreReported() throws {
        let folder = try Self.overrides(["fr/labels.yaml": "state:\n  new: nouveau\n"])
        let messages = TemplateChecker.check(directory: TemplatePaths.templates, overrides: folder).map(\.message)
        #expect(messages.contains("no label for state.in_progress (the en word is used)"))
    }
}
