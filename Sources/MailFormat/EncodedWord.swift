/// RFC 2047 encoded words (`=?charset?B|Q?text?=`) in headers; decoding is forgiving (missing spaces, words split
/// inside multibyte characters, encoded words inside quotes) because that is what real clients send.
public enum EncodedWord {
    /// Decodes every encoded word in `s`; whitespace between adjacent encoded words is dropped.
    public static func decode(_ s: String) -> String {
        var diagnostics: [String] = []
        return decode(s, diagnostics: &diagnostics)
    }

    /// Encodes `s` as a sequence of UTF-8 encoded words (each ≤ 75 characters, separated by a space) when it needs
    /// encoding (non-ASCII, control characters, or text that looks like an encoded word); otherwise returns it unchanged.
    public static func encode(_ s: String) -> String {
        encodedWords(s).joined(separator: " ")
    }

    static func needsEncoding(_ s: String) -> Bool {
        var prev: UInt8 = 0
        for b in s.utf8 {
            if b >= 0x80 || (b < 0x20 && b != 0x09) || b == 0x7F { return true }
            if prev == UInt8(ascii: "=") && b == UInt8(ascii: "?") { return true }
            prev = b
        }
        return false
    }

    /// The encoded words for `s` (one element if no encoding is needed).
    static func encodedWords(_ s: String, maxWordLength: Int = 75, force: Bool = false) -> [String] {
        guard force || needsEncoding(s) else { return [s] }
        let bytes = Array(s.utf8)
        var safe = 0
        for b in bytes where isQSafe(b) { safe += 1 }
        let useQ = safe * 10 >= bytes.count * 8
        let prefix = useQ ? "=?UTF-8?Q?" : "=?UTF-8?B?"
        let budget = maxWordLength - prefix.utf8.count - 2
        var words: [String] = []
        var chunk: [UInt8] = []
        var chunkEncodedLength = 0
        func flush() {
            guard !chunk.isEmpty else { return }
            let body: String
            if useQ {
                body = String(decoding: qEncode(chunk), as: UTF8.self)
            } else {
                body = String(decoding: Base64.encode(chunk, lineLength: 0), as: UTF8.self)
            }
            words.append(prefix + body + "?=")
            chunk.removeAll(keepingCapacity: true)
            chunkEncodedLength = 0
        }
        for scalar in s.unicodeScalars {
            var utf8: [UInt8] = []
            Charset.appendUTF8(scalar.value, to: &utf8)
            let added: Int
            if useQ {
                added = utf8.reduce(0) { $0 + (isQSafe($1) ? 1 : 3) }
            } else {
                added = 0
            }
            let newLength = useQ ? chunkEncodedLength + added : ((chunk.count + utf8.count + 2) / 3) * 4
            if newLength > budget && !chunk.isEmpty { flush() }
            chunk.append(contentsOf: utf8)
            chunkEncodedLength += added
        }
        flush()
        return words
    }

    private static func isQSafe(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x20
            || b == UInt8(ascii: "!") || b == UInt8(ascii: "*") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
            || b == UInt8(ascii: "/")
    }

    private static func qEncode(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in bytes {
            if b == 0x20 {
                out.append(UInt8(ascii: "_"))
            } else if isQSafe(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "="))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        return out
    }

    /// Decodes encoded words, reporting unknown charsets and repairs in `diagnostics`.
    static func decode(_ s: String, diagnostics: inout [String]) -> String {
        let u = Array(s.utf8)
        guard hasEncodedWordStart(u) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var pendingCharset: String?
        var pending: [UInt8] = []
        var gap: [UInt8] = []
        var lastWasEncoded = false
        func flushPending() {
            guard let cs = pendingCharset else { return }
            let text = Charset.decode(pending[...], charset: cs, diagnostics: &diagnostics)
            out.append(contentsOf: text.utf8)
            pending.removeAll(keepingCapacity: true)
            pendingCharset = nil
        }
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "="), i + 1 < u.count, u[i + 1] == UInt8(ascii: "?"),
                let word = parseWord(u, at: i)
            {
                let charset = word.charset
                if lastWasEncoded {
                    gap.removeAll(keepingCapacity: true)
                }
                if let p = pendingCharset, p.caseInsensitiveEquals(charset) {
                    pending.append(contentsOf: word.bytes)
                } else {
                    flushPending()
                    if !gap.isEmpty {
                        out.append(contentsOf: gap)
                        gap.removeAll(keepingCapacity: true)
                    }
                    pendingCharset = charset
                    pending.append(contentsOf: word.bytes)
                }
                i = word.end
                lastWasEncoded = true
                continue
            }
            let b = u[i]
            if lastWasEncoded && (b.isBlankOrEOL) {
                gap.append(b == 0x0D || b == 0x0A ? 0x20 : b)
                i += 1
                continue
            }
            flushPending()
            if !gap.isEmpty {
                out.append(contentsOf: gap)
                gap.removeAll(keepingCapacity: true)
            }
            lastWasEncoded = false
            out.append(b)
            i += 1
        }
        flushPending()
        out.append(contentsOf: gap)
        return String(decoding: out, as: UTF8.self)
    }

    private static func hasEncodedWordStart(_ u: [UInt8]) -> Bool {
        var prev: UInt8 = 0
        for b in u {
            if prev == UInt8(ascii: "=") && b == UInt8(ascii: "?") { return true }
            prev = b
        }
        return false
    }

    private struct Word {
        var charset: String
        var bytes: [UInt8]
        var end: Int
    }

    /// Parses `=?charset[*lang]?enc?text?=` at `start`.
    private static func parseWord(_ u: [UInt8], at start: Int) -> Word? {
        var j = start + 2
        let csStart = j
        while j < u.count, u[j] != UInt8(ascii: "?") {
            let b = u[j]
            if b.isBlankOrEOL || j - csStart > 64 { return nil }
            j += 1
        }
        guard j + 2 < u.count, j > csStart else { return nil }
        var charsetBytes = u[csStart..<j]
        if let star = charsetBytes.firstIndex(of: UInt8(ascii: "*")) { charsetBytes = charsetBytes[..<star] }
        let enc = u[j + 1].asciiLower
        guard enc == UInt8(ascii: "b") || enc == UInt8(ascii: "q"), u[j + 2] == UInt8(ascii: "?") else { return nil }
        let textStart = j + 3
        var k = textStart
        while k + 1 < u.count {
            if u[k] == UInt8(ascii: "?") && u[k + 1] == UInt8(ascii: "=") { break }
            if u[k] == UInt8(ascii: "=") && u[k + 1] == UInt8(ascii: "?") && enc == UInt8(ascii: "q") {
                // another encoded word starts before this one ended
                return nil
            }
            k += 1
        }
        guard k + 1 < u.count else { return nil }
        let text = u[textStart..<k]
        let bytes: [UInt8]
        if enc == UInt8(ascii: "b") {
            bytes = Base64.decode(text)
        } else {
            bytes = QuotedPrintable.decode(text, header: true)
        }
        return Word(charset: String(decoding: charsetBytes, as: UTF8.self), bytes: bytes, end: k + 2)
    }
}
