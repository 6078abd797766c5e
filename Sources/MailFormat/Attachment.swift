/// A decoded non-body part (file, inline image, attached message); the SHA-256 lets the store keep each
/// attachment once however many mails carry it.
public struct Attachment: Sendable, Hashable {
    /// Decoded filename, or nil when the part had none.
    public var filename: String?
    /// Lowercased `type/subtype`.
    public var contentType: String
    /// Decoded size in bytes.
    public var size: Int
    /// Lowercase hex SHA-256 of the decoded data.
    public var sha256: String
    /// True when the part was meant to be shown inline (disposition inline or referenced by Content-ID).
    public var inline: Bool
    /// Content-ID without angle brackets, used by `cid:` references in HTML.
    public var contentID: String?
    /// The decoded bytes (empty when the decoded-bytes budget was exhausted).
    public var data: [UInt8]

    public init(
        filename: String?, contentType: String, size: Int, sha256: String, inline: Bool, contentID: String?,
        data: [UInt8]
    ) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.inline = inline
        self.contentID = contentID
        self.data = data
    }
}
