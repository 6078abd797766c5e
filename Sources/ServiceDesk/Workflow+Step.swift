import Foundation
import MailFormat

/// One event being applied: accumulates the new ticket, effects and audit lines; thrown away on error.
struct WorkflowStep {
    var ticket: Ticket
    let now: Date
    let context: WorkflowContext
    var effects: [Effect] = []
    var audit: [AuditEntry] = []
    /// Who acted and through which mail, for the audit lines.
    var actor = "system"
    var messageID: String?

    init(ticket: Ticket, now: Date, context: WorkflowContext) {
        self.ticket = ticket
        self.now = now
        self.context = context
        self.ticket.updatedAt = now
    }

    var id: TicketID { ticket.id }
    var kind: TicketKind { ticket.kind }

    mutating func log(_ action: String, old: String? = nil, new: String? = nil) {
        audit.append(
            AuditEntry(
                ticketID: id, at: now, actor: actor, viaMessageID: messageID, action: action, oldValue: old,
                newValue: new))
    }

    func invalid(_ attempted: String) -> WorkflowError {
        .invalidTransition(id, kind: kind, state: ticket.state, attempted: attempted)
    }

    // MARK: events

    mutating func apply(_ event: TicketEvent) throws(WorkflowError) {
        switch event {
        case .mailReceived(let from, let messageID):
            (actor, self.messageID) = (from.address, messageID)
            try opened()
        case .customerReplied(let from, let messageID):
            (actor, self.messageID) = (from.address, messageID)
            try customerReplied()
        case .agentReplied(let agent, let messageID, let relayText):
            (actor, self.messageID) = (agent, messageID)
            try agentReplied(agent: agent, text: relayText)
        case .commandGiven(let command, let by, let messageID):
            (actor, self.messageID) = (by.name, messageID)
            try run(command, by: by)
        case .approvalGiven(let approver, let messageID):
            (actor, self.messageID) = (approver.address, messageID)
            try vote(approver, approve: true, reason: nil)
        case .approvalRejected(let approver, let reason, let messageID):
            (actor, self.messageID) = (approver.address, messageID)
            try vote(approver, approve: false, reason: reason)
        case .slaTimerFired:
            break  // handled by Workflow.decide before a WorkflowStep exists
        case .autoCloseDue:
            try autoClose()
        case .linkedProblemResolved(let problem, let resolution):
            actor = problem.description
            guard kind == .incident else { throw invalid("resolution by problem \(problem)") }
            guard ticket.state.isOpen else {
                log("problem resolved; incident already \(ticket.state.rawValue)", new: problem.description)
                return
            }
            try move(to: .resolved, resolution: "Resolved with problem \(problem): \(resolution)")
            effects.append(
                .notifyAgents(assignee: ticket.assignee, group: ticket.assignmentGroup, about: .resolvedByProblem))
        case .workaroundShared(let problem, let workaround):
            actor = problem.description
            guard kind == .incident else { throw invalid("workaround of \(problem)") }
            guard !ticket.state.isFinished else {
                log("workaround not sent; incident closed", new: problem.description)
                return
            }
            effects.append(.sendWorkaround(to: ticket.requester, problem: problem, workaround: workaround))
            log("workaround sent", new: problem.description)
        case .linkedToProblem(let problem, let by):
            actor = by
            guard kind == .incident else { throw .cannotLink(id, problem) }
            guard ticket.linkedProblem != problem else { throw .alreadyLinked(id, problem) }
            log("linked problem", old: ticket.linkedProblem?.description, new: problem.description)
            ticket.linkedProblem = problem
        case .incidentLinked(let incident, let by):
            actor = by
            guard kind == .problem else { throw .cannotLink(id, incident) }
            guard !ticket.linkedIncidents.contains(incident) else { throw .alreadyLinked(id, incident) }
            ticket.linkedIncidents.append(incident)
            log("linked incident", new: incident.description)
        case .openedFromIncident(let incident, let by, let messageID):
            (actor, self.messageID) = (by, messageID)
            guard kind == .problem, ticket.state == .new, ticket.linkedIncidents.isEmpty else {
                throw invalid("opening from \(incident)")
            }
            ticket.linkedIncidents = [incident]
            log("created from incident", new: incident.description)
        }
    }

    mutating func opened() throws(WorkflowError) {
        guard ticket.state == .new || ticket.state == kind.initialState else { throw invalid("opening") }
        ticket.state = kind.initialState
        effects.append(.sendAcknowledgement(to: ticket.requester))
        log("created", new: ticket.state.rawValue)
        if kind == .serviceRequest, let type = requestType(), type.requiresApproval {
            log("state", old: ticket.state.rawValue, new: TicketState.awaitingApproval.rawValue)
            try startApproval()
        }
    }

    mutating func customerReplied() throws(WorkflowError) {
        let state = ticket.state
        if state.isResolved || state == .closed, let working = kind.workingState, kind != .problem {
            if state == .closed, let days = context.reopenClosedWithinDays, let closedAt = ticket.closedAt,
                now.timeIntervalSince(closedAt) > TimeInterval(days) * 86_400
            {
                throw .reopenWindowExpired(id, closedAt: closedAt)
            }
            try reopen(to: working, action: "reopened")
        } else if state == .pending, let working = kind.workingState {
            try move(to: working)
        }
        log("customer reply")
    }

    mutating func agentReplied(agent: String, text: String) throws(WorkflowError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .emptyReply(id) }
        if ticket.firstResponseAt == nil { ticket.firstResponseAt = now }
        if ticket.assignee == nil {
            log("assignee", old: nil, new: agent)
            ticket.assignee = agent
        }
        if kind == .incident && (ticket.state == .new || ticket.state == .assigned) {
            try move(to: .inProgress)
        } else if kind == .serviceRequest && ticket.state == .submitted {
            try move(to: .inFulfilment)
        }
        effects.append(.relayAgentReply(agent: agent, text: trimmed, to: ticket.requester))
        log("agent reply")
    }

    mutating func autoClose() throws(WorkflowError) {
        guard ticket.state.isResolved, let resolvedAt = ticket.resolvedAt else { throw invalid("auto-close") }
        let due = resolvedAt.addingTimeInterval(TimeInterval(context.autoCloseAfterDays) * 86_400)
        guard now >= due else { throw .autoCloseNotDue(id, dueAt: due) }
        actor = "system"
        try move(to: .closed, automatically: true)
    }

    // MARK: state changes

    /// Moves to `target`, doing what entering and leaving states means (SLA pause, timestamps, notices).
    mutating func move(
        to target: TicketState, resolution: String? = nil, outcome: ChangeOutcome? = nil, automatically: Bool = false,
        note: String? = nil
    ) throws(WorkflowError) {
        let old = ticket.state
        guard target != old else { throw .alreadyInState(id, old) }
        if old == .pending, let since = ticket.sla.pausedSince {
            ticket.sla.pauses.append(SLAPause(start: since, end: now))
            ticket.sla.pausedSince = nil
            ticket.pendingReason = nil
        }
        ticket.state = target
        log("state", old: old.rawValue, new: target.rawValue)
        let toRequester = kind == .incident || kind == .serviceRequest
        switch target {
        case .pending:
            ticket.sla.pausedSince = now
            ticket.pendingReason = note
            if toRequester { effects.append(.notifyRequesterOfStatus(to: ticket.requester, state: target, note: note)) }
        case .resolved, .fulfilled:
            ticket.resolvedAt = now
            // A resolution notice is an answer too: it stops the first-response clock.
            if toRequester && ticket.firstResponseAt == nil { ticket.firstResponseAt = now }
            ticket.resolution = resolution
            if toRequester { effects.append(.sendResolvedNotice(to: ticket.requester, resolution: resolution ?? "")) }
            if kind == .problem && !ticket.linkedIncidents.isEmpty {
                effects.append(
                    .resolveLinkedIncidents(
                        problem: id, incidents: ticket.linkedIncidents, resolution: resolution ?? ""))
            }
        case .closed:
            ticket.closedAt = now
            if ticket.resolvedAt == nil && kind != .change { ticket.resolvedAt = now }
            if kind == .change {
                ticket.changeOutcome = outcome
                effects.append(.notifyRequesterOfStatus(to: ticket.requester, state: target, note: outcome?.rawValue))
            } else if toRequester {
                effects.append(.sendClosedNotice(to: ticket.requester, automatically: automatically))
            }
        case .awaitingApproval:
            try startApproval()
        default:
            break
        }
    }

    mutating func reopen(to working: TicketState, action: String) throws(WorkflowError) {
        ticket.resolvedAt = nil
        ticket.closedAt = nil
        ticket.resolution = nil
        ticket.reopenCount += 1
        log(action, old: ticket.state.rawValue, new: working.rawValue)
        try move(to: working)
        effects.append(.notifyAgents(assignee: ticket.assignee, group: ticket.assignmentGroup, about: .reopened))
    }

    // MARK: approvals

    func requestType() -> RequestType? {
        guard let service = ticket.service.flatMap(context.catalog.service(named:)), let name = ticket.requestType
        else { return nil }
        return service.requestType(named: name)
    }

    /// Starts an approval round (state is, or becomes, awaiting_approval); standard changes skip to scheduled.
    mutating func startApproval() throws(WorkflowError) {
        let approvers: [Approver]
        let quorum: Quorum
        if kind == .change {
            let type = ticket.changeType ?? .normal
            if context.changes.isPreapproved(type) {
                ticket.state = .scheduled
                log("pre-approved", old: TicketState.awaitingApproval.rawValue, new: TicketState.scheduled.rawValue)
                return
            }
            (approvers, quorum) = context.changes.board(for: type)
        } else {
            guard let type = requestType(), type.requiresApproval else {
                throw invalid("approval without a request type that requires it")
            }
            (approvers, quorum) = (type.approvers, type.quorum)
        }
        guard !approvers.isEmpty else { throw .noApproversConfigured(id) }
        ticket.state = .awaitingApproval
        ticket.approval = ApprovalRound(approvers: approvers, quorum: quorum, requestedAt: now)
        effects.append(.requestApproval(approvers: approvers, quorum: quorum))
        log("approval requested", new: "\(quorum.rawValue) of \(approvers.map(\.address).joined(separator: ", "))")
    }

    mutating func vote(_ approver: Principal, approve: Bool, reason: String?) throws(WorkflowError) {
        guard ticket.state == .awaitingApproval, var round = ticket.approval, round.decision == nil else {
            throw .noApprovalPending(id)
        }
        guard round.isApprover(approver.address) else { throw .notAnApprover(id, address: approver.address) }
        guard approver.isAuthenticated else { throw .approverNotAuthenticated(id, address: approver.address) }
        guard !round.hasVoted(approver.address) else { throw .alreadyVoted(id, address: approver.address) }
        let vote = ApprovalVote(approver: approver.address, at: now, reason: reason, messageID: messageID)
        if approve { round.approvals.append(vote) } else { round.rejections.append(vote) }
        log(approve ? "approved" : "rejected", new: reason)
        round.decision = round.forcedDecision
        ticket.approval = round
        switch round.decision {
        case .approved:
            try move(to: kind == .change ? .scheduled : .inFulfilment)
            effects.append(.sendApprovalOutcome(to: ticket.requester, outcome: .approved))
            effects.append(
                .notifyAgents(assignee: ticket.assignee, group: ticket.assignmentGroup, about: .approvalGranted))
        case .rejected:
            let why = round.rejections.compactMap(\.reason).joined(separator: "; ")
            try reject(reason: why)
            effects.append(
                .notifyAgents(assignee: ticket.assignee, group: ticket.assignmentGroup, about: .approvalRejected))
        case nil:
            break
        }
    }

    mutating func reject(reason: String) throws(WorkflowError) {
        ticket.rejectionReason = reason
        try move(to: .rejected)
        ticket.closedAt = now
        effects.append(.sendApprovalOutcome(to: ticket.requester, outcome: .rejected(reason: reason)))
    }
}
