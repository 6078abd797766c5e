/// Byte-level header block parsing: works on the raw buffer (no whole-message String conversion) and accepts
/// LF, CRLF and bare-CR line ends, folding, obsolete `Name :` syntax, 8-bit headers and headerless input.
extension MailParser {
    struct HeaderBlock {
        var fields: [HeaderField]
        /// Index of the first body byte.
        var bodyStart: Int
    }

    /// Index just past the line end at `i` (CRLF, LF or CR), or `i` if there is none.
    @inline(__always)
    static func skipEOL(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        guard i < end else { return i }
        if b[i] == 13 { return (i + 1 < end && b[i + 1] == 10) ? i + 2 : i + 1 }
        if b[i] == 10 { return i + 1 }
        return i
    }

    @inline(__always)
    static func lineEnd(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var j = i
        while j < end {
            let c = b[j]
            if c == 10 || c == 13 { return j }
            j += 1
        }
        return end
    }

    /// The length of a valid field name at `start` (up to the colon, optional blanks before it), or nil.
    static func fieldNameEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ lineEnd: Int) -> (
        nameEnd: Int, colon: Int
    )? {
        var j = start
        while j < lineEnd {
            let c = b[j]
            if c == UInt8(ascii: ":") { break }
            if c <= 0x20 || c >= 0x7F { break }
            j += 1
        }
        let nameEnd = j
        guard nameEnd > start else { return nil }
        while j < lineEnd, b[j].isBlank { j += 1 }
        guard j < lineEnd, b[j] == UInt8(ascii: ":") else { return nil }
        return (nameEnd, j)
    }

    /// Whether the lines from `start` up to a blank line (within a few lines) all look like header fields, which
    /// makes a preceding non-header line a damaged header rather than the start of the body.
    static func junkLineIsFollowedByHeaders(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        var seenField = false
        for _ in 0..<8 {
            guard i < end else { return false }
            let le = lineEnd(b, i, end)
            if le == i { return seenField }
            if b[i].isBlank {
                // continuation
            } else if fieldNameEnd(b, i, le) != nil {
                seenField = true
            } else {
                return false
            }
            i = skipEOL(b, le, end)
        }
        return false
    }

    /// Parses the header block in `b[start..<end]`. `topLevel` enables the message-level tolerances (leading blank
    /// lines, an mbox `From ` line).
    static func parseHeaderBlock(
        _ b: UnsafeBufferPointer<UInt8>, start: Int, end: Int, topLevel: Bool, options: ParseOptions,
        diagnostics: inout [String]
    ) -> HeaderBlock {
        var i = start
        if topLevel {
            // Skip leading blank or whitespace-only lines if a header follows.
            var j = i
            while j < end {
                let le = lineEnd(b, j, end)
                var k = j
                while k < le, b[k].isBlank { k += 1 }
                if k < le { break }
                if le == end { break }
                j = skipEOL(b, le, end)
            }
            if j > i, j < end, fieldNameEnd(b, j, lineEnd(b, j, end)) != nil {
                diagnostics.append("blank lines before the first header skipped")
                i = j
            } else if j > i, j < end, b[j].isBlank {
                // leading whitespace before the first header: " Subject: x"
                var k = j
                while k < end, b[k].isBlank { k += 1 }
                if fieldNameEnd(b, k, lineEnd(b, k, end)) != nil {
                    diagnostics.append("whitespace before the first header skipped")
                    i = k
                }
            } else if j == i, j < end, b[j].isBlank {
                var k = j
                while k < end, b[k].isBlank { k += 1 }
                if fieldNameEnd(b, k, lineEnd(b, k, end)) != nil {
                    diagnostics.append("whitespace before the first header skipped")
                    i = k
                }
            }
            // mbox separator line
            if end - i > 5, b[i] == UInt8(ascii: "F"), b[i + 1] == UInt8(ascii: "r"), b[i + 2] == UInt8(ascii: "o"),
                b[i + 3] == UInt8(ascii: "m"), b[i + 4] == 0x20
            {
                diagnostics.append("mbox \"From \" line skipped")
                i = skipEOL(b, lineEnd(b, i, end), end)
            }
        }

        var fields: [HeaderField] = []
        var name: String?
        var value: [UInt8] = []
        value.reserveCapacity(256)
        let blockStart = i
        var truncated = false

        func flush() {
            guard let n = name else { return }
            var lo = 0
            var hi = value.count
            while lo < hi, value[lo].isBlank { lo += 1 }
            while hi > lo, value[hi - 1].isBlank { hi -= 1 }
            let slice = value[lo..<hi]
            let text =
                Charset.isASCII(slice) ? String(decoding: slice, as: UTF8.self) : Charset.decodeUTF8OrWindows1252(slice)
            if fields.count < options.maxHeaderFields {
                fields.append(HeaderField(name: n, rawValue: text))
            } else if !truncated {
                truncated = true
                diagnostics.append("more than \(options.maxHeaderFields) header fields; the rest ignored")
            }
            name = nil
            value.removeAll(keepingCapacity: true)
        }

        while i < end {
            let le = lineEnd(b, i, end)
            if le == i {
                flush()
                return HeaderBlock(fields: fields, bodyStart: skipEOL(b, le, end))
            }
            if i - blockStart > options.maxHeaderBytes {
                flush()
                diagnostics.append("header block larger than \(options.maxHeaderBytes) bytes; rest of it skipped")
                // skip to the blank line that ends the block
                var j = i
                while j < end {
                    let e = lineEnd(b, j, end)
                    if e == j { return HeaderBlock(fields: fields, bodyStart: skipEOL(b, e, end)) }
                    j = skipEOL(b, e, end)
                    if e == end { break }
                }
                return HeaderBlock(fields: fields, bodyStart: end)
            }
            let first = b[i]
            if first.isBlank {
                if name != nil {
                    value.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<le]))
                } else if !fields.isEmpty {
                    // whitespace line after a dropped field: ignore
                } else {
                    diagnostics.append("continuation line without a header field ignored")
                }
                i = skipEOL(b, le, end)
                continue
            }
            if let (nameEnd, colon) = fieldNameEnd(b, i, le) {
                flush()
                name = String(decoding: UnsafeBufferPointer(rebasing: b[i..<nameEnd]), as: UTF8.self)
                value.append(contentsOf: UnsafeBufferPointer(rebasing: b[(colon + 1)..<le]))
                i = skipEOL(b, le, end)
                continue
            }
            // Not a header line.
            flush()
            if fields.isEmpty {
                if topLevel { diagnostics.append("no header fields found; whole input treated as body") }
                return HeaderBlock(fields: [], bodyStart: i == blockStart ? start : i)
            }
            if junkLineIsFollowedByHeaders(b, skipEOL(b, le, end), end) {
                diagnostics.append("malformed header line skipped")
                i = skipEOL(b, le, end)
                continue
            }
            diagnostics.append("header block not ended by a blank line; body starts at first non-header line")
            return HeaderBlock(fields: fields, bodyStart: i)
        }
        flush()
        return HeaderBlock(fields: fields, bodyStart: end)
    }
}
