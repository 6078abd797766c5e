/// One header field as it appeared on the wire; kept undecoded so callers can re-read exactly what was sent
/// (for audit, loop detection and reprocessing) while `MailMessage` offers decoded accessors.
public struct HeaderField: Sendable, Hashable {
    /// The field name as written (case preserved).
    public var name: String
    /// The field body, unfolded (line breaks removed) but not RFC 2047-decoded; leading and trailing blanks trimmed.
    public var rawValue: String

    public init(name: String, rawValue: String) {
        self.name = name
        self.rawValue = rawValue
    }
}
