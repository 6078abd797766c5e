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

    /// `INC-000042`: at least six digits. Built in place (a small string, no allocation up to 15 bytes): every row a
    /// ticket writes is keyed by it.
    public var description: String {
        guard number >= 0 else { return "\(kind.prefix)-\(number)" }
        var digits = 1
        var rest = number / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let width = max(6, digits)
        return String(unsafeUninitializedCapacity: 4 + width) { buffer in
            var index = 0
            for byte in kind.prefix.utf8 {
                buffer[index] = byte
                index += 1
            }
            buffer[index] = UInt8(ascii: "-")
            var value = number
            for position in stride(from: index + width, to: index, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return index + 1 + width
        }
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

/// Lifecycle states of all four processes; each `TicketKind` uses its own subset (see `TicketKind.states`).
public enum TicketState: String, Sendable, Codable, CaseIterable {
    case new
    case assigned
    case inProgress = "in_progress"
    case pending
    case resolved
    case closed
    // Service requests.
    case submitted
    case awaitingApproval = "awaiting_approval"
    case inFulfilment = "in_fulfilment"
    case fulfilled
    case rejected
    // Problems.
    case underInvestigation = "under_investigation"
    case knownError = "known_error"
    // Changes.
    case requested
    case assessment
    case scheduled
    case implementing
    case review

    /// States in which the ticket still needs work from the service desk.
    public var isOpen: Bool { !isFinished && self != .resolved && self != .fulfilled }

    /// End states: nothing but a reopen (where allowed) leaves them.
    public var isFinished: Bool { self == .closed || self == .rejected }

    /// Resolved-like states: the work is done and the requester may still object.
    public var isResolved: Bool { self == .resolved || self == .fulfilled }

    /// Parses the snake_case name or a German/English alias used in `/status` (`in progress`, `in-progress`).
    public init?(name: some StringProtocol) {
        let key = name.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        if let state = TicketState(rawValue: key) {
            self = state
            return
        }
        let aliases: [String: TicketState] = [
            "neu": .new, "zugewiesen": .assigned, "in_bearbeitung": .inProgress, "wartend": .pending,
            "gelöst": .resolved, "geschlossen": .closed, "eingereicht": .submitted, "genehmigung": .awaitingApproval,
            "in_umsetzung": .inFulfilment, "erfüllt": .fulfilled, "abgelehnt": .rejected,
            "in_untersuchung": .underInvestigation, "bekannter_fehler": .knownError, "beantragt": .requested,
            "bewertung": .assessment, "geplant": .scheduled, "umsetzung": .implementing, "überprüfung": .review,
            "in_fulfillment": .inFulfilment, "waiting": .pending,
        ]
        guard let state = aliases[key] else { return nil }
        self = state
    }
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
///
/// Everything added after the first release is optional or defaulted and decoded with `decodeIfPresent`, so ticket
/// documents written by older versions still load.
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
    /// Set by `/kind` when an incident turns out to be a service request (or back); the id keeps its prefix.
    public var reclassifiedAs: TicketKind?
    public var impact: Impact?
    public var urgency: Urgency?
    /// The catalog service this ticket is about (`services[].name`).
    public var service: String?
    /// The catalog request type of a service request (`services[].request_types[].name`).
    public var requestType: String?
    public var assignmentGroup: String?
    /// For incidents: the problem this incident is a symptom of.
    public var linkedProblem: TicketID?
    /// For problems: the incidents caused by it.
    public var linkedIncidents: [TicketID]
    public var workaround: String?
    public var resolution: String?
    public var pendingReason: String?
    /// The approver's (or agent's) reason when a request or change was rejected.
    public var rejectionReason: String?
    public var changeType: ChangeType?
    public var changeOutcome: ChangeOutcome?
    /// The open or finished approval round of a service request or change.
    public var approval: ApprovalRound?
    /// How often a requester (or agent) reopened the ticket after it was resolved or closed.
    public var reopenCount: Int
    /// SLA bookkeeping: pauses while pending, thresholds already escalated, recorded breaches.
    public var sla: SLAClock

    /// The process this ticket follows: the id's kind unless reclassified with `/kind`.
    public var kind: TicketKind { reclassifiedAs ?? id.kind }

    public init(
        id: TicketID, state: TicketState = .new, subject: String, requester: MailAddress, priority: Priority = .p3,
        assignee: String? = nil, mailbox: String, createdAt: Date, updatedAt: Date? = nil, resolvedAt: Date? = nil,
        closedAt: Date? = nil, firstResponseAt: Date? = nil, impact: Impact? = nil, urgency: Urgency? = nil,
        service: String? = nil, requestType: String? = nil, assignmentGroup: String? = nil,
        linkedProblem: TicketID? = nil, linkedIncidents: [TicketID] = [], changeType: ChangeType? = nil
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
        self.impact = impact
        self.urgency = urgency
        self.service = service
        self.requestType = requestType
        self.assignmentGroup = assignmentGroup
        self.linkedProblem = linkedProblem
        self.linkedIncidents = linkedIncidents
        self.changeType = changeType
        self.reopenCount = 0
        self.sla = SLAClock()
    }

    private enum CodingKeys: String, CodingKey {
        case id, state, subject, requester, priority, assignee, mailbox, createdAt, updatedAt, resolvedAt, closedAt
        case firstResponseAt, reclassifiedAs, impact, urgency, service, requestType, assignmentGroup, linkedProblem
        case linkedIncidents, workaround, resolution, pendingReason, rejectionReason, changeType, changeOutcome
        case approval, reopenCount, sla
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(TicketID.self, forKey: .id)
        state = try c.decode(TicketState.self, forKey: .state)
        subject = try c.decode(String.self, forKey: .subject)
        requester = try c.decode(MailAddress.self, forKey: .requester)
        priority = try c.decode(Priority.self, forKey: .priority)
        assignee = try c.decodeIfPresent(String.self, forKey: .assignee)
        mailbox = try c.decode(String.self, forKey: .mailbox)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        updatedAt = try c.decode(Date.self, forKey: .updatedAt)
        resolvedAt = try c.decodeIfPresent(Date.self, forKey: .resolvedAt)
        closedAt = try c.decodeIfPresent(Date.self, forKey: .closedAt)
        firstResponseAt = try c.decodeIfPresent(Date.self, forKey: .firstResponseAt)
        reclassifiedAs = try c.decodeIfPresent(TicketKind.self, forKey: .reclassifiedAs)
        impact = try c.decodeIfPresent(Impact.self, forKey: .impact)
        urgency = try c.decodeIfPresent(Urgency.self, forKey: .urgency)
        service = try c.decodeIfPresent(String.self, forKey: .service)
        requestType = try c.decodeIfPresent(String.self, forKey: .requestType)
        assignmentGroup = try c.decodeIfPresent(String.self, forKey: .assignmentGroup)
        linkedProblem = try c.decodeIfPresent(TicketID.self, forKey: .linkedProblem)
        linkedIncidents = try c.decodeIfPresent([TicketID].self, forKey: .linkedIncidents) ?? []
        workaround = try c.decodeIfPresent(String.self, forKey: .workaround)
        resolution = try c.decodeIfPresent(String.self, forKey: .resolution)
        pendingReason = try c.decodeIfPresent(String.self, forKey: .pendingReason)
        rejectionReason = try c.decodeIfPresent(String.self, forKey: .rejectionReason)
        changeType = try c.decodeIfPresent(ChangeType.self, forKey: .changeType)
        changeOutcome = try c.decodeIfPresent(ChangeOutcome.self, forKey: .changeOutcome)
        approval = try c.decodeIfPresent(ApprovalRound.self, forKey: .approval)
        reopenCount = try c.decodeIfPresent(Int.self, forKey: .reopenCount) ?? 0
        sla = try c.decodeIfPresent(SLAClock.self, forKey: .sla) ?? SLAClock()
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
