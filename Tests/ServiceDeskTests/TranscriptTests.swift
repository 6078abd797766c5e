import Foundation
import MailFormat
import Testing

@testable import ServiceDesk

/// Whole lifecycles, event by event, as the gateway would drive them.
@Suite("Lifecycle transcripts")
struct TranscriptTests {
    let context = Fixture.context
    var now = Fixture.t0

    func approver(_ address: String, authenticated: Bool = true) -> Principal {
        Principal(name: address, address: address, isAuthenticated: authenticated)
    }

    @Test("a normal change approved by two of three approvers under majority, then implemented")
    func changeMajority() throws {
        var t = Ticket(
            id: TicketID(kind: .change, number: 1), subject: "Upgrade DB", requester: Fixture.requester,
            mailbox: "support", createdAt: now)
        t = try Workflow.decide(
            t, .mailReceived(from: Fixture.requester, messageID: "c1@x"), now: now, context: context
        ).ticket
        #expect(t.state == .requested)
        t = try Workflow.decide(t, Fixture.command(.status(.assessment)), now: now, context: context).ticket
        let ask = try Workflow.decide(t, Fixture.command(.status(.awaitingApproval)), now: now, context: context)
        #expect(ask.effects == [.requestApproval(approvers: Fixture.cab, quorum: .majority)])
        t = ask.ticket
        #expect(throws: WorkflowError.approverNotAuthenticated(t.id, address: "cab1@desk.test")) {
            try Workflow.decide(
                t, .approvalGiven(approver: approver("cab1@desk.test", authenticated: false), messageID: "f@x"),
                now: now, context: context)
        }
        #expect(throws: WorkflowError.notAnApprover(t.id, address: "mallory@evil.test")) {
            try Workflow.decide(
                t, .approvalGiven(approver: approver("mallory@evil.test"), messageID: "f@x"), now: now, context: context
            )
        }
        let first = try Workflow.decide(
            t, .approvalGiven(approver: approver("cab1@desk.test"), messageID: "v1@x"), now: now, context: context)
        #expect(first.ticket.state == .awaitingApproval && first.effects.isEmpty)
        #expect(throws: WorkflowError.alreadyVoted(t.id, address: "CAB1@desk.test")) {
            try Workflow.decide(
                first.ticket, .approvalGiven(approver: approver("CAB1@desk.test"), messageID: "v1b@x"), now: now,
                context: context)
        }
        let second = try Workflow.decide(
            first.ticket, .commandGiven(.approve, by: approver("cab3@desk.test"), messageID: "v2@x"), now: now,
            context: context)
        #expect(second.ticket.state == .scheduled)
        #expect(second.effects.contains(.sendApprovalOutcome(to: Fixture.requester, outcome: .approved)))
        #expect(second.audit.contains { $0.viaMessageID == "v2@x" && $0.action == "approved" })
        t = second.ticket
        t = try Workflow.decide(t, Fixture.command(.status(.implementing)), now: now, context: context).ticket
        t = try Workflow.decide(t, Fixture.command(.status(.review)), now: now, context: context).ticket
        #expect(throws: WorkflowError.outcomeRequired(t.id)) {
            try Workflow.decide(t, Fixture.command(.close(nil)), now: now, context: context)
        }
        t = try Workflow.decide(t, Fixture.command(.close(.rolledBack)), now: now, context: context).ticket
        #expect(t.state == .closed && t.changeOutcome == .rolledBack)
    }

    @Test("standard changes are pre-approved; emergency changes ask their own board")
    func changeTypes() throws {
        var t = Fixture.ticket(.change, .assessment)
        t.changeType = .standard
        let standard = try Workflow.decide(t, Fixture.command(.status(.awaitingApproval)), now: now, context: context)
        #expect(standard.ticket.state == .scheduled && standard.effects.isEmpty)
        t.changeType = nil
        t = try Workflow.decide(t, Fixture.command(.openChange(.emergency)), now: now, context: context).ticket
        let emergency = try Workflow.decide(t, Fixture.command(.status(.awaitingApproval)), now: now, context: context)
        #expect(emergency.effects == [.requestApproval(approvers: Fixture.ecab, quorum: .any)])
        let approved = try Workflow.decide(
            emergency.ticket, .approvalGiven(approver: approver("ecab@desk.test"), messageID: "e@x"), now: now,
            context: context)
        #expect(approved.ticket.state == .scheduled)
    }

    @Test("quorum all: one rejection rejects and tells the requester why")
    func changeRejectedUnderAll() throws {
        var ctx = context
        ctx.changes.quorum = .all
        var t = Fixture.ticket(.change, .assessment)
        t = try Workflow.decide(t, Fixture.command(.status(.awaitingApproval)), now: now, context: ctx).ticket
        let r = try Workflow.decide(
            t, .approvalRejected(approver: approver("cab2@desk.test"), reason: "no rollback plan", messageID: "r@x"),
            now: now, context: ctx)
        #expect(r.ticket.state == .rejected && r.ticket.rejectionReason == "no rollback plan")
        #expect(
            r.effects.contains(
                .sendApprovalOutcome(to: Fixture.requester, outcome: .rejected(reason: "no rollback plan"))))
    }

    @Test("a service request that needs approval is rejected with the approver's reason")
    func rejectedRequest() throws {
        var t = Ticket(
            id: TicketID(kind: .serviceRequest, number: 3), subject: "Shared mailbox", requester: Fixture.requester,
            mailbox: "support", createdAt: now, service: "email", requestType: "mailbox")
        let opened = try Workflow.decide(
            t, .mailReceived(from: Fixture.requester, messageID: "q@x"), now: now, context: context)
        #expect(opened.ticket.state == .awaitingApproval)
        #expect(
            opened.effects == [
                .sendAcknowledgement(to: Fixture.requester), .requestApproval(approvers: [Fixture.boss], quorum: .any),
            ])
        t = opened.ticket
        let r = try Workflow.decide(
            t,
            .commandGiven(
                .reject(reason: "use the team mailbox"), by: approver("boss@customer.test"), messageID: "no@x"),
            now: now, context: context)
        #expect(r.ticket.state == .rejected)
        #expect(
            r.effects.first
                == .sendApprovalOutcome(to: Fixture.requester, outcome: .rejected(reason: "use the team mailbox")))
        #expect(throws: WorkflowError.self) {
            try Workflow.decide(r.ticket, Fixture.command(.status(.inFulfilment)), now: now, context: context)
        }
    }

    @Test("a service request without approval is fulfilled and closed")
    func fulfilledRequest() throws {
        var t = Ticket(
            id: TicketID(kind: .serviceRequest, number: 4), subject: "Alias", requester: Fixture.requester,
            mailbox: "support", createdAt: now, service: "email", requestType: "alias")
        t = try Workflow.decide(t, .mailReceived(from: Fixture.requester, messageID: "q@x"), now: now, context: context)
            .ticket
        #expect(t.state == .submitted)
        t = try Workflow.decide(
            t, .agentReplied(agent: "Anna", messageID: "a@x", relayText: "On it"), now: now, context: context
        ).ticket
        #expect(t.state == .inFulfilment)
        let done = try Workflow.decide(t, Fixture.command(.resolve("alias created")), now: now, context: context)
        #expect(done.ticket.state == .fulfilled)
        #expect(done.effects == [.sendResolvedNotice(to: Fixture.requester, resolution: "alias created")])
    }

    @Test("resolving a problem resolves its three open incidents and tells each requester")
    func problemResolvesIncidents() throws {
        var incidents: [TicketID: Ticket] = [:]
        for n in 1...3 {
            var inc = Fixture.ticket(.incident, n == 3 ? .pending : .inProgress, number: n)
            inc.requester = MailAddress(address: "user\(n)@customer.test")
            incidents[inc.id] = inc
        }
        var problem = Ticket(
            id: TicketID(kind: .problem, number: 1), subject: "Spooler crashes",
            requester: MailAddress(address: "anna@desk.test"),
            mailbox: "support", createdAt: now)
        for id in incidents.keys.sorted() {
            let linked = try Workflow.decide(problem, Fixture.command(.link(id)), now: now, context: context)
            problem = linked.ticket
            for followUp in linked.effects.flatMap({ $0.followUps(from: problem.id) }) {
                incidents[followUp.ticket] = try Workflow.decide(
                    incidents[followUp.ticket]!, followUp.event, now: now, context: context
                ).ticket
            }
        }
        #expect(incidents.values.allSatisfy { $0.linkedProblem == problem.id })
        problem = try Workflow.decide(
            problem, Fixture.command(.workaround("restart the spooler")), now: now, context: context
        ).ticket
        #expect(problem.state == .knownError)
        let share = try Workflow.decide(problem, Fixture.command(.sendWorkaround), now: now, context: context)
        let shared = try share.effects.flatMap { $0.followUps(from: problem.id) }.flatMap { f in
            try Workflow.decide(incidents[f.ticket]!, f.event, now: now, context: context).effects
        }
        #expect(shared.count == 3)
        let resolved = try Workflow.decide(
            problem, Fixture.command(.resolve("driver 4.2 deployed")), now: now, context: context)
        #expect(resolved.ticket.state == .resolved)
        let followUps = resolved.effects.flatMap { $0.followUps(from: problem.id) }
        #expect(followUps.count == 3)
        var notices: [Effect] = []
        for f in followUps {
            let t = try Workflow.decide(incidents[f.ticket]!, f.event, now: now, context: context)
            #expect(t.ticket.state == .resolved)
            notices += t.effects.filter { if case .sendResolvedNotice = $0 { return true } else { return false } }
        }
        #expect(notices.count == 3)
        #expect(
            Set(
                notices.compactMap {
                    if case .sendResolvedNotice(let to, _) = $0 { return to.address } else { return nil }
                })
                == ["user1@customer.test", "user2@customer.test", "user3@customer.test"])
    }

    @Test("/problem on an incident asks the gateway to open a linked problem")
    func openProblem() throws {
        let inc = Fixture.ticket(.incident, .inProgress)
        let t = try Workflow.decide(inc, Fixture.command(.openProblem), now: now, context: context)
        #expect(t.effects == [.openProblem(from: inc.id, subject: "Printer", by: "Anna")])
        let prb = Ticket(
            id: TicketID(kind: .problem, number: 2), subject: "Printer",
            requester: MailAddress(address: "anna@desk.test"),
            mailbox: "support", createdAt: now)
        let opened = try Workflow.decide(
            prb, .openedFromIncident(incident: inc.id, by: "Anna", messageID: "m@x"), now: now, context: context)
        #expect(opened.ticket.linkedIncidents == [inc.id])
    }

    @Test("an incident is auto-closed after the configured days, with a notice, and not before")
    func autoClose() throws {
        var ctx = context
        ctx.autoCloseAfterDays = 5
        var t = Fixture.ticket(.incident, .inProgress)
        t = try Workflow.decide(t, Fixture.command(.resolve("done")), now: now, context: ctx).ticket
        let early = Workflow.tick(t, now: now.addingTimeInterval(4 * 86_400), context: ctx)
        #expect(early.ticket == t && early.effects.isEmpty && early.audit.isEmpty)
        #expect(throws: WorkflowError.autoCloseNotDue(t.id, dueAt: now.addingTimeInterval(5 * 86_400))) {
            try Workflow.decide(t, .autoCloseDue, now: now.addingTimeInterval(86_400), context: ctx)
        }
        let late = Workflow.tick(t, now: now.addingTimeInterval(5 * 86_400 + 1), context: ctx)
        #expect(late.ticket.state == .closed)
        #expect(late.effects == [.sendClosedNotice(to: Fixture.requester, automatically: true)])
        #expect(Workflow.tick(late.ticket, now: now.addingTimeInterval(9 * 86_400), context: ctx).effects.isEmpty)
    }

    @Test("a customer reply reopens a resolved incident and counts the reopen")
    func reopen() throws {
        var t = Fixture.ticket(.incident, .inProgress)
        t = try Workflow.decide(t, Fixture.command(.resolve("done")), now: now, context: context).ticket
        let r = try Workflow.decide(
            t, .customerReplied(from: Fixture.requester, messageID: "again@x"), now: now, context: context)
        #expect(r.ticket.state == .inProgress && r.ticket.reopenCount == 1 && r.ticket.resolvedAt == nil)
        #expect(r.audit.contains { $0.action == "reopened" && $0.viaMessageID == "again@x" })
    }

    @Test("an agent mail: commands applied, text relayed, /note kept internal")
    func agentMail() {
        let t = Fixture.ticket(.incident, .new)
        let result = Workflow.handleAgentMail(
            t, from: Fixture.anna, messageID: "am@x", text: "/assign network\n/priority 2\n\nWe are on it.", now: now,
            context: context)
        #expect(result.transition.ticket.assignmentGroup == "network")
        #expect(result.transition.ticket.priority == .p2)
        #expect(
            result.transition.effects.contains(
                .relayAgentReply(agent: "Anna", text: "We are on it.", to: Fixture.requester)))
        let note = Workflow.handleAgentMail(
            t, from: Fixture.anna, messageID: "n@x", text: "/note\nvendor ticket 42", now: now, context: context)
        #expect(note.parsed?.isInternal == true)
        #expect(
            !note.transition.effects.contains { if case .relayAgentReply = $0 { return true } else { return false } })
    }

    @Test("an agent's words are relayed before the notices their commands cause")
    func relayFirst() {
        let t = Fixture.ticket(.incident, .inProgress)
        let result = Workflow.handleAgentMail(
            t, from: Fixture.anna, messageID: "r@x", text: "/lösen Treiber neu installiert\n\nViele Grüße", now: now,
            context: context)
        #expect(
            result.transition.effects == [
                .relayAgentReply(agent: "Anna", text: "Viele Grüße", to: Fixture.requester),
                .sendResolvedNotice(to: Fixture.requester, resolution: "Treiber neu installiert"),
            ])
        #expect(result.transition.ticket.state == .resolved)
        #expect(result.transition.audit.allSatisfy { $0.viaMessageID == "r@x" })
    }

    @Test("a request type that requires approval but names no approvers is a config error")
    func requestTypeWithoutApprovers() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(
                RequestType.self, from: Data(#"{"name":"laptop","requires_approval":true}"#.utf8))
        }
    }
}
