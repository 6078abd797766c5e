/// Charset names and the decoding of bytes in those charsets to Swift strings; mail declares charsets loosely
/// (aliases, lies, unknown names), so every path ends in a readable string plus a diagnostic, never a failure.
enum Charset {
    /// How a declared charset name is decoded.
    enum Kind: Equatable {
        /// UTF-8; invalid sequences fall back byte-wise to windows-1252.
        case utf8
        /// US-ASCII; 8-bit bytes are treated like `.utf8` (they are usually UTF-8 or Latin-1 in practice).
        case ascii
        /// ISO-8859-1 / windows-1252, decoded with the windows-1252 table (as HTML5 does).
        case windows1252
        /// Decoded through glibc iconv under this name.
        case iconv(String)
        /// A name that means "unknown"; decoded with the UTF-8/windows-1252 fallback.
        case unknown

        /// Whether pure 7-bit input decodes as ASCII (false for ISO-2022-*, UTF-7, HZ, UTF-16/32).
        var isASCIICompatible: Bool {
            guard case .iconv(let name) = self else { return true }
            return
                !(name.contains("2022") || name.hasPrefix("UTF-7") || name.hasPrefix("UTF-16")
                || name.hasPrefix("UTF-32") || name.hasPrefix("HZ") || name.hasPrefix("UCS"))
        }
    }

    /// Normalises a charset name: trims quotes and blanks, lowercases.
    static func normalizedName(_ raw: String) -> String {
        var s = raw.trimmingBlanks()
        if s.hasPrefix("\"") || s.hasPrefix("'") { s.removeFirst() }
        if s.hasSuffix("\"") || s.hasSuffix("'") { s.removeLast() }
        return s.trimmingBlanks().asciiLowercased()
    }

    static func kind(of raw: String) -> Kind {
        let name = normalizedName(raw)
        switch name {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8", "utf-8n": return .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "default", "646", "iso-646-us", "ascii-us":
            return .ascii
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819",
            "windows-1252", "cp1252", "x-cp1252", "iso_8859-1:1987", "8859-1", "iso-8859-1-i", "win-1252",
            "iso8859_1", "iso-latin-1", "we8iso8859p1":
            return .windows1252
        case "unknown-8bit", "x-unknown", "unknown", "x-user-defined", "8bit", "charset", "none", "", "binary",
            "x-binaryenc", "us-ascii?":
            return .unknown
        case "ks_c_5601-1987", "ks_c_5601", "ksc5601", "ks_c_5601-1989", "euc-kr", "korean", "x-windows-949",
            "windows-949", "cp949", "ksc_5601", "ks-c-5601-1987":
            return .iconv("CP949")
        case "gb2312", "gbk", "x-gbk", "cp936", "windows-936", "euc-cn", "chinese", "csgb2312", "gb_2312-80", "gb18030",
            "x-gb2312", "gb-2312", "x-euc-cn":
            return .iconv("GB18030")
        case "big5", "x-x-big5", "cn-big5", "big-5", "csbig5", "x-big5", "big5-hkscs", "cp950":
            return .iconv("BIG5-HKSCS")
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932", "ms932",
            "x-ms-cp932", "shift_jis-2004":
            return .iconv("CP932")
        case "euc-jp", "x-euc-jp", "eucjp", "x-euc", "cseucpkdfmtjapanese":
            return .iconv("EUC-JP-MS")
        case "iso-2022-jp", "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3", "cp50220", "cp50221",
            "cp50222":
            return .iconv("ISO-2022-JP-3")
        case "utf-7", "unicode-1-1-utf-7", "x-unicode20utf7", "utf7": return .iconv("UTF-7")
        case "utf-16", "utf16", "ucs-2", "unicode": return .iconv("UTF-16")
        case "utf-16le", "ucs-2le": return .iconv("UTF-16LE")
        case "utf-16be", "ucs-2be": return .iconv("UTF-16BE")
        case "utf-32", "ucs-4": return .iconv("UTF-32")
        case "x-mac-roman", "macintosh", "mac", "macroman", "x-mac": return .iconv("MACINTOSH")
        case "iso-8859-8-i", "iso-8859-8-e", "logical", "visual": return .iconv("ISO-8859-8")
        case "iso-8859-6-i", "iso-8859-6-e": return .iconv("ISO-8859-6")
        case "tis-620", "windows-874", "cp874", "x-windows-874": return .iconv("CP874")
        default:
            if name.hasPrefix("windows-") { return .iconv("CP" + name.dropFirst(8)) }
            if name.hasPrefix("x-mac-") { return .iconv("MAC" + name.dropFirst(6).uppercased()) }
            if name.hasPrefix("x-") { return .iconv(String(name.dropFirst(2)).uppercased()) }
            if name.hasPrefix("iso8859-") { return .iconv("ISO-8859-" + name.dropFirst(8)) }
            if name.hasPrefix("iso_8859-") { return .iconv("ISO-8859-" + name.dropFirst(9)) }
            return .iconv(name.uppercased())
        }
    }

    /// Decodes `bytes` declared as `charset` (nil = undeclared). Unknown or lying charsets fall back to UTF-8 if the
    /// bytes are valid UTF-8, else windows-1252, and say so in `diagnostics`.
    static func decode(_ bytes: ArraySlice<UInt8>, charset: String?, diagnostics: inout [String]) -> String {
        guard let charset else {
            return isASCII(bytes) ? String(decoding: bytes, as: UTF8.self) : decodeUTF8OrWindows1252(bytes)
        }
        let kind = kind(of: charset)
        if isASCII(bytes) && kind.isASCIICompatible { return String(decoding: bytes, as: UTF8.self) }
        switch kind {
        case .utf8, .ascii:
            return decodeUTF8OrWindows1252(bytes)
        case .windows1252:
            if let s = String(validating: bytes, as: UTF8.self) {
                diagnostics.append("charset \(charset) declared but content is UTF-8; decoded as UTF-8")
                return s
            }
            return decodeWindows1252(bytes)
        case .unknown:
            diagnostics.append("unknown charset \"\(charset)\"; decoded as UTF-8/windows-1252")
            return decodeUTF8OrWindows1252(bytes)
        case .iconv(let name):
            guard let (text, errors) = Iconv.decode(bytes, from: name) else {
                diagnostics.append("unsupported charset \"\(charset)\"; decoded as UTF-8/windows-1252")
                return decodeUTF8OrWindows1252(bytes)
            }
            if errors > 0 {
                if let s = String(validating: bytes, as: UTF8.self) {
                    diagnostics.append("charset \(charset) does not fit the content; decoded as UTF-8")
                    return s
                }
                diagnostics.append("\(errors) invalid byte sequence(s) for charset \(charset) replaced")
            }
            return text
        }
    }

    static func isASCII(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { isASCII($0) }
    }

    /// Eight bytes at a time.
    static func isASCII(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = p.baseAddress else { return true }
        let n = p.count
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i + 8 <= n {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < n {
            if p[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Decodes UTF-8; any byte that does not start a valid sequence is taken as windows-1252 instead.
    static func decodeUTF8OrWindows1252(_ bytes: ArraySlice<UInt8>) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return bytes.withUnsafeBufferPointer { src in
            String(unsafeUninitializedCapacity: src.count * 3) { dst in
                var o = 0
                var i = 0
                let n = src.count
                while i < n {
                    let b = src[i]
                    if b < 0x80 {
                        dst[o] = b
                        o += 1
                        i += 1
                        continue
                    }
                    let len = validSequenceLength(src, at: i)
                    if len > 0 {
                        for k in 0..<len { dst[o + k] = src[i + k] }
                        o += len
                        i += len
                    } else {
                        let scalar = windows1252Scalar(b)
                        if scalar < 0x800 {
                            dst[o] = UInt8(0xC0 | (scalar >> 6))
                            dst[o + 1] = UInt8(0x80 | (scalar & 0x3F))
                            o += 2
                        } else {
                            dst[o] = UInt8(0xE0 | (scalar >> 12))
                            dst[o + 1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                            dst[o + 2] = UInt8(0x80 | (scalar & 0x3F))
                            o += 3
                        }
                        i += 1
                    }
                }
                return o
            }
        }
    }

    /// Length of the valid UTF-8 multi-byte sequence starting at `i`, or 0.
    @inline(__always)
    static func validSequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b0 = bytes[i]
        let end = bytes.count
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < end && bytes[i + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return cont(1) ? 2 : 0
        case 0xE0...0xEF:
            guard cont(1), cont(2) else { return 0 }
            let b1 = bytes[i + 1]
            if b0 == 0xE0 && b1 < 0xA0 { return 0 }
            if b0 == 0xED && b1 >= 0xA0 { return 0 }
            return 3
        case 0xF0...0xF4:
            guard cont(1), cont(2), cont(3) else { return 0 }
            let b1 = bytes[i + 1]
            if b0 == 0xF0 && b1 < 0x90 { return 0 }
            if b0 == 0xF4 && b1 >= 0x90 { return 0 }
            return 4
        default:
            return 0
        }
    }

    static func decodeWindows1252(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        for b in bytes {
            if b < 0x80 { out.append(b) } else { appendUTF8(windows1252Scalar(b), to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let cp1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152,
        0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122,
        0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    static func windows1252Scalar(_ b: UInt8) -> UInt32 {
        if b >= 0x80 && b <= 0x9F { return cp1252High[Int(b - 0x80)] }
        return UInt32(b)
    }

    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
