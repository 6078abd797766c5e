import Foundation
import MailFormat

/// Who acted: an agent or approver as identified by intake (named `Principal`, not `Actor`, to leave Swift's `Actor`
/// protocol unshadowed). `isAuthenticated` is intake's verdict on the mail (`IntakeDecision.trustedAgent`, DKIM/DMARC
/// per the trust rules); approvals from unauthenticated senders are refused.
public struct Principal: Sendable, Hashable, Codable {
    public var name: String
    public var address: String
    public var isAuthenticated: Bool

    public init(name: String, address: String, isAuthenticated: Bool) {
        self.name = name
        self.address = address
        self.isAuthenticated = isAuthenticated
    }

    public var mailAddress: MailAddress { MailAddress(name: name, address: address) }
}

/// Something that happened to a ticket, in the past tense; the workflow decides what it means.
public enum TicketEvent: Sendable, Equatable {
    /// A mail opened this ticket.
    case mailReceived(from: MailAddress, messageID: String)
    /// The requester or another participant wrote again.
    case customerReplied(from: MailAddress, messageID: String)
    /// An agent answered; `relayText` is the new text meant for the requester.
    case agentReplied(agent: String, messageID: String, relayText: String)
    /// An agent gave one command (see `Workflow.apply(_:to:by:messageID:now:context:)` for a mail's whole list).
    case commandGiven(AgentCommand, by: Principal, messageID: String?)
    /// A named approver approved the pending approval round.
    case approvalGiven(approver: Principal, messageID: String?)
    /// A named approver rejected the pending approval round.
    case approvalRejected(approver: Principal, reason: String, messageID: String?)
    /// The periodic tick: SLA thresholds are checked (idempotently).
    case slaTimerFired
    /// The tick found the auto-close period of a resolved ticket over.
    case autoCloseDue
    /// The problem this incident is linked to was resolved.
    case linkedProblemResolved(problem: TicketID, resolution: String)
    /// The problem this incident is linked to published its workaround.
    case workaroundShared(problem: TicketID, workaround: String)
    /// This incident was linked to a problem from the problem's side.
    case linkedToProblem(problem: TicketID, by: String)
    /// An incident was linked to this problem from the incident's side.
    case incidentLinked(incident: TicketID, by: String)
    /// This new problem was opened with `/problem` from an incident.
    case openedFromIncident(incident: TicketID, by: String, messageID: String?)
}

/// What agents are told about; the gateway picks the template by this.
public enum AgentNotice: String, Sendable, Codable, CaseIterable {
    case assigned
    case customerReplied = "customer_replied"
    case reopened
    case approvalGranted = "approval_granted"
    case approvalRejected = "approval_rejected"
    case resolvedByProblem = "resolved_by_problem"
}

/// What must happen because of a decision, as an imperative; the gateway turns effects into outbox mail. Effects
/// concern the transition's ticket unless they name other tickets; `followUps(from:)` turns those into events.
public enum Effect: Sendable, Equatable {
    case sendAcknowledgement(to: MailAddress)
    case relayAgentReply(agent: String, text: String, to: MailAddress)
    /// Tell the requester the ticket changed state (e.g. pending: "we wait for you").
    case notifyRequesterOfStatus(to: MailAddress, state: TicketState, note: String?)
    case sendResolvedNotice(to: MailAddress, resolution: String)
    /// `automatically` is true when the auto-close period ran out.
    case sendClosedNotice(to: MailAddress, automatically: Bool)
    /// Tell the assignee (or, without one, the assignment group) about something.
    case notifyAgents(assignee: String?, group: String?, about: AgentNotice)
    /// An SLA threshold was crossed: `level` is the 1-based position of the rule in the policy.
    case escalate(level: Int, to: EscalationTarget, metric: SLAMetric, percent: Int)
    /// Mail each approver an approval request (they answer `/approve` or `/reject <reason>`).
    case requestApproval(approvers: [Approver], quorum: Quorum)
    case sendApprovalOutcome(to: MailAddress, outcome: ApprovalOutcome)
    case sendWorkaround(to: MailAddress, problem: TicketID, workaround: String)
    /// Cross-ticket: deliver `workaroundShared` to each incident.
    case shareWorkaround(problem: TicketID, incidents: [TicketID], workaround: String)
    /// Cross-ticket: deliver `linkedProblemResolved` to each incident.
    case resolveLinkedIncidents(problem: TicketID, incidents: [TicketID], resolution: String)
    /// Cross-ticket: record the link on the other side.
    case linkTickets(incident: TicketID, problem: TicketID, by: String)
    /// Create a problem ticket, then deliver `openedFromIncident` to it and `linkedToProblem` to the incident.
    case openProblem(from: TicketID, subject: String, by: String)
    /// Mail the agent what was wrong with their commands; nothing was applied.
    case sendCommandError(to: MailAddress, message: String)
}

/// An event to deliver to another ticket because of an effect.
public struct FollowUp: Sendable, Equatable {
    public var ticket: TicketID
    public var event: TicketEvent

    public init(ticket: TicketID, event: TicketEvent) {
        self.ticket = ticket
        self.event = event
    }
}

extension Effect {
    /// The events other tickets must receive because of this effect of `source`'s transition (empty for mail
    /// effects). `openProblem` is not listed: the gateway must first create the problem to know its id.
    public func followUps(from source: TicketID) -> [FollowUp] {
        switch self {
        case .shareWorkaround(let problem, let incidents, let text):
            return incidents.map { FollowUp(ticket: $0, event: .workaroundShared(problem: problem, workaround: text)) }
        case .resolveLinkedIncidents(let problem, let incidents, let text):
            return incidents.map {
                FollowUp(ticket: $0, event: .linkedProblemResolved(problem: problem, resolution: text))
            }
        case .linkTickets(let incident, let problem, let by):
            if source == incident {
                return [FollowUp(ticket: problem, event: .incidentLinked(incident: incident, by: by))]
            }
            return [FollowUp(ticket: incident, event: .linkedToProblem(problem: problem, by: by))]
        default:
            return []
        }
    }
}

/// The result of applying one event: the new ticket, the effects to carry out, and the audit lines to keep.
public struct Transition: Sendable, Equatable {
    public var ticket: Ticket
    public var effects: [Effect]
    public var audit: [AuditEntry]

    public init(ticket: Ticket, effects: [Effect], audit: [AuditEntry]) {
        self.ticket = ticket
        self.effects = effects
        self.audit = audit
    }
}

/// Why an event could not be applied; nothing is changed when this is thrown.
public enum WorkflowError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyReply(TicketID)
    /// The event or command makes no sense for this kind in this state.
    case invalidTransition(TicketID, kind: TicketKind, state: TicketState, attempted: String)
    case alreadyInState(TicketID, TicketState)
    case noApprovalPending(TicketID)
    case notAnApprover(TicketID, address: String)
    case approverNotAuthenticated(TicketID, address: String)
    case alreadyVoted(TicketID, address: String)
    case noApproversConfigured(TicketID)
    case outcomeRequired(TicketID)
    case outcomeOnlyForChanges(TicketID)
    case cannotLink(TicketID, TicketID)
    case alreadyLinked(TicketID, TicketID)
    case unknownService(String)
    case unknownRequestType(service: String, requestType: String)
    case unknownAssignee(String)
    case cannotReclassify(TicketID, from: TicketKind, to: TicketKind)
    case noWorkaround(TicketID)
    case autoCloseNotDue(TicketID, dueAt: Date)
    case reopenWindowExpired(TicketID, closedAt: Date)

    public var description: String {
        switch self {
        case .emptyReply(let id): return "The reply to \(id) has no text to relay."
        case .invalidTransition(let id, let kind, let state, let attempted):
            return "\(id) is a \(kind.rawValue) in state \(state.rawValue); \(attempted) is not possible there."
        case .alreadyInState(let id, let state): return "\(id) is already \(state.rawValue)."
        case .noApprovalPending(let id): return "\(id) is not waiting for an approval."
        case .notAnApprover(let id, let address): return "\(address) is not an approver of \(id)."
        case .approverNotAuthenticated(let id, let address):
            return "The approval of \(id) from \(address) is not authenticated (no DKIM/DMARC pass) and was ignored."
        case .alreadyVoted(let id, let address): return "\(address) has already voted on \(id)."
        case .noApproversConfigured(let id): return "No approvers are configured for \(id)."
        case .outcomeRequired(let id):
            return "Closing change \(id) needs an outcome: /close successful, /close failed or /close rolled_back."
        case .outcomeOnlyForChanges(let id): return "Only changes are closed with an outcome; \(id) is not a change."
        case .cannotLink(let a, let b): return "\(a) cannot be linked to \(b): only incidents and problems link."
        case .alreadyLinked(let a, let b): return "\(a) is already linked to \(b)."
        case .unknownService(let name): return "There is no service '\(name)' in the catalog."
        case .unknownRequestType(let service, let type):
            return "Service '\(service)' has no request type '\(type)'."
        case .unknownAssignee(let name): return "'\(name)' is neither a configured agent nor a group."
        case .cannotReclassify(let id, let from, let to):
            return "\(id) cannot change from \(from.rawValue) to \(to.rawValue) in its current state."
        case .noWorkaround(let id): return "\(id) has no workaround recorded (use /workaround <text>)."
        case .autoCloseNotDue(let id, let due): return "\(id) is not due for auto-close before \(due)."
        case .reopenWindowExpired(let id, let closedAt):
            return "\(id) was closed at \(closedAt), too long ago to reopen; open a new ticket linked to it."
        }
    }
}

/// A command of an agent's mail failed, so none of the mail's commands were applied.
public struct CommandFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var command: AgentCommand
    /// 0-based position of the failed command in the mail's command list.
    public var index: Int
    public var error: WorkflowError

    public init(command: AgentCommand, index: Int, error: WorkflowError) {
        self.command = command
        self.index = index
        self.error = error
    }

    public var description: String { "\(command): \(error.description) Nothing was changed." }
}

/// The configuration the workflow consults: catalog, SLAs, calendars, change board, matrix and periods.
public struct WorkflowContext: Sendable, Equatable {
    public var catalog: ServiceCatalog
    public var slaPolicies: [SLAPolicy]
    public var calendars: [BusinessCalendar]
    public var changes: ChangePolicy
    public var priorityMatrix: PriorityMatrix
    /// Policy used when the ticket's service names none (or the ticket has no service).
    public var defaultSLAPolicy: String?
    /// Days after resolution before a resolved ticket is closed automatically.
    public var autoCloseAfterDays: Int
    /// A customer reply reopens a closed ticket only within this many days; nil = always.
    public var reopenClosedWithinDays: Int?
    /// Configured group names (`agents[].groups`), so `/assign` can tell groups from agents.
    public var groups: Set<String>
    /// Configured agent names and addresses; when empty, `/assign` accepts any name.
    public var agents: Set<String>

    public init(
        catalog: ServiceCatalog = ServiceCatalog(), slaPolicies: [SLAPolicy] = [], calendars: [BusinessCalendar] = [],
        changes: ChangePolicy = ChangePolicy(), priorityMatrix: PriorityMatrix = .itil, defaultSLAPolicy: String? = nil,
        autoCloseAfterDays: Int = 7, reopenClosedWithinDays: Int? = nil, groups: Set<String> = [],
        agents: Set<String> = []
    ) {
        self.catalog = catalog
        self.slaPolicies = slaPolicies
        self.calendars = calendars
        self.changes = changes
        self.priorityMatrix = priorityMatrix
        self.defaultSLAPolicy = defaultSLAPolicy
        self.autoCloseAfterDays = autoCloseAfterDays
        self.reopenClosedWithinDays = reopenClosedWithinDays
        self.groups = groups
        self.agents = agents
    }

    /// The SLA policy and business calendar that apply to a ticket, if any.
    public func sla(for ticket: Ticket) -> (policy: SLAPolicy, calendar: BusinessCalendar)? {
        let service = ticket.service.flatMap(catalog.service(named:))
        guard let name = service?.slaPolicy ?? defaultSLAPolicy,
            let policy = slaPolicies.first(where: { $0.name == name })
        else { return nil }
        let calendarName = service?.calendar ?? policy.calendar
        let calendar = calendarName.flatMap { n in calendars.first { $0.name == n } } ?? BusinessCalendar.aroundTheClock
        return (policy, calendar)
    }
}

extension BusinessCalendar {
    /// Every minute counts (UTC, no holidays): the fallback when a policy names no calendar.
    public static let aroundTheClock: BusinessCalendar = {
        let all = BusinessHours(startMinute: 0, endMinute: 1440)
        return try! BusinessCalendar(
            name: "24x7", timeZone: "UTC", hours: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, [all]) })
        )
    }()
}

/// The pure decide function: `(ticket, event, now) -> (ticket', [effect])`. No I/O, so every rule is unit-tested.
public enum Workflow {
    /// Applies one event with the default context (no catalog, SLAs or change board).
    public static func decide(_ ticket: Ticket, _ event: TicketEvent, now: Date) throws(WorkflowError) -> Transition {
        try decide(ticket, event, now: now, context: WorkflowContext())
    }

    /// Applies one event. Throws, changing nothing, when the event is not valid for the ticket's kind and state.
    public static func decide(
        _ ticket: Ticket, _ event: TicketEvent, now: Date, context: WorkflowContext
    ) throws(WorkflowError) -> Transition {
        if case .slaTimerFired = event {
            guard let (policy, calendar) = context.sla(for: ticket) else {
                return Transition(ticket: ticket, effects: [], audit: [])
            }
            return SLA.evaluate(ticket, now: now, policy: policy, calendar: calendar)
        }
        var step = WorkflowStep(ticket: ticket, now: now, context: context)
        try step.apply(event)
        if let (policy, calendar) = context.sla(for: step.ticket) {
            step.audit += SLA.recordBreaches(&step.ticket, now: now, policy: policy, calendar: calendar)
        }
        return Transition(ticket: step.ticket, effects: step.effects, audit: step.audit)
    }

    /// The periodic tick for one ticket: SLA escalations and auto-close when due. Never throws; an idle tick yields
    /// no effects and no audit lines (only SLA bookkeeping such as the policy name may be filled in).
    public static func tick(_ ticket: Ticket, now: Date, context: WorkflowContext) -> Transition {
        var result =
            (try? decide(ticket, .slaTimerFired, now: now, context: context))
            ?? Transition(ticket: ticket, effects: [], audit: [])
        if let closed = try? decide(result.ticket, .autoCloseDue, now: now, context: context) {
            result = Transition(
                ticket: closed.ticket, effects: result.effects + closed.effects, audit: result.audit + closed.audit)
        }
        return result
    }

    /// Applies an agent mail's commands in order, all or nothing: the first failing command is reported and the
    /// ticket stays as it was.
    public static func apply(
        _ commands: [AgentCommand], to ticket: Ticket, by actor: Principal, messageID: String?, now: Date,
        context: WorkflowContext
    ) throws(CommandFailure) -> Transition {
        var current = Transition(ticket: ticket, effects: [], audit: [])
        for (index, command) in commands.enumerated() {
            do {
                let next = try decide(
                    current.ticket, .commandGiven(command, by: actor, messageID: messageID), now: now,
                    context: context)
                current = Transition(
                    ticket: next.ticket, effects: current.effects + next.effects, audit: current.audit + next.audit)
            } catch {
                throw CommandFailure(command: command, index: index, error: error)
            }
        }
        return current
    }

    /// The whole handling of an agent's reply: parse the command block, apply it all-or-nothing, then relay the
    /// remaining text unless it is a `/note`. Bad commands change nothing and mail the agent an error.
    public static func handleAgentMail(
        _ ticket: Ticket, from actor: Principal, messageID: String, text: String, now: Date, context: WorkflowContext
    ) -> AgentMailResult {
        func refused(_ message: String) -> AgentMailResult {
            let audit = AuditEntry(
                ticketID: ticket.id, at: now, actor: actor.address, viaMessageID: messageID, action: "commands refused",
                newValue: message)
            return AgentMailResult(
                transition: Transition(
                    ticket: ticket, effects: [.sendCommandError(to: actor.mailAddress, message: message)],
                    audit: [audit]), parsed: nil)
        }
        let parsed: ParsedCommands
        do {
            parsed = try AgentCommand.parse(text: text)
        } catch {
            return refused(error.description)
        }
        var result: Transition
        do {
            result = try apply(parsed.commands, to: ticket, by: actor, messageID: messageID, now: now, context: context)
        } catch {
            return refused(error.description)
        }
        let body = parsed.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if parsed.isInternal {
            result.audit.append(
                AuditEntry(
                    ticketID: ticket.id, at: now, actor: actor.name, viaMessageID: messageID, action: "internal note"))
        } else if !body.isEmpty {
            if let reply = try? decide(
                result.ticket, .agentReplied(agent: actor.name, messageID: messageID, relayText: body), now: now,
                context: context)
            {
                // The agent's words go out before any notices their commands caused.
                result = Transition(
                    ticket: reply.ticket, effects: reply.effects + result.effects, audit: result.audit + reply.audit)
            }
        }
        return AgentMailResult(transition: result, parsed: parsed)
    }
}

/// What `Workflow.handleAgentMail` did: the transition (possibly only an error mail) and the parsed mail, if the
/// commands were valid (`parsed.isInternal` tells the gateway to store the article as internal).
public struct AgentMailResult: Sendable, Equatable {
    public var transition: Transition
    public var parsed: ParsedCommands?

    public init(transition: Transition, parsed: ParsedCommands?) {
        self.transition = transition
        self.parsed = parsed
    }
}
