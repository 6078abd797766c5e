/// Extracts the new text of a reply: cuts quoted history (attribution lines in several languages, Outlook
/// header blocks, `>` quotes) and signatures, so tickets show what the person actually wrote.
public enum ReplyText {
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
        while let last = result.last, isBlank(last) { result = result.dropLast() }
        while let first = result.first, isBlank(first) { result = result.dropFirst() }
        if result.isEmpty { return text.trimmingBlanks() }
        return result.joined(separator: "\n")
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

    private static let headerFrom = ["from:", "von:", "de:", "da:", "van:", "från:", "fra:", "od:"]
    private static let headerNext = [
        "sent:", "gesendet:", "date:", "datum:", "envoyé:", "envoyé :", "enviado:", "inviato:", "verzonden:", "to:",
        "an:", "à:", "à :", "para:", "a:", "aan:", "subject:", "betreff:", "objet:", "objet :", "asunto:", "oggetto:",
        "onderwerp:", "cc:", "sent :", "date :", "fecha:", "data:",
    ]

    /// If a quoted-history marker starts at line `i`, the number of lines it spans.
    private static func historyMarker(_ lines: [Substring], at i: Int) -> (lines: Int, isAttribution: Bool)? {
        let raw = lines[i]
        if raw.utf8.count > 400 || !mayBeMarker(raw) {
            // a two-line attribution ends on the next line
            if raw.utf8.count < 300, i + 1 < lines.count, lastSignificantByte(lines[i + 1]) == UInt8(ascii: ":"),
                startsAttributionWord(raw)
            {
                let joined =
                    raw.trimmedForMatching(stars: true).lowercased() + " "
                    + lines[i + 1].trimmedForMatching(stars: false).lowercased()
                if joined.utf8.count < 400, isAttribution(joined) { return (2, true) }
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
