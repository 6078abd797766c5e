/// A decoded non-body part (file, inline image, attached message); the SHA-256 lets the store keep each
/// attachment once however many mails carry it.
public struct Attachment: Sendable, Hashable {
    /// Decoded filename, or nil when the part had none.
    public var filename: String?
    /// Lowercased `type/subtype`.
    public var contentType: String
    /// Decoded size in bytes.
    public var size: Int
    /// Lowercase hex SHA-256 of the decoded data ("" when the decoded-bytes budget dropped the data). Unless set
    /// explicitly it is computed from `data` on each access, so parsing does not hash what nobody stores.
    public var sha256: String {
        get { storedSHA256 ?? SHA256.hex(data) }
        set { storedSHA256 = newValue }
    }
    /// True when the part was meant to be shown inline (disposition inline or referenced by Content-ID).
    public var inline: Bool
    /// Content-ID without angle brackets, used by `cid:` references in HTML.
    public var contentID: String?
    /// The decoded bytes (empty when the decoded-bytes budget was exhausted).
    public var data: [UInt8]
    private var storedSHA256: String?

    public init(
        filename: String?, contentType: String, size: Int, sha256: String, inline: Bool, contentID: String?,
        data: [UInt8]
    ) {
        self.init(
            filename: filename, contentType: contentType, size: size, inline: inline, contentID: contentID, data: data)
        self.storedSHA256 = sha256
    }

    /// An attachment whose `sha256` is derived from `data` when first asked for.
    public init(filename: String?, contentType: String, size: Int, inline: Bool, contentID: String?, data: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.inline = inline
        self.contentID = contentID
        self.data = data
    }

    public static func == (a: Attachment, b: Attachment) -> Bool {
        a.filename == b.filename && a.contentType == b.contentType && a.size == b.size && a.inline == b.inline
            && a.contentID == b.contentID && a.data == b.data && a.sha256 == b.sha256
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(filename)
        hasher.combine(contentType)
        hasher.combine(size)
        hasher.combine(data)
    }
}
