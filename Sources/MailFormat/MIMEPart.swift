/// A node of the MIME tree; it describes the structure (types, charsets, encodings, sizes) so callers can
/// inspect what a message contains without the parser handing out every body twice.
public struct MIMEPart: Sendable, Hashable {
    /// Lowercased `type/subtype`; `text/plain` when the part had no usable Content-Type.
    public var contentType: String
    /// Lowercased charset parameter, if any.
    public var charset: String?
    /// Normalised transfer encoding (`7bit`, `8bit`, `binary`, `quoted-printable`, `base64`, `x-uuencode`).
    public var transferEncoding: String
    /// Decoded body size in bytes for leaves; the raw body size for multiparts and attached messages.
    public var size: Int
    /// Lowercased disposition type (`inline`, `attachment`), if given.
    public var disposition: String?
    /// Decoded filename from Content-Disposition `filename` or Content-Type `name`.
    public var filename: String?
    /// Content-ID without angle brackets.
    public var contentID: String?
    /// The part's own header fields (for the root: the message headers).
    public var headers: [HeaderField]
    /// The transfer-decoded body of a leaf or attached message (not charset-decoded); empty for multiparts and for
    /// parts past the decoded-bytes budget. Shares storage with the matching `Attachment.data`.
    public var body: [UInt8]
    /// Child parts of a multipart, or the single root part of an attached `message/rfc822`.
    public var children: [MIMEPart]

    public init(
        contentType: String = "text/plain", charset: String? = nil, transferEncoding: String = "7bit",
        size: Int = 0, disposition: String? = nil, filename: String? = nil, contentID: String? = nil,
        headers: [HeaderField] = [], body: [UInt8] = [], children: [MIMEPart] = []
    ) {
        self.contentType = contentType
        self.charset = charset
        self.transferEncoding = transferEncoding
        self.size = size
        self.disposition = disposition
        self.filename = filename
        self.contentID = contentID
        self.headers = headers
        self.body = body
        self.children = children
    }

    /// Whether this part is a multipart container.
    public var isMultipart: Bool { contentType.hasPrefix("multipart/") }

    /// All parts of this subtree in depth-first order, this part first.
    public var allParts: [MIMEPart] {
        var out: [MIMEPart] = [self]
        for child in children { out.append(contentsOf: child.allParts) }
        return out
    }
}
