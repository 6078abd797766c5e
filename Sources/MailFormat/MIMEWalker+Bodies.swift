import Glibc

/// Body selection: which decoded leaves become `text`/`html` and which become attachments.
extension MIMEWalker {
    private func isAttachmentLike(_ leaf: Leaf) -> Bool {
        leaf.part.disposition == "attachment" || leaf.part.filename != nil
    }

    /// Decodes a text leaf to a String with `\n` line ends.
    mutating func decodeText(_ leaf: Leaf) -> String {
        var out = Self.decodeText(leaf.data, charset: leaf.part.charset, diagnostics: &diagnostics)
        if leaf.part.contentType == "text/plain", leaf.parameters["format"]?.asciiLowercased() == "flowed" {
            out = Self.unflow(out, delsp: leaf.parameters["delsp"]?.asciiLowercased() == "yes")
        }
        return out
    }

    /// Charset-decodes `data` and normalises line ends to `\n`.
    static func decodeText(_ data: [UInt8], charset: String?, diagnostics: inout [String]) -> String {
        if charset.map({ Charset.kind(of: $0).isASCIICompatible }) ?? true {
            let bytes = normalizeLineEnds(data)
            return Charset.decode(bytes[...], charset: charset, diagnostics: &diagnostics)
        }
        let text = Charset.decode(data[...], charset: charset, diagnostics: &diagnostics)
        return normalizeLineEnds(text)
    }

    /// CRLF and bare CR to LF, on bytes of an ASCII-compatible charset.
    static func normalizeLineEnds(_ u: [UInt8]) -> [UInt8] {
        u.withUnsafeBufferPointer { p -> [UInt8] in
            guard let base = p.baseAddress, var cr = memchr(base, 13, p.count) else { return u }
            // copy the runs between CRs in bulk; each CR (or CRLF) becomes one LF
            return [UInt8](unsafeUninitializedCapacity: p.count) { dst, count in
                var o = 0
                var i = 0
                while true {
                    let at = UnsafeRawPointer(cr).assumingMemoryBound(to: UInt8.self) - base
                    let run = at - i
                    if run > 0 {
                        (dst.baseAddress! + o).update(from: base + i, count: run)
                        o += run
                    }
                    dst[o] = 10
                    o += 1
                    i = at + 1
                    if i < p.count && p[i] == 10 { i += 1 }
                    guard i < p.count, let next = memchr(base + i, 13, p.count - i) else { break }
                    cr = next
                }
                let rest = p.count - i
                if rest > 0 {
                    (dst.baseAddress! + o).update(from: base + i, count: rest)
                    o += rest
                }
                count = o
            }
        }
    }

    static func normalizeLineEnds(_ s: String) -> String {
        var hasCR = false
        for b in s.utf8 where b == 13 {
            hasCR = true
            break
        }
        if !hasCR { return s }
        var out: [UInt8] = []
        let u = Array(s.utf8)
        out.reserveCapacity(u.count)
        var i = 0
        while i < u.count {
            if u[i] == 13 {
                out.append(10)
                if i + 1 < u.count && u[i + 1] == 10 { i += 1 }
            } else {
                out.append(u[i])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3676 format=flowed: joins soft-broken lines (ending in a space), keeps quote depth and the signature line.
    static func unflow(_ s: String, delsp: Bool) -> String {
        var result: [String] = []
        var current: String?
        var currentDepth = 0
        for rawLine in s.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            var depth = 0
            while line.hasPrefix(">") {
                depth += 1
                line = line.dropFirst()
            }
            if line.hasPrefix(" ") { line = line.dropFirst() }  // space-stuffing
            let isSignature = line == "-- "
            let soft = !isSignature && line.hasSuffix(" ")
            var content = String(line)
            if soft && delsp { content.removeLast() }
            if var c = current, depth == currentDepth {
                c += content
                current = c
            } else {
                if let c = current {
                    result.append(String(repeating: ">", count: currentDepth) + (currentDepth > 0 ? " " : "") + c)
                }
                current = content
                currentDepth = depth
            }
            if !soft {
                result.append(String(repeating: ">", count: depth) + (depth > 0 ? " " : "") + (current ?? ""))
                current = nil
            }
        }
        if let c = current {
            result.append(String(repeating: ">", count: currentDepth) + (currentDepth > 0 ? " " : "") + c)
        }
        return result.joined(separator: "\n")
    }

    mutating func selectBodies(into message: inout MailMessage) {
        var textIndex: Int?
        var htmlIndex: Int?
        for (i, leaf) in leaves.enumerated() where !leaf.insideMessage && !isAttachmentLike(leaf) {
            if textIndex == nil, leaf.part.contentType == "text/plain" { textIndex = i }
            if htmlIndex == nil, leaf.part.contentType == "text/html" { htmlIndex = i }
        }
        var text = ""
        if let textIndex { text = decodeText(leaves[textIndex]) }
        if let htmlIndex { message.html = decodeText(leaves[htmlIndex]) }
        let chosenGroups = Set([textIndex, htmlIndex].compactMap { $0 }.compactMap { leaves[$0].alternative?.group })
        var extraTexts: [String] = []
        var tnefBodies: [String] = []
        var tnefHTML: String?
        for (i, leaf) in leaves.enumerated() where !leaf.insideMessage {
            if i == textIndex || i == htmlIndex { continue }
            let type = leaf.part.contentType
            if !isAttachmentLike(leaf) && (type == "text/plain" || type == "text/html") {
                // an alternative rendition of a chosen body, or a further inline text (e.g. a list footer)
                if let g = leaf.alternative?.group, chosenGroups.contains(g) { continue }
                if type == "text/plain" && textIndex != nil { extraTexts.append(decodeText(leaf)) }
                continue
            }
            if leaf.part.disposition == nil && leaf.part.filename == nil && leaf.part.contentType.hasPrefix("text/")
                && leaf.alternative.map({ chosenGroups.contains($0.group) }) == true
            {
                continue  // text/enriched etc. as an alternative of the chosen body
            }
            if leaf.dataComplete, Self.isTNEF(leaf), let content = TNEF.decode(leaf.data) {
                // winmail.dat: its files become the attachments, its body fills in for a missing one
                message.attachments.append(contentsOf: content.attachments)
                let body = content.bodyText
                if !body.isEmpty { tnefBodies.append(body) }
                if tnefHTML == nil { tnefHTML = content.html ?? content.rtf.flatMap(TNEF.rtfEncapsulatedHTML) }
                diagnostics.append(
                    "TNEF \(leaf.part.filename ?? "winmail.dat") unpacked: \(content.attachments.count) attachment(s)")
                continue
            }
            message.attachments.append(attachment(for: leaf))
        }
        if !extraTexts.isEmpty {
            text = ([text] + extraTexts).joined(separator: "\n\n")
        }
        if textIndex == nil, let html = message.html {
            let limited =
                html.utf8.count > options.maxHTMLBytesForText
                ? String(decoding: html.utf8.prefix(options.maxHTMLBytesForText), as: UTF8.self) : html
            text = HTMLText.convert(limited)
        }
        if text.utf8.allSatisfy(\.isBlankOrEOL), let body = tnefBodies.first {
            text = body
            if message.html == nil { message.html = tnefHTML }
        }
        message.text = text
    }

    private static func isTNEF(_ leaf: Leaf) -> Bool {
        let type = leaf.part.contentType
        if type == "application/ms-tnef" || type == "application/vnd.ms-tnef" { return true }
        if let name = leaf.part.filename, name.asciiLowercased() == "winmail.dat" { return TNEF.isTNEF(leaf.data) }
        return false
    }

    private func attachment(for leaf: Leaf) -> Attachment {
        var filename = leaf.part.filename
        if filename == nil, leaf.part.contentType == "message/rfc822" {
            let base = (leaf.messageSubject ?? "").trimmingBlanks()
            filename = (base.isEmpty ? "message" : String(base.prefix(100))) + ".eml"
        }
        let inline = leaf.part.disposition == "inline" || (leaf.part.disposition == nil && leaf.part.contentID != nil)
        var attachment = Attachment(
            filename: filename, contentType: leaf.part.contentType, size: leaf.part.size, inline: inline,
            contentID: leaf.part.contentID, data: leaf.data)
        if !leaf.dataComplete { attachment.sha256 = "" }
        return attachment
    }
}

extension MIMEPart {
    /// The body of a `text/*` leaf decoded from its charset to a String with `\n` line ends (format=flowed is not
    /// undone here); nil for other parts. Lets callers read every text part, not only the chosen body.
    public var decodedText: String? {
        guard contentType.hasPrefix("text/") else { return nil }
        var diagnostics: [String] = []
        return MIMEWalker.decodeText(body, charset: charset, diagnostics: &diagnostics)
    }
}
