import Foundation
import MailFormat

/// The ITSM record types Ticketgate manages; the prefix is what people see in subjects (`[INC-000042]`).
public enum TicketKind: String, Sendable, Codable, CaseIterable {
    case incident
    case serviceRequest = "service_request"
    case problem
    case change

    public var prefix: String {
        switch self {
        case .incident: return "INC"
        case .serviceRequest: return "REQ"
        case .problem: return "PRB"
        case .change: return "CHG"
        }
    }

    public init?(prefix: String) {
        guard let kind = Self.allCases.first(where: { $0.prefix == prefix.uppercased() }) else { return nil }
        self = kind
    }
}

/// A ticket's public identifier, e.g. `INC-000001`; numbered per kind so people can tell the process from the id.
public struct TicketID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var kind: TicketKind
    public var number: Int

    public init(kind: TicketKind, number: Int) {
        self.kind = kind
        self.number = number
    }

    /// Parses `INC-000042` (any number of digits, case-insensitive prefix).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let kind = TicketKind(prefix: String(parts[0])),
            !parts[1].isEmpty, parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber),
            let number = Int(parts[1]), number > 0
        else { return nil }
        self.kind = kind
        self.number = number
    }

    public var description: String {
        let digits = String(number)
        return "\(kind.prefix)-\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits)"
    }

    public static func < (lhs: TicketID, rhs: TicketID) -> Bool {
        (lhs.kind.prefix, lhs.number) < (rhs.kind.prefix, rhs.number)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = TicketID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad ticket id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Lifecycle states. Incidents use new → assigned → in progress → pending → resolved → closed.
public enum TicketState: String, Sendable, Codable, CaseIterable {
    case new
    case assigned
    case inProgress = "in_progress"
    case pending
    case resolved
    case closed

    /// States in which the ticket still needs work from the service desk.
    public var isOpen: Bool { self != .resolved && self != .closed }
}

/// ITIL priority P1 (critical) … P5 (planning), derived from impact × urgency.
public enum Priority: Int, Sendable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case p1 = 1
    case p2
    case p3
    case p4
    case p5

    public var description: String { "P\(rawValue)" }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A ticket as the workflow sees it: identity, state and the people involved, without its articles.
public struct Ticket: Sendable, Equatable, Codable {
    public var id: TicketID
    public var state: TicketState
    public var subject: String
    public var requester: MailAddress
    public var priority: Priority
    public var assignee: String?
    public var mailbox: String
    public var createdAt: Date
    public var updatedAt: Date
    public var resolvedAt: Date?
    public var closedAt: Date?
    public var firstResponseAt: Date?

    public var kind: TicketKind { id.kind }

    public init(
        id: TicketID, state: TicketState = .new, subject: String, requester: MailAddress, priority: Priority = .p3,
        assignee: String? = nil, mailbox: String, createdAt: Date, updatedAt: Date? = nil, resolvedAt: Date? = nil,
        closedAt: Date? = nil, firstResponseAt: Date? = nil
    ) {
        self.id = id
        self.state = state
        self.subject = subject
        self.requester = requester
        self.priority = priority
        self.assignee = assignee
        self.mailbox = mailbox
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.resolvedAt = resolvedAt
        self.closedAt = closedAt
        self.firstResponseAt = firstResponseAt
    }
}

/// Who wrote an article: the requester (or another participant), an agent, or Ticketgate itself.
public enum AuthorRole: String, Sendable, Codable {
    case requester
    case agent
    case system
}

/// One message on a ticket, inbound or outbound, with the text people read.
public struct Article: Sendable, Equatable {
    /// Whether the mail came into the service desk or went out of it.
    public enum Direction: String, Sendable, Codable {
        case inbound = "in"
        case outbound = "out"
    }

    public var ticketID: TicketID
    public var direction: Direction
    public var author: AuthorRole
    public var from: MailAddress
    public var to: [MailAddress]
    public var subject: String
    public var messageID: String
    public var text: String
    public var isInternal: Bool
    public var createdAt: Date

    public init(
        ticketID: TicketID, direction: Direction, author: AuthorRole, from: MailAddress, to: [MailAddress],
        subject: String, messageID: String, text: String, isInternal: Bool = false, createdAt: Date
    ) {
        self.ticketID = ticketID
        self.direction = direction
        self.author = author
        self.from = from
        self.to = to
        self.subject = subject
        self.messageID = messageID
        self.text = text
        self.isInternal = isInternal
        self.createdAt = createdAt
    }
}

/// One line of the audit trail: who changed what, when, and through which mail.
public struct AuditEntry: Sendable, Equatable {
    public var ticketID: TicketID
    public var at: Date
    public var actor: String
    public var viaMessageID: String?
    public var action: String
    public var oldValue: String?
    public var newValue: String?

    public init(
        ticketID: TicketID, at: Date, actor: String, viaMessageID: String?, action: String, oldValue: String? = nil,
        newValue: String? = nil
    ) {
        self.ticketID = ticketID
        self.at = at
        self.actor = actor
        self.viaMessageID = viaMessageID
        self.action = action
        self.oldValue = oldValue
        self.newValue = newValue
    }
}
