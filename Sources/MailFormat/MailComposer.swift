/// Builds RFC 5322/MIME messages from `OutgoingMail`: CRLF line ends, RFC 2047 words for non-ASCII headers, folded
/// lines well under 998 octets, quoted-printable or base64 chosen by content, deterministic boundaries.
public enum MailComposer {
    /// The complete message as bytes, ready for SMTP DATA (dot-stuffing is the transport's job).
    public static func compose(_ mail: OutgoingMail) -> [UInt8] {
        var headers: [String] = []
        headers.append(fold("Date", words: [MailDate.format(mail.date)]))
        headers.append(fold("From", words: addressWords([mail.from])))
        if !mail.to.isEmpty { headers.append(fold("To", words: addressWords(mail.to))) }
        if !mail.cc.isEmpty { headers.append(fold("Cc", words: addressWords(mail.cc))) }
        if !mail.replyTo.isEmpty { headers.append(fold("Reply-To", words: addressWords(mail.replyTo))) }
        headers.append(fold("Subject", words: unstructuredWords(singleLine(mail.subject))))
        headers.append(fold("Message-ID", words: ["<\(sanitizeID(mail.messageID))>"]))
        if let inReplyTo = mail.inReplyTo, !inReplyTo.isEmpty {
            headers.append(fold("In-Reply-To", words: ["<\(sanitizeID(inReplyTo))>"]))
        }
        let refs = mail.references.filter { !$0.isEmpty }
        if !refs.isEmpty { headers.append(fold("References", words: refs.map { "<\(sanitizeID($0))>" })) }
        headers.append("MIME-Version: 1.0")
        for field in mail.extraHeaders {
            guard let name = sanitizeName(field.name) else { continue }
            let value = singleLine(field.rawValue).trimmingBlanks()
            headers.append(fold(name, words: unstructuredWords(value)))
        }

        var seed = SHA256.hex(Array(mail.messageID.utf8))
        seed = String(seed.prefix(20))
        var entity = textEntity(mail.text, subtype: "plain")
        if let html = mail.html {
            entity = Entity(
                multipart: "alternative", children: [entity, textEntity(html, subtype: "html")],
                boundary: "=_tg_alt_\(seed)")
        }
        if !mail.attachments.isEmpty {
            entity = Entity(
                multipart: "mixed", children: [entity] + mail.attachments.map(attachmentEntity),
                boundary: "=_tg_mix_\(seed)")
        }
        entity.ensureUniqueBoundaries()

        var out: [UInt8] = []
        out.reserveCapacity(entity.estimatedSize + 1024)
        for h in headers {
            out.append(contentsOf: h.utf8)
            out.append(contentsOf: crlf)
        }
        entity.write(to: &out)
        return out
    }

    static let crlf: [UInt8] = [13, 10]

    /// A MIME entity to be written: content headers plus either a body or children.
    struct Entity {
        var headers: [String]
        var body: [UInt8] = []
        var children: [Entity] = []
        var boundary: String?

        init(headers: [String], body: [UInt8]) {
            self.headers = headers
            self.body = body
        }

        init(multipart subtype: String, children: [Entity], boundary: String) {
            self.headers = []
            self.children = children
            self.boundary = boundary
            self.headers = [multipartHeader(subtype)]
        }

        private func multipartHeader(_ subtype: String) -> String {
            "Content-Type: multipart/\(subtype);\r\n boundary=\"\(boundary ?? "")\""
        }

        var estimatedSize: Int { body.count + children.reduce(0) { $0 + $1.estimatedSize } + 512 }

        func contains(_ needle: [UInt8]) -> Bool {
            if !body.isEmpty && MailComposer.search(body, needle) { return true }
            return children.contains { $0.contains(needle) }
        }

        /// Makes sure no boundary occurs inside the content (possible only for 7bit/8bit parts).
        mutating func ensureUniqueBoundaries() {
            for i in children.indices { children[i].ensureUniqueBoundaries() }
            guard var b = boundary else { return }
            var n = 0
            while children.contains(where: { $0.contains(Array(("--" + b).utf8)) }) {
                n += 1
                b = (boundary ?? "") + "_\(n)"
            }
            if b != boundary {
                let subtype = headers[0].split(separator: ";")[0]
                boundary = b
                headers[0] = "\(subtype);\r\n boundary=\"\(b)\""
            }
        }

        func write(to out: inout [UInt8]) {
            for h in headers {
                out.append(contentsOf: h.utf8)
                out.append(contentsOf: MailComposer.crlf)
            }
            out.append(contentsOf: MailComposer.crlf)
            if let boundary {
                for child in children {
                    out.append(contentsOf: Array("--\(boundary)".utf8))
                    out.append(contentsOf: MailComposer.crlf)
                    child.write(to: &out)
                    out.append(contentsOf: MailComposer.crlf)
                }
                out.append(contentsOf: Array("--\(boundary)--".utf8))
                out.append(contentsOf: MailComposer.crlf)
            } else {
                out.append(contentsOf: body)
            }
        }
    }

    static func search(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count, let first = needle.first else { return false }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// Normalises line ends to CRLF.
    static func crlfLines(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 40)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 13 || b == 10 {
                if b == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
                out.append(13)
                out.append(10)
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    /// Chooses 7bit, quoted-printable or base64 for text.
    static func textEntity(_ text: String, subtype: String) -> Entity {
        let raw = crlfLines(Array(text.utf8))
        var nonASCII = 0
        var longest = 0
        var col = 0
        var hasNUL = false
        for b in raw {
            if b >= 0x80 { nonASCII += 1 }
            if b == 0 { hasNUL = true }
            if b == 10 {
                longest = max(longest, col)
                col = 0
            } else {
                col += 1
            }
        }
        longest = max(longest, col)
        let ct = "Content-Type: text/\(subtype); charset=utf-8"
        if nonASCII == 0 && longest <= 997 && !hasNUL {
            var body = raw
            if !(body.suffix(2) == [13, 10]) && !body.isEmpty { body += crlf }
            return Entity(headers: [ct, "Content-Transfer-Encoding: 7bit"], body: body)
        }
        if nonASCII * 4 < raw.count {
            var body = QuotedPrintable.encode(raw)
            if !(body.suffix(2) == [13, 10]) && !body.isEmpty { body += crlf }
            return Entity(headers: [ct, "Content-Transfer-Encoding: quoted-printable"], body: body)
        }
        return Entity(
            headers: [ct, "Content-Transfer-Encoding: base64"], body: Base64.encode(raw) + crlf)
    }

    static func attachmentEntity(_ a: OutgoingAttachment) -> Entity {
        var type = a.contentType.trimmingBlanks().asciiLowercased()
        let pieces = type.split(separator: "/")
        if pieces.count != 2 || !type.utf8.allSatisfy({ ContentType.isTokenChar($0) || $0 == UInt8(ascii: "/") }) {
            type = "application/octet-stream"
        }
        let filename = a.filename.isEmpty ? "attachment" : a.filename
        let nameParam = parameterLines("name", filename, rfc2231: false)
        let fileParam = parameterLines("filename", filename, rfc2231: true)
        var headers = ["Content-Type: \(type);\r\n " + nameParam.joined(separator: ";\r\n ")]
        headers.append("Content-Disposition: attachment;\r\n " + fileParam.joined(separator: ";\r\n "))
        if type == "message/rfc822" && isSafeAsIs(a.data) {
            headers.append("Content-Transfer-Encoding: \(a.data.contains { $0 >= 0x80 } ? "8bit" : "7bit")")
            var body = crlfLines(a.data)
            if !(body.suffix(2) == [13, 10]) { body += crlf }
            return Entity(headers: headers, body: body)
        }
        if type == "message/rfc822" {
            headers[0] = "Content-Type: application/octet-stream;\r\n " + nameParam.joined(separator: ";\r\n ")
        }
        headers.append("Content-Transfer-Encoding: base64")
        return Entity(headers: headers, body: Base64.encode(a.data) + crlf)
    }

    private static func isSafeAsIs(_ data: [UInt8]) -> Bool {
        var col = 0
        for b in data {
            if b == 0 { return false }
            if b == 10 || b == 13 {
                col = 0
            } else {
                col += 1
                if col > 990 { return false }
            }
        }
        return true
    }

    /// `name="value"` for ASCII values; RFC 2231 (`name*0*=utf-8''…`) for non-ASCII or long values when allowed,
    /// else an RFC 2047-encoded quoted value (what older clients read for `name`).
    static func parameterLines(_ name: String, _ value: String, rfc2231: Bool) -> [String] {
        let ascii = value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if ascii && value.utf8.count <= 60 {
            return ["\(name)=\"\(escapeQuoted(value))\""]
        }
        if !rfc2231 {
            if ascii { return ["\(name)=\"\(escapeQuoted(value))\""] }
            return ["\(name)=\"" + EncodedWord.encodedWords(value).joined(separator: "\r\n  ") + "\""]
        }
        var encoded: [String] = []
        var current = ""
        for scalar in value.unicodeScalars {
            var utf8: [UInt8] = []
            Charset.appendUTF8(scalar.value, to: &utf8)
            var piece = ""
            for b in utf8 {
                let c = Character(Unicode.Scalar(b))
                let plain =
                    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                piece += plain ? String(c) : "%" + hex2(b)
            }
            if current.utf8.count + piece.utf8.count > 60 {
                encoded.append(current)
                current = ""
            }
            current += piece
        }
        if !current.isEmpty { encoded.append(current) }
        if encoded.count == 1 { return ["\(name)*=utf-8''\(encoded[0])"] }
        return encoded.enumerated().map { i, seg in
            i == 0 ? "\(name)*0*=utf-8''\(seg)" : "\(name)*\(i)*=\(seg)"
        }
    }

    private static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(digits[Int(b >> 4)]) + String(digits[Int(b & 15)])
    }

    private static func escapeQuoted(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Line breaks (header injection) become single spaces.
    static func singleLine(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return s }
        var out = ""
        var lastWasBreak = false
        for c in s {
            if c == "\r" || c == "\n" || c == "\r\n" {
                if !lastWasBreak { out.append(" ") }
                lastWasBreak = true
            } else {
                out.append(c)
                lastWasBreak = false
            }
        }
        return out
    }

    /// Removes brackets, blanks and line breaks from a Message-ID or an address.
    static func sanitizeID(_ id: String) -> String {
        stripping(id) { $0 == "<" || $0 == ">" || $0.properties.isWhitespace }
    }

    /// `text` without the scalars `drop` names; returns `text` itself (no copy) when none is there. Composing runs
    /// for every outgoing mail, so this works on scalars, not grapheme clusters.
    static func stripping(_ text: String, _ drop: (Unicode.Scalar) -> Bool) -> String {
        guard text.unicodeScalars.contains(where: drop) else { return text }
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !drop(scalar) { kept.append(scalar) }
        return String(kept)
    }

    static func sanitizeName(_ name: String) -> String? {
        let ok = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
        return ok ? name : nil
    }

    /// Words of an unstructured header value: encoded words if needed, else the blank-separated words.
    static func unstructuredWords(_ s: String) -> [String] {
        let words = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if EncodedWord.needsEncoding(s) || words.contains(where: { $0.utf8.count > 900 }) {
            return EncodedWord.encodedWords(s, force: true)
        }
        return words
    }

    private static let specials: Set<Character> = [
        "(", ")", "<", ">", "[", "]", ":", ";", "@", "\\", ",", ".", "\"",
    ]

    /// Words for an address list: display names quoted or RFC 2047-encoded, commas between mailboxes.
    static func addressWords(_ list: [MailAddress]) -> [String] {
        var words: [String] = []
        for (index, a) in list.enumerated() {
            var these: [String] = []
            let address = sanitizeID(a.address)
            if let name = a.name?.trimmingBlanks(), !name.isEmpty {
                let clean =
                    name.utf8.contains { $0 == 0x0D || $0 == 0x0A }
                    ? String(name.map { $0 == "\r" || $0 == "\n" ? " " : $0 }) : name
                if EncodedWord.needsEncoding(clean) {
                    these += EncodedWord.encodedWords(clean)
                } else if clean.contains(where: { specials.contains($0) }) {
                    these.append("\"\(escapeQuoted(clean))\"")
                } else {
                    these += clean.split(separator: " ").map(String.init)
                }
                these.append("<\(address)>")
            } else {
                these.append(address)
            }
            if index < list.count - 1 { these[these.count - 1] += "," }
            words += these
        }
        return words
    }

    /// `Name: w1 w2 …` folded with CRLF + space before a word that would pass 78 columns.
    static func fold(_ name: String, words: [String]) -> String {
        var out = name + ":"
        var lineLength = out.utf8.count
        for word in words {
            let w = word.utf8.count
            if lineLength + 1 + w > 78 && lineLength > name.utf8.count + 1 && !word.isEmpty {
                out += "\r\n "
                lineLength = 1
            } else {
                out += " "
                lineLength += 1
            }
            out += word
            lineLength += w
        }
        return out
    }
}
