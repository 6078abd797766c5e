import Foundation

extension WorkflowStep {
    /// Applies one agent command.
    mutating func run(_ command: AgentCommand, by agent: Principal) throws(WorkflowError) {
        let state = ticket.state
        switch command {
        case .status(let target):
            guard target != state else { throw .alreadyInState(id, state) }
            guard kind.statusTargets(from: state).contains(target) else { throw invalid(command.description) }
            if kind == .change && target == .closed { throw .outcomeRequired(id) }
            if !state.isOpen && target.isOpen && !(kind == .change) {
                try reopen(to: target, action: "reopened")
            } else if target == .awaitingApproval {
                log("state", old: state.rawValue, new: target.rawValue)
                try startApproval()
            } else {
                try move(to: target)
                if target == .inProgress || target == .inFulfilment || target == .underInvestigation
                    || target == .assessment || target == .implementing || target == .review
                {
                    if kind == .incident || kind == .serviceRequest {
                        effects.append(.notifyRequesterOfStatus(to: ticket.requester, state: target, note: nil))
                    }
                }
            }

        case .assign(let name):
            guard !state.isFinished else { throw invalid(command.description) }
            let isGroup = context.groups.contains { $0.caseInsensitiveCompare(name) == .orderedSame }
            if isGroup {
                log("assignment group", old: ticket.assignmentGroup, new: name)
                ticket.assignmentGroup = name
            } else {
                if !context.agents.isEmpty
                    && !context.agents.contains(where: { $0.caseInsensitiveCompare(name) == .orderedSame })
                {
                    throw .unknownAssignee(name)
                }
                log("assignee", old: ticket.assignee, new: name)
                ticket.assignee = name
            }
            if kind == .incident && state == .new { try move(to: .assigned) }
            effects.append(
                .notifyAgents(
                    assignee: isGroup ? nil : name, group: isGroup ? name : ticket.assignmentGroup, about: .assigned))

        case .priority(let priority):
            guard !state.isFinished else { throw invalid(command.description) }
            guard priority != ticket.priority else { throw invalid("\(command.description) (already \(priority))") }
            log("priority", old: ticket.priority.description, new: priority.description)
            ticket.priority = priority

        case .impact(let impact):
            guard !state.isFinished else { throw invalid(command.description) }
            log("impact", old: ticket.impact?.rawValue, new: impact.rawValue)
            ticket.impact = impact
            recomputePriority()

        case .urgency(let urgency):
            guard !state.isFinished else { throw invalid(command.description) }
            log("urgency", old: ticket.urgency?.rawValue, new: urgency.rawValue)
            ticket.urgency = urgency
            recomputePriority()

        case .kind(let target):
            try reclassify(as: target)

        case .service(let name, let requestType):
            guard !state.isFinished else { throw invalid(command.description) }
            var canonical = name
            var typeName = requestType
            if !context.catalog.services.isEmpty {
                guard let service = context.catalog.service(named: name) else { throw .unknownService(name) }
                canonical = service.name
                if let requestType {
                    guard let type = service.requestType(named: requestType) else {
                        throw .unknownRequestType(service: service.name, requestType: requestType)
                    }
                    typeName = type.name
                }
            }
            log("service", old: ticket.service, new: canonical + (typeName.map { " / \($0)" } ?? ""))
            ticket.service = canonical
            if requestType != nil { ticket.requestType = typeName }
            if kind == .serviceRequest && state == .submitted, let type = self.requestType(), type.requiresApproval {
                log("state", old: state.rawValue, new: TicketState.awaitingApproval.rawValue)
                try startApproval()
            }

        case .link(let other):
            guard other != id else { throw .cannotLink(id, other) }
            switch (kind, other.kind) {
            case (.incident, .problem):
                guard ticket.linkedProblem != other else { throw .alreadyLinked(id, other) }
                log("linked problem", old: ticket.linkedProblem?.description, new: other.description)
                ticket.linkedProblem = other
                effects.append(.linkTickets(incident: id, problem: other, by: agent.name))
            case (.problem, .incident):
                guard !ticket.linkedIncidents.contains(other) else { throw .alreadyLinked(id, other) }
                ticket.linkedIncidents.append(other)
                log("linked incident", new: other.description)
                effects.append(.linkTickets(incident: other, problem: id, by: agent.name))
            default:
                throw .cannotLink(id, other)
            }

        case .openProblem:
            guard kind == .incident, !state.isFinished else { throw invalid(command.description) }
            guard ticket.linkedProblem == nil else { throw .alreadyLinked(id, ticket.linkedProblem!) }
            effects.append(.openProblem(from: id, subject: ticket.subject, by: agent.name))
            log("problem requested")

        case .note:
            log("internal note")

        case .resolve(let text):
            guard let resolved = kind.resolvedState, kind.statusTargets(from: state).contains(resolved) else {
                throw invalid(command.description)
            }
            try move(to: resolved, resolution: text)

        case .close(let outcome):
            if kind == .change {
                guard state == .review else { throw invalid(command.description) }
                guard let outcome else { throw .outcomeRequired(id) }
                try move(to: .closed, outcome: outcome)
            } else {
                guard outcome == nil else { throw .outcomeOnlyForChanges(id) }
                guard kind.statusTargets(from: state).contains(.closed) else { throw invalid(command.description) }
                try move(to: .closed)
            }

        case .reopen:
            guard let working = kind.workingState, state.isResolved || state == .closed else {
                throw invalid(command.description)
            }
            try reopen(to: working, action: "reopened")

        case .approve:
            guard state == .awaitingApproval else { throw .noApprovalPending(id) }
            try vote(agent, approve: true, reason: nil)

        case .reject(let reason):
            if state == .awaitingApproval {
                try vote(agent, approve: false, reason: reason)
            } else if (kind == .serviceRequest && state == .submitted)
                || (kind == .change && (state == .requested || state == .assessment))
            {
                try reject(reason: reason)
            } else {
                throw invalid(command.description)
            }

        case .pending(let reason):
            guard kind == .incident || kind == .serviceRequest, kind.statusTargets(from: state).contains(.pending)
            else { throw invalid(command.description) }
            try move(to: .pending, note: reason)

        case .workaround(let text):
            guard kind == .problem, state == .new || state == .underInvestigation || state == .knownError else {
                throw invalid(command.description)
            }
            log("workaround", old: ticket.workaround, new: text)
            ticket.workaround = text
            if state != .knownError { try move(to: .knownError) }

        case .sendWorkaround:
            guard kind == .problem, !state.isFinished else { throw invalid(command.description) }
            guard let text = ticket.workaround else { throw .noWorkaround(id) }
            guard !ticket.linkedIncidents.isEmpty else {
                throw invalid("\(command.description) without linked incidents")
            }
            effects.append(.shareWorkaround(problem: id, incidents: ticket.linkedIncidents, workaround: text))
            log("workaround shared", new: ticket.linkedIncidents.map(\.description).joined(separator: ", "))

        case .openChange(let type):
            guard kind == .change, state == .requested || state == .assessment else {
                throw invalid(command.description)
            }
            let newType = type ?? .normal
            log("change type", old: ticket.changeType?.rawValue, new: newType.rawValue)
            ticket.changeType = newType
        }
    }

    mutating func recomputePriority() {
        let priority = context.priorityMatrix.priority(
            impact: ticket.impact ?? .medium, urgency: ticket.urgency ?? .medium)
        if priority != ticket.priority {
            log("priority", old: ticket.priority.description, new: priority.description)
            ticket.priority = priority
        }
    }

    mutating func reclassify(as target: TicketKind) throws(WorkflowError) {
        let from = kind
        let pairs: Set<TicketKind> = [.incident, .serviceRequest]
        guard pairs.contains(from), pairs.contains(target), from != target, ticket.state.isOpen,
            ticket.state != .awaitingApproval
        else { throw .cannotReclassify(id, from: from, to: target) }
        let mapped: TicketState
        switch (target, ticket.state) {
        case (.serviceRequest, .new), (.serviceRequest, .assigned): mapped = .submitted
        case (.serviceRequest, .inProgress): mapped = .inFulfilment
        case (.incident, .submitted): mapped = ticket.assignee == nil ? .new : .assigned
        case (.incident, .inFulfilment): mapped = .inProgress
        default: mapped = ticket.state  // pending stays pending
        }
        log("kind", old: from.rawValue, new: target.rawValue)
        ticket.reclassifiedAs = target == ticket.id.kind ? nil : target
        if mapped != ticket.state {
            log("state", old: ticket.state.rawValue, new: mapped.rawValue)
            ticket.state = mapped
        }
    }
}
