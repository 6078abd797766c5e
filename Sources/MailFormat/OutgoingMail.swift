public import Foundation

/// A file to attach to an outgoing mail; the composer picks the encoding, callers only give name, type and bytes.
public struct OutgoingAttachment: Sendable, Hashable {
    public var filename: String
    /// `type/subtype`; anything unusable is sent as `application/octet-stream`.
    public var contentType: String
    public var data: [UInt8]

    public init(filename: String, contentType: String = "application/octet-stream", data: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}

/// Everything needed to build one outgoing message; plain values so templates and the outbox can prepare mail
/// without knowing MIME, and `MailComposer` owns all wire-format decisions.
public struct OutgoingMail: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var replyTo: [MailAddress]
    public var subject: String
    /// The Message-ID without angle brackets (see `MessageID.generate`).
    public var messageID: String
    /// The id (without brackets) this mail answers, if any.
    public var inReplyTo: String?
    /// The thread's ids (without brackets), oldest first.
    public var references: [String]
    public var date: Date
    /// Further header fields, written after the standard ones; CR/LF in values are replaced by spaces.
    public var extraHeaders: [HeaderField]
    public var text: String
    public var html: String?
    public var attachments: [OutgoingAttachment]

    public init(
        from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], replyTo: [MailAddress] = [], subject: String,
        messageID: String, inReplyTo: String? = nil, references: [String] = [], date: Date,
        extraHeaders: [HeaderField] = [], text: String, html: String? = nil, attachments: [OutgoingAttachment] = []
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.subject = subject
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.extraHeaders = extraHeaders
        self.text = text
        self.html = html
        self.attachments = attachments
    }
}
