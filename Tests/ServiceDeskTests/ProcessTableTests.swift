import Foundation
import MailFormat
import Testing

@testable import ServiceDesk

/// `/status` follows each process's transition table exactly, and the special commands follow their rules.
@Suite("Process tables")
struct ProcessTableTests {
    let context = Fixture.context
    let now = Fixture.t0

    @Test("/status succeeds exactly for the targets in the table", arguments: TicketKind.allCases)
    func statusTable(kind: TicketKind) {
        for state in kind.states {
            for target in TicketState.allCases {
                let ticket = Fixture.ticket(kind, state)
                let allowed = kind.statusTargets(from: state).contains(target)
                let expectSuccess = allowed && !(kind == .change && target == .closed)
                do {
                    let t = try Workflow.decide(ticket, Fixture.command(.status(target)), now: now, context: context)
                    #expect(expectSuccess, "\(kind) \(state) → \(target) should be refused")
                    let reached = kind == .change && target == .awaitingApproval ? TicketState.awaitingApproval : target
                    #expect(t.ticket.state == reached)
                    #expect(t.audit.contains { $0.oldValue == state.rawValue && $0.newValue == reached.rawValue })
                } catch {
                    #expect(!expectSuccess, "\(kind) \(state) → \(target) refused: \(error)")
                }
            }
        }
    }

    @Test("every table target is a state of the process", arguments: TicketKind.allCases)
    func tableIsClosed(kind: TicketKind) {
        for state in kind.states {
            #expect(kind.statusTargets(from: state).isSubset(of: Set(kind.states)))
        }
        #expect(kind.states.contains(kind.initialState))
    }

    @Test("/kind reclassifies between incident and service request and maps the state")
    func reclassify() throws {
        let t = Fixture.ticket(.incident, .inProgress)
        let r = try Workflow.decide(t, Fixture.command(.kind(.serviceRequest)), now: now, context: context)
        #expect(r.ticket.kind == .serviceRequest && r.ticket.state == .inFulfilment && r.ticket.id == t.id)
        let back = try Workflow.decide(r.ticket, Fixture.command(.kind(.incident)), now: now, context: context)
        #expect(back.ticket.kind == .incident && back.ticket.reclassifiedAs == nil && back.ticket.state == .inProgress)
        #expect(throws: WorkflowError.cannotReclassify(t.id, from: .incident, to: .problem)) {
            try Workflow.decide(t, Fixture.command(.kind(.problem)), now: now, context: context)
        }
    }

    @Test("/service checks the catalog and starts an approval when the request type needs one")
    func service() throws {
        var t = Fixture.ticket(.serviceRequest, .submitted)
        t.service = nil
        t.requestType = nil
        #expect(throws: WorkflowError.unknownService("printing")) {
            try Workflow.decide(t, Fixture.command(.service("printing", requestType: nil)), now: now, context: context)
        }
        #expect(throws: WorkflowError.unknownRequestType(service: "email", requestType: "pony")) {
            try Workflow.decide(t, Fixture.command(.service("EMAIL", requestType: "pony")), now: now, context: context)
        }
        let r = try Workflow.decide(
            t, Fixture.command(.service("EMAIL", requestType: "Mailbox")), now: now, context: context)
        #expect(r.ticket.service == "email" && r.ticket.requestType == "mailbox" && r.ticket.state == .awaitingApproval)
        #expect(r.effects == [.requestApproval(approvers: [Fixture.boss], quorum: .any)])
    }

    @Test("/assign tells groups from agents and refuses unknown names when agents are configured")
    func assign() throws {
        var ctx = context
        ctx.agents = ["Anna", "ben@desk.test"]
        let t = Fixture.ticket(.incident, .new)
        let group = try Workflow.decide(t, Fixture.command(.assign("Network")), now: now, context: ctx)
        #expect(
            group.ticket.assignmentGroup == "Network" && group.ticket.assignee == nil && group.ticket.state == .assigned
        )
        let agent = try Workflow.decide(t, Fixture.command(.assign("anna")), now: now, context: ctx)
        #expect(agent.ticket.assignee == "anna")
        #expect(agent.effects == [.notifyAgents(assignee: "anna", group: nil, about: .assigned)])
        #expect(throws: WorkflowError.unknownAssignee("Zed")) {
            try Workflow.decide(t, Fixture.command(.assign("Zed")), now: now, context: ctx)
        }
    }

    @Test("a reply to a ticket closed longer than the reopen window is refused so the gateway opens a new one")
    func reopenWindow() throws {
        var ctx = context
        ctx.reopenClosedWithinDays = 14
        let t = Fixture.ticket(.incident, .closed)
        let closedAt = t.closedAt!
        let soon = try Workflow.decide(
            t, .customerReplied(from: Fixture.requester, messageID: "s@x"), now: closedAt.addingTimeInterval(86_400),
            context: ctx)
        #expect(soon.ticket.state == .inProgress)
        #expect(throws: WorkflowError.reopenWindowExpired(t.id, closedAt: closedAt)) {
            try Workflow.decide(
                t, .customerReplied(from: Fixture.requester, messageID: "l@x"),
                now: closedAt.addingTimeInterval(15 * 86_400), context: ctx)
        }
    }

    @Test("/link works from both sides and the follow-up completes the other side")
    func links() throws {
        let inc = Fixture.ticket(.incident, .inProgress, number: 4)
        let prb = Fixture.ticket(.problem, .underInvestigation, number: 2)
        let a = try Workflow.decide(inc, Fixture.command(.link(prb.id)), now: now, context: context)
        #expect(a.ticket.linkedProblem == prb.id)
        let followUps = a.effects.flatMap { $0.followUps(from: inc.id) }
        #expect(followUps == [FollowUp(ticket: prb.id, event: .incidentLinked(incident: inc.id, by: "Anna"))])
        let b = try Workflow.decide(prb, followUps[0].event, now: now, context: context)
        #expect(b.ticket.linkedIncidents == [inc.id])
        #expect(throws: WorkflowError.alreadyLinked(prb.id, inc.id)) {
            try Workflow.decide(b.ticket, Fixture.command(.link(inc.id)), now: now, context: context)
        }
        #expect(throws: WorkflowError.cannotLink(inc.id, TicketID(kind: .change, number: 1))) {
            try Workflow.decide(
                inc, Fixture.command(.link(TicketID(kind: .change, number: 1))), now: now, context: context)
        }
    }
}
