/// Parsing of address-list headers (From, To, Cc, Reply-To) per RFC 5322 including groups, comments, quoted and
/// encoded display names, plus the sloppy forms clients produce (semicolon separators, missing brackets).
public enum AddressList {
    /// Parses an address list; unparseable fragments are skipped, group names are dropped, group members kept.
    public static func parse(_ s: String) -> [MailAddress] {
        var diagnostics: [String] = []
        return parse(s, diagnostics: &diagnostics)
    }

    private struct Builder {
        var phrase: [String] = []  // display-name words (quoted strings unquoted)
        var phraseQuoted = false
        var comment: [UInt8] = []
        var angle: [UInt8]?
        var plain: [UInt8] = []  // text outside angle brackets, for bare addr-specs

        var isEmpty: Bool { phrase.isEmpty && angle == nil && plain.isEmpty && comment.isEmpty }
    }

    static func parse(_ s: String, diagnostics: inout [String]) -> [MailAddress] {
        let u = Array(s.utf8)
        var result: [MailAddress] = []
        var current = Builder()
        var word: [UInt8] = []
        var inGroup = false

        func endWord() {
            if !word.isEmpty {
                current.phrase.append(String(decoding: word, as: UTF8.self))
                current.plain.append(contentsOf: word)
                word.removeAll(keepingCapacity: true)
            }
        }
        // "Doe, John <j@x.test>" without quotes: a name-only fragment before a comma is held back and, if the next
        // mailbox has brackets, becomes the front of its display name.
        var heldPhrase: Builder?
        func finish(atComma: Bool) {
            endWord()
            if let held = heldPhrase {
                heldPhrase = nil
                if current.angle != nil && !current.phrase.isEmpty && !current.phraseQuoted {
                    current.phrase[0] = held.phrase.joined(separator: " ") + ", " + current.phrase[0]
                } else if let address = build(held, diagnostics: &diagnostics) {
                    result.append(address)
                }
            }
            if atComma, current.angle == nil, !current.phraseQuoted, current.comment.isEmpty, !current.phrase.isEmpty,
                !current.plain.contains(UInt8(ascii: "@"))
            {
                heldPhrase = current
                current = Builder()
                return
            }
            if let address = build(current, diagnostics: &diagnostics) { result.append(address) }
            current = Builder()
        }

        var i = 0
        while i < u.count {
            let b = u[i]
            switch b {
            case UInt8(ascii: "\""):
                endWord()
                i += 1
                var q: [UInt8] = []
                while i < u.count, u[i] != UInt8(ascii: "\"") {
                    if u[i] == UInt8(ascii: "\\"), i + 1 < u.count { i += 1 }
                    q.append(u[i])
                    i += 1
                }
                i += 1
                current.phrase.append(String(decoding: q, as: UTF8.self))
                current.phraseQuoted = true
                current.plain.append(contentsOf: q)
            case UInt8(ascii: "("):
                endWord()
                var depth = 0
                var c: [UInt8] = []
                while i < u.count {
                    let x = u[i]
                    if x == UInt8(ascii: "\\"), i + 1 < u.count {
                        c.append(u[i + 1])
                        i += 2
                        continue
                    }
                    if x == UInt8(ascii: "(") {
                        depth += 1
                        if depth > 1 { c.append(x) }
                    } else if x == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 {
                            i += 1
                            break
                        }
                        c.append(x)
                    } else {
                        c.append(x)
                    }
                    i += 1
                }
                if current.comment.isEmpty { current.comment = c }
            case UInt8(ascii: "<"):
                endWord()
                i += 1
                var a: [UInt8] = []
                while i < u.count, u[i] != UInt8(ascii: ">") {
                    if u[i] == UInt8(ascii: "\"") {
                        // quoted local part inside brackets
                        a.append(u[i])
                        i += 1
                        while i < u.count, u[i] != UInt8(ascii: "\"") {
                            a.append(u[i])
                            i += 1
                        }
                        if i < u.count { a.append(u[i]) }
                        i += 1
                        continue
                    }
                    if u[i] == UInt8(ascii: "(") {
                        // comment inside the address
                        var depth = 0
                        while i < u.count {
                            if u[i] == UInt8(ascii: "(") { depth += 1 }
                            if u[i] == UInt8(ascii: ")") {
                                depth -= 1
                                if depth == 0 { break }
                            }
                            i += 1
                        }
                        i += 1
                        continue
                    }
                    if !u[i].isBlankOrEOL { a.append(u[i]) }
                    i += 1
                }
                i += 1
                if current.angle == nil { current.angle = a }
            case UInt8(ascii: ","):
                finish(atComma: true)
                i += 1
            case UInt8(ascii: ";"):
                finish(atComma: false)
                inGroup = false
                i += 1
            case UInt8(ascii: ":"):
                // group start, unless we are inside an address (e.g. a route) — only when no angle yet
                if current.angle == nil && !inGroup {
                    endWord()
                    current = Builder()
                    inGroup = true
                } else {
                    word.append(b)
                }
                i += 1
            default:
                if b.isBlankOrEOL {
                    endWord()
                } else {
                    word.append(b)
                }
                i += 1
            }
        }
        finish(atComma: false)
        if let held = heldPhrase, let address = build(held, diagnostics: &diagnostics) { result.append(address) }
        return result
    }

    private static func build(_ b: Builder, diagnostics: inout [String]) -> MailAddress? {
        if b.isEmpty { return nil }
        if var angle = b.angle {
            // obsolete route: <@a,@b:user@host>
            if angle.first == UInt8(ascii: "@"), let colon = angle.lastIndex(of: UInt8(ascii: ":")) {
                angle = Array(angle[(colon + 1)...])
            }
            if angle.first == UInt8(ascii: "<") { angle.removeFirst() }
            var address = String(decoding: angle, as: UTF8.self)
            if address.lowercased().hasPrefix("mailto:") { address = String(address.dropFirst(7)) }
            var name = b.phrase.joined(separator: " ")
            if name.isEmpty { name = String(decoding: b.comment, as: UTF8.self) }
            if address.isEmpty {
                if name.contains("@") { return MailAddress(name: nil, address: name) }
                return nil
            }
            return MailAddress(name: cleanName(name, diagnostics: &diagnostics), address: address)
        }
        // no brackets: addr-spec is the concatenation of the words, the comment (if any) is the name
        let words = b.phrase
        let full = words.filter { isFullAddress($0) }
        if words.count > 1, full.count == 1, let at = words.firstIndex(of: full[0]),
            !words.enumerated().contains(where: { $0.offset != at && $0.element.contains("@") })
        {
            // Tolerate a display name without brackets: `John Doe john@example.com`.
            var name = words.enumerated().filter { $0.offset != at }.map(\.element).joined(separator: " ")
            if name.isEmpty { name = String(decoding: b.comment, as: UTF8.self) }
            return MailAddress(name: cleanName(name, diagnostics: &diagnostics), address: full[0])
        }
        let address = String(decoding: b.plain, as: UTF8.self)
        guard !address.isEmpty else { return nil }
        let comment = String(decoding: b.comment, as: UTF8.self)
        return MailAddress(name: cleanName(comment, diagnostics: &diagnostics), address: address)
    }

    private static func isFullAddress(_ w: String) -> Bool {
        guard let at = w.firstIndex(of: "@") else { return false }
        return at != w.startIndex && w.index(after: at) != w.endIndex
    }

    private static func cleanName(_ raw: String, diagnostics: inout [String]) -> String? {
        let decoded = EncodedWord.decode(raw, diagnostics: &diagnostics).trimmingBlanks()
        var name = decoded
        // Some clients quote inside encoded words: =?utf-8?q?=22Name=22?=
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        if name.count >= 2, name.hasPrefix("'"), name.hasSuffix("'") { name = String(name.dropFirst().dropLast()) }
        return name.isEmpty ? nil : name
    }
}
