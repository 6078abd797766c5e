public import Foundation

/// The parsed form of one raw mail: what the intake needs (addresses, ids, decoded text, attachments) plus the
/// raw headers and MIME tree for anything more specific; it is a value so it can cross actors freely.
public struct MailMessage: Sendable {
    /// Top-level header fields in order, duplicates kept.
    public var headers: [HeaderField]
    /// Decoded subject, "" if none.
    public var subject: String
    public var from: [MailAddress]
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var replyTo: [MailAddress]
    /// The Date header, nil if missing or unreadable.
    public var date: Date?
    /// The Message-ID without angle brackets.
    public var messageID: String?
    /// In-Reply-To ids without brackets.
    public var inReplyTo: [String]
    /// References ids without brackets, in order.
    public var references: [String]
    /// The main decoded text body: text/plain preferred, else text converted from HTML, else "".
    public var text: String
    /// The decoded HTML body, if any.
    public var html: String?
    /// Decoded non-body parts.
    public var attachments: [Attachment]
    /// The MIME tree.
    public var parts: MIMEPart
    /// Human-readable notes about anything repaired or unknown.
    public var diagnostics: [String]
    /// Size of the raw input in bytes.
    public var rawSize: Int
    /// True when the message declares itself machine-generated (auto-reply, bulk, list, out-of-office); derived
    /// from the headers and subject on access (see `AutoReply.signals`).
    public var autoSubmitted: Bool { AutoReply.isAutoSubmitted(self) }
    /// The new text of a reply without quoted history and signature (the trimmed `text` when nothing was
    /// recognised); computed from `text` (and the HTML's quote markers for HTML-only replies) on access, so
    /// parsing does not pay for it.
    public var replyText: String { ReplyText.strip(text, html: html) }
    /// The delivery report (DSN, MDN or a recognisable prose bounce) this message carries, if any; computed on
    /// access (see `DeliveryReport.parse`).
    public var deliveryReport: DeliveryReport? { DeliveryReport.parse(self) }

    public init(
        headers: [HeaderField] = [], subject: String = "", from: [MailAddress] = [], to: [MailAddress] = [],
        cc: [MailAddress] = [], replyTo: [MailAddress] = [], date: Date? = nil, messageID: String? = nil,
        inReplyTo: [String] = [], references: [String] = [], text: String = "", html: String? = nil,
        attachments: [Attachment] = [], parts: MIMEPart = MIMEPart(), diagnostics: [String] = [], rawSize: Int = 0
    ) {
        self.headers = headers
        self.subject = subject
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.date = date
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.text = text
        self.html = html
        self.attachments = attachments
        self.parts = parts
        self.diagnostics = diagnostics
        self.rawSize = rawSize
    }

    /// The first value of the named header (case-insensitive), RFC 2047-decoded, unfolded and trimmed.
    public func header(_ name: String) -> String? {
        for field in headers where field.name.caseInsensitiveEquals(name) {
            return EncodedWord.decode(field.rawValue).trimmingBlanks()
        }
        return nil
    }

    /// All values of the named header (case-insensitive) in order, decoded like `header(_:)`.
    public func headers(named name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveEquals(name) }.map {
            EncodedWord.decode($0.rawValue).trimmingBlanks()
        }
    }

    /// Every header field in order with its own value, decoded like `header(_:)` (a repeated field such as
    /// `Received` gives each occurrence its own value).
    public var decodedHeaders: [(name: String, value: String)] {
        headers.map { ($0.name, EncodedWord.decode($0.rawValue).trimmingBlanks()) }
    }

    /// The raw (undecoded) value of the first header with this name.
    public func rawHeader(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.rawValue
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = self.utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }

    /// Trims spaces, tabs, CR and LF at both ends.
    func trimmingBlanks() -> String {
        let u = utf8
        guard let first = u.firstIndex(where: { !$0.isBlankOrEOL }) else { return "" }
        let last = u.lastIndex(where: { !$0.isBlankOrEOL })!
        if first == u.startIndex && u.index(after: last) == u.endIndex { return self }
        return String(self[first...last])
    }

    /// ASCII lowercase (leaves non-ASCII alone), cheaper than `lowercased()`.
    func asciiLowercased() -> String {
        var needs = false
        for b in utf8 where b >= 65 && b <= 90 {
            needs = true
            break
        }
        if !needs { return self }
        return String(decoding: utf8.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

extension UInt8 {
    var isBlank: Bool { self == 0x20 || self == 0x09 }
    var isEOL: Bool { self == 0x0A || self == 0x0D }
    var isBlankOrEOL: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
    var asciiLower: UInt8 { (self >= 65 && self <= 90) ? self | 0x20 : self }
}
