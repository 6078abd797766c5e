import Foundation
import Logging
import MailFormat
import ServiceDesk
import TestSupport
import Testing

@testable import Gateway

/// ITSM processes driven entirely by real mail through Dovecot and the SMTP sink.
@Suite("Processes by mail")
struct WorkflowIntegrationTests {
    /// A mail from an authenticated colleague (our MTA vouches for it with DKIM).
    func staffMail(_ gw: GatewayFixture, from: String, subject: String, body: String, inReplyTo: String? = nil)
        async throws
    {
        try await gw.deliver(
            """
            Authentication-Results: mx.example.test; dkim=pass header.d=example.test
            From: <\(from)>
            To: \(gw.supportUser)@example.test
            Subject: \(subject)
            Message-ID: <staff-\(UUID())@example.test>
            \(inReplyTo.map { "In-Reply-To: \($0)\n" } ?? "")
            \(body)
            """)
    }

    func customerMail(_ gw: GatewayFixture, from: String, subject: String) async throws {
        try await gw.deliver("From: <\(from)>\nSubject: \(subject)\nMessage-ID: <c-\(UUID())@c.test>\n\nhelp\n")
    }

    func ticket(_ gw: GatewayFixture, _ id: String) async throws -> Ticket {
        let ticketID = try #require(TicketID(id))
        return try #require(try await gw.context().store.read { try $0.ticket(ticketID) })
    }

    @Test("a genuine agent mail with DKIM pass runs its commands; the reply text is relayed without them")
    func agentCommands() async throws {
        let gw = try GatewayFixture()
        try await customerMail(gw, from: gw.requester, subject: "VPN")
        _ = try await gw.sync()
        try await staffMail(
            gw, from: "anna@example.test", subject: "Re: [INC-000001] VPN",
            body: "/priority 2\n/resolve Reset your VPN profile\n\nI reset your VPN profile, please try again.")
        _ = try await gw.sync()
        let incident = try await ticket(gw, "INC-000001")
        #expect(incident.state == .resolved)
        #expect(incident.priority == .p2)
        let mails = gw.stack.sentMessages(to: gw.requester).map { MailParser.parse(Array($0.raw.utf8)) }
        #expect(mails.contains { $0.text.contains("I reset your VPN profile") && !$0.text.contains("/priority") })
        #expect(mails.contains { $0.subject.contains("[INC-000001]") && $0.text.contains("Reset your VPN profile") })

        // A bad command changes nothing and mails the agent an explanation.
        try await staffMail(gw, from: "anna@example.test", subject: "Re: [INC-000001] VPN", body: "/priority 9\n\nx")
        _ = try await gw.sync()
        #expect(try await ticket(gw, "INC-000001").priority == .p2)
        #expect(!gw.stack.sentMessages(to: "anna@example.test").isEmpty)
    }

    @Test("a change is approved by two of three approvers replying by mail (majority); a forged vote does not count")
    func changeApproval() async throws {
        let gw = try GatewayFixture(
            extraYAML: """
                changes:
                  approvers: [{address: cab1@example.test, name: Cab One}, {address: cab2@example.test}, {address: cab3@example.test}]
                  quorum: majority
                """)
        try await staffMail(
            gw, from: "anna@example.test", subject: "Upgrade the mail server", body: "/change\n\nTo 2.4 on Saturday.")
        #expect(try await gw.sync().created.map(\.description) == ["CHG-000001"])
        try await staffMail(
            gw, from: "anna@example.test", subject: "Re: [CHG-000001] Upgrade",
            body: "/status assessment\n/status awaiting_approval")
        _ = try await gw.sync()
        #expect(try await ticket(gw, "CHG-000001").state == .awaitingApproval)
        for approver in ["cab1@example.test", "cab2@example.test", "cab3@example.test"] {
            #expect(gw.stack.sentMessages(to: approver).count == 1, "\(approver) got no approval request")
        }
        // A forged vote (no authentication) is ignored; two genuine approvals reach the majority.
        try await gw.deliver(
            "From: <cab3@example.test>\nSubject: Re: [CHG-000001]\nMessage-ID: <f-\(UUID())@x.test>\n\n/reject no way\n"
        )
        try await staffMail(gw, from: "cab1@example.test", subject: "Re: [CHG-000001] Upgrade", body: "/approve")
        _ = try await gw.sync()
        #expect(try await ticket(gw, "CHG-000001").state == .awaitingApproval)
        try await staffMail(gw, from: "cab2@example.test", subject: "Re: [CHG-000001] Upgrade", body: "/approve")
        _ = try await gw.sync()
        #expect(try await ticket(gw, "CHG-000001").state == .scheduled)
    }

    @Test("resolving a problem resolves its three incidents and tells each requester")
    func problemResolvesIncidents() async throws {
        let gw = try GatewayFixture()
        let requesters = (1...3).map { "r\($0)-\(UUID().uuidString.prefix(6).lowercased())@customer.test" }
        for requester in requesters { try await customerMail(gw, from: requester, subject: "Printer offline") }
        _ = try await gw.sync()
        try await staffMail(gw, from: "anna@example.test", subject: "Re: [INC-000001] Printer", body: "/problem")
        _ = try await gw.sync()
        #expect(try await ticket(gw, "PRB-000001").linkedIncidents == [TicketID("INC-000001")!])
        for id in ["INC-000002", "INC-000003"] {
            try await staffMail(gw, from: "anna@example.test", subject: "Re: [\(id)] Printer", body: "/link PRB-000001")
        }
        _ = try await gw.sync()
        try await staffMail(
            gw, from: "anna@example.test", subject: "Re: [PRB-000001] Printer",
            body: "/resolve Replaced the print server")
        _ = try await gw.sync()
        for (index, requester) in requesters.enumerated() {
            #expect(try await ticket(gw, "INC-00000\(index + 1)").state == .resolved)
            let notices = gw.stack.sentMessages(to: requester).map { MailParser.parse(Array($0.raw.utf8)) }
            #expect(notices.contains { $0.text.contains("Replaced the print server") }, "\(requester)")
        }
    }

    @Test(
        "SLA escalation mails go out once at the threshold; a resolved ticket closes itself after the configured days")
    func timers() async throws {
        let gw = try GatewayFixture(
            extraYAML: """
                sla:
                  - name: standard
                    targets: { p3: { first_response: 30m, resolution: 8h } }
                workflow: { default_sla_policy: standard, auto_close_days: 5 }
                """)
        try await customerMail(gw, from: gw.requester, subject: "Disk full")
        _ = try await gw.sync()
        let context = try gw.context()
        func run(at date: Date) async throws -> SyncReport {
            var engine = SyncEngine(
                configuration: context.configuration, store: context.store, templates: context.templates,
                logger: Logger(label: "t"))
            engine.clock = { date }
            return try await engine.run()
        }
        let created = try await ticket(gw, "INC-000001").createdAt
        let before = gw.stack.sentMessages(to: "anna@example.test").count
        let late = try await run(at: created.addingTimeInterval(31 * 60))
        #expect(late.timerUpdates == 1)
        let escalations = gw.stack.sentMessages(to: "anna@example.test").count - before
        #expect(escalations >= 1)
        #expect(try await ticket(gw, "INC-000001").sla.breaches.isEmpty == false)
        let again = try await run(at: created.addingTimeInterval(32 * 60))
        #expect(again.timerUpdates == 0)
        #expect(gw.stack.sentMessages(to: "anna@example.test").count - before == escalations)

        try await staffMail(
            gw, from: "anna@example.test", subject: "Re: [INC-000001] Disk", body: "/resolve Cleaned up")
        _ = try await run(at: created.addingTimeInterval(3600))
        _ = try await run(at: created.addingTimeInterval(3600 + 4 * 86_400))
        #expect(try await ticket(gw, "INC-000001").state == .resolved)
        _ = try await run(at: created.addingTimeInterval(3600 + 5 * 86_400 + 60))
        #expect(try await ticket(gw, "INC-000001").state == .closed)
    }

    @Test("report renders every format from the store")
    func report() async throws {
        let gw = try GatewayFixture()
        try await customerMail(gw, from: gw.requester, subject: "One")
        _ = try await gw.sync()
        for format in ["text", "json", "csv", "html"] {
            let result = try CommandLineTests().run(["report", "--config", gw.configPath, "--format", format])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stdout.isEmpty)
        }
        let json = try CommandLineTests().run(["report", "--config", gw.configPath, "--format", "json"])
        #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil)
        #expect(try CommandLineTests().run(["report", "--config", gw.configPath, "--format", "pdf"]).status == 64)
    }
}
