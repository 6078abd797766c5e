import Foundation
import MailFormat
import ServiceDesk

/// What `ticketgate mail inspect --json` prints for one message (field names are a documented contract).
public struct InspectView: Encodable, Sendable {
    /// An address as `{name, address}`.
    public struct Address: Encodable, Sendable {
        public var name: String?
        public var address: String
    }

    /// One attachment's facts, without its bytes.
    public struct AttachmentView: Encodable, Sendable {
        public var filename: String?
        public var contentType: String
        public var size: Int
        public var sha256: String
        public var inline: Bool

        enum CodingKeys: String, CodingKey {
            case filename, size, sha256, inline
            case contentType = "content_type"
        }
    }

    /// A delivery status notification's facts.
    public struct BounceView: Encodable, Sendable {
        /// One recipient's outcome.
        public struct Recipient: Encodable, Sendable {
            public var address: String
            public var status: String?
            public var action: String?
        }

        public var originalMessageID: String?
        public var recipients: [Recipient]

        enum CodingKeys: String, CodingKey {
            case recipients
            case originalMessageID = "original_message_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(originalMessageID, forKey: .originalMessageID)
            try container.encode(recipients, forKey: .recipients)
        }
    }

    /// One node of the MIME tree.
    public struct PartView: Encodable, Sendable {
        public var contentType: String
        public var charset: String?
        public var transferEncoding: String
        public var size: Int
        public var children: [PartView]

        enum CodingKeys: String, CodingKey {
            case charset, size, children
            case contentType = "content_type"
            case transferEncoding = "transfer_encoding"
        }

        init(_ part: MIMEPart) {
            contentType = part.contentType
            charset = part.charset
            transferEncoding = part.transferEncoding
            size = part.size
            children = part.children.map(PartView.init)
        }
    }

    public var subject: String
    public var from: [Address]
    public var to: [Address]
    public var cc: [Address]
    public var replyTo: [Address]
    public var date: String?
    public var messageID: String?
    public var inReplyTo: String?
    public var references: [String]
    public var text: String
    public var replyText: String
    public var attachments: [AttachmentView]
    public var parts: PartView
    public var autoSubmitted: Bool
    public var bounce: BounceView?
    public var diagnostics: [String]
    /// The intake decision, when inspected with a configuration (`--config`).
    public var intake: IntakeView?

    enum CodingKeys: String, CodingKey {
        case subject, from, to, cc, date, references, text, attachments, parts, bounce, diagnostics, intake
        case replyTo = "reply_to"
        case messageID = "message_id"
        case inReplyTo = "in_reply_to"
        case replyText = "reply_text"
        case autoSubmitted = "auto_submitted"
    }

    public init(_ message: MailMessage) {
        func addresses(_ list: [MailAddress]) -> [Address] { list.map { Address(name: $0.name, address: $0.address) } }
        subject = message.subject
        from = addresses(message.from)
        to = addresses(message.to)
        cc = addresses(message.cc)
        replyTo = addresses(message.replyTo)
        date = message.date.map { ISO8601.string($0) }
        messageID = message.messageID
        inReplyTo = message.inReplyTo.first
        references = message.references
        text = message.text
        replyText = message.replyText
        attachments = message.attachments.map {
            AttachmentView(
                filename: $0.filename, contentType: $0.contentType, size: $0.size, sha256: $0.sha256, inline: $0.inline)
        }
        parts = PartView(message.parts)
        autoSubmitted = message.autoSubmitted
        bounce = DeliveryReport.parse(message).flatMap { report in
            guard report.kind == .deliveryStatus else { return nil }
            return BounceView(
                originalMessageID: report.originalMessageID,
                recipients: report.recipients.map { .init(address: $0.address, status: $0.status, action: $0.action) })
        }
        diagnostics = message.diagnostics
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subject, forKey: .subject)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(cc, forKey: .cc)
        try container.encode(replyTo, forKey: .replyTo)
        try container.encode(date, forKey: .date)
        try container.encode(messageID, forKey: .messageID)
        try container.encode(inReplyTo, forKey: .inReplyTo)
        try container.encode(references, forKey: .references)
        try container.encode(text, forKey: .text)
        try container.encode(replyText, forKey: .replyText)
        try container.encode(attachments, forKey: .attachments)
        try container.encode(parts, forKey: .parts)
        try container.encode(autoSubmitted, forKey: .autoSubmitted)
        try container.encode(bounce, forKey: .bounce)
        try container.encode(diagnostics, forKey: .diagnostics)
        if let intake { try container.encode(intake, forKey: .intake) }
    }

    /// What the intake would do with the mail: the route, the kind, the rule, trust and commands.
    public struct IntakeView: Encodable, Sendable {
        public var route: String
        public var kind: String?
        public var ticket: String
        public var rule: String?
        public var trustedAgent: Bool
        public var commands: [String]
        public var reason: String
        public var warnings: [String]

        enum CodingKeys: String, CodingKey {
            case route, kind, ticket, rule, commands, reason, warnings
            case trustedAgent = "trusted_agent"
        }

        public init(_ decision: IntakeDecision, commands: [String]) {
            switch decision.route {
            case .existing(let id, let automatic):
                route = automatic ? "attach_automatic" : "existing"
                ticket = id.description
                kind = id.kind.rawValue
            case .new(let classification, let linked):
                route = linked == nil ? "new" : "new_linked"
                ticket = "new"
                kind = classification.kind.rawValue
                rule = classification.rule
            case .bounce(let id):
                route = "bounce"
                ticket = id?.description ?? "none"
            case .ignore:
                route = "ignore"
                ticket = "none"
            case .reject:
                route = "reject"
                ticket = "none"
            }
            trustedAgent = decision.trustedAgent
            self.commands = commands
            reason = decision.reason
            warnings = decision.warnings
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(route, forKey: .route)
            try container.encode(kind, forKey: .kind)
            try container.encode(ticket, forKey: .ticket)
            try container.encode(rule, forKey: .rule)
            try container.encode(trustedAgent, forKey: .trustedAgent)
            try container.encode(commands, forKey: .commands)
            try container.encode(reason, forKey: .reason)
            try container.encode(warnings, forKey: .warnings)
        }
    }

    /// A few lines for a person.
    public func summary(file: String) -> String {
        var lines = ["== \(file)"]
        lines.append("Subject:    \(subject)")
        let senders = from.map { sender in sender.name.map { "\($0) <\(sender.address)>" } ?? sender.address }
        lines.append("From:       \(senders.joined(separator: ", "))")
        lines.append("To:         \(to.map(\.address).joined(separator: ", "))")
        lines.append("Date:       \(date ?? "-")")
        lines.append("Message-ID: \(messageID ?? "-")")
        if let inReplyTo { lines.append("In-Reply-To: \(inReplyTo)") }
        lines.append("Automatic:  \(autoSubmitted ? "yes" : "no")")
        for attachment in attachments {
            lines.append(
                "Attachment: \(attachment.filename ?? "(unnamed)") \(attachment.contentType) \(attachment.size) bytes")
        }
        for diagnostic in diagnostics { lines.append("Note:       \(diagnostic)") }
        if let intake {
            lines.append(
                "Intake:     \(intake.route) → \(intake.ticket) (\(intake.kind ?? "-"))\(intake.rule.map { ", rule \($0)" } ?? "")"
            )
            lines.append("            \(intake.reason)")
            lines.append("            trusted agent: \(intake.trustedAgent ? "yes" : "no")")
            if !intake.commands.isEmpty {
                lines.append("            commands: \(intake.commands.joined(separator: "; "))")
            }
            for warning in intake.warnings { lines.append("Warning:    \(warning)") }
        }
        lines.append("")
        lines.append(replyText.isEmpty ? text : replyText)
        return lines.joined(separator: "\n")
    }
}
