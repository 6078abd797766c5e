/// Message-ID helpers: formatting new ids and reading id lists (In-Reply-To, References), which real clients fill
/// with comments, missing brackets and stray text between ids.
public enum MessageID {
    /// Formats a Message-ID (without angle brackets) from its parts.
    public static func generate(localPart: String, domain: String) -> String {
        "\(localPart)@\(domain)"
    }

    /// Extracts message ids (without brackets) in order. Ids in `<…>` are preferred; without any brackets,
    /// whitespace/comma separated words containing `@` are taken.
    public static func parseList(_ s: String) -> [String] {
        let u = Array(s.utf8)
        var ids: [String] = []
        var i = 0
        var sawBracket = false
        while i < u.count {
            if u[i] == UInt8(ascii: "<") {
                var j = i + 1
                var id: [UInt8] = []
                while j < u.count, u[j] != UInt8(ascii: ">") {
                    if u[j] == UInt8(ascii: "<") { id.removeAll() } else if !u[j].isBlankOrEOL { id.append(u[j]) }
                    j += 1
                }
                if j < u.count {
                    sawBracket = true
                    if !id.isEmpty { ids.append(String(decoding: id, as: UTF8.self)) }
                }
                i = j + 1
                continue
            }
            if u[i] == UInt8(ascii: "(") {
                var depth = 0
                while i < u.count {
                    if u[i] == UInt8(ascii: "(") { depth += 1 }
                    if u[i] == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    i += 1
                }
            }
            i += 1
        }
        if sawBracket { return ids }
        var words: [String] = []
        for w in s.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        where w.contains("@") {
            var t = Substring(w)
            while let f = t.first, f == "<" || f == "\"" || f == "'" { t = t.dropFirst() }
            while let l = t.last, l == ">" || l == "\"" || l == "'" || l == ";" { t = t.dropLast() }
            if !t.isEmpty { words.append(String(t)) }
        }
        return words
    }

    /// The first id of a Message-ID header value, without brackets.
    public static func parse(_ s: String) -> String? {
        if let first = parseList(s).first { return first }
        let t = s.trimmingBlanks()
        return t.isEmpty || t.contains(" ") ? nil : t
    }
}
