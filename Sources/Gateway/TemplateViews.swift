import Foundation
import ServiceDesk

/// What one template may show: a narrow struct of plain values (never a domain entity), so templates cannot reach
/// into tickets and `templates check` knows every key a template may use (from `sample`).
public protocol TemplateViewModel: Sendable {
    /// The template's file name stem: `templates/<locale>/<templateName>.subject|text|html.mustache`.
    static var templateName: String { get }
    /// Realistic values with every optional field set; used by `templates check` and the golden tests.
    static var sample: Self { get }
    /// Further named samples for the sections a template switches on (golden files `<name>@<variant>.txt`).
    static var variants: [String: Self] { get }
    /// Fields holding a code (`field` → label category in `labels.yaml`); rendering adds `<field>_label`.
    static var labelledFields: [String: String] { get }
    /// The Mustache context; nil or empty optional fields are left out so `{{#field}}` sections skip them.
    var values: [String: Any] { get }
    /// `values` as a queued mail stores them, built without boxing into `Any` (a view queued for every new ticket
    /// offers it); nil to derive them from `values`.
    var storedValues: [String: DeferredMail.Value]? { get }
}

extension TemplateViewModel {
    public static var variants: [String: Self] { [:] }
    public static var labelledFields: [String: String] { [:] }
    public var storedValues: [String: DeferredMail.Value]? { nil }
}

/// Every view model, i.e. every template Ticketgate sends; `templates check` and the golden tests walk this list.
public enum TemplateViews {
    public static var all: [any TemplateViewModel.Type] {
        [
            AcknowledgementView.self, AgentReplyView.self, StatusChangeView.self, ResolvedView.self, ClosedView.self,
            PendingReminderView.self, NewTicketAgentsView.self, SLAEscalationView.self, ApprovalRequestView.self,
            ApprovalOutcomeView.self, DeliveryFailureView.self, RejectedMailView.self, CommandErrorView.self,
            WorkaroundView.self,
        ]
    }
}

/// Builds a Mustache context, dropping nil values and empty strings (an empty string would open a section).
private func context(_ pairs: KeyValuePairs<String, Any?>) -> [String: Any] {
    var values: [String: Any] = [:]
    values.reserveCapacity(pairs.count + 2)  // room for the labels `TemplateSet` adds, without growing
    for (key, value) in pairs {
        guard let value else { continue }
        if let text = value as? String, text.isEmpty { continue }
        values[key] = value
    }
    return values
}

/// Sample signed reference marker (the lead's format: `[TG:<ticket>:<signature>]`).
private let sampleRef = "[TG:INC-000042:ab12cd34]"

/// To the requester when a new incident or service request is recorded (`is_request` switches the wording).
public struct AcknowledgementView: TemplateViewModel {
    public static let templateName = "acknowledgement"
    public static var labelledFields: [String: String] { ["kind": "kind"] }
    public var ticketID: String
    public var subject: String
    public var priority: String
    /// `TicketKind.rawValue`: `incident`, `service_request`, ….
    public var kind: String
    public var requesterName: String?
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, priority: String, kind: String, requesterName: String?,
        instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.priority = priority
        self.kind = kind
        self.requesterName = requesterName
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    /// Built from the typed values, so the Mustache context and a queued mail's values cannot drift apart.
    public var values: [String: Any] { typedValues.mapValues(\.templateValue) }

    public var storedValues: [String: DeferredMail.Value]? { typedValues }

    /// The context as template values; empty texts are left out, as `context` leaves them out.
    private var typedValues: [String: DeferredMail.Value] {
        var values: [String: DeferredMail.Value] = [:]
        values.reserveCapacity(10)
        for (key, text) in [
            ("ticket_id", ticketID), ("subject", subject), ("priority", priority), ("kind", kind),
            ("requester_name", requesterName ?? ""), ("instance_name", instanceName), ("ticket_ref", ticketRef),
        ] where !text.isEmpty {
            values[key] = .text(text)
        }
        values["is_request"] = .flag(kind == "service_request")
        return values
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "Drucker im 2. OG druckt nicht", priority: "P3", kind: "incident",
            requesterName: "Jana Schäfer", instanceName: "IT Service Desk", ticketRef: sampleRef)
    }

    public static var variants: [String: Self] {
        [
            "request": Self(
                ticketID: "REQ-000007", subject: "New laptop for Tom Berger", priority: "P4", kind: "service_request",
                requesterName: nil, instanceName: "IT Service Desk", ticketRef: "[TG:REQ-000007:9f8e7d6c]")
        ]
    }
}

/// An agent's answer relayed to the requester; the reply text is the agent's, the frame stays minimal.
public struct AgentReplyView: TemplateViewModel {
    public static let templateName = "agent_reply"
    public var ticketID: String
    public var subject: String
    public var replyText: String
    public var agentName: String
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, replyText: String, agentName: String, instanceName: String,
        ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.replyText = replyText
        self.agentName = agentName
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "reply_text": replyText, "agent_name": agentName,
            "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes",
            replyText: "Hi Tom,\n\nplease update the VPN client to 5.2 from the portal and restart.\n"
                + "Does the connection still drop after that?\n\nAnna",
            agentName: "Anna Weber", instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}

/// To the requester when the ticket's state changes in a way they should know about.
public struct StatusChangeView: TemplateViewModel {
    public static let templateName = "status_change"
    public static var labelledFields: [String: String] { ["old_status": "state", "new_status": "state"] }
    public var ticketID: String
    public var subject: String
    public var requesterName: String?
    /// `TicketState.rawValue`, e.g. `new`, `in_progress`.
    public var oldStatus: String
    public var newStatus: String
    /// An optional note from the agent, shown below the change.
    public var comment: String?
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, requesterName: String?, oldStatus: String, newStatus: String,
        comment: String?, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.requesterName = requesterName
        self.oldStatus = oldStatus
        self.newStatus = newStatus
        self.comment = comment
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "requester_name": requesterName, "old_status": oldStatus,
            "new_status": newStatus, "comment": comment, "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "Drucker im 2. OG druckt nicht", requesterName: "Jana Schäfer",
            oldStatus: "new", newStatus: "in_progress", comment: "A technician is on the way.",
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}

/// To the requester when the ticket is resolved; replying reopens it (within `reopenDays`, when given).
public struct ResolvedView: TemplateViewModel {
    public static let templateName = "resolved"
    public var ticketID: String
    public var subject: String
    public var requesterName: String?
    public var resolution: String?
    public var reopenDays: Int?
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, requesterName: String?, resolution: String?, reopenDays: Int?,
        instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.requesterName = requesterName
        self.resolution = resolution
        self.reopenDays = reopenDays
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "requester_name": requesterName, "resolution": resolution,
            "reopen_days": reopenDays, "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", requesterName: "Tom Berger",
            resolution: "Updated the VPN client to 5.2; the idle timeout is now 8 hours.", reopenDays: 7,
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}

/// To the requester when the ticket is closed for good.
public struct ClosedView: TemplateViewModel {
    public static let templateName = "closed"
    public var ticketID: String
    public var subject: String
    public var requesterName: String?
    public var instanceName: String
    public var ticketRef: String

    public init(ticketID: String, subject: String, requesterName: String?, instanceName: String, ticketRef: String) {
        self.ticketID = ticketID
        self.subject = subject
        self.requesterName = requesterName
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "requester_name": requesterName,
            "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", requesterName: "Tom Berger",
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}

/// To the requester while a ticket waits for their answer; counts in days so no date needs localising.
public struct PendingReminderView: TemplateViewModel {
    public static let templateName = "pending_reminder"
    public var ticketID: String
    public var subject: String
    public var requesterName: String?
    /// What the service desk asked, if recorded.
    public var question: String?
    public var waitingDays: Int
    /// Days until the ticket is closed without an answer, if the instance does that.
    public var closeAfterDays: Int?
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, requesterName: String?, question: String?, waitingDays: Int,
        closeAfterDays: Int?, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.requesterName = requesterName
        self.question = question
        self.waitingDays = waitingDays
        self.closeAfterDays = closeAfterDays
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "requester_name": requesterName, "question": question,
            "waiting_days": waitingDays, "close_after_days": closeAfterDays, "instance_name": instanceName,
            "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", requesterName: "Tom Berger",
            question: "Does the connection still drop after the update?", waitingDays: 3, closeAfterDays: 7,
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}

/// To the agents when a new ticket arrives; carries the command cheat sheet so agents need no other manual.
public struct NewTicketAgentsView: TemplateViewModel {
    public static let templateName = "new_ticket_agents"
    public static var labelledFields: [String: String] { ["kind": "kind"] }
    public var ticketID: String
    public var subject: String
    public var kind: String
    public var priority: String
    public var requesterName: String?
    public var requesterAddress: String
    public var service: String?
    /// The start of the requester's text (already shortened by the caller).
    public var excerpt: String
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, kind: String, priority: String, requesterName: String?,
        requesterAddress: String, service: String?, excerpt: String, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.kind = kind
        self.priority = priority
        self.requesterName = requesterName
        self.requesterAddress = requesterAddress
        self.service = service
        self.excerpt = excerpt
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "kind": kind, "is_request": kind == "service_request",
            "priority": priority, "requester_name": requesterName, "requester_address": requesterAddress,
            "service": service, "excerpt": excerpt, "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", kind: "incident", priority: "P2",
            requesterName: "Tom Berger", requesterAddress: "tom.berger@example.test", service: "VPN",
            excerpt: "Since this morning my VPN connection drops every 10 minutes. I have to log in again each time.",
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}

/// To the assignee (or the escalation group) when an SLA target is close (`isBreached` false) or missed.
public struct SLAEscalationView: TemplateViewModel {
    public static let templateName = "sla_escalation"
    public static var labelledFields: [String: String] { ["target": "sla_target"] }
    public var ticketID: String
    public var subject: String
    public var priority: String
    /// `response` or `resolution`.
    public var target: String
    public var isBreached: Bool
    /// The deadline as the caller formats it (instance time zone), e.g. `2025-03-04 14:00 CET`.
    public var dueAt: String
    public var assigneeName: String?
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, priority: String, target: String, isBreached: Bool, dueAt: String,
        assigneeName: String?, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.priority = priority
        self.target = target
        self.isBreached = isBreached
        self.dueAt = dueAt
        self.assigneeName = assigneeName
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "priority": priority, "target": target,
            "is_breached": isBreached, "due_at": dueAt, "assignee_name": assigneeName, "instance_name": instanceName,
            "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", priority: "P2", target: "resolution",
            isBreached: true, dueAt: "2025-03-04 14:00 CET", assigneeName: "Anna Weber",
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }

    public static var variants: [String: Self] {
        var warning = sample
        warning.isBreached = false
        warning.target = "response"
        warning.assigneeName = nil
        return ["warning": warning]
    }
}

/// To an approver when a service request needs their decision; they answer with `/approve` or `/reject`.
public struct ApprovalRequestView: TemplateViewModel {
    public static let templateName = "approval_request"
    public var ticketID: String
    public var subject: String
    public var approverName: String?
    public var requesterName: String
    public var service: String?
    public var details: String
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, approverName: String?, requesterName: String, service: String?,
        details: String, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.approverName = approverName
        self.requesterName = requesterName
        self.service = service
        self.details = details
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "approver_name": approverName, "requester_name": requesterName,
            "service": service, "details": details, "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "REQ-000007", subject: "New laptop for Tom Berger", approverName: "Maria Keller",
            requesterName: "Tom Berger", service: "Hardware",
            details: "Standard developer laptop (32 GB RAM), replaces a 5-year-old device.",
            instanceName: "IT Service Desk", ticketRef: "[TG:REQ-000007:9f8e7d6c]")
    }
}

/// To the requester once an approver decided on their request.
public struct ApprovalOutcomeView: TemplateViewModel {
    public static let templateName = "approval_outcome"
    public var ticketID: String
    public var subject: String
    public var requesterName: String?
    public var approved: Bool
    public var approverName: String
    public var reason: String?
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, requesterName: String?, approved: Bool, approverName: String,
        reason: String?, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.requesterName = requesterName
        self.approved = approved
        self.approverName = approverName
        self.reason = reason
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "requester_name": requesterName, "is_approved": approved,
            "approver_name": approverName, "reason": reason, "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "REQ-000007", subject: "New laptop for Tom Berger", requesterName: "Tom Berger", approved: true,
            approverName: "Maria Keller", reason: "Budget confirmed for Q2.", instanceName: "IT Service Desk",
            ticketRef: "[TG:REQ-000007:9f8e7d6c]")
    }

    public static var variants: [String: Self] {
        var rejected = sample
        rejected.approved = false
        rejected.reason = "Please use the pool laptop until the hardware refresh in autumn."
        return ["rejected": rejected]
    }
}

/// To the assignee when a mail for their ticket could not be delivered (a permanent SMTP failure).
public struct DeliveryFailureView: TemplateViewModel {
    public static let templateName = "delivery_failure"
    public var ticketID: String
    public var subject: String
    public var assigneeName: String?
    public var recipient: String
    /// The SMTP reply code, e.g. 550.
    public var code: Int
    public var detail: String
    /// The subject of the mail that failed.
    public var failedSubject: String
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, assigneeName: String?, recipient: String, code: Int, detail: String,
        failedSubject: String, instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.assigneeName = assigneeName
        self.recipient = recipient
        self.code = code
        self.detail = detail
        self.failedSubject = failedSubject
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "assignee_name": assigneeName, "recipient": recipient,
            "code": code, "detail": detail, "failed_subject": failedSubject, "instance_name": instanceName,
            "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", assigneeName: "Anna Weber",
            recipient: "tom.berger@example.test", code: 550, detail: "5.1.1 <tom.berger@example.test>: user unknown",
            failedSubject: "Re: [INC-000042] VPN drops every 10 minutes", instanceName: "IT Service Desk",
            ticketRef: sampleRef)
    }
}

/// To the sender of a mail that was not turned into a ticket (too large, sender not allowed, unreadable).
public struct RejectedMailView: TemplateViewModel {
    /// Why the mail was refused; each reason has its own paragraph in the template.
    public enum Reason: String, Sendable {
        case oversize
        case senderNotAllowed = "sender_not_allowed"
        case unreadable
    }

    public static let templateName = "rejected_mail"
    public var senderName: String?
    public var originalSubject: String
    public var reason: Reason
    /// The size limit as people read it, e.g. `25 MB` (for `oversize`).
    public var sizeLimit: String?
    public var supportAddress: String
    public var instanceName: String

    public init(
        senderName: String?, originalSubject: String, reason: Reason, sizeLimit: String?, supportAddress: String,
        instanceName: String
    ) {
        self.senderName = senderName
        self.originalSubject = originalSubject
        self.reason = reason
        self.sizeLimit = sizeLimit
        self.supportAddress = supportAddress
        self.instanceName = instanceName
    }

    public var values: [String: Any] {
        context([
            "sender_name": senderName, "original_subject": originalSubject, "reason": reason.rawValue,
            "is_oversize": reason == .oversize, "is_sender_not_allowed": reason == .senderNotAllowed,
            "is_unreadable": reason == .unreadable, "size_limit": sizeLimit, "support_address": supportAddress,
            "instance_name": instanceName,
        ])
    }

    public static var sample: Self {
        Self(
            senderName: "Jana Schäfer", originalSubject: "Scans vom Meeting", reason: .oversize, sizeLimit: "25 MB",
            supportAddress: "support@example.test", instanceName: "IT Service Desk")
    }

    public static var variants: [String: Self] {
        [
            "sender_not_allowed": Self(
                senderName: nil, originalSubject: "Invoice 2025-117", reason: .senderNotAllowed, sizeLimit: nil,
                supportAddress: "support@example.test", instanceName: "IT Service Desk"),
            "unreadable": Self(
                senderName: "Tom Berger", originalSubject: "Screenshot", reason: .unreadable, sizeLimit: nil,
                supportAddress: "support@example.test", instanceName: "IT Service Desk"),
        ]
    }
}

/// To an agent whose mail command could not be carried out; quotes the command and says why.
public struct CommandErrorView: TemplateViewModel {
    public static let templateName = "command_error"
    public var agentName: String?
    public var command: String
    public var error: String
    public var ticketID: String?
    public var subject: String?
    public var instanceName: String
    public var ticketRef: String?

    public init(
        agentName: String?, command: String, error: String, ticketID: String?, subject: String?,
        instanceName: String, ticketRef: String?
    ) {
        self.agentName = agentName
        self.command = command
        self.error = error
        self.ticketID = ticketID
        self.subject = subject
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "agent_name": agentName, "command": command, "error": error, "ticket_id": ticketID, "subject": subject,
            "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            agentName: "Anna Weber", command: "/priority P7", error: "The priority must be P1 to P5.",
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", instanceName: "IT Service Desk",
            ticketRef: sampleRef)
    }

    public static var variants: [String: Self] {
        [
            "no_ticket": Self(
                agentName: nil, command: "/close", error: "This mail does not belong to a ticket.", ticketID: nil,
                subject: nil, instanceName: "IT Service Desk", ticketRef: nil)
        ]
    }
}

/// To the requesters of incidents linked to a known error, with the workaround until the fix.
public struct WorkaroundView: TemplateViewModel {
    public static let templateName = "workaround"
    public var ticketID: String
    public var subject: String
    public var requesterName: String?
    public var problemID: String
    public var workaround: String
    public var instanceName: String
    public var ticketRef: String

    public init(
        ticketID: String, subject: String, requesterName: String?, problemID: String, workaround: String,
        instanceName: String, ticketRef: String
    ) {
        self.ticketID = ticketID
        self.subject = subject
        self.requesterName = requesterName
        self.problemID = problemID
        self.workaround = workaround
        self.instanceName = instanceName
        self.ticketRef = ticketRef
    }

    public var values: [String: Any] {
        context([
            "ticket_id": ticketID, "subject": subject, "requester_name": requesterName, "problem_id": problemID,
            "workaround": workaround, "instance_name": instanceName, "ticket_ref": ticketRef,
        ])
    }

    public static var sample: Self {
        Self(
            ticketID: "INC-000042", subject: "VPN drops every 10 minutes", requesterName: "Tom Berger",
            problemID: "PRB-000003",
            workaround: "Switch the VPN client to TCP mode: Settings → Connection → Protocol → TCP.",
            instanceName: "IT Service Desk", ticketRef: sampleRef)
    }
}
