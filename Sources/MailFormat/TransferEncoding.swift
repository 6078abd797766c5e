/// Content-Transfer-Encoding names and codecs; decoders are lenient because real mail carries broken base64,
/// stray `=` signs and misspelt encoding names, and losing a body to a strict decoder helps nobody.
enum TransferEncoding {
    /// Normalises a Content-Transfer-Encoding value including broken spellings (`7-bit`, `8bits`,
    /// `quoted printable`); returns the canonical name and whether the value was recognised.
    static func normalize(_ raw: String?) -> (name: String, known: Bool) {
        guard let raw else { return ("7bit", true) }
        var key: [UInt8] = []
        for b in raw.utf8 {
            if b == 0x28 || b == 0x3B { break }  // comment or parameter
            let l = b.asciiLower
            if (l >= 0x61 && l <= 0x7A) || (l >= 0x30 && l <= 0x39) { key.append(l) }
        }
        switch String(decoding: key, as: UTF8.self) {
        case "7bit", "7bits", "7", "", "ascii", "usascii": return ("7bit", true)
        case "8bit", "8bits", "8", "8bitmime": return ("8bit", true)
        case "binary": return ("binary", true)
        case "quotedprintable", "qp", "quotedprint", "quoted", "printable": return ("quoted-printable", true)
        case "base64", "b64", "base": return ("base64", true)
        case "xuuencode", "uuencode", "xuue", "uue", "xuuencoded": return ("x-uuencode", true)
        default: return ("7bit", false)
        }
    }

    /// Decodes a body in the normalised encoding.
    static func decode<C: RandomAccessCollection<UInt8>>(_ bytes: C, encoding: String) -> [UInt8] where C.Index == Int {
        switch encoding {
        case "base64": return Base64.decode(bytes)
        case "quoted-printable": return QuotedPrintable.decode(bytes, header: false)
        case "x-uuencode": return UUEncode.decode(bytes)
        default: return Array(bytes)
        }
    }
}

/// Base64 codec tolerant of line breaks, junk characters and missing padding.
enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        t[Int(UInt8(ascii: "-"))] = 62  // base64url
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func decode<C: RandomAccessCollection<UInt8>>(_ bytes: C) -> [UInt8] where C.Index == Int {
        if let out = bytes.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return out }
        return Array(bytes).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    /// Writes straight into the result's storage: no per-byte capacity checks.
    private static func decode(buffer src: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        table.withUnsafeBufferPointer { t in
            [UInt8](unsafeUninitializedCapacity: src.count * 3 / 4 + 3) { dst, count in
                var o = 0
                var acc: UInt32 = 0
                var n = 0
                var i = 0
                let count4 = src.count - 3
                while i < src.count {
                    // fast path: a whole quantum of valid characters at a quantum boundary
                    if n == 0 && i < count4 {
                        let a = t[Int(src[i])]
                        let b = t[Int(src[i + 1])]
                        let c = t[Int(src[i + 2])]
                        let d = t[Int(src[i + 3])]
                        if (a | b | c | d) < 64 {
                            let q = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                            dst[o] = UInt8(truncatingIfNeeded: q >> 16)
                            dst[o + 1] = UInt8(truncatingIfNeeded: q >> 8)
                            dst[o + 2] = UInt8(truncatingIfNeeded: q)
                            o += 3
                            i += 4
                            continue
                        }
                    }
                    let b = src[i]
                    i += 1
                    let v = t[Int(b)]
                    if v == 0xFF {
                        // Padding ends a quantum; some encoders concatenate padded chunks, so keep going after it.
                        if b == UInt8(ascii: "=") {
                            flushInto(&acc, &n, dst, &o)
                        }
                        continue
                    }
                    acc = (acc << 6) | UInt32(v)
                    n += 1
                    if n == 4 {
                        dst[o] = UInt8(truncatingIfNeeded: acc >> 16)
                        dst[o + 1] = UInt8(truncatingIfNeeded: acc >> 8)
                        dst[o + 2] = UInt8(truncatingIfNeeded: acc)
                        o += 3
                        acc = 0
                        n = 0
                    }
                }
                flushInto(&acc, &n, dst, &o)
                count = o
            }
        }
    }

    @inline(__always)
    private static func flushInto(
        _ acc: inout UInt32, _ n: inout Int, _ dst: UnsafeMutableBufferPointer<UInt8>, _ o: inout Int
    ) {
        switch n {
        case 2:
            dst[o] = UInt8(truncatingIfNeeded: acc >> 4)
            o += 1
        case 3:
            dst[o] = UInt8(truncatingIfNeeded: acc >> 10)
            dst[o + 1] = UInt8(truncatingIfNeeded: acc >> 2)
            o += 2
        default:
            break
        }
        acc = 0
        n = 0
    }

    /// Encodes with CRLF line breaks every `lineLength` characters (0 = no breaks).
    static func encode(_ bytes: [UInt8], lineLength: Int = 76) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4 / 3 + bytes.count / 38 + 8)
        var col = 0
        var i = 0
        func put(_ c: UInt8) {
            out.append(c)
            col += 1
        }
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let v = (b0 << 16) | (b1 << 8) | b2
            put(alphabet[Int((v >> 18) & 63)])
            put(alphabet[Int((v >> 12) & 63)])
            put(i + 1 < bytes.count ? alphabet[Int((v >> 6) & 63)] : UInt8(ascii: "="))
            put(i + 2 < bytes.count ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
            if lineLength > 0 && col >= lineLength && i < bytes.count {
                out.append(13)
                out.append(10)
                col = 0
            }
        }
        return out
    }
}

/// Quoted-printable (RFC 2045) and the Q variant of RFC 2047.
enum QuotedPrintable {
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// Decodes quoted-printable; with `header` true, `_` means space (RFC 2047 Q). Invalid escapes are kept.
    static func decode<C: RandomAccessCollection<UInt8>>(_ bytes: C, header: Bool) -> [UInt8] where C.Index == Int {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        let end = bytes.endIndex
        var pendingSpaceStart = -1  // out index where trailing blanks of the current line begin
        while i < end {
            let b = bytes[i]
            if b == UInt8(ascii: "=") {
                // soft line break: "=" then optional blanks then EOL (or end of input)
                var j = i + 1
                while j < end && bytes[j].isBlank { j += 1 }
                if j == end {
                    i = j
                    continue
                }
                if bytes[j].isEOL {
                    if bytes[j] == 13 && j + 1 < end && bytes[j + 1] == 10 { j += 1 }
                    i = j + 1
                    pendingSpaceStart = -1
                    continue
                }
                if i + 2 < end, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    pendingSpaceStart = -1
                    continue
                }
                out.append(b)
                i += 1
                pendingSpaceStart = -1
                continue
            }
            if header && b == UInt8(ascii: "_") {
                out.append(0x20)
                i += 1
                continue
            }
            if !header {
                if b.isBlank {
                    if pendingSpaceStart < 0 { pendingSpaceStart = out.count }
                    out.append(b)
                    i += 1
                    continue
                }
                if b == 13 || b == 10 {
                    // RFC 2045: trailing blanks on an encoded line are dropped.
                    if pendingSpaceStart >= 0 { out.removeSubrange(pendingSpaceStart..<out.count) }
                    pendingSpaceStart = -1
                    out.append(b)
                    i += 1
                    continue
                }
            }
            pendingSpaceStart = -1
            out.append(b)
            i += 1
        }
        return out
    }

    /// Encodes a body as quoted-printable with CRLF line ends and soft breaks keeping lines ≤ 76 characters.
    /// Input line ends (LF, CRLF, CR) become hard CRLF breaks.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var col = 0
        var i = 0
        func softBreak() {
            out.append(UInt8(ascii: "="))
            out.append(13)
            out.append(10)
            col = 0
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == 13 || b == 10 {
                if b == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
                out.append(13)
                out.append(10)
                col = 0
                i += 1
                continue
            }
            let nextIsEOL = i + 1 >= bytes.count || bytes[i + 1] == 13 || bytes[i + 1] == 10
            let literal =
                (b >= 33 && b <= 126 && b != UInt8(ascii: "="))
                || (b.isBlank && !nextIsEOL)
            // A "." or "From " at line start is harmless in QP but escaping "." avoids SMTP dot issues.
            let escapeDot = col == 0 && b == UInt8(ascii: ".")
            if literal && !escapeDot {
                if col + 1 > 75 { softBreak() }
                out.append(b)
                col += 1
            } else {
                if col + 3 > 75 { softBreak() }
                out.append(UInt8(ascii: "="))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
                col += 3
            }
            i += 1
        }
        return out
    }
}

/// uuencode bodies (`begin 644 name` … `end`), still sent by a few old tools as `x-uuencode`.
enum UUEncode {
    static func decode<C: RandomAccessCollection<UInt8>>(_ bytes: C) -> [UInt8] where C.Index == Int {
        var out: [UInt8] = []
        var started = false
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            var j = i
            while j < end && !bytes[j].isEOL { j += 1 }
            let line = bytes[i..<j]
            i = j
            while i < end && bytes[i].isEOL { i += 1 }
            if !started {
                if line.starts(with: Array("begin ".utf8)) { started = true }
                continue
            }
            if line.starts(with: Array("end".utf8)) { break }
            guard let first = line.first else { continue }
            let count = Int((first &- 32) & 63)
            if count == 0 { continue }
            var acc: [UInt8] = []
            acc.reserveCapacity(count + 3)
            var k = line.startIndex + 1
            func sixBits(_ idx: Int) -> UInt8 { idx < line.endIndex ? (line[idx] &- 32) & 63 : 0 }
            while k < line.endIndex && acc.count < count {
                let c0 = sixBits(k)
                let c1 = sixBits(k + 1)
                let c2 = sixBits(k + 2)
                let c3 = sixBits(k + 3)
                acc.append(c0 << 2 | c1 >> 4)
                acc.append((c1 << 4) | (c2 >> 2))
                acc.append((c2 << 6) | c3)
                k += 4
            }
            out.append(contentsOf: acc.prefix(count))
        }
        return out
    }
}
