import Foundation
import MailFormat
import Testing

@testable import ServiceDesk

@Suite("Incident workflow")
struct WorkflowTests {
    let requester = MailAddress(name: "Alice", address: "alice@customer.test")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func ticket(_ state: TicketState) -> Ticket {
        Ticket(
            id: TicketID(kind: .incident, number: 1), state: state, subject: "Printer", requester: requester,
            mailbox: "support", createdAt: now.addingTimeInterval(-3600))
    }

    @Test("a new ticket is acknowledged to its requester")
    func acknowledgement() throws {
        let transition = try Workflow.decide(ticket(.new), .mailReceived(from: requester, messageID: "m1@x"), now: now)
        #expect(transition.effects == [.sendAcknowledgement(to: requester)])
        #expect(transition.audit.first?.action == "created")
        #expect(transition.audit.first?.viaMessageID == "m1@x")
    }

    @Test(
        "a customer reply reopens resolved and closed tickets, and ends pending",
        arguments: [
            (TicketState.resolved, TicketState.inProgress), (.closed, .inProgress), (.pending, .inProgress),
            (.new, .new), (.inProgress, .inProgress), (.assigned, .assigned),
        ])
    func customerReply(from: TicketState, to: TicketState) throws {
        let transition = try Workflow.decide(
            ticket(from), .customerReplied(from: requester, messageID: "m2@x"), now: now)
        #expect(transition.ticket.state == to)
        #expect(transition.effects == (from.isOpen ? [] : [.notifyAgents(assignee: nil, group: nil, about: .reopened)]))
        #expect(transition.ticket.updatedAt == now)
        if from != to {
            #expect(transition.audit.contains { $0.oldValue == from.rawValue && $0.newValue == to.rawValue })
        }
    }

    @Test("an agent reply is relayed, records the first response and takes the ticket")
    func agentReply() throws {
        let transition = try Workflow.decide(
            ticket(.new), .agentReplied(agent: "Anna", messageID: "m3@x", relayText: "  Try turning it off.\n"),
            now: now)
        #expect(transition.effects == [.relayAgentReply(agent: "Anna", text: "Try turning it off.", to: requester)])
        #expect(transition.ticket.state == .inProgress)
        #expect(transition.ticket.assignee == "Anna")
        #expect(transition.ticket.firstResponseAt == now)
        let second = try Workflow.decide(
            transition.ticket, .agentReplied(agent: "Ben", messageID: "m4@x", relayText: "More"),
            now: now.addingTimeInterval(60))
        #expect(second.ticket.firstResponseAt == now)
        #expect(second.ticket.assignee == "Anna")
    }

    @Test("an empty agent reply is refused and changes nothing")
    func emptyReply() {
        #expect(throws: WorkflowError.emptyReply(TicketID(kind: .incident, number: 1))) {
            try Workflow.decide(ticket(.new), .agentReplied(agent: "Anna", messageID: "m", relayText: " \n"), now: now)
        }
    }
}
