/// The entry point from raw bytes to `MailMessage`. Parsing never throws: whatever cannot be read is repaired or
/// skipped and noted in `diagnostics`, because one broken mail must not stop a mailbox.
public enum MailParser {
    /// Parses one raw RFC 5322 message.
    public static func parse(_ bytes: [UInt8], options: ParseOptions = .init()) -> MailMessage {
        bytes.withUnsafeBufferPointer { parse(buffer: $0, options: options) }
    }

    static func parse(buffer b: UnsafeBufferPointer<UInt8>, options: ParseOptions) -> MailMessage {
        var walker = MIMEWalker(options: options)
        let block = parseHeaderBlock(
            b, start: 0, end: b.count, topLevel: true, options: options, diagnostics: &walker.diagnostics)
        let root = walker.entity(
            b, fields: block.fields, bodyStart: block.bodyStart, bodyEnd: b.count, depth: 0,
            defaultType: "text/plain", context: .init())
        var message = MailMessage(headers: block.fields, parts: root, rawSize: b.count)
        fillHeaders(&message, diagnostics: &walker.diagnostics)
        walker.selectBodies(into: &message)
        message.diagnostics = walker.diagnostics
        return message
    }

    static func fillHeaders(_ m: inout MailMessage, diagnostics: inout [String]) {
        var subject: String?
        var from: String?
        var to: [String] = []
        var cc: [String] = []
        var replyTo: String?
        var date: String?
        var messageID: String?
        var inReplyTo: String?
        var references: [String] = []
        for field in m.headers {
            let n = field.name
            guard let first = n.utf8.first else { continue }
            switch first | 0x20 {
            case UInt8(ascii: "s") where subject == nil && n.caseInsensitiveEquals("subject"):
                subject = field.rawValue
            case UInt8(ascii: "f") where from == nil && n.caseInsensitiveEquals("from"):
                from = field.rawValue
            case UInt8(ascii: "t") where n.caseInsensitiveEquals("to"):
                to.append(field.rawValue)
            case UInt8(ascii: "c") where n.caseInsensitiveEquals("cc"):
                cc.append(field.rawValue)
            case UInt8(ascii: "r"):
                if replyTo == nil && n.caseInsensitiveEquals("reply-to") {
                    replyTo = field.rawValue
                } else if n.caseInsensitiveEquals("references") {
                    references.append(field.rawValue)
                }
            case UInt8(ascii: "d") where date == nil && n.caseInsensitiveEquals("date"):
                date = field.rawValue
            case UInt8(ascii: "m") where messageID == nil && n.caseInsensitiveEquals("message-id"):
                messageID = field.rawValue
            case UInt8(ascii: "i") where inReplyTo == nil && n.caseInsensitiveEquals("in-reply-to"):
                inReplyTo = field.rawValue
            default:
                break
            }
        }
        if let subject { m.subject = EncodedWord.decode(subject, diagnostics: &diagnostics).trimmingBlanks() }
        if let from { m.from = AddressList.parse(from, diagnostics: &diagnostics) }
        for v in to { m.to += AddressList.parse(v, diagnostics: &diagnostics) }
        for v in cc { m.cc += AddressList.parse(v, diagnostics: &diagnostics) }
        if let replyTo { m.replyTo = AddressList.parse(replyTo, diagnostics: &diagnostics) }
        if let date {
            m.date = MailDate.parse(date)
            if m.date == nil { diagnostics.append("unreadable Date header: \(date.prefix(80))") }
        }
        if let messageID { m.messageID = MessageID.parse(messageID) }
        if let inReplyTo { m.inReplyTo = MessageID.parseList(inReplyTo) }
        for v in references { m.references += MessageID.parseList(v) }
    }
}
