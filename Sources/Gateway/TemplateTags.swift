/// One Mustache tag with its position in the file; swift-mustache keeps its tokens internal, so `templates check`
/// finds the variables a template uses with this small scanner (it follows set-delimiter tags).
struct TemplateTag: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case variable
        case section
        case invertedSection
        case close
        case partial
        case other
    }

    var kind: Kind
    /// The variable name without sigil, braces or transforms (`uppercased(subject)` gives `subject`).
    var name: String
    var line: Int
    var column: Int

    /// Scans a template source; unterminated tags end the scan (the parser reports them).
    static func scan(_ source: String) -> [TemplateTag] {
        let characters = Array(source)
        var open: [Character] = ["{", "{"]
        var close: [Character] = ["}", "}"]
        var tags: [TemplateTag] = []
        var index = 0
        var line = 1
        var column = 1

        func matches(_ pattern: [Character], at position: Int) -> Bool {
            guard position + pattern.count <= characters.count else { return false }
            return characters[position..<position + pattern.count].elementsEqual(pattern)
        }
        func advance(to target: Int) {
            while index < target {
                if characters[index] == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                index += 1
            }
        }

        while index < characters.count {
            guard matches(open, at: index) else {
                advance(to: index + 1)
                continue
            }
            let tagLine = line
            let tagColumn = column
            var start = index + open.count
            var end = start
            let triple = open == ["{", "{"] && start < characters.count && characters[start] == "{"
            if triple { start += 1 }
            while end < characters.count, !matches(close, at: end) { end += 1 }
            guard end < characters.count else { break }
            var body = String(characters[start..<end])
            var after = end + close.count
            if triple {
                body = body.hasSuffix("}") ? String(body.dropLast()) : body
                if after < characters.count, characters[after] == "}" { after += 1 }
            }
            body = body.tagTrimmed()
            let sigil = triple ? "&" : body.first ?? " "
            var kind = Kind.variable
            var name = body
            switch sigil {
            case "#": kind = .section
            case "^": kind = .invertedSection
            case "/": kind = .close
            case ">", "<": kind = .partial
            case "!", "%", "$": kind = .other
            case "=":
                kind = .other
                let inner = body.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: true)
                if inner.count == 2 {
                    open = Array(inner[0])
                    close = Array(inner[1])
                }
            case "&": break
            default: name = " " + body
            }
            if !triple { name = String(name.dropFirst()) }
            if kind != .other {
                tags.append(TemplateTag(kind: kind, name: innermost(name), line: tagLine, column: tagColumn))
            }
            advance(to: after)
        }
        return tags
    }

    /// `a(b(name))` → `name`: the variable a transform chain is applied to.
    static func innermost(_ text: String) -> String {
        var name = Substring(text.tagTrimmed())
        if let open = name.lastIndex(of: "(") { name = name[name.index(after: open)...] }
        if let close = name.firstIndex(of: ")") { name = name[..<close] }
        return String(name).tagTrimmed()
    }
}

extension String {
    fileprivate func tagTrimmed() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
