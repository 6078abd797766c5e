import Foundation
import Mustache

/// One finding of `ticketgate templates check`, printed as `file:line:column: message` so editors can jump to it.
public struct TemplateProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int = 1, column: Int = 1, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Checks a template folder (and its overrides) before mail goes out: parse errors, keys a view model does not
/// provide, templates missing for a locale, subjects that render empty or multi-line, text without the reference.
public enum TemplateChecker {
    /// Every problem, sorted by file and position; empty means every template renders in every locale.
    public static func check(directory: String, overrides: String? = nil, defaultLocale: String = "en")
        -> [TemplateProblem]
    {
        let index: TemplateFileIndex
        do {
            index = try TemplateFileIndex(directory: directory, overrides: overrides)
        } catch {
            return [TemplateProblem(file: error.file, message: error.message)]
        }
        var problems: [TemplateProblem] = []
        let views = Dictionary(uniqueKeysWithValues: TemplateViews.all.map { ($0.templateName, $0) })
        let locales = index.locales.union(index.labels.keys).sorted()

        for file in index.unknownFiles {
            problems.append(
                TemplateProblem(
                    file: file, message: "not a template file name (<name>.subject|text|html.mustache); it is ignored"))
        }
        // Parse errors and keys the view model does not provide.
        for (key, file) in index.templates.sorted(by: { $0.key < $1.key }) {
            let name = String(key.split(separator: "/").last?.split(separator: ".").first ?? "")
            guard let view = views[name] else {
                problems.append(TemplateProblem(file: file, message: "no template named \"\(name)\" is ever sent"))
                continue
            }
            guard case .success(let source) = TemplateSource.read(file: file) else {
                problems.append(TemplateProblem(file: file, message: "cannot be read"))
                continue
            }
            if case .failure(let problem) = TemplateSource.parse(source, file: file) {
                problems.append(problem)
                continue
            }
            problems += missingKeys(in: source, file: file, provided: shape(of: view))
        }
        // Labels: parse, and every code of the default locale is labelled in each locale.
        var labels: [String: TemplateLabels] = [:]
        for (locale, files) in index.labels {
            var merged = TemplateLabels()
            for file in files {
                switch TemplateLabels.load(file: file) {
                case .success(let loaded): merged.merge(loaded)
                case .failure(let problem): problems.append(problem)
                }
            }
            labels[locale] = merged
        }
        for locale in locales where locale != defaultLocale {
            for (category, entries) in labels[defaultLocale]?.words ?? [:] {
                for code in entries.keys.sorted() where labels[locale]?.word(category, code) == nil {
                    problems.append(
                        TemplateProblem(
                            file: "\(directory)/\(locale)/\(TemplateFileIndex.labelsFile)",
                            message: "no label for \(category).\(code) (the \(defaultLocale) word is used)"))
                }
            }
        }
        // Files missing for a locale: subject and text always, HTML where the default locale has one.
        for locale in locales {
            for name in views.keys.sorted() {
                for part in TemplateFileIndex.parts {
                    let required = part != "html" || index.templates["\(defaultLocale)/\(name).html"] != nil
                    if required, index.templates["\(locale)/\(name).\(part)"] == nil {
                        problems.append(
                            TemplateProblem(
                                file: "\(directory)/\(locale)/\(name).\(part).mustache",
                                message: "missing for locale \(locale)"
                                    + (locale == defaultLocale ? "" : " (the \(defaultLocale) one is used)")))
                    }
                }
            }
        }
        // Render every sample in every locale (only when everything loads, else the parse errors say it all).
        if let set = try? TemplateSet(directory: directory, overrides: overrides, defaultLocale: defaultLocale) {
            for locale in locales {
                for view in TemplateViews.all {
                    problems += renderProblems(view, set: set, index: index, locale: locale)
                }
            }
        }
        return problems.sorted {
            ($0.file, $0.line, $0.column, $0.message) < ($1.file, $1.line, $1.column, $1.message)
        }
    }

    // MARK: rendering samples

    static func renderProblems<View: TemplateViewModel>(
        _ view: View.Type, set: TemplateSet, index: TemplateFileIndex, locale: String
    ) -> [TemplateProblem] {
        var problems: [TemplateProblem] = []
        let name = View.templateName
        func file(_ part: String) -> String {
            index.templates["\(locale)/\(name).\(part)"] ?? index.templates["\(set.defaultLocale)/\(name).\(part)"]
                ?? "\(set.directory)/\(locale)/\(name).\(part).mustache"
        }
        let samples = [("sample", View.sample)] + View.variants.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        for (label, sample) in samples {
            let values = set.values(of: sample, locale: locale)
            guard let subjectFile = index.templates["\(locale)/\(name).subject"] else { continue }
            if case .success(let template) = TemplateSource.parse(file: subjectFile) {
                let subject = template.render(values).trimmingCharacters(in: .whitespacesAndNewlines)
                if subject.isEmpty {
                    problems.append(
                        TemplateProblem(file: subjectFile, message: "the subject renders empty (\(label), \(locale))"))
                } else if subject.contains(where: \.isNewline) {
                    problems.append(
                        TemplateProblem(
                            file: subjectFile, message: "the subject renders on several lines (\(label), \(locale))"))
                }
            }
            guard let reference = values["ticket_ref"] as? String,
                let rendered = try? set.render(sample, locale: locale)
            else { continue }
            let lastLine = rendered.text.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
            if lastLine.map({ !$0.contains(reference) }) ?? true {
                problems.append(
                    TemplateProblem(
                        file: file("text"),
                        message: "the text does not end with a line carrying {{ticket_ref}} (\(label), \(locale))"))
            }
        }
        return problems
    }

    // MARK: keys

    /// The keys a view model provides, nested for dictionaries and lists (sections over them see their keys).
    struct KeyShape: Equatable {
        var children: [String: KeyShape] = [:]

        init(children: [String: KeyShape] = [:]) {
            self.children = children
        }

        init(_ value: Any) {
            if let dictionary = value as? [String: Any] {
                for (key, child) in dictionary { children[key] = KeyShape(child) }
            } else if let list = value as? [Any] {
                for element in list { merge(KeyShape(element)) }
            }
        }

        mutating func merge(_ other: KeyShape) {
            for (key, child) in other.children { children[key, default: KeyShape()].merge(child) }
        }
    }

    static func shape<View: TemplateViewModel>(of view: View.Type) -> KeyShape {
        var shape = KeyShape(View.sample.values)
        for variant in View.variants.values { shape.merge(KeyShape(variant.values)) }
        for field in View.labelledFields.keys { shape.children["\(field)_label"] = KeyShape() }
        return shape
    }

    static func missingKeys(in source: String, file: String, provided: KeyShape) -> [TemplateProblem] {
        var stack = [provided]
        var problems: [TemplateProblem] = []
        for tag in TemplateTag.scan(source) {
            switch tag.kind {
            case .close:
                if stack.count > 1 { stack.removeLast() }
                continue
            case .partial:
                problems.append(
                    TemplateProblem(
                        file: file, line: tag.line, column: tag.column,
                        message: "partials are not supported ({{>\(tag.name)}})"))
                continue
            case .other: continue
            case .variable, .section, .invertedSection: break
            }
            let resolved = resolve(tag.name, in: stack)
            if resolved == nil {
                problems.append(
                    TemplateProblem(
                        file: file, line: tag.line, column: tag.column,
                        message: "missing key \"\(tag.name)\": the view model does not provide it"))
            }
            switch tag.kind {
            case .section: stack.append(resolved ?? KeyShape())
            case .invertedSection: stack.append(KeyShape())
            default: break
            }
        }
        return problems
    }

    /// Mustache lookup: the first name component in the innermost context that has it, the rest below that.
    static func resolve(_ name: String, in stack: [KeyShape]) -> KeyShape? {
        if name == "." { return stack.last }
        let components = name.split(separator: ".").map(String.init)
        guard let first = components.first,
            var current = stack.reversed().first(where: { $0.children[first] != nil })?.children[first]
        else { return nil }
        for component in components.dropFirst() {
            guard let child = current.children[component] else { return nil }
            current = child
        }
        return current
    }
}
