/// A parsed Content-Type (or Content-Disposition) value with its parameters; parameters follow RFC 2045 and
/// RFC 2231 (continuations, charsets), and tolerate unquoted spaces and missing semicolons seen in the wild.
public struct ContentType: Sendable, Hashable {
    /// Lowercased media type (`text`), or the disposition type for Content-Disposition.
    public var type: String
    /// Lowercased subtype (`plain`); empty for Content-Disposition.
    public var subtype: String
    /// Parameters with lowercased names, values decoded (RFC 2231 and, leniently, RFC 2047).
    public var parameters: [String: String]

    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// `type/subtype`.
    public var mimeType: String { subtype.isEmpty ? type : type + "/" + subtype }

    /// Parses a Content-Type value; nil when there is no usable `type/subtype`.
    public static func parse(_ value: String) -> ContentType? {
        var diagnostics: [String] = []
        return parse(value, diagnostics: &diagnostics)
    }

    static func parse(_ value: String, diagnostics: inout [String]) -> ContentType? {
        let u = Array(value.utf8)
        var i = 0
        skipCFWS(u, &i)
        let typeStart = i
        while i < u.count, isTokenChar(u[i]), u[i] != UInt8(ascii: "/") { i += 1 }
        let type = String(decoding: u[typeStart..<i], as: UTF8.self).asciiLowercased()
        skipCFWS(u, &i)
        var subtype = ""
        if i < u.count, u[i] == UInt8(ascii: "/") {
            i += 1
            skipCFWS(u, &i)
            let subStart = i
            while i < u.count, isTokenChar(u[i]) { i += 1 }
            subtype = String(decoding: u[subStart..<i], as: UTF8.self).asciiLowercased()
        }
        let parameters = parseParameters(u, from: i, diagnostics: &diagnostics)
        if type.isEmpty || subtype.isEmpty {
            // "text" alone or garbage: callers fall back to a default type but may still use the parameters
            if type == "text" { return ContentType(type: "text", subtype: "plain", parameters: parameters) }
            return nil
        }
        return ContentType(type: type, subtype: subtype, parameters: parameters)
    }

    /// Parses a Content-Disposition value: `type` holds the disposition (`attachment`, `inline`).
    static func parseDisposition(_ value: String, diagnostics: inout [String]) -> ContentType {
        let u = Array(value.utf8)
        var i = 0
        skipCFWS(u, &i)
        let start = i
        while i < u.count, isTokenChar(u[i]) { i += 1 }
        let type = String(decoding: u[start..<i], as: UTF8.self).asciiLowercased()
        return ContentType(type: type, subtype: "", parameters: parseParameters(u, from: i, diagnostics: &diagnostics))
    }

    static func isTokenChar(_ b: UInt8) -> Bool {
        if b <= 0x20 || b == 0x7F { return false }
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="):
            return false
        default:
            return true
        }
    }

    static func skipCFWS(_ u: [UInt8], _ i: inout Int) {
        while i < u.count {
            if u[i].isBlankOrEOL {
                i += 1
            } else if u[i] == UInt8(ascii: "(") {
                var depth = 0
                while i < u.count {
                    if u[i] == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if u[i] == UInt8(ascii: "(") { depth += 1 }
                    if u[i] == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 {
                            i += 1
                            break
                        }
                    }
                    i += 1
                }
            } else {
                return
            }
        }
    }

    /// Parses `; name=value` pairs from `start`, joining RFC 2231 continuations and decoding charsets.
    static func parseParameters(_ u: [UInt8], from start: Int, diagnostics: inout [String]) -> [String: String] {
        var simple: [String: String] = [:]
        // name -> [(index, value bytes, isExtended)]
        var extended: [String: [(Int, [UInt8], Bool)]] = [:]
        var i = start
        while i < u.count {
            while i < u.count, u[i] == UInt8(ascii: ";") || u[i].isBlankOrEOL { i += 1 }
            skipCFWS(u, &i)
            guard i < u.count else { break }
            let nameStart = i
            while i < u.count, u[i] != UInt8(ascii: "="), u[i] != UInt8(ascii: ";"), !u[i].isBlankOrEOL { i += 1 }
            let rawName = String(decoding: u[nameStart..<i], as: UTF8.self).asciiLowercased()
            skipCFWS(u, &i)
            guard i < u.count, u[i] == UInt8(ascii: "=") else {
                // a bare word without value: skip it
                if i < u.count, u[i] != UInt8(ascii: ";") { i += 1 }
                continue
            }
            i += 1
            skipCFWS(u, &i)
            var value: [UInt8] = []
            if i < u.count, u[i] == UInt8(ascii: "\"") {
                i += 1
                while i < u.count, u[i] != UInt8(ascii: "\"") {
                    if u[i] == UInt8(ascii: "\\"), i + 1 < u.count {
                        // Windows paths in filenames are sent unescaped; keep the backslash unless it escapes a quote
                        // or another backslash.
                        let next = u[i + 1]
                        if next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") {
                            value.append(next)
                            i += 2
                            continue
                        }
                    }
                    value.append(u[i])
                    i += 1
                }
                if i < u.count { i += 1 }
                // skip anything up to the next separator
                while i < u.count, u[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                let vStart = i
                var vEnd = -1
                while i < u.count, u[i] != UInt8(ascii: ";") {
                    if u[i] == UInt8(ascii: "(") {
                        // trailing comment: `charset=us-ascii (Plain text)`
                        vEnd = i
                        while i < u.count, u[i] != UInt8(ascii: ";") { i += 1 }
                        break
                    }
                    if u[i].isBlankOrEOL, startsParameter(u, after: i) {
                        // missing semicolon: `charset=utf-8 format=flowed`
                        vEnd = i
                        break
                    }
                    i += 1
                }
                if vEnd < 0 { vEnd = i }
                while vEnd > vStart, u[vEnd - 1].isBlankOrEOL { vEnd -= 1 }
                value = Array(u[vStart..<vEnd])
            }
            guard !rawName.isEmpty else { continue }
            if let star = rawName.firstIndex(of: "*") {
                let base = String(rawName[..<star])
                let rest = rawName[rawName.index(after: star)...]
                let isExtended = rest.hasSuffix("*") || rest.isEmpty
                let indexText = rest.hasSuffix("*") ? rest.dropLast() : rest
                let index = indexText.isEmpty ? 0 : Int(indexText) ?? 0
                extended[base, default: []].append((index, value, isExtended))
            } else if simple[rawName] == nil {
                simple[rawName] = String(decoding: value, as: UTF8.self)
            }
        }
        for (name, segments) in extended {
            let sorted = segments.sorted { $0.0 < $1.0 }
            var charset: String?
            var bytes: [UInt8] = []
            for (n, seg) in sorted.enumerated() {
                var data = seg.1[...]
                if seg.2 {
                    if n == 0, let q1 = data.firstIndex(of: UInt8(ascii: "'")),
                        let q2 = data[(q1 + 1)...].firstIndex(of: UInt8(ascii: "'"))
                    {
                        let cs = String(decoding: data[data.startIndex..<q1], as: UTF8.self)
                        if !cs.isEmpty { charset = cs }
                        data = data[(q2 + 1)...]
                    }
                    bytes.append(contentsOf: percentDecode(data))
                } else {
                    bytes.append(contentsOf: data)
                }
            }
            simple[name] = Charset.decode(bytes[...], charset: charset ?? "utf-8", diagnostics: &diagnostics)
        }
        return simple
    }

    /// Whether the blanks at `i` are followed by `token=`.
    private static func startsParameter(_ u: [UInt8], after start: Int) -> Bool {
        var i = start
        while i < u.count, u[i].isBlankOrEOL { i += 1 }
        let tokenStart = i
        while i < u.count, isTokenChar(u[i]) || u[i] == UInt8(ascii: "*") { i += 1 }
        return i > tokenStart && i < u.count && u[i] == UInt8(ascii: "=")
    }

    static func percentDecode(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == UInt8(ascii: "%"), i + 2 < s.endIndex,
                let h = QuotedPrintable.hexValue(s[i + 1]), let l = QuotedPrintable.hexValue(s[i + 2])
            {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
