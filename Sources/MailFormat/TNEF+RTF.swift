/// RTF to plain text for TNEF bodies: Outlook often sends only compressed RTF, sometimes with the real HTML
/// encapsulated in it (`\fromhtml1`, MS-OXRTFEX), so a ticket needs readable text out of either.
extension TNEF {
    private static let skippedDestinations: Set<String> = [
        "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "header", "footer", "headerl", "headerr",
        "footerl", "footerr", "footnote", "themedata", "colorschememapping", "latentstyles", "datastore",
        "xmlnstbl", "listtable", "listoverridetable", "rsidtbl", "generator", "mmathpr", "pgdsctbl", "fldinst",
        "filetbl", "revtbl", "userprops", "xmlopen", "objdata", "pntext", "pntxta", "pntxtb", "listtext",
    ]

    private struct GroupState {
        var skip = false
        var ucSkip = 1
        var htmlrtf = false
    }

    /// The plain text of an RTF document; HTML encapsulated in RTF (`\fromhtml1`) is recovered and converted.
    public static func rtfToText(_ rtf: [UInt8]) -> String {
        let (text, isHTML) = rtfContent(rtf)
        return isHTML ? HTMLText.convert(text) : text.trimmingBlanks()
    }

    /// The HTML encapsulated in an RTF body (`\fromhtml1`), or nil when the RTF is not encapsulated HTML.
    public static func rtfEncapsulatedHTML(_ rtf: [UInt8]) -> String? {
        let (text, isHTML) = rtfContent(rtf)
        return isHTML ? text : nil
    }

    private static func rtfContent(_ u: [UInt8]) -> (String, isHTML: Bool) {
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var pending8bit: [UInt8] = []
        var codepage = 1252
        var state = GroupState()
        var stack: [GroupState] = []
        var fromHTML = false
        var groupStart = false
        var star = false
        var skipChars = 0
        var i = 0
        let n = u.count

        func flush8bit() {
            guard !pending8bit.isEmpty else { return }
            var diagnostics: [String] = []
            let name = codepage == 65001 ? "utf-8" : "windows-\(codepage)"
            out.append(contentsOf: Charset.decode(pending8bit[...], charset: name, diagnostics: &diagnostics).utf8)
            pending8bit.removeAll(keepingCapacity: true)
        }
        var visible: Bool { !state.skip && !(fromHTML && state.htmlrtf) }
        func emit(_ b: UInt8) {
            if skipChars > 0 {
                skipChars -= 1
                return
            }
            guard visible else { return }
            flush8bit()
            out.append(b)
        }

        while i < n {
            let c = u[i]
            switch c {
            case UInt8(ascii: "{"):
                if stack.count < 512 { stack.append(state) }
                groupStart = true
                star = false
                i += 1
                continue
            case UInt8(ascii: "}"):
                flush8bit()
                if let last = stack.popLast() { state = last }
                groupStart = false
                star = false
                i += 1
                continue
            case 13, 10:
                i += 1
                continue
            case UInt8(ascii: "\\"):
                guard i + 1 < n else {
                    i += 1
                    continue
                }
                let d = u[i + 1]
                if d == UInt8(ascii: "'") {
                    i += 2
                    var value: UInt8 = 0
                    var digits = 0
                    while digits < 2, i < n, let h = TNEF.hexDigit(u[i]) {
                        value = value << 4 | h
                        digits += 1
                        i += 1
                    }
                    if skipChars > 0 {
                        skipChars -= 1
                    } else if visible {
                        if value < 0x80 {
                            flush8bit()
                            out.append(value)
                        } else {
                            pending8bit.append(value)
                        }
                    }
                    groupStart = false
                    continue
                }
                if d == UInt8(ascii: "*") {
                    star = true
                    i += 2
                    continue
                }
                if !TNEF.isLetter(d) {
                    i += 2
                    groupStart = false
                    switch d {
                    case UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"): emit(d)
                    case UInt8(ascii: "~"): emit(0x20)
                    case UInt8(ascii: "_"): emit(UInt8(ascii: "-"))
                    case 10, 13: if visible { emit(10) }
                    default: break
                    }
                    continue
                }
                // control word
                var j = i + 1
                while j < n, TNEF.isLetter(u[j]), j - i < 40 { j += 1 }
                let word = String(decoding: u[(i + 1)..<j], as: UTF8.self)
                var parameter: Int?
                var k = j
                var negative = false
                if k < n, u[k] == UInt8(ascii: "-") {
                    negative = true
                    k += 1
                }
                var value = 0
                var digits = 0
                while k < n, u[k] >= 48, u[k] <= 57, digits < 10 {
                    value = value * 10 + Int(u[k] - 48)
                    digits += 1
                    k += 1
                }
                if digits > 0 {
                    parameter = negative ? -value : value
                    j = k
                }
                if j < n, u[j] == 0x20 { j += 1 }
                i = j
                let atGroupStart = groupStart
                groupStart = false
                if atGroupStart && (star || skippedDestinations.contains(word)) {
                    if fromHTML && word == "htmltag" {
                        // encapsulated HTML markup: visible even inside \htmlrtf
                        state.htmlrtf = false
                    } else {
                        state.skip = true
                    }
                    star = false
                    continue
                }
                star = false
                switch word {
                case "fromhtml": fromHTML = true
                case "htmlrtf": state.htmlrtf = parameter != 0
                case "ansicpg": if let parameter, parameter > 0 { codepage = parameter }
                case "uc": state.ucSkip = max(0, parameter ?? 1)
                case "u":
                    if let parameter, visible, skipChars == 0 {
                        flush8bit()
                        let scalar = parameter < 0 ? parameter + 65536 : parameter
                        if let s = Unicode.Scalar(UInt32(truncatingIfNeeded: scalar)) {
                            out.append(contentsOf: String(Character(s)).utf8)
                        }
                    }
                    skipChars = state.ucSkip
                case "par", "line", "sect", "page", "row": if visible { emit(10) }
                case "tab", "cell": if visible { emit(9) }
                case "emdash": if visible { out.append(contentsOf: "—".utf8) }
                case "endash": if visible { out.append(contentsOf: "–".utf8) }
                case "bullet": if visible { out.append(contentsOf: "•".utf8) }
                case "lquote": if visible { out.append(contentsOf: "‘".utf8) }
                case "rquote": if visible { out.append(contentsOf: "’".utf8) }
                case "ldblquote": if visible { out.append(contentsOf: "“".utf8) }
                case "rdblquote": if visible { out.append(contentsOf: "”".utf8) }
                default: break
                }
                continue
            default:
                groupStart = false
                star = false
                emit(c)
                i += 1
            }
        }
        flush8bit()
        return (String(decoding: out, as: UTF8.self), fromHTML)
    }

    static func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: return b - 48
        case 65...70: return b - 55
        case 97...102: return b - 87
        default: return nil
        }
    }
}
