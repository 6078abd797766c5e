/// Body selection: which decoded leaves become `text`/`html` and which become attachments.
extension MIMEWalker {
    private func isAttachmentLike(_ leaf: Leaf) -> Bool {
        leaf.part.disposition == "attachment" || leaf.part.filename != nil
    }

    /// Decodes a text leaf to a String with `\n` line ends.
    mutating func decodeText(_ leaf: Leaf) -> String {
        var out: String
        if leaf.part.charset.map({ Charset.kind(of: $0).isASCIICompatible }) ?? true {
            let bytes = Self.normalizeLineEnds(leaf.data)
            out = Charset.decode(bytes[...], charset: leaf.part.charset, diagnostics: &diagnostics)
        } else {
            let text = Charset.decode(leaf.data[...], charset: leaf.part.charset, diagnostics: &diagnostics)
            out = Self.normalizeLineEnds(text)
        }
        if leaf.part.contentType == "text/plain", leaf.parameters["format"]?.asciiLowercased() == "flowed" {
            out = Self.unflow(out, delsp: leaf.parameters["delsp"]?.asciiLowercased() == "yes")
        }
        return out
    }

    /// CRLF and bare CR to LF, on bytes of an ASCII-compatible charset.
    static func normalizeLineEnds(_ u: [UInt8]) -> [UInt8] {
        guard let firstCR = u.firstIndex(of: 13) else { return u }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        out.append(contentsOf: u[..<firstCR])
        var i = firstCR
        u.withUnsafeBufferPointer { p in
            while i < p.count {
                if p[i] == 13 {
                    out.append(10)
                    if i + 1 < p.count && p[i + 1] == 10 { i += 1 }
                } else {
                    out.append(p[i])
                }
                i += 1
            }
        }
        return out
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
        message.text = text
    }

    private func attachment(for leaf: Leaf) -> Attachment {
        var filename = leaf.part.filename
        if filename == nil, leaf.part.contentType == "message/rfc822" {
            let base = (leaf.messageSubject ?? "").trimmingBlanks()
            filename = (base.isEmpty ? "message" : String(base.prefix(100))) + ".eml"
        }
        let inline = leaf.part.disposition == "inline" || (leaf.part.disposition == nil && leaf.part.contentID != nil)
        return Attachment(
            filename: filename, contentType: leaf.part.contentType, size: leaf.part.size,
            sha256: leaf.dataComplete ? SHA256.hex(leaf.data) : "", inline: inline, contentID: leaf.part.contentID,
            data: leaf.data)
    }
}
