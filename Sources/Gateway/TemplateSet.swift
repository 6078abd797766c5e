import Foundation
import Mustache

/// A rendered message: subject and plain text always, HTML when the template set has one.
public struct RenderedMail: Sendable, Equatable {
    public var subject: String
    public var text: String
    public var html: String?
}

/// Why a template could not be used; names the file so an admin can fix it.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String

    public var description: String { "Template \(file): \(message)." }
}

/// Mustache templates per locale (`templates/<locale>/<name>.subject|text|html.mustache`); plain text is the source
/// of truth and subject/text render without HTML escaping. Missing locales fall back to `en`.
public struct TemplateSet: Sendable {
    private var templates: [String: MustacheTemplate] = [:]
    public let directory: String
    public let defaultLocale: String

    public init(directory: String, defaultLocale: String = "en") throws(TemplateError) {
        self.directory = directory
        self.defaultLocale = defaultLocale
        let fileManager = FileManager.default
        guard let locales = try? fileManager.contentsOfDirectory(atPath: directory) else {
            throw TemplateError(file: directory, message: "the template directory cannot be read")
        }
        for locale in locales.sorted() {
            let folder = "\(directory)/\(locale)"
            guard let files = try? fileManager.contentsOfDirectory(atPath: folder) else { continue }
            for file in files.sorted() where file.hasSuffix(".mustache") {
                let path = "\(folder)/\(file)"
                guard let data = fileManager.contents(atPath: path) else {
                    throw TemplateError(file: path, message: "cannot be read")
                }
                var source = String(decoding: data, as: UTF8.self)
                let key = "\(locale)/\(file.dropLast(".mustache".count))"
                if !key.hasSuffix(".html") { source = "{{% CONTENT_TYPE: TEXT}}" + source }
                do {
                    templates[key] = try MustacheTemplate(string: source)
                } catch {
                    throw TemplateError(file: path, message: "does not parse: \(error)")
                }
            }
        }
        guard !templates.isEmpty else {
            throw TemplateError(file: directory, message: "contains no templates (expected <locale>/<name>.*.mustache)")
        }
    }

    /// Template names available for a locale (without the `.subject`/`.text`/`.html` suffix).
    public func names(locale: String) -> Set<String> {
        Set(
            templates.keys.filter { $0.hasPrefix("\(locale)/") }.map {
                String($0.dropFirst(locale.count + 1).split(separator: ".").first ?? "")
            })
    }

    public var locales: Set<String> {
        Set(templates.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
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
        let renderedSubject = subject.render(values).split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        return RenderedMail(
            subject: renderedSubject, text: text.render(values), html: template("html")?.render(values))
    }
}
