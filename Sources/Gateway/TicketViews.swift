import Foundation
import MailFormat
import ServiceDesk

/// The JSON shape of a ticket for `tickets list --json` (field names are a documented contract).
public struct TicketSummaryView: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var state: String
    public var subject: String
    public var requester: String
    public var requesterName: String?
    public var priority: String
    public var assignee: String?
    public var createdAt: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, kind, state, subject, requester, priority, assignee
        case requesterName = "requester_name"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(_ ticket: Ticket) {
        id = ticket.id.description
        kind = ticket.kind.rawValue
        state = ticket.state.rawValue
        subject = ticket.subject
        requester = ticket.requester.address
        requesterName = ticket.requester.name
        priority = ticket.priority.description
        assignee = ticket.assignee
        createdAt = ISO8601.string(ticket.createdAt)
        updatedAt = ISO8601.string(ticket.updatedAt)
    }
}

/// One article in `tickets show --json`.
public struct ArticleView: Codable, Sendable, Equatable {
    public var direction: String
    public var author: String
    public var from: String
    public var fromName: String?
    public var to: [String]
    public var subject: String
    public var messageID: String
    public var text: String
    public var `internal`: Bool
    public var createdAt: String
    /// An outgoing mail queued and not rendered yet: its subject and text are filled in when it is sent.
    public var queued: Bool

    enum CodingKeys: String, CodingKey {
        case direction, author, from, to, subject, text, `internal`, queued
        case fromName = "from_name"
        case messageID = "message_id"
        case createdAt = "created_at"
    }

    public init(_ article: Article) {
        direction = article.direction.rawValue
        author = article.author.rawValue
        from = article.from.address
        fromName = article.from.name
        to = article.to.map(\.address)
        subject = article.subject
        messageID = article.messageID
        text = article.text
        `internal` = article.isInternal
        createdAt = ISO8601.string(article.createdAt)
        // Rendered subjects are never empty (`templates check` refuses such templates).
        queued = article.direction == .outbound && article.subject.isEmpty && article.text.isEmpty
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        direction = try c.decode(String.self, forKey: .direction)
        author = try c.decode(String.self, forKey: .author)
        from = try c.decode(String.self, forKey: .from)
        fromName = try c.decodeIfPresent(String.self, forKey: .fromName)
        to = try c.decode([String].self, forKey: .to)
        subject = try c.decode(String.self, forKey: .subject)
        messageID = try c.decode(String.self, forKey: .messageID)
        text = try c.decode(String.self, forKey: .text)
        `internal` = try c.decode(Bool.self, forKey: .internal)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        queued = try c.decodeIfPresent(Bool.self, forKey: .queued) ?? false
    }
}

/// One audit line in `tickets show --json`.
public struct AuditView: Codable, Sendable, Equatable {
    public var at: String
    public var actor: String
    public var action: String
    public var old: String?
    public var new: String?
    public var viaMessageID: String?

    enum CodingKeys: String, CodingKey {
        case at, actor, action, old, new
        case viaMessageID = "via_message_id"
    }

    public init(_ entry: AuditEntry) {
        at = ISO8601.string(entry.at)
        actor = entry.actor
        action = entry.action
        old = entry.oldValue
        new = entry.newValue
        viaMessageID = entry.viaMessageID
    }
}

/// `tickets show --json`: the summary fields plus articles and the audit trail.
public struct TicketDetailView: Codable, Sendable, Equatable {
    public var ticket: TicketSummaryView
    public var articles: [ArticleView]
    public var audit: [AuditView]

    public init(ticket: Ticket, articles: [Article], audit: [AuditEntry]) {
        self.ticket = TicketSummaryView(ticket)
        self.articles = articles.map(ArticleView.init)
        self.audit = audit.map(AuditView.init)
    }

    enum CodingKeys: String, CodingKey {
        case articles, audit
    }

    public func encode(to encoder: any Encoder) throws {
        try ticket.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(articles, forKey: .articles)
        try container.encode(audit, forKey: .audit)
    }

    public init(from decoder: any Decoder) throws {
        ticket = try TicketSummaryView(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        articles = try container.decode([ArticleView].self, forKey: .articles)
        audit = try container.decodeIfPresent([AuditView].self, forKey: .audit) ?? []
    }
}

/// ISO 8601 with seconds and UTC offset, the format every JSON timestamp uses.
enum ISO8601 {
    static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// Stable, pretty JSON for the CLI.
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
