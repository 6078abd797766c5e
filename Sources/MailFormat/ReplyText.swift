/// Extracts the new text of a reply: cuts quoted history (attribution lines in several languages, Outlook
/// header blocks, `>` quotes) and signatures, so tickets show what the person actually wrote.
public enum ReplyText {
    /// The new text of `text` without quoted history and signature; the whole text (trimmed) when cutting would
    /// leave nothing.
    public static func strip(_ text: String) -> String {
        if text.isEmpty { return text }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        // cap the work on pathological input: only look for markers in the first lines
        let scanLimit = min(lines.count, 5_000)
        var cut: Int?
        var cutLength = 1
        var i = 0
        while i < scanLimit {
            let line = lines[i]
            if let length = historyMarker(lines, at: i) {
                cut = i
                cutLength = length
                break
            }
            if line.hasPrefix(">") && restIsQuoted(lines, from: i) {
                cut = i
                cutLength = 0
                break
            }
            i += 1
        }
        var kept: ArraySlice<Substring>
        if let cut {
            let before = lines[..<cut]
            if before.allSatisfy({ isBlank($0) }) {
                // bottom-posting: drop the attribution and the quoted block, keep what follows
                var j = cut + cutLength
                while j < lines.count, lines[j].hasPrefix(">") || isBlank(lines[j]) { j += 1 }
                kept = lines[j...]
            } else {
                kept = before
            }
        } else {
            kept = lines[...]
        }
        kept = cutSignature(kept)
        while let last = kept.last, isBlank(last) { kept = kept.dropLast() }
        while let first = kept.first, isBlank(first) { kept = kept.dropFirst() }
        if kept.isEmpty { return text.trimmingBlanks() }
        return kept.joined(separator: "\n")
    }

    private static func isBlank(_ s: Substring) -> Bool {
        s.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// True when every non-blank line from `start` is quoted, a signature, or an attribution.
    private static func restIsQuoted(_ lines: [Substring], from start: Int) -> Bool {
        var quoted = 0
        for line in lines[start...] {
            if isBlank(line) { continue }
            if line.hasPrefix(">") {
                quoted += 1
                continue
            }
            if line == "-- " || line == "--" { return quoted > 0 }
            return false
        }
        return quoted > 0
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
    private static func historyMarker(_ lines: [Substring], at i: Int) -> Int? {
        let raw = lines[i]
        if raw.utf8.count > 400 { return nil }
        let line = raw.trimmedForMatching(stars: true).lowercased()
        if line.isEmpty { return nil }
        if separatorLines.contains(where: { line.hasPrefix($0) }) { return 1 }
        if line.hasPrefix("________________________________") {
            // Outlook puts a rule above the header block
            if i + 1 < lines.count, isHeaderBlock(lines, at: i + 1) { return 1 }
        }
        if isHeaderBlock(lines, at: i) { return 1 }
        if isAttribution(line) { return 1 }
        if i + 1 < lines.count, !line.hasPrefix(">") {
            let joined = line + " " + lines[i + 1].trimmedForMatching(stars: false).lowercased()
            if joined.utf8.count < 400, isAttribution(joined), !isAttribution(line) { return 2 }
        }
        return nil
    }

    private static func isHeaderBlock(_ lines: [Substring], at i: Int) -> Bool {
        let line = lines[i].trimmedForMatching(stars: true).lowercased()
        guard headerFrom.contains(where: { line.hasPrefix($0) }) else { return false }
        var j = i + 1
        var matches = 0
        while j < min(lines.count, i + 6) {
            let next = lines[j].trimmedForMatching(stars: true).lowercased()
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
        if between("am ", ["schrieb:", "geschrieben:"]) || (l.hasPrefix("am ") && l.contains(" schrieb ") && l.hasSuffix(":")) {
            return true
        }
        if between("le ", ["a écrit :", "a écrit:", "a ecrit :", "a ecrit:"]) { return true }
        if between("el ", ["escribió:", "escribio:", "escribió :"]) { return true }
        if between("il ", ["ha scritto:", "ha scritto :"]) { return true }
        if between("op ", ["schreef:", "geschreven:"]) { return true }
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
