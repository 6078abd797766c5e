import Glibc

/// Walks the MIME structure of a message within the limits of `ParseOptions`, decoding leaves and remembering
/// enough context (alternative groups, attached messages) to choose the body parts afterwards.
struct MIMEWalker {
    let options: ParseOptions
    var diagnostics: [String] = []
    var partCount = 0
    var decodedBytes = 0
    var leaves: [Leaf] = []
    var nextGroup = 0
    var partLimitReported = false
    var budgetReported = false

    init(options: ParseOptions) {
        self.options = options
    }

    struct Context {
        /// Id of the nearest enclosing multipart/alternative and which of its children we are in.
        var alternative: (group: Int, child: Int)?
        /// Inside an attached message: leaves are not the outer message's body or attachments.
        var insideMessage = false
    }

    struct Leaf {
        var part: MIMEPart
        var parameters: [String: String]
        var data: [UInt8]
        var dataComplete: Bool
        var alternative: (group: Int, child: Int)?
        var insideMessage: Bool
        /// Subject of an attached message (for its attachment filename).
        var messageSubject: String?
    }

    private func firstValue(_ fields: [HeaderField], _ name: String) -> String? {
        for f in fields where f.name.caseInsensitiveEquals(name) { return f.rawValue }
        return nil
    }

    mutating func entity(
        _ b: UnsafeBufferPointer<UInt8>, fields: [HeaderField], bodyStart: Int, bodyEnd: Int, depth: Int,
        defaultType: String, context: Context
    ) -> MIMEPart {
        partCount += 1
        var part = MIMEPart(headers: fields)
        var parameters: [String: String] = [:]
        var mimeType = defaultType
        if let raw = firstValue(fields, "content-type") {
            if let ct = ContentType.parse(raw, diagnostics: &diagnostics) {
                mimeType = ct.mimeType
                parameters = ct.parameters
            } else {
                diagnostics.append("unreadable Content-Type \"\(raw.prefix(60))\"; using \(defaultType)")
                parameters = ContentType.parseParameters(Array(raw.utf8), from: 0, diagnostics: &diagnostics)
            }
        }
        if let cs = parameters["charset"] {
            let n = Charset.normalizedName(cs)
            if !n.isEmpty { part.charset = n }
        }
        let cteRaw = firstValue(fields, "content-transfer-encoding")
        let cte = TransferEncoding.normalize(cteRaw)
        if !cte.known { diagnostics.append("unknown Content-Transfer-Encoding \"\(cteRaw ?? "")\"; treated as 8bit") }
        part.transferEncoding = cte.known ? cte.name : "8bit"
        var dispositionParameters: [String: String] = [:]
        if let raw = firstValue(fields, "content-disposition") {
            let d = ContentType.parseDisposition(raw, diagnostics: &diagnostics)
            if !d.type.isEmpty { part.disposition = d.type }
            dispositionParameters = d.parameters
        }
        if let name = dispositionParameters["filename"] ?? parameters["name"] ?? dispositionParameters["name"] {
            var decoded = EncodedWord.decode(name, diagnostics: &diagnostics).trimmingBlanks()
            // Some clients send the sender's local path ("C:\TEMP\x.png"); keep only the last component.
            if let cut = decoded.lastIndex(where: { $0 == "\\" || $0 == "/" }),
                decoded.index(after: cut) < decoded.endIndex
            {
                decoded = String(decoded[decoded.index(after: cut)...])
            }
            if !decoded.isEmpty { part.filename = decoded }
        }
        if let cid = firstValue(fields, "content-id") {
            part.contentID = MessageID.parse(cid)
        }
        part.contentType = mimeType

        if mimeType.hasPrefix("multipart/") {
            if depth >= options.maxDepth {
                diagnostics.append("multipart nested deeper than \(options.maxDepth) levels; kept unparsed")
                part.size = bodyEnd - bodyStart
                return part
            }
            var boundary = parameters["boundary"].map { Array($0.utf8) } ?? []
            if boundary.isEmpty, let guessed = Self.guessBoundary(b, bodyStart, bodyEnd) {
                diagnostics.append("multipart without boundary parameter; boundary guessed from the body")
                boundary = guessed
            }
            let split = boundary.isEmpty ? nil : Self.split(b, bodyStart, bodyEnd, boundary: boundary)
            if let split, split.parts.isEmpty, split.closed {
                diagnostics.append("multipart \(mimeType) has no parts")
                part.size = bodyEnd - bodyStart
                return part
            }
            if let split, !split.parts.isEmpty {
                if !split.closed { diagnostics.append("multipart \(mimeType) not closed by its final boundary") }
                part.size = bodyEnd - bodyStart
                let childDefault = mimeType == "multipart/digest" ? "message/rfc822" : "text/plain"
                var childContext = context
                if mimeType == "multipart/alternative" {
                    nextGroup += 1
                    childContext.alternative = (nextGroup, 0)
                }
                for (index, range) in split.parts.enumerated() {
                    if partCount >= options.maxParts {
                        if !partLimitReported {
                            diagnostics.append("more than \(options.maxParts) MIME parts; the rest ignored")
                            partLimitReported = true
                        }
                        break
                    }
                    if mimeType == "multipart/alternative" { childContext.alternative = (nextGroup, index) }
                    let block = MailParser.parseHeaderBlock(
                        b, start: range.0, end: range.1, topLevel: false, options: options,
                        diagnostics: &diagnostics)
                    let child = entity(
                        b, fields: block.fields, bodyStart: block.bodyStart, bodyEnd: range.1, depth: depth + 1,
                        defaultType: childDefault, context: childContext)
                    part.children.append(child)
                }
                return part
            }
            diagnostics.append("multipart \(mimeType) without usable boundary; body treated as text/plain")
            mimeType = "text/plain"
            part.contentType = mimeType
        }

        // Leaf or attached message: decode the transfer encoding within the budget.
        let rawCount = bodyEnd - bodyStart
        var data: [UInt8] = []
        var complete = true
        if decodedBytes + rawCount > options.maxDecodedBytes {
            complete = false
            if !budgetReported {
                diagnostics.append("decoded size limit of \(options.maxDecodedBytes) bytes reached; part data dropped")
                budgetReported = true
            }
            part.size = rawCount
        } else {
            data = TransferEncoding.decode(
                UnsafeBufferPointer(rebasing: b[bodyStart..<bodyEnd]), encoding: part.transferEncoding)
            decodedBytes += data.count
            part.size = data.count
            part.body = data
        }
        var subject: String?
        if mimeType == "message/rfc822" || mimeType == "message/global" {
            if depth >= options.maxDepth {
                diagnostics.append("attached message nested deeper than \(options.maxDepth) levels; kept unparsed")
            } else if complete {
                var inner = Context()
                inner.insideMessage = true
                let child: MIMEPart = data.withUnsafeBufferPointer { ib in
                    let block = MailParser.parseHeaderBlock(
                        ib, start: 0, end: ib.count, topLevel: true, options: options, diagnostics: &diagnostics)
                    if let s = block.fields.first(where: { $0.name.caseInsensitiveEquals("subject") }) {
                        subject = EncodedWord.decode(s.rawValue, diagnostics: &diagnostics).trimmingBlanks()
                    }
                    return entity(
                        ib, fields: block.fields, bodyStart: block.bodyStart, bodyEnd: ib.count, depth: depth + 1,
                        defaultType: "text/plain", context: inner)
                }
                part.children = [child]
            }
        }
        leaves.append(
            Leaf(
                part: part, parameters: parameters, data: data, dataComplete: complete,
                alternative: context.alternative, insideMessage: context.insideMessage, messageSubject: subject))
        return part
    }

    /// Splits a multipart body at `--boundary` lines. Returns the byte ranges of the parts (excluding the line break
    /// before each delimiter) and whether the closing delimiter was seen.
    static func split(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, boundary: [UInt8]) -> (
        parts: [(Int, Int)], closed: Bool
    ) {
        var parts: [(Int, Int)] = []
        var partStart = -1
        var p = start
        let blen = boundary.count
        guard let base = b.baseAddress else { return ([], false) }
        while p < end {
            // memchr finds the next "-"; a delimiter is "--boundary" at the start of a line
            guard let hit = memchr(base + p, Int32(UInt8(ascii: "-")), end - p) else { break }
            let q = UnsafeRawPointer(hit).assumingMemoryBound(to: UInt8.self) - base
            guard q + 2 + blen <= end, q == start || b[q - 1].isEOL, b[q + 1] == UInt8(ascii: "-"),
                matches(b, q + 2, boundary)
            else {
                p = q + 1
                continue
            }
            let after = q + 2 + blen
            let isClose = after + 1 < end && b[after] == UInt8(ascii: "-") && b[after + 1] == UInt8(ascii: "-")
            let next = after < end ? b[after] : 10
            guard isClose || next.isBlankOrEOL else {
                p = q + 1
                continue
            }
            var contentEnd = q
            if contentEnd > start, b[contentEnd - 1] == 10 { contentEnd -= 1 }
            if contentEnd > start, b[contentEnd - 1] == 13 { contentEnd -= 1 }
            if partStart >= 0 { parts.append((partStart, max(partStart, contentEnd))) }
            if isClose { return (parts, true) }
            let le = MailParser.lineEnd(b, after, end)
            let nextLine = MailParser.skipEOL(b, le, end)
            partStart = nextLine
            p = nextLine
        }
        if partStart >= 0 { parts.append((partStart, end)) }
        return (parts, false)
    }

    @inline(__always)
    static func matches(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ boundary: [UInt8]) -> Bool {
        var k = 0
        for c in boundary {
            if b[at + k] != c { return false }
            k += 1
        }
        return true
    }

    /// For a multipart without boundary parameter: the first `--token` line of the body.
    static func guessBoundary(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [UInt8]? {
        var p = start
        var lines = 0
        while p < end && lines < 200 {
            let le = MailParser.lineEnd(b, p, end)
            if le - p > 3, b[p] == UInt8(ascii: "-"), b[p + 1] == UInt8(ascii: "-") {
                var e = le
                while e > p + 2, b[e - 1].isBlank { e -= 1 }
                let token = Array(UnsafeBufferPointer(rebasing: b[(p + 2)..<e]))
                if !token.isEmpty && !token.contains(0x20) { return token }
            }
            if le >= end { break }
            p = MailParser.skipEOL(b, le, end)
            lines += 1
        }
        return nil
    }
}
