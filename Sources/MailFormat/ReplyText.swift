/// Extracts the new text of a reply: cuts quoted history (attribution lines in several languages, Outlook
/// header blocks, `>` quotes) and signatures, so tickets show what the person actually wrote.
public enum ReplyText {
    /// Like `strip(_:)`, and when the text has no recognisable history but the HTML body marks one (HTML-only
    /// replies from Gmail, Outlook, Apple Mail, Thunderbird), the HTML before that mark converted to text.
    public static func strip(_ text: String, html: String?) -> String {
        let stripped = strip(text)
        guard let html, stripped == text.trimmingBlanks(), let cut = htmlQuoteStart(html) else { return stripped }
        // nothing recognised in the text, but the HTML marks where its quoted history starts
        let head = String(decoding: html.utf8.prefix(cut), as: UTF8.self)
        let reply = strip(HTMLText.convert(head))
        return reply.isEmpty ? stripped : reply
    }

    /// Cuts an HTML reply at its quoted history (Gmail `gmail_quote`, Outlook `divRplyFwdMsg` and header rule,
    /// Apple Mail / Thunderbird `blockquote type="cite"` and `moz-cite-prefix`, Yahoo `yahoo_quoted`) and returns
    /// the new part as text; nil when the HTML has none of these markers.
    public static func stripHTML(_ html: String) -> String? {
        guard let cut = htmlQuoteStart(html) else { return nil }
        return strip(HTMLText.convert(String(decoding: html.utf8.prefix(cut), as: UTF8.self)))
    }

    private static let htmlQuoteMarkers: [[UInt8]] = [
        "class=\"gmail_quote", "id=\"divrplyfwdmsg", "id=divrplyfwdmsg", "type=\"cite\"", "type=cite",
        "class=\"moz-cite-prefix", "class=\"yahoo_quoted", "id=\"appendonsend", "class=\"outlookmessageheader",
        "border-top:solid #b5c4df", "border-top:solid #e1e1e1", "id=\"stopspelling", "class=\"gmail_attr",
        "name=\"quote\"", "class=\"quote\"",
    ].map { Array($0.utf8) }

    /// Byte offset of the tag that opens the quoted history, if a known marker is found.
    static func htmlQuoteStart(_ html: String) -> Int? {
        let u = Array(html.utf8)
        var lower = u
        for i in lower.indices where lower[i] >= 65 && lower[i] <= 90 { lower[i] |= 0x20 }
        var best: Int?
        for marker in htmlQuoteMarkers {
            guard let first = marker.first else { continue }
            var i = 0
            let limit = best ?? lower.count
            while i + marker.count <= limit {
                if lower[i] == first && lower[i..<(i + marker.count)].elementsEqual(marker) {
                    // back to the "<" of the tag that carries the marker
                    var t = i
                    while t > 0 && lower[t] != UInt8(ascii: "<") { t -= 1 }
                    if best == nil || t < best! { best = t }
                    break
                }
                i += 1
            }
        }
        return best
    }

    /// The new text of `text` without quoted history and signature; the whole text (trimmed) when cutting would
    /// leave nothing.
    public static func strip(_ text: String) -> String {
        if text.isEmpty { return text }
        let lines: [Substring] = text.utf8.split(separator: 10, omittingEmptySubsequences: false).map {
            let line = Substring($0)
            return $0.last == 13 ? line.dropLast() : line
        }
        var kept: [Substring] = []
        var i = 0
        scan: while i < lines.count {
            let line = lines[i]
            if line.hasPrefix(">") {
                i += 1  // quoted text is history, wherever it is
                continue
            }
            if let marker = historyMarker(lines, at: i) {
                var j = i + marker.lines
                while j < lines.count, isBlank(lines[j]) { j += 1 }
                if marker.isAttribution, j < lines.count, lines[j].hasPrefix(">") {
                    // "On … wrote:" followed by a quote: an inline or bottom-posted reply may continue after it
                    i = j
                    continue
                }
                break scan
            }
            kept.append(line)
            i += 1
        }
        var result = cutSignature(kept[...])
        while let last = result.last, isBlank(last) || isRule(last) { result = result.dropLast() }
        while let first = result.first, isBlank(first) { result = result.dropFirst() }
        if result.isEmpty { return text.trimmingBlanks() }
        return result.joined(separator: "\n")
    }

    /// A line of only `-`, `_` or `=` (a separator left above cut history).
    private static func isRule(_ s: Substring) -> Bool {
        var count = 0
        for b in s.utf8 {
            if b == 0x20 || b == 0x09 || b == 0x0D { continue }
            guard b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: "=") else { return false }
            count += 1
        }
        return count >= 3
    }

    private static func isBlank(_ s: Substring) -> Bool {
        s.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private static let separatorLines: [String] = [
        "-----original message-----", "----- original message -----", "-----ursprüngliche nachricht-----",
        "----- ursprüngliche nachricht -----", "-------- original-nachricht --------", "-----message d'origine-----",
        "----- message d'origine -----", "-----mensaje original-----", "----- mensaje original -----",
        "-----messaggio originale-----", "-----oorspronkelijk bericht-----", "----- oorspronkelijk bericht -----",
        "-------- original message --------", "-----original message-----",
    ]

    private static let headerFrom = ["from:", "von:", "de:", "da:", "van:", "från:", "fra:", "od:", "от:"]
    private static let headerNext = [
        "sent:", "gesendet:", "date:", "datum:", "envoyé:", "envoyé :", "enviado:", "inviato:", "verzonden:", "to:",
        "an:", "à:", "à :", "para:", "a:", "aan:", "subject:", "betreff:", "objet:", "objet :", "asunto:", "oggetto:",
        "onderwerp:", "cc:", "sent :", "date :", "fecha:", "data:", "отправлено:", "кому:", "тема:", "дата:",
    ]

    /// If a quoted-history marker starts at line `i`, the number of lines it spans.
    private static func historyMarker(_ lines: [Substring], at i: Int) -> (lines: Int, isAttribution: Bool)? {
        let raw = lines[i]
        if raw.utf8.count > 400 || !mayBeMarker(raw) {
            // a two-line attribution ends on the next line
            if raw.utf8.count < 300, i + 1 < lines.count, lastSignificantByte(lines[i + 1]) == UInt8(ascii: ":"),
                !lines[i + 1].hasPrefix(">"), startsAttributionWord(raw)
            {
                let joined =
                    raw.trimmedForMatching(stars: true).lowercased() + " "
                    + lines[i + 1].trimmedForMatching(stars: false).lowercased()
                if joined.utf8.count < 400, isAttribution(joined) { return (2, true) }
            }
            // "On Dec 16, 2011, at 12:47 PM, Ann\n<a@x.test>\nwrote:"
            if raw.utf8.count < 300, i + 2 < lines.count, lastSignificantByte(lines[i + 2]) == UInt8(ascii: ":"),
                lines[i + 1].utf8.count < 200, !lines[i + 1].hasPrefix(">"), !lines[i + 2].hasPrefix(">"),
                startsAttributionWord(raw)
            {
                let joined =
                    raw.trimmedForMatching(stars: true).lowercased() + " "
                    + lines[i + 1].trimmedForMatching(stars: false).lowercased() + " "
                    + lines[i + 2].trimmedForMatching(stars: false).lowercased()
                if joined.utf8.count < 500, isAttribution(joined) { return (3, true) }
            }
            return nil
        }
        let line = raw.trimmedForMatching(stars: true).lowercased()
        if line.isEmpty { return nil }
        if separatorLines.contains(where: { line.hasPrefix($0) }) { return (1, false) }
        if line.hasPrefix("________________________________") {
            // Outlook puts a rule above the header block
            if i + 1 < lines.count, isHeaderBlock(lines, at: i + 1) { return (1, false) }
        }
        if isHeaderBlock(lines, at: i) { return (1, false) }
        if isAttribution(line) { return (1, true) }
        if i + 1 < lines.count, !line.hasPrefix(">"), lastSignificantByte(lines[i + 1]) == UInt8(ascii: ":") {
            let joined = line + " " + lines[i + 1].trimmedForMatching(stars: false).lowercased()
            if joined.utf8.count < 400, isAttribution(joined) { return (2, true) }
        }
        return nil
    }

    private static func lastSignificantByte(_ s: Substring) -> UInt8? {
        s.utf8.last { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == UInt8(ascii: "*")) }
    }

    /// Cheap byte test before any lowercasing: markers end with ":", start with "-"/"_", or have a colon early.
    private static func mayBeMarker(_ s: Substring) -> Bool {
        guard let last = lastSignificantByte(s) else { return false }
        if last == UInt8(ascii: ":") { return true }
        var count = 0
        for b in s.utf8 {
            if count == 0 && (b == 0x20 || b == 0x09 || b == UInt8(ascii: "*")) { continue }
            if count == 0 && (b == UInt8(ascii: "-") || b == UInt8(ascii: "_")) { return true }
            if b == UInt8(ascii: ":") { return true }
            count += 1
            if count > 16 { return false }
        }
        return false
    }

    private static func startsAttributionWord(_ s: Substring) -> Bool {
        var word: [UInt8] = []
        for b in s.utf8 {
            if b == 0x20 { break }
            word.append(b | 0x20)
            if word.count > 4 { return false }
        }
        switch String(decoding: word, as: UTF8.self) {
        case "on", "am", "le", "el", "il", "op", "em", "den": return true
        default: return false
        }
    }

    private static func isHeaderBlock(_ lines: [Substring], at i: Int) -> Bool {
        let line = lines[i].trimmedForMatching(stars: true).lowercased().replacingSpaceBeforeColon()
        guard headerFrom.contains(where: { line.hasPrefix($0) }) else { return false }
        var j = i + 1
        var matches = 0
        while j < min(lines.count, i + 6) {
            let next = lines[j].trimmedForMatching(stars: true).lowercased().replacingSpaceBeforeColon()
            if headerNext.contains(where: { next.hasPrefix($0) }) { matches += 1 }
            j += 1
        }
        return matches >= 2
    }

    private static func isAttribution(_ line: String) -> Bool {
        var line = line
        if line.hasPrefix("- ") { line.removeFirst(2) }  // Zimbra: "- On …, X wrote:"
        if ["написал:", "написала:", "написал(а):", "написав:"].contains(where: { line.hasSuffix($0) }) {
            return true
        }
        // "26.06.2014, 14:41, "Ann" <a@x.test>:" (Yandex), "Thu, 26 Jun 2014 14:00 +0400 от Ann <a@x.test>:" (Mail.ru)
        if line.hasSuffix(">:"), line.contains("@"), line.utf8.filter({ $0 >= 48 && $0 <= 57 }).count >= 6 {
            return true
        }
        let l = line
        func between(_ prefix: String, _ suffixes: [String]) -> Bool {
            guard l.hasPrefix(prefix) else { return false }
            return suffixes.contains { l.hasSuffix($0) }
        }
        if between("on ", ["wrote:", "writes:", "wrote :"]) { return true }
        if between("am ", ["schrieb:", "geschrieben:"])
            || (l.hasPrefix("am ") && l.contains(" schrieb ") && l.hasSuffix(":"))
        {
            return true
        }
        if between("le ", ["a écrit :", "a écrit:", "a ecrit :", "a ecrit:"]) { return true }
        if between("el ", ["escribió:", "escribio:", "escribió :"]) { return true }
        if between("il ", ["ha scritto:", "ha scritto :"]) { return true }
        if between("op ", ["schreef:", "geschreven:"])
            || (l.hasPrefix("op ") && l.contains(" schreef ") && l.hasSuffix(":"))
        {
            return true
        }
        if between("em ", ["escreveu:"]) { return true }
        if between("den ", ["skrev:"]) { return true }
        // "John Doe <john@example.com> wrote:" without a date
        if l.hasSuffix(" wrote:") && l.contains("@") { return true }
        if l.hasSuffix(" schrieb:") && l.contains("@") { return true }
        return false
    }

    private static let mobileSignatures: [String] = [
        "sent from my iphone", "sent from my ipad", "sent from my android", "sent from my samsung",
        "sent from my blackberry", "sent from my mobile", "sent from mail for windows", "get outlook for ios",
        "get outlook for android", "von meinem iphone gesendet", "von meinem ipad gesendet", "gesendet von meinem",
        "von meinem samsung", "envoyé de mon iphone", "envoyé de mon ipad", "enviado desde mi iphone",
        "enviado desde mi ipad", "inviato da iphone", "inviato dal mio iphone", "verzonden vanaf mijn iphone",
        "verstuurd vanaf mijn iphone", "sent from yahoo mail", "sent via the samsung",
    ]

    /// Cuts a `-- ` signature (RFC 3676) and mobile "Sent from" lines near the end.
    private static func cutSignature(_ lines: ArraySlice<Substring>) -> ArraySlice<Substring> {
        var result = lines
        if let sig = result.lastIndex(where: { $0 == "-- " || $0 == "--" || $0 == "—" }) {
            let before = result[..<sig]
            if !before.allSatisfy({ isBlank($0) }) { result = before }
        }
        let tailStart = max(result.startIndex, result.endIndex - 6)
        var k = tailStart
        while k < result.endIndex {
            let l = result[k].trimmedForMatching(stars: false).lowercased()
            if mobileSignatures.contains(where: { l.hasPrefix($0) }) {
                let before = result[..<k]
                if !before.allSatisfy({ isBlank($0) }) { return before }
            }
            k += 1
        }
        return result
    }
}

extension Substring {
    /// Trims blanks (and `*` used for bold in plain text) at both ends.
    fileprivate func trimmedForMatching(stars: Bool) -> String {
        func strip(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" || (stars && c == "*") }
        var s = self
        while let f = s.first, strip(f) { s = s.dropFirst() }
        while let l = s.last, strip(l) { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    /// `"de : x"` → `"de: x"` (French typography puts a space before the colon).
    fileprivate func replacingSpaceBeforeColon() -> String {
        guard let r = firstIndex(of: ":"), r > startIndex else { return self }
        let before = index(before: r)
        guard self[before] == " " || self[before] == "\u{00A0}" else { return self }
        return String(self[..<before]) + String(self[r...])
    }
}
