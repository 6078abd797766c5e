import Foundation
import Testing

@testable import Gateway

/// The byte scanner behind `LanguageChooser.detect` must find exactly the words and letters of the straightforward
/// scalar reading it replaced (kept here as the reference), on real mail and on generated text.
@Suite struct LanguageScannerTests {
    /// Letters that score (German or French); other scalars a scanner reports do not change a guess.
    static func counts(_ scalar: Unicode.Scalar) -> Bool {
        LanguageChooser.germanLetters.contains(scalar) || LanguageChooser.frenchLetters.contains(scalar)
    }

    /// The previous tokenizer, per line over Unicode scalars: the reference.
    static func reference(_ text: String) -> [String] {
        var events: [String] = []
        let scalars = text.unicodeScalars
        var lineStart = scalars.startIndex
        while lineStart < scalars.endIndex {
            let lineEnd = scalars[lineStart...].firstIndex(where: { $0 == "\n" || $0 == "\r" }) ?? scalars.endIndex
            let line = scalars[lineStart..<lineEnd]
            lineStart = lineEnd < scalars.endIndex ? scalars.index(after: lineEnd) : lineEnd
            if line.first(where: { !$0.properties.isWhitespace }) == ">" { continue }
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
                    events.append("w:" + String(current))
                    current = String.UnicodeScalarView()
                }
            }
            if !current.isEmpty { events.append("w:" + String(current)) }
            for scalar in line where scalar.value >= 0xC0 && counts(scalar) { events.append("l:\(scalar)") }
        }
        return events.sorted()
    }

    static func scanned(_ text: String) -> [String] {
        var events: [String] = []
        var scanner = LanguageChooser.WordScanner()
        var text = text
        text.withUTF8 { bytes in
            scanner.scan(bytes) {
                events.append("w:" + $0)
            } letter: {
                if counts($0) { events.append("l:\($0)") }
            }
        }
        return events.sorted()
    }

    static var corpusTexts: [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/corpus").standardizedFileURL
        guard let files = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return files.compactMap { $0 as? String }.filter { $0.hasSuffix(".eml") || $0.hasSuffix(".txt") }.sorted()
            .compactMap { FileManager.default.contents(atPath: root.appendingPathComponent($0).path) }
            .map { String(decoding: $0.prefix(8_192), as: UTF8.self) }  // detection reads 600 bytes; 8 KB is plenty
    }

    @Test("real mail from the shared corpus: the same words and letters")
    func corpus() {
        let texts = Self.corpusTexts
        #expect(texts.count > 100)
        for text in texts {
            #expect(Self.scanned(text) == Self.reference(text), "\(text.prefix(80))")
        }
    }

    @Test("generated text with quotes, apostrophes, accents, combining marks and odd blanks: the same words")
    func generated() {
        let pieces = [
            "Der", "drucker", "GEHT", "nicht", "mehr", "l'imprimante", "don’t", "j'ai", "très", "tre\u{300}s", "ÄÖÜ",
            "ß", "œuvre", "É", "naïve", "café", "ＡＢＣ", "İstanbul", "ﬁle", " ", "  ", "\t", "\u{A0}", "\u{2003}",
            "\n", "\r\n", "\r", "> quoted", " >> deep", "'", "’", "-", ".", ",", "!", "42", "😀", "日本語", "\u{0}",
            "\u{1F}", "\u{85}", "\u{2028}", "×÷", "ÿÞþÀÝ", "Ärger", "\u{BF}", "\u{C0}\u{DE}\u{DF}\u{FF}",
        ]
        var generator = SplitMix64(seed: 20_261_129)  // seeded: a failure can be replayed
        for _ in 0..<2_000 {
            let count = Int(generator.next() % 40)
            let text = (0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
            #expect(Self.scanned(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }

    @Test("a word's hints from its bytes equal those from its string: every stop word, elisions, near misses")
    func byteHints() {
        var words = Array(LanguageChooser.stopWordLanguages.keys)
        words += ["l'imprimante", "j'ai", "don't", "i'm", "qu'il", "c'est", "it's", "'", "a'", "x'y", "printer"]
        words += words.map { $0 + "s" } + words.map { String($0.dropLast()) } + ["", "abcdefghi", "abcdefghijklm"]
        for word in words {
            let fromBytes = Array(word.utf8).withUnsafeBufferPointer { LanguageChooser.hints(bytes: $0) }
            #expect(fromBytes == LanguageChooser.hints(word), "\(word)")
        }
    }

    @Test("the scoring bits of every short stop word name exactly its languages, in the dictionary and the table")
    func scoringBits() {
        let detectable = LanguageChooser.detectable
        #expect(LanguageChooser.shortStopWordBits.count == LanguageChooser.shortStopWords.count)
        for (key, languages) in LanguageChooser.shortStopWords {
            let bits = LanguageChooser.shortStopWordBits[key] ?? 0
            let named = detectable.indices.filter { bits & (1 << $0) != 0 }.map { detectable[$0] }
            #expect(named == languages.sorted())
            #expect(LanguageChooser.shortStopWordTable.bits(key) == bits)
        }
        // Words that are no stop word, short or long, find nothing.
        for word in ["printer", "x", "thee", "dies", "qu", "zzzzzzzz", "ab", "été"] {
            #expect(LanguageChooser.shortStopWordTable.bits(LanguageChooser.pack(word.utf8)) == 0, "\(word)")
        }
        #expect(detectable[LanguageChooser.german] == "de" && detectable[LanguageChooser.french] == "fr")
    }
}
