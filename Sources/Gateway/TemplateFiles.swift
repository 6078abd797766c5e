import Foundation
import Mustache
import Yams

/// Which file provides each template part once the overrides folder is laid over the shipped one; shared by
/// `TemplateSet` (which loads them) and `TemplateChecker` (which reports on them).
struct TemplateFileIndex {
    static let parts = ["subject", "text", "html"]
    static let labelsFile = "labels.yaml"

    /// `locale/name.part` → path; an override replaces the shipped file of the same key.
    var templates: [String: String] = [:]
    /// Locale → its `labels.yaml` files, shipped first, override last (later ones win per label).
    var labels: [String: [String]] = [:]
    /// Files in a locale folder that follow no naming rule; never loaded, reported by the checker.
    var unknownFiles: [String] = []
    /// Keys whose file comes from the overrides folder.
    var overridden: Set<String> = []

    init(directory: String, overrides: String?) throws(TemplateError) {
        try add(folder: directory, isOverride: false)
        if let overrides { try add(folder: overrides, isOverride: true) }
    }

    var locales: Set<String> { Set(templates.keys.compactMap { $0.split(separator: "/").first.map(String.init) }) }

    private mutating func add(folder: String, isOverride: Bool) throws(TemplateError) {
        let fileManager = FileManager.default
        guard let locales = try? fileManager.contentsOfDirectory(atPath: folder) else {
            throw TemplateError(file: folder, message: "the template directory cannot be read")
        }
        for locale in locales.sorted() where !locale.hasPrefix(".") {
            let localeFolder = "\(folder)/\(locale)"
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: localeFolder, isDirectory: &isDirectory), isDirectory.boolValue,
                let files = try? fileManager.contentsOfDirectory(atPath: localeFolder)
            else { continue }
            for file in files.sorted() where !file.hasPrefix(".") {
                let path = "\(localeFolder)/\(file)"
                if file == Self.labelsFile {
                    labels[locale, default: []].append(path)
                } else if let key = Self.key(file: file) {
                    templates["\(locale)/\(key)"] = path
                    if isOverride { overridden.insert("\(locale)/\(key)") }
                } else {
                    unknownFiles.append(path)
                }
            }
        }
    }

    /// `name.part` for `name.part.mustache` with a known part and a name of lowercase letters, digits and `_`.
    static func key(file: String) -> String? {
        guard file.hasSuffix(".mustache") else { return nil }
        let pieces = file.dropLast(".mustache".count).split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 2, parts.contains(String(pieces[1])), !pieces[0].isEmpty,
            pieces[0].allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) })
        else { return nil }
        return "\(pieces[0]).\(pieces[1])"
    }
}

/// Reads and parses one template file; text parts get the pragma that turns HTML escaping off, and parse error
/// positions are given in the file's own lines and columns.
enum TemplateSource {
    /// On a line of its own, so it is a standalone tag and the template's first line can be one too.
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}\n"

    static func isHTML(_ path: String) -> Bool { path.hasSuffix(".html.mustache") }

    static func read(file: String) -> Result<String, TemplateProblem> {
        guard let data = FileManager.default.contents(atPath: file) else {
            return .failure(TemplateProblem(file: file, message: "cannot be read"))
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            return .failure(TemplateProblem(file: file, message: "is not valid UTF-8"))
        }
        return .success(text)
    }

    static func parse(file: String) -> Result<MustacheTemplate, TemplateProblem> {
        switch read(file: file) {
        case .success(let source): return parse(source, file: file)
        case .failure(let problem): return .failure(problem)
        }
    }

    static func parse(_ source: String, file: String) -> Result<MustacheTemplate, TemplateProblem> {
        let prefix = isHTML(file) ? "" : textPragma
        do {
            return .success(try MustacheTemplate(string: prefix + source))
        } catch let error as MustacheTemplate.ParserError {
            if case .expectedSectionEnd = error.error as? MustacheTemplate.Error, let open = unclosedSection(source) {
                return .failure(
                    TemplateProblem(
                        file: file, line: open.line, column: open.column,
                        message: "section {{\(open.kind == .section ? "#" : "^")\(open.name)}} is never closed"))
            }
            let line = max(1, error.context.lineNumber - (prefix.isEmpty ? 0 : 1))
            let column = tagStart(in: source, line: line, before: error.context.columnNumber)
            return .failure(TemplateProblem(file: file, line: line, column: column, message: describe(error.error)))
        } catch {
            return .failure(TemplateProblem(file: file, message: "does not parse: \(error)"))
        }
    }

    /// The innermost section still open at the end of the file (the parser only reports the end of the file).
    static func unclosedSection(_ source: String) -> TemplateTag? {
        var open: [TemplateTag] = []
        for tag in TemplateTag.scan(source) {
            switch tag.kind {
            case .section, .invertedSection: open.append(tag)
            case .close: _ = open.popLast()
            default: break
            }
        }
        return open.last
    }

    /// The parser stops somewhere inside or after the faulty tag; point at the tag's `{{` on that line instead.
    static func tagStart(in source: String, line: Int, before column: Int) -> Int {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard line <= lines.count else { return column }
        let text = Array(lines[line - 1].prefix(column))
        guard text.count >= 2 else { return column }
        for index in stride(from: text.count - 2, through: 0, by: -1) where text[index] == "{" && text[index + 1] == "{"
        {
            return index > 0 && text[index - 1] == "{" ? index : index + 1
        }
        return column
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "does not parse: \(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "closing tag does not match the open section"
        case .unfinishedName: return "unfinished tag (missing closing braces?)"
        case .expectedSectionEnd: return "section is never closed"
        case .invalidSetDelimiter: return "invalid set-delimiter tag"
        case .transformAppliedToInheritanceSection: return "a transform cannot be applied to an inheritance section"
        case .illegalTokenInsideInheritSection: return "illegal tag inside an inheritance section"
        case .textInsideInheritSection: return "text inside an inheritance section"
        case .invalidConfigVariableSyntax: return "invalid pragma syntax"
        case .unrecognisedConfigVariable: return "unknown pragma"
        }
    }
}

/// The words a locale uses for codes (`state.in_progress: in Bearbeitung`), from `<locale>/labels.yaml`; they fill
/// `<field>_label` for a view model's labelled fields, so state names stay translatable without code changes.
struct TemplateLabels: Sendable {
    var words: [String: [String: String]] = [:]

    func word(_ category: String, _ code: String) -> String? { words[category]?[code] }

    mutating func merge(_ other: TemplateLabels) {
        for (category, entries) in other.words {
            words[category, default: [:]].merge(entries) { _, new in new }
        }
    }

    static func load(file: String) -> Result<TemplateLabels, TemplateProblem> {
        let source: String
        switch TemplateSource.read(file: file) {
        case .success(let text): source = text
        case .failure(let problem): return .failure(problem)
        }
        do {
            let words = try YAMLDecoder().decode([String: [String: String]].self, from: source)
            return .success(TemplateLabels(words: words))
        } catch let error as YamlError {
            return .failure(TemplateProblem(file: file, message: "is not valid YAML: \(error)"))
        } catch {
            return .failure(
                TemplateProblem(file: file, message: "must map categories to code: word pairs (\(error))"))
        }
    }
}
