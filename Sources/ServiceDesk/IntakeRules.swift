import Foundation

/// The facts of a mail that classification rules may look at; built from the parsed mail by the gateway.
public struct MailFacts: Sendable, Equatable {
    public var recipients: [String]
    public var sender: String
    public var subject: String
    public var body: String
    /// Header fields as (lowercased name, decoded value).
    public var headers: [(name: String, value: String)]

    public init(recipients: [String], sender: String, subject: String, body: String, headers: [(String, String)]) {
        self.recipients = recipients.map { $0.lowercased() }
        self.sender = sender.lowercased()
        self.subject = subject
        self.body = body
        self.headers = headers.map { ($0.0.lowercased(), $0.1) }
    }

    public static func == (lhs: MailFacts, rhs: MailFacts) -> Bool {
        lhs.recipients == rhs.recipients && lhs.sender == rhs.sender && lhs.subject == rhs.subject
            && lhs.body == rhs.body && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// ITIL impact and urgency levels; priority is derived from the pair.
public enum Level: String, Sendable, Codable, CaseIterable {
    case high
    case medium
    case low
}

/// One ordered classification rule from the configuration: every given condition must hold; the first matching rule
/// decides. YAML keys: `name`, `if: {recipient, sender, sender_domain, subject, body, keywords, header}`,
/// `then: {kind, service, impact, urgency, group, action}`.
public struct IntakeRule: Sendable, Equatable, Decodable {
    /// Conditions; lists mean "any of". Keyword matches are case-insensitive substring matches.
    public struct Conditions: Sendable, Equatable, Decodable {
        public var recipient: [String]?
        public var sender: [String]?
        public var senderDomain: [String]?
        public var subject: [String]?
        public var body: [String]?
        public var keywords: [String]?
        public var header: HeaderCondition?

        enum CodingKeys: String, CodingKey {
            case recipient, sender, subject, body, keywords, header
            case senderDomain = "sender_domain"
        }

        public init(
            recipient: [String]? = nil, sender: [String]? = nil, senderDomain: [String]? = nil,
            subject: [String]? = nil, body: [String]? = nil, keywords: [String]? = nil, header: HeaderCondition? = nil
        ) {
            self.recipient = recipient
            self.sender = sender
            self.senderDomain = senderDomain
            self.subject = subject
            self.body = body
            self.keywords = keywords
            self.header = header
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func list(_ key: CodingKeys) throws -> [String]? {
                if let one = try? container.decodeIfPresent(String.self, forKey: key) { return [one] }
                return try container.decodeIfPresent([String].self, forKey: key)
            }
            recipient = try list(.recipient)
            sender = try list(.sender)
            senderDomain = try list(.senderDomain)
            subject = try list(.subject)
            body = try list(.body)
            keywords = try list(.keywords)
            header = try container.decodeIfPresent(HeaderCondition.self, forKey: .header)
        }
    }

    /// `header: {name: X-Priority, contains: "1"}`
    public struct HeaderCondition: Sendable, Equatable, Decodable {
        public var name: String
        public var contains: String

        public init(name: String, contains: String) {
            self.name = name
            self.contains = contains
        }
    }

    /// What a matching rule sets. `action: ignore` drops the mail (recorded), `reject` answers with a notice.
    public struct Actions: Sendable, Equatable, Decodable {
        public var kind: String?
        public var service: String?
        public var impact: Level?
        public var urgency: Level?
        public var group: String?
        public var action: Disposition?

        public init(
            kind: String? = nil, service: String? = nil, impact: Level? = nil, urgency: Level? = nil,
            group: String? = nil, action: Disposition? = nil
        ) {
            self.kind = kind
            self.service = service
            self.impact = impact
            self.urgency = urgency
            self.group = group
            self.action = action
        }
    }

    public var name: String
    public var conditions: Conditions
    public var actions: Actions

    enum CodingKeys: String, CodingKey {
        case name
        case conditions = "if"
        case actions = "then"
    }

    public init(name: String, conditions: Conditions, actions: Actions) {
        self.name = name
        self.conditions = conditions
        self.actions = actions
    }

    public func matches(_ facts: MailFacts) -> Bool {
        let c = conditions
        if let recipients = c.recipient,
            !recipients.contains(where: { wanted in facts.recipients.contains(wanted.lowercased()) })
        {
            return false
        }
        if let senders = c.sender, !senders.contains(where: { $0.lowercased() == facts.sender }) { return false }
        if let domains = c.senderDomain {
            let domain = facts.sender.split(separator: "@").last.map(String.init) ?? ""
            if !domains.contains(where: { domain == $0.lowercased() || domain.hasSuffix("." + $0.lowercased()) }) {
                return false
            }
        }
        if let words = c.subject, !Self.containsAny(facts.subject, words) { return false }
        if let words = c.body, !Self.containsAny(facts.body, words) { return false }
        if let words = c.keywords, !Self.containsAny(facts.subject, words) && !Self.containsAny(facts.body, words) {
            return false
        }
        if let header = c.header {
            let name = header.name.lowercased()
            if !facts.headers.contains(where: { $0.name == name && Self.containsAny($0.value, [header.contains]) }) {
                return false
            }
        }
        return true
    }

    static func containsAny(_ text: String, _ words: [String]) -> Bool {
        words.contains { text.range(of: $0, options: [.caseInsensitive, .diacriticInsensitive]) != nil }
    }
}

/// What becomes of a new mail: a ticket (the default), silently recorded, or refused with a notice.
public enum Disposition: String, Sendable, Equatable, Codable {
    case create
    case ignore
    case reject
}

/// The result of classifying a new mail, with the rule that decided (for the audit line and `mail inspect`).
public struct Classification: Sendable, Equatable {
    public var kind: TicketKind
    public var service: String?
    public var impact: Level?
    public var urgency: Level?
    public var group: String?
    public var disposition: Disposition
    public var rule: String?

    public init(
        kind: TicketKind = .incident, service: String? = nil, impact: Level? = nil, urgency: Level? = nil,
        group: String? = nil, disposition: Disposition = .create, rule: String? = nil
    ) {
        self.kind = kind
        self.service = service
        self.impact = impact
        self.urgency = urgency
        self.group = group
        self.disposition = disposition
        self.rule = rule
    }
}

/// Ordered rules, first match wins; no match gives an incident.
public enum Classifier {
    public static func classify(_ facts: MailFacts, rules: [IntakeRule], defaultKind: TicketKind = .incident)
        -> Classification
    {
        guard let rule = rules.first(where: { $0.matches(facts) }) else {
            return Classification(kind: defaultKind)
        }
        let a = rule.actions
        return Classification(
            kind: a.kind.flatMap(TicketKind.init(configName:)) ?? defaultKind, service: a.service, impact: a.impact,
            urgency: a.urgency, group: a.group, disposition: a.action ?? .create, rule: rule.name)
    }
}

extension TicketKind {
    /// Accepts the names people write in configuration and commands: `incident`, `request`, `service_request`,
    /// `problem`, `change`.
    public init?(configName: String) {
        switch configName.lowercased() {
        case "incident": self = .incident
        case "request", "service_request", "service-request", "servicerequest": self = .serviceRequest
        case "problem": self = .problem
        case "change": self = .change
        default: return nil
        }
    }
}
