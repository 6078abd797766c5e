import Foundation
import MailFormat
import ServiceDesk
import TestSupport
import Testing

@testable import Gateway

/// Intake behaviour end to end: real mails through Dovecot, decisions visible in the store and the SMTP sink.
@Suite("Intake through real mail")
struct IntakeIntegrationTests {
    func openTicket(_ gw: GatewayFixture) async throws -> String {
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Laptop broken\nMessage-ID: <l-\(UUID())@c.test>\n\nbroken\n")
        _ = try await gw.sync()
        let ack = try #require(gw.stack.sentMessages(to: gw.requester).first)
        return try #require(ack.header("Message-ID"))
    }

    @Test("a forged agent mail is handled as a customer mail and the ticket gets a visible warning")
    func forgedAgent() async throws {
        let gw = try GatewayFixture()
        let ackID = try await openTicket(gw)
        try await gw.deliver(
            """
            Authentication-Results: mx.example.test; dkim=fail header.d=example.test; spf=fail
            Authentication-Results: mx.example.test; dkim=pass header.d=example.test
            From: Anna <anna@example.test>
            Subject: Re: [INC-000001] Laptop broken
            Message-ID: <forged-\(UUID())@evil.test>
            In-Reply-To: \(ackID)

            You are all fired.
            """)
        let report = try await gw.sync()
        #expect(report.appended.map(\.description) == ["INC-000001"])
        #expect(report.sent == 0)
        let articles = try await gw.articles("INC-000001")
        let forged = try #require(articles.first { $0.text.contains("fired") })
        #expect(forged.author == .requester)
        #expect(articles.contains { $0.isInternal && $0.text.contains("not authenticated") })
        #expect(gw.stack.sentMessages(to: gw.requester).count == 1)
        let ticket = try #require(try await gw.tickets().first)
        #expect(ticket.assignee == nil)
    }

    @Test("an out-of-office ping-pong is bounded: automatic mail never triggers a reply, and replies are rate-limited")
    func outOfOfficePingPong() async throws {
        let gw = try GatewayFixture(extraYAML: "intake: { auto_reply_limit_per_hour: 3 }")
        // A person whose autoresponder answers everything, without any auto-reply header but with a fresh subject
        // each time (the worst kind): each mail would open a ticket and get an acknowledgement …
        for index in 0..<6 {
            try await gw.deliver(
                "From: <\(gw.requester)>\nSubject: Ticket \(index)\nMessage-ID: <p-\(index)-\(UUID())@c.test>\n\nhello\n"
            )
        }
        // … and an autoresponder that marks itself properly, replying to our acknowledgement.
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Abwesenheitsnotiz: Ticket 0\nAuto-Submitted: auto-replied\nMessage-ID: <oof-\(UUID())@c.test>\n\nIch bin nicht da.\n"
        )
        let report = try await gw.sync()
        #expect(report.created.count == 6)
        #expect(report.ignored == 1)
        #expect(report.sent == 3)
        #expect(gw.stack.sentMessages(to: gw.requester).count == 3)
        let audit = try await gw.context().store.read { try $0.auditTrail(of: TicketID("INC-000006")!) }
        #expect(audit.contains { $0.action.contains("suppressed") })
        // The trail opens with one entry: the ticket was created, and why (the intake's reason).
        #expect(audit.first?.action == "created (new incident: no reference to a known ticket)")
        #expect(audit.first?.actor == gw.requester && audit.first?.newValue == "new")
        #expect(audit.filter { $0.action.contains("no reference to a known ticket") }.count == 1)
    }

    @Test("a DSN for an acknowledgement attaches to its ticket and stops further mail to that address")
    func bounce() async throws {
        let gw = try GatewayFixture()
        let ackID = try await openTicket(gw)
        try await gw.deliver(
            """
            From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
            To: \(gw.supportUser)@example.test
            Subject: Undelivered Mail Returned to Sender
            Message-ID: <dsn-\(UUID())@mx.customer.test>
            Auto-Submitted: auto-replied
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="B"

            --B
            Content-Type: text/plain

            I'm sorry to have to inform you that your message could not be delivered.

            --B
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.customer.test

            Final-Recipient: rfc822; \(gw.requester)
            Action: failed
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 User unknown

            --B
            Content-Type: text/rfc822-headers

            From: IT Service Desk <\(gw.supportUser)@example.test>
            Message-ID: \(ackID)
            Subject: [INC-000001] Laptop broken

            --B--
            """)
        let report = try await gw.sync()
        #expect(report.appended.map(\.description) == ["INC-000001"])
        let articles = try await gw.articles("INC-000001")
        #expect(articles.last?.isInternal == true)
        #expect(articles.last?.text.contains("5.1.1") == true)
        let reason = try await gw.context().store.read { try $0.undeliverableReason(gw.requester) }
        #expect(reason?.hasPrefix("5.1.1") == true)
        // A new mail from that address still makes a ticket, but no acknowledgement goes to it.
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Another\nMessage-ID: <n-\(UUID())@c.test>\n\nx\n")
        let next = try await gw.sync()
        #expect(next.created.count == 1)
        #expect(next.sent == 0)
    }

    @Test("rules classify by recipient and keywords; reject rules answer; unknown senders follow the mailbox policy")
    func rules() async throws {
        let gw = try GatewayFixture(
            mailboxYAML: "unknown_senders: ignore",
            extraYAML: """
                customers: { domains: [customer.test] }
                intake:
                  rules:
                    - name: password-requests
                      if: { keywords: [password reset, Passwort] }
                      then: { kind: request, service: Accounts, impact: low, urgency: medium }
                    - name: outage
                      if: { keywords: [ausgefallen, down] }
                      then: { impact: high, urgency: high }
                    - name: blocked
                      if: { sender_domain: blocked.test }
                      then: { action: reject }
                    - name: flagged-urgent
                      if: { header: { name: x-priority, contains: "1" } }
                      then: { impact: medium, urgency: high }
                """)
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Password reset please\nMessage-ID: <r1-\(UUID())@c.test>\n\nx\n")
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Mailserver ausgefallen\nMessage-ID: <r2-\(UUID())@c.test>\n\nx\n")
        let spammer = "spam-\(UUID().uuidString.prefix(8))@blocked.test"
        try await gw.deliver("From: <\(spammer)>\nSubject: Buy now\nMessage-ID: <r3-\(UUID())@b.test>\n\nx\n")
        let stranger = "who-\(UUID().uuidString.prefix(8))@elsewhere.test"
        try await gw.deliver("From: <\(stranger)>\nSubject: Hi\nMessage-ID: <r4-\(UUID())@e.test>\n\nx\n")
        // a header rule: the field's name in another case, its value encoded
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Drucker\nX-PRIORITY: =?utf-8?q?1_=28H=C3=B6chste=29?=\n"
                + "Message-ID: <r5-\(UUID())@c.test>\n\nx\n")
        let report = try await gw.sync()
        #expect(report.created.map(\.description) == ["REQ-000001", "INC-000001", "INC-000002"])
        let tickets = try await gw.tickets()
        #expect(tickets.first { $0.id.kind == .serviceRequest }?.priority == .p4)
        #expect(tickets.first { $0.id.description == "INC-000001" }?.priority == .p1)
        #expect(tickets.first { $0.id.description == "INC-000002" }?.priority == .p2)
        let rejection = try #require(gw.stack.sentMessages(to: spammer).first)
        #expect(rejection.mailFrom == "")
        #expect(rejection.header("Auto-Submitted") == "auto-replied")
        #expect(gw.stack.sentMessages(to: stranger).isEmpty)
        #expect(report.ignored == 2)
    }
}
