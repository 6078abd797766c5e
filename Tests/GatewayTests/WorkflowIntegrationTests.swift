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

    /// Mails to a (shared) agent address whose subject carries `token`: other tests mail the same agents in parallel.
    func agentMails(_ gw: GatewayFixture, to address: String = "anna@example.test", about token: String) -> Int {
        gw.stack.sentMessages(to: address).filter {
            let mail = MailParser.parse(Array($0.raw.utf8))
            return (mail.subject + mail.text).contains(token)
        }.count
    }

    func ticket(_ gw: GatewayFixture, _ id: String) async throws -> Ticket {
        let ticketID = try #require(TicketID(id))
        return try #require(try await gw.context().store.read { try $0.ticket(ticketID) })
    }

    @Test("a genuine agent mail with DKIM pass runs its commands; the reply text is relayed without them")
    func agentCommands() async throws {
        let gw = try GatewayFixture()
        let topic = "VPN \(UUID().uuidString.prefix(8))"
        try await customerMail(gw, from: gw.requester, subject: topic)
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
        let errors = gw.stack.sentMessages(to: "anna@example.test").map { MailParser.parse(Array($0.raw.utf8)) }
            .filter { ($0.subject + $0.text).contains(topic) && $0.text.contains("9") }
        #expect(errors.count == 1)
    }

    @Test("a change is approved by two of three approvers replying by mail (majority); a forged vote does not count")
    func changeApproval() async throws {
        let gw = try GatewayFixture(
            extraYAML: """
                changes:
                  approvers: [{address: cab1@example.test, name: Cab One}, {address: cab2@example.test}, {address: cab3@example.test}]
                  quorum: majority
                """)
        let topic = "Upgrade the mail server \(UUID().uuidString.prefix(8))"
        try await staffMail(gw, from: "anna@example.test", subject: topic, body: "/change\n\nTo 2.4 on Saturday.")
        #expect(try await gw.sync().created.map(\.description) == ["CHG-000001"])
        try await staffMail(
            gw, from: "anna@example.test", subject: "Re: [CHG-000001] Upgrade",
            body: "/status assessment\n/status awaiting_approval")
        _ = try await gw.sync()
        #expect(try await ticket(gw, "CHG-000001").state == .awaitingApproval)
        for approver in ["cab1@example.test", "cab2@example.test", "cab3@example.test"] {
            #expect(agentMails(gw, to: approver, about: topic) == 1, "\(approver) got no approval request")
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
        let topic = "Disk full \(UUID().uuidString.prefix(8))"
        try await customerMail(gw, from: gw.requester, subject: topic)
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
        let before = agentMails(gw, about: topic)
        let late = try await run(at: created.addingTimeInterval(31 * 60))
        #expect(late.timerUpdates == 1)
        let escalations = agentMails(gw, about: topic) - before
        #expect(escalations >= 1)
        #expect(try await ticket(gw, "INC-000001").sla.breaches.isEmpty == false)
        let again = try await run(at: created.addingTimeInterval(32 * 60))
        #expect(again.timerUpdates == 0)
        #expect(agentMails(gw, about: topic) - before == escalations)

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

@Suite("Trust and threading edge cases by mail")
struct TrustEdgeCaseTests {
    let helper = WorkflowIntegrationTests()

    @Test("a forged agent mail with /status closed does not close; a genuine one with DKIM pass does")
    func forgedVersusGenuineClose() async throws {
        let gw = try GatewayFixture()
        try await helper.customerMail(gw, from: gw.requester, subject: "Monitor flickers")
        _ = try await gw.sync()
        try await gw.deliver(
            "From: Anna <anna@example.test>\nSubject: Re: [INC-000001] Monitor\nMessage-ID: <forged-\(UUID())@evil.test>\n\n/status closed\n"
        )
        _ = try await gw.sync()
        #expect(try await helper.ticket(gw, "INC-000001").state == .new)
        try await helper.staffMail(
            gw, from: "anna@example.test", subject: "Re: [INC-000001] Monitor", body: "/status closed")
        _ = try await gw.sync()
        #expect(try await helper.ticket(gw, "INC-000001").state == .closed)
    }

    @Test("an Outlook reply with AW: and a mangled tag, without References, lands on the same ticket")
    func outlookMangledTag() async throws {
        let gw = try GatewayFixture()
        try await helper.customerMail(gw, from: gw.requester, subject: "Drucker defekt")
        _ = try await gw.sync()
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: AW: [INC 000001] Drucker defekt\nThread-Topic: Drucker defekt\nMessage-ID: <ol-\(UUID())@c.test>\n\nNoch immer kaputt.\n"
        )
        let report = try await gw.sync()
        #expect(report.appended.map(\.description) == ["INC-000001"])
        #expect(report.created.isEmpty)
    }

    @Test("a service request whose type needs approval is rejected by its approver; the reason reaches the requester")
    func rejectedRequest() async throws {
        let gw = try GatewayFixture(
            extraYAML: """
                services:
                  - name: Workplace
                    owner_group: desk
                    request_types:
                      - { name: Laptop, requires_approval: true, approvers: [{ address: boss@example.test, name: Boss }] }
                intake:
                  rules:
                    - { name: requests, if: { keywords: [new laptop] }, then: { kind: request, service: Workplace } }
                """)
        let topic = "I need a new laptop \(UUID().uuidString.prefix(8))"
        try await helper.customerMail(gw, from: gw.requester, subject: topic)
        #expect(try await gw.sync().created.map(\.description) == ["REQ-000001"])
        try await helper.staffMail(
            gw, from: "anna@example.test", subject: "Re: [REQ-000001] laptop", body: "/service Workplace Laptop")
        _ = try await gw.sync()
        #expect(try await helper.ticket(gw, "REQ-000001").state == .awaitingApproval)
        #expect(helper.agentMails(gw, to: "boss@example.test", about: topic) == 1)
        try await helper.staffMail(
            gw, from: "boss@example.test", subject: "Re: [REQ-000001] laptop", body: "/reject Budget frozen until March"
        )
        _ = try await gw.sync()
        let request = try await helper.ticket(gw, "REQ-000001")
        #expect(request.state == .rejected)
        let mails = gw.stack.sentMessages(to: gw.requester).map { MailParser.parse(Array($0.raw.utf8)) }
        #expect(mails.contains { $0.text.contains("Budget frozen until March") })
    }
}
