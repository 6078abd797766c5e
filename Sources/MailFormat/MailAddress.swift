/// A mailbox as it appears in From/To/Cc headers; the display name is kept apart from the address because
/// ticket routing keys on the address while replies should greet people by name.
public struct MailAddress: Sendable, Hashable, Codable {
    /// The decoded display name, or nil when the header carried none.
    public var name: String?
    /// The addr-spec (`local@domain`) without angle brackets.
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }
}

extension MailAddress: CustomStringConvertible {
    public var description: String {
        if let name, !name.isEmpty { return "\(name) <\(address)>" }
        return address
    }
}
