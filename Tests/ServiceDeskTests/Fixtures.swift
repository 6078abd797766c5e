import Foundation
import MailFormat

@testable import ServiceDesk

/// Shared builders for the ServiceDesk tests.
enum Fixture {
    static let requester = MailAddress(name: "Alice", address: "alice@customer.test")
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let anna = Principal(name: "Anna", address: "anna@desk.test", isAuthenticated: true)
    static let cab = ["cab1@desk.test", "cab2@desk.test", "cab3@desk.test"].map { Approver(address: $0) }
    static let ecab = [Approver(address: "ecab@desk.test")]
    static let boss = Approver(address: "boss@customer.test")

    static func ticket(_ kind: TicketKind, _ state: TicketState, number: Int = 1) -> Ticket {
        var t = Ticket(
            id: TicketID(kind: kind, number: number), state: state, subject: "Printer", requester: requester,
            mailbox: "support", createdAt: t0.addingTimeInterval(-3600))
        if state.isResolved || state == .closed { t.resolvedAt = t0.addingTimeInterval(-1800) }
        if state == .closed || state == .rejected { t.closedAt = t0.addingTimeInterval(-900) }
        if state == .pending { t.sla.pausedSince = t0.addingTimeInterval(-600) }
        if state == .awaitingApproval {
            t.approval = ApprovalRound(approvers: kind == .change ? cab : [boss], quorum: .any, requestedAt: t0)
        }
        if kind == .serviceRequest {
            t.service = "email"
            t.requestType = "mailbox"
        }
        return t
    }

    static var context: WorkflowContext {
        WorkflowContext(
            catalog: ServiceCatalog([
                CatalogService(
                    name: "email", ownerGroup: "messaging", slaPolicy: "standard",
                    requestTypes: [
                        RequestType(name: "mailbox", requiresApproval: true, approvers: [boss]),
                        RequestType(name: "alias"),
                    ])
            ]),
            changes: ChangePolicy(
                approvers: cab, quorum: .majority,
                types: [
                    .standard: ChangeTypePolicy(preapproved: true),
                    .emergency: ChangeTypePolicy(approvers: ecab, quorum: .any),
                ]),
            groups: ["messaging", "network"])
    }

    static func command(_ c: AgentCommand, by actor: Principal = anna) -> TicketEvent {
        .commandGiven(c, by: actor, messageID: "cmd@x")
    }
}
