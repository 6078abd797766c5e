/// HTML to readable plain text for HTML-only mail: a single linear pass over the bytes (no DOM, no recursion) so
/// megabyte-sized or deeply nested HTML cannot blow the stack or take long.
public enum HTMLText {
    /// Converts HTML to text: drops head/script/style and comments (incl. Outlook conditionals), turns block
    /// elements and `<br>` into line breaks, list items into `- ` lines, links into `text <url>`, decodes entities.
    public static func convert(_ html: String) -> String {
        let u = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        var pendingSpace = false
        var preDepth = 0
        var linkHref: [UInt8]?
        var linkTextStart = 0

        func newline(_ count: Int) {
            pendingSpace = false
            // trim trailing spaces
            while let last = out.last, last == 0x20 { out.removeLast() }
            if out.isEmpty { return }
            var existing = 0
            var k = out.count - 1
            while k >= 0, out[k] == 10 {
                existing += 1
                k -= 1
            }
            while existing < count {
                out.append(10)
                existing += 1
            }
        }
        func emitText(_ b: UInt8) {
            if preDepth == 0 && b.isBlankOrEOL {
                pendingSpace = true
                return
            }
            if pendingSpace {
                if let last = out.last, last != 10 && last != 0x20 { out.append(0x20) }
                pendingSpace = false
            }
            out.append(b)
        }
        func emitBytes(_ bs: [UInt8]) { for b in bs { emitText(b) } }

        while i < u.count {
            let b = u[i]
            if b == UInt8(ascii: "<") {
                // comment
                if i + 3 < u.count, u[i + 1] == UInt8(ascii: "!"), u[i + 2] == UInt8(ascii: "-"),
                    u[i + 3] == UInt8(ascii: "-")
                {
                    i = find(u, Array("-->".utf8), from: i + 4).map { $0 + 3 } ?? u.count
                    continue
                }
                // tag
                guard let tag = parseTag(u, at: i) else {
                    emitText(b)
                    i += 1
                    continue
                }
                i = tag.end
                let name = tag.name
                if !tag.closing && rawTextElements.contains(name) {
                    // skip to the matching close tag
                    let close = Array("</".utf8) + Array(name.utf8)
                    if let j = findCaseInsensitive(u, close, from: i) {
                        i = u[j...].firstIndex(of: UInt8(ascii: ">")).map { $0 + 1 } ?? u.count
                    } else {
                        i = u.count
                    }
                    continue
                }
                switch name {
                case "br":
                    // a <br> yields a hard line break even after another one
                    pendingSpace = false
                    forceNewline(&out)
                case "p", "div", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl",
                    "section", "article", "header", "footer", "form", "hr", "address", "center", "fieldset":
                    newline(name == "div" || name == "table" || name == "ul" || name == "ol" ? 1 : 2)
                    if name == "hr" && !tag.closing {
                        out.append(contentsOf: Array("----------".utf8))
                        newline(1)
                    }
                case "pre":
                    newline(2)
                    preDepth += tag.closing ? (preDepth > 0 ? -1 : 0) : 1
                case "tr", "dt", "dd", "caption":
                    newline(1)
                case "li":
                    if !tag.closing {
                        newline(1)
                        out.append(contentsOf: Array("- ".utf8))
                    } else {
                        newline(1)
                    }
                case "td", "th":
                    if !tag.closing, let last = out.last, last != 10 {
                        out.append(contentsOf: Array("\t".utf8))
                        pendingSpace = false
                    }
                case "a":
                    if !tag.closing {
                        linkHref = tag.href
                        linkTextStart = out.count
                    } else if let href = linkHref {
                        let text = Array(out[min(linkTextStart, out.count)...])
                        var shownURL = href
                        if shownURL.starts(with: Array("mailto:".utf8)) { shownURL.removeFirst(7) }
                        let hrefText = decodeEntities(shownURL)
                        if !href.isEmpty && href.first != UInt8(ascii: "#")
                            && !href.starts(with: Array("javascript:".utf8))
                            && trimmed(text) != trimmed(hrefText)
                        {
                            if text.isEmpty {
                                emitBytes(hrefText)
                            } else {
                                out.append(contentsOf: Array(" <".utf8))
                                out.append(contentsOf: hrefText)
                                out.append(UInt8(ascii: ">"))
                            }
                        }
                        linkHref = nil
                    }
                case "img":
                    if let alt = tag.alt, !alt.isEmpty { emitBytes(decodeEntities(alt)) }
                default:
                    break
                }
                continue
            }
            if b == UInt8(ascii: "&") {
                let (bytes, next) = decodeEntity(u, at: i)
                if bytes == [0xC2, 0xA0] {
                    // nbsp: a space that survives collapsing
                    if pendingSpace, let last = out.last, last != 10 && last != 0x20 { out.append(0x20) }
                    pendingSpace = false
                    out.append(0x20)
                } else {
                    emitBytes(bytes)
                }
                i = next
                continue
            }
            emitText(b)
            i += 1
        }
        // tidy: trim trailing blanks on lines, collapse 3+ newlines, trim ends
        var result: [UInt8] = []
        result.reserveCapacity(out.count)
        var newlines = 0
        for b in out {
            if b == 10 {
                while let last = result.last, last == 0x20 || last == 0x09 { result.removeLast() }
                newlines += 1
                if newlines <= 2 { result.append(10) }
            } else {
                newlines = 0
                result.append(b)
            }
        }
        return String(decoding: result, as: UTF8.self).trimmingBlanks()
    }

    private static func forceNewline(_ out: inout [UInt8]) {
        while let last = out.last, last == 0x20 { out.removeLast() }
        out.append(10)
    }

    private static let rawTextElements: Set<String> = ["script", "style", "head", "title", "xml", "template"]

    private struct Tag {
        var name: String
        var closing: Bool
        var end: Int
        var href: [UInt8]?
        var alt: [UInt8]?
    }

    private static func trimmed(_ b: [UInt8]) -> [UInt8] {
        var lo = 0
        var hi = b.count
        while lo < hi, b[lo].isBlankOrEOL { lo += 1 }
        while hi > lo, b[hi - 1].isBlankOrEOL { hi -= 1 }
        return Array(b[lo..<hi])
    }

    private static func parseTag(_ u: [UInt8], at start: Int) -> Tag? {
        var i = start + 1
        guard i < u.count else { return nil }
        var closing = false
        if u[i] == UInt8(ascii: "/") {
            closing = true
            i += 1
        }
        if i < u.count, u[i] == UInt8(ascii: "!") || u[i] == UInt8(ascii: "?") {
            // doctype, CDATA, processing instruction, <![if ...]>
            let end = u[i...].firstIndex(of: UInt8(ascii: ">")).map { $0 + 1 } ?? u.count
            return Tag(name: "!", closing: false, end: end)
        }
        let nameStart = i
        while i < u.count {
            let c = u[i]
            let isName =
                (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
            if !isName { break }
            i += 1
        }
        guard i > nameStart else { return nil }
        let name = String(decoding: u[nameStart..<i].map { $0.asciiLower }, as: UTF8.self)
        var href: [UInt8]?
        var alt: [UInt8]?
        // attributes until '>' (respecting quotes)
        while i < u.count, u[i] != UInt8(ascii: ">") {
            let c = u[i]
            if c.isBlankOrEOL || c == UInt8(ascii: "/") {
                i += 1
                continue
            }
            let an = i
            while i < u.count, !u[i].isBlankOrEOL, u[i] != UInt8(ascii: "="), u[i] != UInt8(ascii: ">") { i += 1 }
            let attr = u[an..<i].map { $0.asciiLower }
            while i < u.count, u[i].isBlankOrEOL { i += 1 }
            guard i < u.count, u[i] == UInt8(ascii: "=") else { continue }
            i += 1
            while i < u.count, u[i].isBlankOrEOL { i += 1 }
            var value: [UInt8] = []
            if i < u.count, u[i] == UInt8(ascii: "\"") || u[i] == UInt8(ascii: "'") {
                let q = u[i]
                i += 1
                let vs = i
                while i < u.count, u[i] != q { i += 1 }
                value = Array(u[vs..<min(i, u.count)])
                if i < u.count { i += 1 }
            } else {
                let vs = i
                while i < u.count, !u[i].isBlankOrEOL, u[i] != UInt8(ascii: ">") { i += 1 }
                value = Array(u[vs..<i])
            }
            if attr == Array("href".utf8) { href = trimmed(value) }
            if attr == Array("alt".utf8) { alt = value }
        }
        guard i < u.count else { return nil }  // no closing ">": not a tag
        return Tag(name: name, closing: closing, end: i + 1, href: href, alt: alt)
    }

    private static func find(_ u: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, u.count >= needle.count else { return nil }
        var i = from
        let first = needle[0]
        while i + needle.count <= u.count {
            if u[i] == first {
                var ok = true
                for k in 1..<needle.count where u[i + k] != needle[k] {
                    ok = false
                    break
                }
                if ok { return i }
            }
            i += 1
        }
        return nil
    }

    private static func findCaseInsensitive(_ u: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, u.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= u.count {
            if u[i] == needle[0] {
                var ok = true
                for k in 1..<needle.count where u[i + k].asciiLower != needle[k] {
                    ok = false
                    break
                }
                if ok { return i }
            }
            i += 1
        }
        return nil
    }

    static func decodeEntities(_ u: [UInt8]) -> [UInt8] {
        guard u.contains(UInt8(ascii: "&")) else { return u }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "&") {
                let (bytes, next) = decodeEntity(u, at: i)
                out.append(contentsOf: bytes)
                i = next
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return out
    }

    /// Decodes the entity at `u[start] == "&"`; returns its UTF-8 bytes and the index after it.
    static func decodeEntity(_ u: [UInt8], at start: Int) -> ([UInt8], Int) {
        var i = start + 1
        if i < u.count, u[i] == UInt8(ascii: "#") {
            i += 1
            var value: UInt32 = 0
            var digits = 0
            let hex = i < u.count && (u[i] == UInt8(ascii: "x") || u[i] == UInt8(ascii: "X"))
            if hex { i += 1 }
            while i < u.count, digits < 8 {
                let c = u[i]
                if let v = hex ? QuotedPrintable.hexValue(c) : (c >= 0x30 && c <= 0x39 ? c - 0x30 : nil) {
                    value = value * (hex ? 16 : 10) + UInt32(v)
                    digits += 1
                    i += 1
                } else {
                    break
                }
            }
            guard digits > 0 else { return ([UInt8(ascii: "&")], start + 1) }
            if i < u.count, u[i] == UInt8(ascii: ";") { i += 1 }
            if value >= 0x80 && value <= 0x9F { value = Charset.windows1252Scalar(UInt8(value)) }
            if value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) { value = 0xFFFD }
            var out: [UInt8] = []
            Charset.appendUTF8(value, to: &out)
            return (out, i)
        }
        let nameStart = i
        while i < u.count, i - nameStart < 10,
            (u[i] >= 0x61 && u[i] <= 0x7A) || (u[i] >= 0x41 && u[i] <= 0x5A) || (u[i] >= 0x30 && u[i] <= 0x39)
        {
            i += 1
        }
        let name = String(decoding: u[nameStart..<i], as: UTF8.self)
        guard let scalar = entities[name] else { return ([UInt8(ascii: "&")], start + 1) }
        if i < u.count, u[i] == UInt8(ascii: ";") { i += 1 }
        var out: [UInt8] = []
        Charset.appendUTF8(scalar, to: &out)
        return (out, i)
    }

    private static let entities: [String: UInt32] = [
        "amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27, "nbsp": 0xA0, "copy": 0xA9, "reg": 0xAE,
        "trade": 0x2122, "euro": 0x20AC, "pound": 0xA3, "yen": 0xA5, "cent": 0xA2, "sect": 0xA7, "deg": 0xB0,
        "plusmn": 0xB1, "times": 0xD7, "divide": 0xF7, "middot": 0xB7, "bull": 0x2022, "hellip": 0x2026,
        "ndash": 0x2013, "mdash": 0x2014, "lsquo": 0x2018, "rsquo": 0x2019, "sbquo": 0x201A, "ldquo": 0x201C,
        "rdquo": 0x201D, "bdquo": 0x201E, "laquo": 0xAB, "raquo": 0xBB, "shy": 0xAD, "zwnj": 0x200C, "zwj": 0x200D,
        "iexcl": 0xA1, "iquest": 0xBF, "para": 0xB6, "micro": 0xB5, "frac12": 0xBD, "frac14": 0xBC, "frac34": 0xBE,
        "sup2": 0xB2, "sup3": 0xB3, "larr": 0x2190, "rarr": 0x2192, "uarr": 0x2191, "darr": 0x2193, "ensp": 0x2002,
        "emsp": 0x2003, "thinsp": 0x2009, "dagger": 0x2020, "permil": 0x2030,
        "Agrave": 0xC0, "Aacute": 0xC1, "Acirc": 0xC2, "Atilde": 0xC3, "Auml": 0xC4, "Aring": 0xC5, "AElig": 0xC6,
        "Ccedil": 0xC7, "Egrave": 0xC8, "Eacute": 0xC9, "Ecirc": 0xCA, "Euml": 0xCB, "Igrave": 0xCC, "Iacute": 0xCD,
        "Icirc": 0xCE, "Iuml": 0xCF, "Ntilde": 0xD1, "Ograve": 0xD2, "Oacute": 0xD3, "Ocirc": 0xD4, "Otilde": 0xD5,
        "Ouml": 0xD6, "Oslash": 0xD8, "Ugrave": 0xD9, "Uacute": 0xDA, "Ucirc": 0xDB, "Uuml": 0xDC, "Yacute": 0xDD,
        "szlig": 0xDF, "agrave": 0xE0, "aacute": 0xE1, "acirc": 0xE2, "atilde": 0xE3, "auml": 0xE4, "aring": 0xE5,
        "aelig": 0xE6, "ccedil": 0xE7, "egrave": 0xE8, "eacute": 0xE9, "ecirc": 0xEA, "euml": 0xEB, "igrave": 0xEC,
        "iacute": 0xED, "icirc": 0xEE, "iuml": 0xEF, "ntilde": 0xF1, "ograve": 0xF2, "oacute": 0xF3, "ocirc": 0xF4,
        "otilde": 0xF5, "ouml": 0xF6, "oslash": 0xF8, "ugrave": 0xF9, "uacute": 0xFA, "ucirc": 0xFB, "uuml": 0xFC,
        "yacute": 0xFD, "yuml": 0xFF, "OElig": 0x152, "oelig": 0x153, "Scaron": 0x160, "scaron": 0x161,
    ]
}
