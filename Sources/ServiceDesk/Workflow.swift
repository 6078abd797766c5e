import Foundation
import MailFormat

/// Something that happened to a ticket, in the past tense; the workflow decides what it means.
public enum TicketEvent: Sendable, Equatable {
    /// A mail opened this ticket.
    case mailReceived(from: MailAddress, messageID: String)
    /// The requester or another participant wrote again.
    case customerReplied(from: MailAddress, messageID: String)
    /// An agent answered; `relayText` is the new text meant for the requester.
    case agentReplied(agent: String, messageID: String, relayText: String)
}

/// What must happen because of a decision, as an imperative; the gateway turns effects into outbox mail.
public enum Effect: Sendable, Equatable {
    case sendAcknowledgement(to: MailAddress)
    case relayAgentReply(agent: String, text: String, to: MailAddress)
}

/// The result of applying one event: the new ticket, the effects to carry out, and the audit lines to keep.
public struct Transition: Sendable, Equatable {
    public var ticket: Ticket
    public var effects: [Effect]
    public var audit: [AuditEntry]
}

/// Why an event could not be applied; nothing is changed when this is thrown.
public enum WorkflowError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyReply(TicketID)

    public var description: String {
        switch self {
        case .emptyReply(let id): return "The reply to \(id) has no text to relay."
        }
    }
}

/// The pure decide function: `(ticket, event, now) -> (ticket', [effect])`. No I/O, so every rule is unit-tested.
public enum Workflow {
    public static func decide(_ ticket: Ticket, _ event: TicketEvent, now: Date) throws(WorkflowError) -> Transition {
        var next = ticket
        next.updatedAt = now
        var effects: [Effect] = []
        var audit: [AuditEntry] = []

        switch event {
        case .mailReceived(let from, let messageID):
            effects.append(.sendAcknowledgement(to: ticket.requester))
            audit.append(
                AuditEntry(
                    ticketID: ticket.id, at: now, actor: from.address, viaMessageID: messageID, action: "created",
                    newValue: ticket.state.rawValue))

        case .customerReplied(let from, let messageID):
            if ticket.state == .resolved || ticket.state == .closed {
                next.state = .inProgress
                next.resolvedAt = nil
                next.closedAt = nil
                audit.append(
                    AuditEntry(
                        ticketID: ticket.id, at: now, actor: from.address, viaMessageID: messageID, action: "reopened",
                        oldValue: ticket.state.rawValue, newValue: next.state.rawValue))
            } else if ticket.state == .pending {
                next.state = .inProgress
                audit.append(
                    AuditEntry(
                        ticketID: ticket.id, at: now, actor: from.address, viaMessageID: messageID, action: "state",
                        oldValue: ticket.state.rawValue, newValue: next.state.rawValue))
            }
            audit.append(
                AuditEntry(
                    ticketID: ticket.id, at: now, actor: from.address, viaMessageID: messageID, action: "customer reply"
                ))

        case .agentReplied(let agent, let messageID, let relayText):
            let text = relayText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw .emptyReply(ticket.id) }
            if next.firstResponseAt == nil { next.firstResponseAt = now }
            if next.assignee == nil {
                next.assignee = agent
                audit.append(
                    AuditEntry(
                        ticketID: ticket.id, at: now, actor: agent, viaMessageID: messageID, action: "assignee",
                        oldValue: nil, newValue: agent))
            }
            if ticket.state == .new || ticket.state == .assigned {
                next.state = .inProgress
                audit.append(
                    AuditEntry(
                        ticketID: ticket.id, at: now, actor: agent, viaMessageID: messageID, action: "state",
                        oldValue: ticket.state.rawValue, newValue: next.state.rawValue))
            }
            effects.append(.relayAgentReply(agent: agent, text: text, to: ticket.requester))
            audit.append(
                AuditEntry(ticketID: ticket.id, at: now, actor: agent, viaMessageID: messageID, action: "agent reply"))
        }
        return Transition(ticket: next, effects: effects, audit: audit)
    }
}
