extension TicketKind {
    /// The states this process uses, in lifecycle order.
    public var states: [TicketState] {
        switch self {
        case .incident: return [.new, .assigned, .inProgress, .pending, .resolved, .closed]
        case .serviceRequest:
            return [.submitted, .awaitingApproval, .inFulfilment, .pending, .fulfilled, .closed, .rejected]
        case .problem: return [.new, .underInvestigation, .knownError, .resolved, .closed]
        case .change:
            return [.requested, .assessment, .awaitingApproval, .scheduled, .implementing, .review, .closed, .rejected]
        }
    }

    /// Where a ticket of this kind starts once opened.
    public var initialState: TicketState {
        switch self {
        case .incident, .problem: return .new
        case .serviceRequest: return .submitted
        case .change: return .requested
        }
    }

    /// The working state a reopen returns to.
    var workingState: TicketState? {
        switch self {
        case .incident: return .inProgress
        case .serviceRequest: return .inFulfilment
        case .problem: return .underInvestigation
        case .change: return nil
        }
    }

    /// The done-but-not-closed state (`resolved`, `fulfilled`).
    var resolvedState: TicketState? {
        switch self {
        case .incident, .problem: return .resolved
        case .serviceRequest: return .fulfilled
        case .change: return nil
        }
    }

    /// Targets `/status` may move to from a state. Approval outcomes and rejections have their own events.
    public func statusTargets(from state: TicketState) -> Set<TicketState> {
        switch (self, state) {
        case (.incident, .new): return [.assigned, .inProgress, .pending, .resolved, .closed]
        case (.incident, .assigned): return [.inProgress, .pending, .resolved, .closed]
        case (.incident, .inProgress): return [.assigned, .pending, .resolved, .closed]
        case (.incident, .pending): return [.assigned, .inProgress, .resolved, .closed]
        case (.incident, .resolved): return [.inProgress, .closed]
        case (.incident, .closed): return [.inProgress]
        case (.serviceRequest, .submitted): return [.awaitingApproval, .inFulfilment, .pending, .fulfilled, .closed]
        case (.serviceRequest, .awaitingApproval): return [.closed]
        case (.serviceRequest, .inFulfilment): return [.pending, .fulfilled, .closed]
        case (.serviceRequest, .pending): return [.inFulfilment, .fulfilled, .closed]
        case (.serviceRequest, .fulfilled): return [.inFulfilment, .closed]
        case (.serviceRequest, .closed): return [.inFulfilment]
        case (.problem, .new): return [.underInvestigation, .resolved, .closed]
        case (.problem, .underInvestigation): return [.resolved, .closed]
        case (.problem, .knownError): return [.underInvestigation, .resolved, .closed]
        case (.problem, .resolved): return [.underInvestigation, .closed]
        case (.problem, .closed): return [.underInvestigation]
        case (.change, .requested): return [.assessment]
        case (.change, .assessment): return [.awaitingApproval, .requested]
        case (.change, .scheduled): return [.implementing]
        case (.change, .implementing): return [.review]
        default: return []
        }
    }
}
