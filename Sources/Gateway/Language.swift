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
        // Points per language in `detectable` order, counted without hashing a language name per word.
        var points = [Int](repeating: 0, count: detectable.count)
        func score(_ language: String) {
            if let index = detectable.firstIndex(of: language) { points[index] += 1 }
        }
        var scanner = WordScanner()
        let table = shortStopWordTable
        // The opening of a mail says enough; bounding it keeps detection cheap on long mails. It runs on every
        // incoming mail, so it reads UTF-8 bytes with an ASCII fast path, and decodes only the other scalars.
        var text = text
        text.withUTF8 { utf8 in
            var opening = UnsafeBufferPointer(rebasing: utf8.prefix(600))
            if opening.count < utf8.count {
                // cut before a scalar that the prefix splits
                while let last = opening.last, last & 0xC0 == 0x80 || last >= 0xC0 {
                    opening = UnsafeBufferPointer(rebasing: opening.dropLast())
                }
            }
            scanner.scanBytes(opening) { token in
                // Most words are short and without an apostrophe: their languages come as bits, no strings.
                if token.count <= 8, !token.contains(UInt8(ascii: "'")) {
                    var bits = table.bits(pack(token))
                    while bits != 0 {
                        points[bits.trailingZeroBitCount] += 1
                        bits &= bits - 1
                    }
                } else {
                    for language in hints(bytes: token) { score(language) }
                }
            } letter: { scalar in
                let marks = scalar.value < 0x100 ? latin1LetterMarks[Int(scalar.value)] : otherLetterMarks(scalar)
                if marks & 1 != 0 { points[german] += 1 }
                if marks & 2 != 0 { points[french] += 1 }
            }
        }
        let ranked = zip(detectable, points).filter { $0.1 > 0 }.map { (key: $0.0, value: $0.1) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        guard let best = ranked.first else { return nil }
        let second = ranked.dropFirst().first?.value ?? 0
        guard best.value >= 2, best.value - second >= 2, best.value >= 2 * second else { return nil }
        return best.key
    }

    /// Splits text into lowercased words for `detect`, skipping quoted lines (first non-blank character `>`).
    /// Apostrophes (also `’`) stay inside words so `don't` and `j'ai` can be recognised; other letters than ASCII
    /// (and combining marks) are lowercased by their Unicode mapping, so decomposed `très` still compares equal.
    struct WordScanner {
        private var lineStart = true
        private var quoted = false

        init() {}

        mutating func scan(
            _ bytes: UnsafeBufferPointer<UInt8>, word emit: (String) -> Void, letter: (Unicode.Scalar) -> Void
        ) {
            scanBytes(bytes, word: { emit(String(decoding: $0, as: UTF8.self)) }, letter: letter)
        }

        /// `scan` with each word as its UTF-8 bytes, valid only during the call. A word is gathered in scratch memory
        /// sized for the text (a lowercase mapping writes at most one and a half times the bytes it reads), so adding
        /// a letter is a store and a count: this runs on the opening of every incoming mail.
        mutating func scanBytes(
            _ bytes: UnsafeBufferPointer<UInt8>, word emit: (UnsafeBufferPointer<UInt8>) -> Void,
            letter: (Unicode.Scalar) -> Void
        ) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3 * bytes.count + 4) { scratch in
                var word = Word(bytes: scratch.baseAddress!, capacity: scratch.count)
                var index = 0
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte < 0x80 {
                        index += 1
                        ascii(byte, &word, emit)
                        continue
                    }
                    // A multi-byte scalar (the prefix was cut on a scalar boundary; broken UTF-8 counts as a
                    // separator).
                    let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                    var value = UInt32(byte) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
                    var valid = length > 1 && index + length <= bytes.count
                    if valid {
                        for offset in 1..<length {
                            let next = bytes[index + offset]
                            valid = valid && next & 0xC0 == 0x80
                            value = value << 6 | UInt32(next & 0x3F)
                        }
                    }
                    index += valid ? length : 1
                    guard valid, let scalar = Unicode.Scalar(value) else {
                        word.flush(emit)
                        continue
                    }
                    other(scalar, &word, emit, letter)
                }
                word.flush(emit)
            }
        }

        /// The word being gathered: its bytes so far in the scanner's scratch memory.
        private struct Word {
            let bytes: UnsafeMutablePointer<UInt8>
            let capacity: Int
            var count = 0

            var isEmpty: Bool { count == 0 }

            /// Never past the scratch memory: a word that would not fit (which the sizing rules out) ends there.
            mutating func append(_ byte: UInt8) {
                guard count < capacity else { return }
                bytes[count] = byte
                count += 1
            }

            mutating func flush(_ emit: (UnsafeBufferPointer<UInt8>) -> Void) {
                guard count > 0 else { return }
                emit(UnsafeBufferPointer(start: bytes, count: count))
                count = 0
            }
        }

        private mutating func ascii(_ byte: UInt8, _ word: inout Word, _ emit: (UnsafeBufferPointer<UInt8>) -> Void) {
            if byte == 0x0A || byte == 0x0D {
                word.flush(emit)
                lineStart = true
                quoted = false
                return
            }
            if lineStart {
                if byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C { return }
                lineStart = false
                quoted = byte == UInt8(ascii: ">")
            }
            guard !quoted else { return }
            let lower = byte | 0x20
            if lower >= 0x61 && lower <= 0x7A {
                word.append(lower)
            } else if byte == 0x27 {
                if !word.isEmpty { word.append(0x27) }
            } else {
                word.flush(emit)
            }
        }

        private mutating func other(
            _ scalar: Unicode.Scalar, _ word: inout Word, _ emit: (UnsafeBufferPointer<UInt8>) -> Void,
            _ letter: (Unicode.Scalar) -> Void
        ) {
            let value = scalar.value
            // Latin-1 letters (umlauts, accents: most of the other scalars in European mail) without the Unicode
            // property tables: À–Þ lower to à–þ, the rest (ß–ÿ) are lowercase; × and ÷ are no letters.
            if value >= 0xC0 && value <= 0xFF && value != 0xD7 && value != 0xF7 {
                lineStart = false
                guard !quoted else { return }
                letter(scalar)
                let lower = value <= 0xDE ? value + 0x20 : value
                word.append(UInt8(0xC0 | lower >> 6))
                word.append(UInt8(0x80 | lower & 0x3F))
                return
            }
            if lineStart {
                if scalar.properties.isWhitespace { return }
                lineStart = false
            }
            guard !quoted else { return }
            if value >= 0xC0 { letter(scalar) }
            if scalar.properties.isAlphabetic || scalar.properties.generalCategory == .nonspacingMark {
                for byte in scalar.properties.lowercaseMapping.utf8 { word.append(byte) }
            } else if scalar.value == 0x2019 {
                if !word.isEmpty { word.append(0x27) }
            } else {
                word.flush(emit)
            }
        }
    }

    // MARK: internals

    /// The languages `detect` can tell (those with stop words), sorted.
    static let detectable: [String] = stopWords.keys.sorted()
    static let germanLetters: Set<Unicode.Scalar> = ["ä", "ö", "ü", "ß", "Ä", "Ö", "Ü"]
    static let frenchLetters: Set<Unicode.Scalar> = ["é", "è", "ê", "à", "ç", "ù", "œ", "É", "È"]
    /// `germanLetters` (bit 0) and `frenchLetters` (bit 1) for the Latin-1 scalars, looked up without hashing.
    static let latin1LetterMarks: [UInt8] = (0..<256).map { otherLetterMarks(Unicode.Scalar(UInt8($0))) }

    static func otherLetterMarks(_ scalar: Unicode.Scalar) -> UInt8 {
        (germanLetters.contains(scalar) ? 1 : 0) | (frenchLetters.contains(scalar) ? 2 : 0)
    }
    static let englishElisions: Set<Substring> = ["t", "s", "m", "re", "ve", "ll", "d"]
    static let frenchElisions: Set<Substring> = ["j", "l", "d", "c", "n", "qu", "s", "m", "t"]

    static func normalize(_ tag: String) -> String {
        tag.languageTrimmed().lowercased().replacingOccurrences(of: "_", with: "-")
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

    /// `hints` for a word's UTF-8 bytes: a word of up to eight letters is looked up as one integer, without making a
    /// string; longer words and elisions take the string path.
    static func hints(bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        if bytes.count <= 8, !bytes.contains(UInt8(ascii: "'")) {
            return shortStopWords[pack(bytes)] ?? []
        }
        guard bytes.count <= longestStopWord || bytes.contains(UInt8(ascii: "'")) else { return [] }
        return hints(String(decoding: bytes, as: UTF8.self))
    }

    /// Up to eight bytes as one integer (letters are never 0, so lengths cannot collide).
    static func pack<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static let german = detectable.firstIndex(of: "de")!
    static let french = detectable.firstIndex(of: "fr")!

    /// `shortStopWords` as bit sets over `detectable` (bit i: `detectable[i]`), for `detect`'s scoring loop.
    static let shortStopWordBits: [UInt64: UInt8] = shortStopWords.mapValues { languages in
        languages.reduce(0) { $0 | 1 << detectable.firstIndex(of: $1)! }
    }

    static let shortStopWordTable = StopWordTable(shortStopWordBits)

    /// `shortStopWordBits` in an open-addressing table with a multiplicative hash: a word costs a multiply and a
    /// probe or two instead of a seeded SipHash, for the hundred-odd words of every incoming mail's opening.
    struct StopWordTable: Sendable {
        private var keys: [UInt64]
        private var values: [UInt8]
        private let shift: UInt64

        init(_ entries: [UInt64: UInt8]) {
            var size = 16
            while size < 4 * entries.count { size *= 2 }
            keys = Array(repeating: 0, count: size)
            values = Array(repeating: 0, count: size)
            shift = UInt64(64 - size.trailingZeroBitCount)
            for (key, value) in entries {
                var slot = slot(key)
                while keys[slot] != 0 { slot = (slot + 1) & (size - 1) }
                keys[slot] = key
                values[slot] = value
            }
        }

        private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

        /// The languages of a packed word (keys are never 0: letters are not), none when it is no stop word.
        func bits(_ key: UInt64) -> UInt8 {
            var slot = slot(key)
            while true {
                let stored = keys[slot]
                if stored == key { return values[slot] }
                if stored == 0 { return 0 }
                slot = (slot + 1) & (keys.count - 1)
            }
        }
    }

    /// `stopWordLanguages` for the words of up to eight bytes, keyed by `pack`.
    static let shortStopWords: [UInt64: [String]] = Dictionary(
        uniqueKeysWithValues: stopWordLanguages.filter { $0.key.utf8.count <= 8 }.map { (pack($0.key.utf8), $0.value) })

    static let longestStopWord = stopWordLanguages.keys.map(\.utf8.count).max() ?? 0

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
