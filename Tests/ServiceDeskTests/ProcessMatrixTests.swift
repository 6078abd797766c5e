import Foundation
import MailFormat
import Testing

@testable import ServiceDesk

/// Every state × event pair of every process either yields a transition that keeps the ticket inside its process
/// and leaves an audit line, or throws a typed error.
@Suite("State × event matrix")
struct ProcessMatrixTests {
    static let cab = Principal(name: "CAB 1", address: "cab1@desk.test", isAuthenticated: true)
    static let boss = Principal(name: "Boss", address: "boss@customer.test", isAuthenticated: true)

    static var events: [TicketEvent] {
        let commands: [AgentCommand] = [
            .status(.inProgress), .status(.pending), .status(.resolved), .status(.closed), .status(.assessment),
            .status(.awaitingApproval), .status(.implementing), .status(.review), .status(.underInvestigation),
            .status(.inFulfilment), .status(.fulfilled), .status(.assigned), .assign("Ben"), .assign("network"),
            .priority(.p1), .impact(.high), .urgency(.low), .kind(.incident), .kind(.serviceRequest),
            .service("email", requestType: "alias"), .link(TicketID(kind: .problem, number: 9)),
            .link(TicketID(kind: .incident, number: 9)), .openProblem, .note, .resolve("fixed"), .close(nil),
            .close(.successful), .reopen, .approve, .reject(reason: "no"), .pending(reason: "vendor"),
            .workaround("restart"), .sendWorkaround, .openChange(.emergency),
        ]
        var events: [TicketEvent] = [
            .mailReceived(from: Fixture.requester, messageID: "m1@x"),
            .customerReplied(from: Fixture.requester, messageID: "m2@x"),
            .agentReplied(agent: "Anna", messageID: "m3@x", relayText: "Hello"),
            .approvalGiven(approver: cab, messageID: "a@x"), .approvalGiven(approver: boss, messageID: "b@x"),
            .approvalRejected(approver: cab, reason: "risky", messageID: "r@x"), .slaTimerFired, .autoCloseDue,
            .linkedProblemResolved(problem: TicketID(kind: .problem, number: 9), resolution: "patched"),
            .workaroundShared(problem: TicketID(kind: .problem, number: 9), workaround: "restart"),
            .linkedToProblem(problem: TicketID(kind: .problem, number: 9), by: "Anna"),
            .incidentLinked(incident: TicketID(kind: .incident, number: 9), by: "Anna"),
            .openedFromIncident(incident: TicketID(kind: .incident, number: 9), by: "Anna", messageID: "p@x"),
        ]
        events += commands.map { Fixture.command($0) }
        return events
    }

    @Test("every pair is defined", arguments: TicketKind.allCases)
    func matrix(kind: TicketKind) {
        var applied = 0
        var refused = 0
        for state in kind.states {
            for event in Self.events {
                let ticket = Fixture.ticket(kind, state)
                let now = Fixture.t0.addingTimeInterval(30 * 86_400)
                do {
                    let t = try Workflow.decide(ticket, event, now: now, context: Fixture.context)
                    applied += 1
                    #expect(t.ticket.kind.states.contains(t.ticket.state), "\(kind) \(state) \(event)")
                    #expect(t.ticket.id == ticket.id)
                    if t.ticket != ticket, event != .slaTimerFired {
                        #expect(!t.audit.isEmpty, "no audit for \(kind) \(state) \(event)")
                        #expect(t.audit.allSatisfy { $0.ticketID == ticket.id && $0.at == now })
                    }
                    if t.ticket.state != ticket.state {
                        #expect(t.audit.contains { $0.oldValue == ticket.state.rawValue || $0.action == "created" })
                    }
                } catch {
                    refused += 1
                    #expect(!error.description.isEmpty)
                }
            }
        }
        #expect(applied > 0 && refused > 0)
    }

    @Test("a refused command list changes nothing and names the failing command")
    func allOrNothing() {
        let ticket = Fixture.ticket(.incident, .inProgress)
        #expect(throws: CommandFailure.self) {
            try Workflow.apply(
                [.priority(.p1), .close(.successful)], to: ticket, by: Fixture.anna, messageID: "m", now: Fixture.t0,
                context: Fixture.context)
        }
        let result = Workflow.handleAgentMail(
            ticket, from: Fixture.anna, messageID: "m", text: "/priority 1\n/close successful\nBye", now: Fixture.t0,
            context: Fixture.context)
        #expect(result.transition.ticket == ticket)
        #expect(result.parsed == nil)
        guard case .sendCommandError(let to, let message) = result.transition.effects.first else {
            Issue.record("expected a command error mail")
            return
        }
        #expect(to.address == "anna@desk.test")
        #expect(message.contains("/close successful"))
    }

    @Test("old ticket JSON without the new fields still decodes")
    func legacyJSON() throws {
        let json = #"""
            {"id":"INC-000001","state":"in_progress","subject":"x","requester":{"address":"a@b.test"},"priority":3,
             "mailbox":"support","createdAt":0,"updatedAt":0}
            """#
        let ticket = try JSONDecoder().decode(Ticket.self, from: Data(json.utf8))
        #expect(ticket.linkedIncidents.isEmpty && ticket.reopenCount == 0 && ticket.sla == SLAClock())
        var full = Fixture.ticket(.change, .awaitingApproval)
        full.sla.breaches = [
            SLABreach(metric: .resolution, detectedAt: Fixture.t0, targetMinutes: 1, elapsedMinutes: 2)
        ]
        let round = try JSONDecoder().decode(Ticket.self, from: JSONEncoder().encode(full))
        #expect(round == full)
    }
}
