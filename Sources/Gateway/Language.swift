/// Picks the language to answer a requester in, so people get mail in the language they wrote in. Pure: the caller
/// passes what it knows (recorded preference, headers, text) and the locales that have templates.
public enum LanguageChooser {
    /// The recorded language, else `Content-Language`, else `Accept-Language` (by q-value), else a detection from
    /// the text, else `fallback`; each candidate counts only when templates exist for it (`de-AT` uses `de`).
    public static func choose(
        recorded: String?, contentLanguage: String?, acceptLanguage: String?, text: String, available: Set<String>,
        fallback: String
    ) -> String {
        if let recorded, let locale = match(recorded, available: available) { return locale }
        if let contentLanguage {
            for tag in contentLanguage.split(separator: ",") {
                if let locale = match(String(tag), available: available) { return locale }
            }
        }
        if let acceptLanguage {
            for tag in Self.acceptLanguage(acceptLanguage) {
                if let locale = match(tag, available: available) { return locale }
            }
        }
        if let detected = detect(text), let locale = match(detected, available: available) { return locale }
        return fallback
    }

    /// The available locale for a language tag: the whole tag, else shorter prefixes (`de-CH-1996` → `de-ch` → `de`);
    /// case and `_`/`-` do not matter.
    public static func match(_ tag: String, available: Set<String>) -> String? {
        let byKey = Dictionary(available.map { (normalize($0), $0) }, uniquingKeysWith: { first, _ in first })
        var key = normalize(tag)
        while !key.isEmpty, key != "*" {
            if let locale = byKey[key] { return locale }
            guard let dash = key.lastIndex(of: "-") else { break }
            key = String(key[..<dash])
        }
        return nil
    }

    /// Language tags of an `Accept-Language` value, best first (stable for equal q); `q=0` and `*` are dropped.
    public static func acceptLanguage(_ header: String) -> [String] {
        var entries: [(tag: String, q: Double, order: Int)] = []
        for (order, item) in header.split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.languageTrimmed() }
            guard let tag = parts.first, !tag.isEmpty, tag != "*" else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            if q > 0 { entries.append((tag, q, order)) }
        }
        return entries.sorted { $0.q != $1.q ? $0.q > $1.q : $0.order < $1.order }.map(\.tag)
    }

    /// A light guess of the language of a text (`en`, `de`, `fr`) from function words, elisions and letters; nil
    /// when the evidence is thin or mixed. Quoted lines (`>`) are ignored.
    public static func detect(_ text: String) -> String? {
        var scores: [String: Int] = [:]
        // The opening of a mail says enough; bounding it keeps detection cheap on long mails. It runs on every
        // incoming mail, so it works on Unicode scalars (no grapheme breaking) of the first 600 UTF-8 bytes.
        var opening = text.utf8.prefix(600)
        if opening.count < text.utf8.count {
            // cut before a scalar that the prefix splits
            while let last = opening.last, last & 0xC0 == 0x80 || last >= 0xC0 { opening = opening.dropLast() }
        }
        let scalars = String(Substring(opening)).unicodeScalars
        var lineStart = scalars.startIndex
        while lineStart < scalars.endIndex {
            let lineEnd = scalars[lineStart...].firstIndex(where: { $0 == "\n" || $0 == "\r" }) ?? scalars.endIndex
            let line = scalars[lineStart..<lineEnd]
            lineStart = lineEnd < scalars.endIndex ? scalars.index(after: lineEnd) : lineEnd
            if line.first(where: { !$0.properties.isWhitespace }) == ">" { continue }
            tokens(line) { token in
                for language in hints(token) { scores[language, default: 0] += 1 }
            }
            for scalar in line where scalar.value >= 0xC0 {
                if germanLetters.contains(scalar) { scores["de", default: 0] += 1 }
                if frenchLetters.contains(scalar) { scores["fr", default: 0] += 1 }
            }
        }
        let ranked = scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        guard let best = ranked.first else { return nil }
        let second = ranked.dropFirst().first?.value ?? 0
        guard best.value >= 2, best.value - second >= 2, best.value >= 2 * second else { return nil }
        return best.key
    }

    // MARK: internals

    static let germanLetters: Set<Unicode.Scalar> = ["ä", "ö", "ü", "ß", "Ä", "Ö", "Ü"]
    static let frenchLetters: Set<Unicode.Scalar> = ["é", "è", "ê", "à", "ç", "ù", "œ", "É", "È"]
    static let englishElisions: Set<Substring> = ["t", "s", "m", "re", "ve", "ll", "d"]
    static let frenchElisions: Set<Substring> = ["j", "l", "d", "c", "n", "qu", "s", "m", "t"]

    static func normalize(_ tag: String) -> String {
        tag.languageTrimmed().lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// Calls `body` with each lowercased word of `line`; apostrophes (also `’`) stay inside words so `don't` and
    /// `j'ai` can be recognised. Works on scalars with an ASCII fast path (it runs on every incoming mail); combining
    /// marks stay in their word, and String comparison is canonical, so decomposed `très` still matches.
    static func tokens(_ line: Substring.UnicodeScalarView, _ body: (String) -> Void) {
        var current = String.UnicodeScalarView()
        for scalar in line {
            let value = scalar.value
            if value < 0x80 {
                let lower = value | 0x20
                if lower >= 0x61 && lower <= 0x7A {
                    current.append(Unicode.Scalar(UInt8(lower)))
                    continue
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.generalCategory == .nonspacingMark {
                current.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                continue
            }
            if value == 0x27 || value == 0x2019 {
                if !current.isEmpty { current.append("'") }
            } else if !current.isEmpty {
                body(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { body(String(current)) }
    }

    /// The languages a word points to (one point each).
    static func hints(_ token: String) -> [String] {
        if let apostrophe = token.utf8.firstIndex(of: UInt8(ascii: "'")) {
            let head = token[..<apostrophe]
            let tail = token[token.utf8.index(after: apostrophe)...]
            if englishElisions.contains(tail), head.count > 1 || head == "i" {
                return ["en"]
            }
            if frenchElisions.contains(head), !tail.isEmpty {
                return stopWords["fr"]!.contains(String(tail)) ? ["fr", "fr"] : ["fr"]
            }
            return []
        }
        return stopWordLanguages[token] ?? []
    }

    /// `stopWords` inverted (word → languages), so each token costs one lookup.
    static let stopWordLanguages: [String: [String]] = {
        var inverted: [String: [String]] = [:]
        for (language, words) in stopWords.sorted(by: { $0.key < $1.key }) {
            for word in words { inverted[word, default: []].append(language) }
        }
        return inverted
    }()

    /// Frequent function words that are distinctive for one language (shared ones like `in`, `was`, `des` are left
    /// out).
    static let stopWords: [String: Set<String>] = [
        "en": [
            "the", "and", "is", "are", "to", "of", "it", "that", "this", "with", "for", "not", "have", "has", "my",
            "your", "you", "we", "i", "can", "cannot", "please", "on", "be", "does", "from", "at", "but", "or", "will",
            "would", "there", "what", "when", "hello", "hi", "thanks", "thank", "again", "any", "all", "since",
            "working", "work", "doesnt", "dont", "our", "me", "our", "they", "been", "just", "could", "should",
        ],
        "de": [
            "der", "die", "das", "und", "ist", "nicht", "ich", "ein", "eine", "einen", "mit", "für", "auf", "es",
            "sie", "wir", "bitte", "danke", "den", "dem", "zu", "von", "auch", "noch", "aber", "oder", "wie", "kann",
            "können", "habe", "hat", "haben", "mein", "meine", "meinen", "ihr", "ihre", "seit", "wird", "werden",
            "dass", "sich", "nach", "bei", "keine", "kein", "hallo", "guten", "geht", "mehr", "schon", "im", "vom",
            "zum", "zur", "funktioniert", "gestern", "heute", "morgen", "leider", "uns", "wieder",
        ],
        "fr": [
            "le", "la", "les", "et", "est", "un", "une", "pas", "je", "ne", "nous", "vous", "il", "elle", "pour",
            "avec", "sur", "que", "qui", "dans", "mon", "ma", "mes", "votre", "vos", "bonjour", "merci", "ce", "cette",
            "au", "aux", "plus", "mais", "très", "depuis", "fonctionne", "ai", "suis", "avez", "pouvez", "fait",
            "encore", "aujourd", "hui", "cordialement", "madame", "monsieur",
        ],
    ]
}

extension StringProtocol {
    fileprivate func languageTrimmed() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
