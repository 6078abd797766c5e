import Foundation
import Mustache
import ServiceDesk

/// A rendered message: subject and plain text always, HTML when the template set has one.
public struct RenderedMail: Sendable, Equatable {
    public var subject: String
    public var text: String
    public var html: String?
}

/// Why a template could not be used; names the file (and the position, for parse errors) so an admin can fix it.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var line: Int? = nil
    public var column: Int? = nil

    public var description: String {
        guard let line, let column else { return "Template \(file): \(message)." }
        return "Template \(file):\(line):\(column): \(message)."
    }
}

/// Mustache templates per locale (`templates/<locale>/<name>.subject|text|html.mustache`); plain text is the source
/// of truth and subject/text render without HTML escaping. An optional overrides folder with the same layout replaces
/// single files (and single labels of `labels.yaml`); missing locales fall back to the default locale per part.
public struct TemplateSet: Sendable {
    private var templates: [String: MustacheTemplate] = [:]
    private var labels: [String: TemplateLabels] = [:]
    public let directory: String
    public let overrides: String?
    public let defaultLocale: String

    public init(directory: String, defaultLocale: String = "en") throws(TemplateError) {
        try self.init(directory: directory, overrides: nil, defaultLocale: defaultLocale)
    }

    /// Loads the shipped `directory`; each file present in `overrides` (same layout) replaces the shipped one.
    public init(directory: String, overrides: String?, defaultLocale: String = "en") throws(TemplateError) {
        self.directory = directory
        self.overrides = overrides
        self.defaultLocale = defaultLocale
        let index = try TemplateFileIndex(directory: directory, overrides: overrides)
        for (key, file) in index.templates {
            switch TemplateSource.parse(file: file) {
            case .success(let template): templates[key] = template
            case .failure(let problem):
                throw TemplateError(
                    file: problem.file, message: problem.message, line: problem.line, column: problem.column)
            }
        }
        for (locale, files) in index.labels {
            var merged = TemplateLabels()
            for file in files {
                switch TemplateLabels.load(file: file) {
                case .success(let loaded): merged.merge(loaded)
                case .failure(let problem): throw TemplateError(file: problem.file, message: problem.message)
                }
            }
            labels[locale] = merged
        }
        guard !templates.isEmpty else {
            throw TemplateError(file: directory, message: "contains no templates (expected <locale>/<name>.*.mustache)")
        }
        locales = Set(templates.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
    }

    /// Template names available for a locale (without the `.subject`/`.text`/`.html` suffix).
    public func names(locale: String) -> Set<String> {
        Set(
            templates.keys.filter { $0.hasPrefix("\(locale)/") }.map {
                String($0.dropFirst(locale.count + 1).split(separator: ".").first ?? "")
            })
    }

    /// Locales that have at least one template; asked for every mail, so computed once.
    public private(set) var locales: Set<String> = []

    /// The word a locale uses for a code (`label("state", "in_progress", locale: "de")` is "in Bearbeitung"), from
    /// `<locale>/labels.yaml`, else the default locale's, else nil.
    public func label(_ category: String, _ code: String, locale: String) -> String? {
        labels[locale]?.word(category, code) ?? labels[defaultLocale]?.word(category, code)
    }

    /// Renders a view model in `locale`; its labelled fields also get a `<field>_label` in the locale's words.
    public func render(_ view: some TemplateViewModel, locale: String) throws(TemplateError) -> RenderedMail {
        try render(type(of: view).templateName, locale: locale, values: values(of: view, locale: locale))
    }

    /// The values a view model renders with in `locale`: its own plus the labels of its labelled fields.
    func values<View: TemplateViewModel>(of view: View, locale: String) -> [String: Any] {
        var values = view.values
        for (field, category) in View.labelledFields {
            guard let code = values[field] as? String else { continue }
            values["\(field)_label"] =
                label(category, code, locale: locale) ?? code.replacingOccurrences(of: "_", with: " ")
        }
        return values
    }

    /// `values(of:locale:)` as a queued mail stores them; nil when a value is of a kind a row does not hold.
    func storedValues<View: TemplateViewModel>(of view: View, locale: String) -> [String: DeferredMail.Value]? {
        guard var values = view.storedValues else { return DeferredMail.values(self.values(of: view, locale: locale)) }
        for (field, category) in View.labelledFields {
            guard case .text(let code) = values[field] else { continue }
            values["\(field)_label"] = .text(
                label(category, code, locale: locale) ?? code.replacingOccurrences(of: "_", with: " "))
        }
        return values
    }

    /// A subject on one line: line breaks become spaces, outer blanks go. Most subjects need neither, and this runs
    /// for every outgoing mail, so those are returned as they are without a Foundation round trip.
    static func oneLine(_ text: String) -> String {
        let bytes = text.utf8
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        let clean =
            !bytes.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x0B || $0 == 0x0C || $0 >= 0x80 }
            && !(bytes.first.map(blank) ?? false) && !(bytes.last.map(blank) ?? false)
        guard !clean else { return text }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    /// Renders `name` in `locale`, falling back to the default locale per part.
    public func render(_ name: String, locale: String, values: [String: Any]) throws(TemplateError) -> RenderedMail {
        func template(_ part: String) -> MustacheTemplate? {
            templates["\(locale)/\(name).\(part)"] ?? templates["\(defaultLocale)/\(name).\(part)"]
        }
        guard let subject = template("subject"), let text = template("text") else {
            throw TemplateError(
                file: "\(directory)/\(locale)/\(name).{subject,text}.mustache", message: "is missing")
        }
        let renderedSubject = Self.oneLine(subject.render(values))
        return RenderedMail(
            subject: renderedSubject, text: text.render(values), html: template("html")?.render(values))
    }
}
