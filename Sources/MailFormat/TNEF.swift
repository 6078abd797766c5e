/// Microsoft's TNEF container (`winmail.dat`, `application/ms-tnef`, MS-OXTNEF) unpacked into its real attachments
/// and body, because Outlook wraps whole mails in it and a ticket must show what the sender sent, not an opaque blob.
public enum TNEF {
    /// What one TNEF stream carried.
    public struct Content: Sendable, Hashable {
        /// `IPM.Microsoft Mail.Note` and the like.
        public var messageClass: String?
        public var subject: String?
        /// The plain-text body (`attBody` or `PR_BODY`), if the stream had one.
        public var text: String?
        /// The HTML body (`PR_HTML`), if the stream had one.
        public var html: String?
        /// The decompressed RTF body (`PR_RTF_COMPRESSED`), if the stream had one.
        public var rtf: [UInt8]?
        /// The files carried in the stream, in order.
        public var attachments: [Attachment]

        public init(
            messageClass: String? = nil, subject: String? = nil, text: String? = nil, html: String? = nil,
            rtf: [UInt8]? = nil, attachments: [Attachment] = []
        ) {
            self.messageClass = messageClass
            self.subject = subject
            self.text = text
            self.html = html
            self.rtf = rtf
            self.attachments = attachments
        }

        /// The readable body: the plain text, else the HTML as text, else the RTF as text ("" when none).
        public var bodyText: String {
            if let text, !text.trimmingBlanks().isEmpty { return text }
            if let html { return HTMLText.convert(html) }
            if let rtf { return TNEF.rtfToText(rtf) }
            return text ?? ""
        }
    }

    static let signature: UInt32 = 0x223E_9F78

    /// Whether `data` starts with the TNEF signature.
    public static func isTNEF(_ data: [UInt8]) -> Bool {
        var r = Reader(data)
        return r.u32() == signature
    }

    /// Decodes a TNEF stream; nil when `data` is not TNEF. Damaged streams yield what could be read before the damage.
    public static func decode(_ data: [UInt8]) -> Content? {
        decode(data, depth: 0)
    }

    private struct PendingAttachment {
        var title: String?
        var longName: String?
        var shortName: String?
        var displayName: String?
        var mimeType: String?
        var contentID: String?
        var data: [UInt8]?
        var embedded: Content?
    }

    private static func decode(_ data: [UInt8], depth: Int) -> Content? {
        var r = Reader(data)
        guard r.u32() == signature, r.u16() != nil else { return nil }
        var content = Content()
        var codepage: UInt32 = 1252
        var pending: [PendingAttachment] = []
        while r.remaining >= 9 {
            guard let level = r.u8(), let id = r.u32(), let length = r.u32(), let value = r.bytes(Int(length)),
                r.u16() != nil
            else { break }
            switch (level, id) {
            case (_, 0x0006_9007):  // attOemCodepage
                var v = Reader(value)
                if let cp = v.u32(), cp != 0 { codepage = cp }
            case (1, 0x0007_8008):  // attMessageClass
                content.messageClass = string8(value, codepage: codepage)
            case (1, 0x0001_8004):  // attSubject
                content.subject = string8(value, codepage: codepage)
            case (1, 0x0002_800C):  // attBody
                content.text = string8(value, codepage: codepage)
            case (1, 0x0006_9003):  // attMsgProps
                for property in properties(value) {
                    switch property.id {
                    case 0x1000 where content.text == nil:  // PR_BODY
                        content.text = property.string(codepage: codepage)
                    case 0x1009:  // PR_RTF_COMPRESSED
                        if let raw = property.binary { content.rtf = decompressRTF(raw) }
                    case 0x1013:  // PR_HTML
                        if let raw = property.binary {
                            content.html = property.isString ? property.string(codepage: codepage) : html(raw)
                        }
                    case 0x0037 where content.subject == nil:  // PR_SUBJECT
                        content.subject = property.string(codepage: codepage)
                    default:
                        break
                    }
                }
            case (2, 0x0006_9002):  // attAttachRenddata: starts an attachment
                pending.append(PendingAttachment())
            case (2, 0x0001_8010):  // attAttachTitle
                if pending.isEmpty { pending.append(PendingAttachment()) }
                pending[pending.count - 1].title = string8(value, codepage: codepage)
            case (2, 0x0006_800F):  // attAttachData
                if pending.isEmpty { pending.append(PendingAttachment()) }
                pending[pending.count - 1].data = value
            case (2, 0x0006_9005):  // attAttachment: the attachment's MAPI properties
                if pending.isEmpty { pending.append(PendingAttachment()) }
                var a = pending[pending.count - 1]
                for property in properties(value) {
                    switch property.id {
                    case 0x3707: a.longName = property.string(codepage: codepage)
                    case 0x3704: a.shortName = property.string(codepage: codepage)
                    case 0x3001: a.displayName = property.string(codepage: codepage)
                    case 0x370E: a.mimeType = property.string(codepage: codepage)
                    case 0x3712: a.contentID = property.string(codepage: codepage)
                    case 0x3701:  // PR_ATTACH_DATA_OBJ
                        guard let raw = property.binary else { break }
                        // an object starts with a 16-byte interface id; for an attached Outlook item (mail, task,
                        // appointment) a nested TNEF stream follows. Other objects (OLE) are kept as sent.
                        if property.type == 0x000D, raw.count > 16, depth < 8,
                            let inner = decode(Array(raw[16...]), depth: depth + 1)
                        {
                            a.embedded = inner
                            break
                        }
                        a.data = raw
                    default:
                        break
                    }
                }
                pending[pending.count - 1] = a
            default:
                break
            }
        }
        for a in pending {
            if let embedded = a.embedded {
                // an attached Outlook item: its own files become attachments too
                content.attachments.append(contentsOf: embedded.attachments)
                let body = Array(embedded.bodyText.utf8)
                let name = (embedded.subject ?? a.longName ?? a.title ?? "message").trimmingBlanks()
                content.attachments.append(
                    Attachment(
                        filename: (name.isEmpty ? "message" : name) + ".txt", contentType: "text/plain",
                        size: body.count,
                        inline: false, contentID: nil, data: body))
                continue
            }
            guard let data = a.data else { continue }
            let name = [a.longName, a.shortName, a.title, a.displayName].lazy.compactMap { $0 }.first {
                !$0.trimmingBlanks().isEmpty
            }
            let type = a.mimeType.map { $0.trimmingBlanks().asciiLowercased() }.flatMap { $0.contains("/") ? $0 : nil }
            content.attachments.append(
                Attachment(
                    filename: name?.trimmingBlanks(), contentType: type ?? "application/octet-stream",
                    size: data.count, inline: a.contentID != nil,
                    contentID: a.contentID.flatMap { MessageID.parse($0) ?? $0 }, data: data))
        }
        return content
    }

    /// Reads a NUL-terminated 8-bit string in the stream's codepage.
    private static func string8(_ value: [UInt8], codepage: UInt32) -> String {
        var end = value.count
        if let nul = value.firstIndex(of: 0) { end = nul }
        let bytes = value[..<end]
        if Charset.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        var diagnostics: [String] = []
        return Charset.decode(
            bytes, charset: codepage == 65001 ? "utf-8" : "windows-\(codepage)", diagnostics: &diagnostics)
    }

    private static func html(_ raw: [UInt8]) -> String {
        var end = raw.count
        while end > 0, raw[end - 1] == 0 { end -= 1 }
        return Charset.decodeUTF8OrWindows1252(raw[..<end])
    }

    // MARK: MAPI properties

    struct Property {
        var type: UInt16
        var id: UInt16
        /// The first value's bytes.
        var binary: [UInt8]?

        var isString: Bool { type == 0x001E || type == 0x001F }

        func string(codepage: UInt32) -> String? {
            guard let binary else { return nil }
            if type == 0x001F {
                var units: [UInt16] = []
                units.reserveCapacity(binary.count / 2)
                var i = 0
                while i + 1 < binary.count {
                    let u = UInt16(binary[i]) | UInt16(binary[i + 1]) << 8
                    if u == 0 { break }
                    units.append(u)
                    i += 2
                }
                return String(decoding: units, as: UTF16.self)
            }
            return TNEF.string8(binary, codepage: codepage)
        }
    }

    /// Reads a MAPI property list; stops quietly at the first damaged property.
    static func properties(_ value: [UInt8]) -> [Property] {
        var r = Reader(value)
        guard let count = r.u32() else { return [] }
        var out: [Property] = []
        var n: UInt32 = 0
        while n < count, r.remaining >= 4 {
            n += 1
            guard let type = r.u16(), let id = r.u16() else { break }
            if id >= 0x8000 {
                // named property: GUID, kind, then a numeric id or a UTF-16 name
                guard r.bytes(16) != nil, let kind = r.u32() else { break }
                if kind == 0 {
                    guard r.u32() != nil else { break }
                } else {
                    guard let length = r.u32(), r.bytes(padded(Int(length))) != nil else { break }
                }
            }
            let multi = type & 0x1000 != 0
            let base = type & 0x0FFF
            var values = 1
            let variable = base == 0x001E || base == 0x001F || base == 0x0102 || base == 0x000D
            if multi || variable {
                guard let c = r.u32(), c <= 100_000 else { break }
                values = Int(c)
            }
            var first: [UInt8]?
            var ok = true
            for k in 0..<values {
                let bytes: [UInt8]?
                switch base {
                case 0x001E, 0x001F, 0x0102, 0x000D:
                    guard let length = r.u32(), let b = r.bytes(Int(length)),
                        r.bytes(padded(Int(length)) - Int(length)) != nil
                    else {
                        bytes = nil
                        break
                    }
                    bytes = b
                case 0x0002, 0x0003, 0x0004, 0x000A, 0x000B: bytes = r.bytes(4)
                case 0x0005, 0x0006, 0x0007, 0x0014, 0x0040: bytes = r.bytes(8)
                case 0x0048: bytes = r.bytes(16)
                default: bytes = nil
                }
                guard let bytes else {
                    ok = false
                    break
                }
                if k == 0 { first = bytes }
            }
            guard ok else { break }
            out.append(Property(type: base, id: id, binary: first))
        }
        return out
    }

    private static func padded(_ n: Int) -> Int { (n + 3) & ~3 }

    // MARK: Compressed RTF (MS-OXRTFCP)

    private static let rtfDictionaryPrefix = Array(
        ("{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript "
            + "\\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
            + "\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx").utf8)

    /// Decompresses `PR_RTF_COMPRESSED` (LZFu, or the uncompressed MELA form); nil when the header is damaged.
    public static func decompressRTF(_ data: [UInt8]) -> [UInt8]? {
        var r = Reader(data)
        guard let compressedSize = r.u32(), let rawSize = r.u32(), let kind = r.u32(), r.u32() != nil else {
            return nil
        }
        let end = min(data.count, Int(compressedSize) + 4)
        if kind == 0x414C_454D {  // "MELA": stored
            return Array(data[16..<min(data.count, 16 + Int(rawSize))])
        }
        guard kind == 0x7546_5A4C else { return nil }  // "LZFu"
        var dictionary = [UInt8](repeating: 0, count: 4096)
        for (i, b) in rtfDictionaryPrefix.enumerated() { dictionary[i] = b }
        var write = rtfDictionaryPrefix.count
        var out: [UInt8] = []
        out.reserveCapacity(min(Int(rawSize), 64 * 1024 * 1024))
        var p = 16
        while p < end {
            let control = data[p]
            p += 1
            for bit in 0..<8 {
                guard p < end else { return out }
                if control & (1 << bit) == 0 {
                    let b = data[p]
                    p += 1
                    out.append(b)
                    dictionary[write] = b
                    write = (write + 1) & 0xFFF
                } else {
                    guard p + 1 < end else { return out }
                    let reference = Int(data[p]) << 8 | Int(data[p + 1])
                    p += 2
                    let offset = reference >> 4
                    let length = (reference & 0xF) + 2
                    if offset == write { return out }
                    for k in 0..<length {
                        let b = dictionary[(offset + k) & 0xFFF]
                        out.append(b)
                        dictionary[write] = b
                        write = (write + 1) & 0xFFF
                    }
                }
                if out.count > 64 * 1024 * 1024 { return out }
            }
        }
        return out
    }

    struct Reader {
        let data: [UInt8]
        var p = 0

        init(_ data: [UInt8]) { self.data = data }

        var remaining: Int { data.count - p }

        mutating func u8() -> UInt8? {
            guard p < data.count else { return nil }
            p += 1
            return data[p - 1]
        }

        mutating func u16() -> UInt16? {
            guard remaining >= 2 else { return nil }
            defer { p += 2 }
            return UInt16(data[p]) | UInt16(data[p + 1]) << 8
        }

        mutating func u32() -> UInt32? {
            guard remaining >= 4 else { return nil }
            defer { p += 4 }
            return UInt32(data[p]) | UInt32(data[p + 1]) << 8 | UInt32(data[p + 2]) << 16 | UInt32(data[p + 3]) << 24
        }

        mutating func bytes(_ n: Int) -> [UInt8]? {
            guard n >= 0, remaining >= n else { return nil }
            defer { p += n }
            return Array(data[p..<(p + n)])
        }
    }
}
