import Foundation
import Logging
import MailFormat
import ServiceDesk
import TestSupport
import Testing

@testable import Gateway

/// The outbox against the real SMTP sink: retries, permanent failures, an SMTP server that is down, threading headers.
@Suite("Outbox and sending")
struct OutboxIntegrationTests {
    func run(_ gw: GatewayFixture, at date: Date, configPath: String? = nil) async throws -> SyncReport {
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let context = try GatewayContext(configPath: configPath ?? gw.configPath, logger: logger)
        var engine = SyncEngine(
            configuration: context.configuration, store: context.store, templates: context.templates, logger: logger)
        engine.clock = { date }
        return try await engine.run()
    }

    @Test("a 451 is retried later with backoff and then delivered exactly once")
    func temporaryThenAccepted() async throws {
        let gw = try GatewayFixture()
        let requester = "tempfail-\(UUID().uuidString.prefix(8).lowercased())@customer.test"
        try await gw.deliver("From: <\(requester)>\nSubject: Slow\nMessage-ID: <t-\(UUID())@c.test>\n\nx\n")
        let now = Date()
        let first = try await run(gw, at: now)
        #expect(first.sendFailures == 1)
        #expect(first.sent == 0)
        let pending = try await gw.context().store.read { try $0.outbox(status: .pending) }
        #expect(pending.first?.attempts == 1)
        #expect(pending.first?.lastError?.contains("451") == true)
        #expect(try await run(gw, at: now.addingTimeInterval(1)).sent == 0)  // not due yet: backoff
        #expect(try await run(gw, at: now.addingTimeInterval(3600)).sent == 1)
        #expect(gw.stack.sentMessages(to: requester).count == 1)
        #expect(try await run(gw, at: now.addingTimeInterval(7200)).sent == 0)
    }

    @Test("a 550 is permanent: shown on the ticket, the address marked undeliverable, the assignee told")
    func permanentFailure() async throws {
        let gw = try GatewayFixture()
        let requester = "reject-\(UUID().uuidString.prefix(8).lowercased())@customer.test"
        let topic = "Broken \(UUID().uuidString.prefix(8))"
        try await gw.deliver("From: <\(requester)>\nSubject: \(topic)\nMessage-ID: <p-\(UUID())@c.test>\n\nx\n")
        let report = try await run(gw, at: Date())
        #expect(report.sendFailures == 1)
        let failed = try await gw.context().store.read { try $0.outbox(status: .failed) }
        #expect(failed.count == 1)
        let audit = try await gw.context().store.read { try $0.auditTrail(of: TicketID("INC-000001")!) }
        #expect(
            audit.contains { $0.action.hasPrefix("delivery failed permanently") && ($0.newValue ?? "").contains("550") }
        )
        #expect(try await gw.context().store.read { try $0.undeliverableReason(requester) }?.hasPrefix("550") == true)
        let notices = gw.stack.sentMessages(to: "anna@example.test").filter {
            let mail = MailParser.parse(Array($0.raw.utf8))
            return (mail.subject + mail.text).contains(topic)
        }
        #expect(notices.count == 1)

        // An operator can queue it again (after fixing the address at the recipient's side) or drop it.
        let id = try #require(failed.first?.id)
        let retry = try CommandLineTests().run(["outbox", "retry", "\(id)", "--config", gw.configPath])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try await gw.context().store.read { try $0.outbox(status: .pending) }.map(\.id) == [id])
        #expect(try CommandLineTests().run(["outbox", "drop", "\(id)", "--config", gw.configPath]).status == 0)
        #expect(try await gw.context().store.read { try $0.outbox(status: .dropped) }.map(\.id) == [id])
        let missing = try CommandLineTests().run(["outbox", "drop", "\(id)", "--config", gw.configPath])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no pending or failed outbox mail"))
    }

    @Test("with the SMTP server down nothing is lost; when it returns every mail goes out once")
    func serverDownThenBack() async throws {
        let gw = try GatewayFixture()
        let down = try String(contentsOfFile: gw.configPath, encoding: .utf8).replacingOccurrences(
            of: "smtp://127.0.0.1:\(gw.stack.smtpPort)", with: "smtp://127.0.0.1:9")
        let downPath = gw.configPath + ".down.yaml"
        try down.write(toFile: downPath, atomically: true, encoding: .utf8)
        for index in 0..<3 {
            try await gw.deliver(
                "From: <\(gw.requester)>\nSubject: D\(index)\nMessage-ID: <d\(index)-\(UUID())@c.test>\n\nx\n")
        }
        let now = Date()
        let first = try await run(gw, at: now, configPath: downPath)
        #expect(first.created.count == 3)
        #expect(first.sent == 0)
        #expect(first.sendFailures == 1)  // the first connection failure stops the drain until the next run
        // Queued unrendered; only the mail that was attempted (the first) has been rendered, right before.
        let queued = try await gw.context().store.read { try $0.outbox(status: .pending) }
        #expect(queued.count == 3)
        #expect(queued.first.map { !$0.raw.isEmpty && $0.deferred == nil } == true)
        #expect(queued.dropFirst().allSatisfy { $0.raw.isEmpty && $0.deferred?.template == "acknowledgement" })
        // The ticket shows the acknowledgement as queued until it is rendered and sent.
        let queuedShow = try CommandLineTests().run(["tickets", "show", "INC-000003", "--config", downPath, "--json"])
        let queuedArticles = try #require(
            (try JSONSerialization.jsonObject(with: Data(queuedShow.stdout.utf8)) as? [String: Any])?["articles"]
                as? [[String: Any]])
        #expect(queuedArticles.map { $0["queued"] as? Bool } == [false, true])
        let human = try CommandLineTests().run(["tickets", "show", "INC-000003", "--config", downPath])
        #expect(human.stdout.contains("(queued: rendered from its template when it is sent)"))
        _ = try await run(gw, at: now.addingTimeInterval(60), configPath: downPath)
        #expect(gw.stack.sentMessages(to: gw.requester).isEmpty)
        let back = try await run(gw, at: now.addingTimeInterval(3 * 3600))
        #expect(back.sent == 3)
        let mails = gw.stack.sentMessages(to: gw.requester).map { MailParser.parse(Array($0.raw.utf8)) }
        #expect(mails.count == 3)
        #expect(Set(mails.map(\.subject)) == ["[INC-000001] D0", "[INC-000002] D1", "[INC-000003] D2"])
        // Rendered at sending time, yet dated and threaded as when the mail was queued; the ticket shows the text.
        #expect(mails.allSatisfy { $0.date.map { abs($0.timeIntervalSince(now)) < 1 } == true })
        #expect(mails.allSatisfy { $0.inReplyTo.first?.hasPrefix("d") == true })
        let articles = try await gw.context().store.read { try $0.articles(of: TicketID("INC-000002")!) }
        let reply = try #require(articles.first { $0.direction == .outbound })
        #expect(reply.subject == "[INC-000002] D1")
        #expect(reply.text.contains("INC-000002"))
        let sentShow = try CommandLineTests().run([
            "tickets", "show", "INC-000003", "--config", gw.configPath, "--json",
        ])
        #expect(sentShow.stdout.contains("\"queued\":false") || sentShow.stdout.contains("\"queued\" : false"))
        #expect(!sentShow.stdout.contains("\"queued\":true") && !sentShow.stdout.contains("\"queued\" : true"))
        #expect(try await gw.context().store.read { try $0.outbox(status: .sent) }.allSatisfy { $0.deferred == nil })
        #expect(try await run(gw, at: now.addingTimeInterval(4 * 3600)).sent == 0)
    }

    @Test("a queued mail whose template cannot be rendered any more fails for good with the reason, and the rest go")
    func unrenderableQueuedMail() async throws {
        let gw = try GatewayFixture()
        let context = try gw.context()
        let now = Date()
        let broken = DeferredMail(
            template: "no_such_template", locale: "en", values: [:],
            from: MailAddress(name: nil, address: "\(gw.supportUser)@example.test"),
            to: [MailAddress(name: nil, address: "nobody@customer.test")], replyTo: [], inReplyTo: nil,
            references: [], date: now, headers: [])
        try await context.store.write { tx in
            try tx.enqueue(
                OutboxItem(
                    ticketID: nil, purpose: "test", messageID: "broken-\(UUID())@example.test", mailFrom: "",
                    recipients: ["nobody@customer.test"], raw: [], deferred: broken, nextAttemptAt: now,
                    createdAt: now))
        }
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Fine\nMessage-ID: <f-\(UUID())@c.test>\n\nx\n")
        let report = try await run(gw, at: now)
        #expect(report.sendFailures == 1)
        #expect(report.sent == 1)
        let failed = try await context.store.read { try $0.outbox(status: .failed) }
        #expect(failed.count == 1)
        #expect(failed.first?.lastError?.hasPrefix("rendering failed:") == true)
        #expect(failed.first?.lastError?.contains("no_such_template") == true)
        #expect(gw.stack.sentMessages(to: "nobody@customer.test").isEmpty)
        #expect(gw.stack.sentMessages(to: gw.requester).count == 1)
    }

    @Test("threading headers chain across five replies; an agent's attachment is relayed")
    func headerChain() async throws {
        let gw = try GatewayFixture()
        let original = "orig-\(UUID())@customer.test"
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Chain\nMessage-ID: <\(original)>\n\nstart\n")
        _ = try await gw.sync()
        var customerIDs = [original]
        for round in 1...5 {
            let parent = try #require(gw.stack.sentMessages(to: gw.requester).last?.header("Message-ID"))
            if round % 2 == 1 {
                try await gw.deliver(
                    """
                    Authentication-Results: mx.example.test; dkim=pass header.d=example.test
                    From: Anna <anna@example.test>
                    Subject: Re: [INC-000001] Chain
                    Message-ID: <agent\(round)-\(UUID())@example.test>
                    In-Reply-To: \(parent)
                    MIME-Version: 1.0
                    Content-Type: multipart/mixed; boundary="b"

                    --b
                    Content-Type: text/plain

                    Answer \(round)
                    --b
                    Content-Type: application/pdf; name="guide\(round).pdf"
                    Content-Disposition: attachment; filename="guide\(round).pdf"
                    Content-Transfer-Encoding: base64

                    JVBERi0xLjQKJcfs
                    --b--
                    """)
            } else {
                let id = "cust\(round)-\(UUID())@customer.test"
                customerIDs.append(id)
                try await gw.deliver(
                    "From: <\(gw.requester)>\nSubject: Re: [INC-000001] Chain\nMessage-ID: <\(id)>\nIn-Reply-To: \(parent)\n\nmore \(round)\n"
                )
            }
            _ = try await gw.sync()
        }
        let sent = gw.stack.sentMessages(to: gw.requester)
        #expect(sent.count == 4)  // acknowledgement + three relayed agent answers
        var seen: [String] = []
        for mail in sent {
            let parsed = MailParser.parse(Array(mail.raw.utf8))
            #expect(parsed.references.first == original)
            #expect(parsed.subject.contains("[INC-000001]"))
            #expect(mail.header("Reply-To")?.contains(gw.supportUser) == true)
            #expect(mail.header("X-Ticketgate-Ticket") == "INC-000001")
            for earlier in seen where parsed.references.count < 10 { #expect(parsed.references.contains(earlier)) }
            if let id = parsed.messageID { seen.append(id) }
            #expect(!parsed.references.contains { $0.hasPrefix("agent") })
        }
        let last = MailParser.parse(Array(try #require(sent.last).raw.utf8))
        #expect(last.inReplyTo == [customerIDs.last!])
        #expect(last.attachments.map(\.filename) == ["guide5.pdf"])
        #expect(last.attachments.first?.data == Array(Data(base64Encoded: "JVBERi0xLjQKJcfs")!))
    }
}

@Suite("Requester language")
struct RequesterLanguageTests {
    @Test("a German requester gets German mail, and keeps getting it even when a later mail says nothing")
    func recordedLanguage() async throws {
        let gw = try GatewayFixture()
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Drucker\nMessage-ID: <g1-\(UUID())@c.test>\n\nGuten Morgen, der Drucker im zweiten Stock druckt nicht mehr und zeigt einen Fehler an. Können Sie bitte helfen?\n"
        )
        _ = try await gw.sync()
        try await gw.deliver("From: <\(gw.requester)>\nSubject: OK\nMessage-ID: <g2-\(UUID())@c.test>\n\nok\n")
        _ = try await gw.sync()
        let mails = gw.stack.sentMessages(to: gw.requester).map { MailParser.parse(Array($0.raw.utf8)) }
        #expect(mails.count == 2)
        #expect(mails.allSatisfy { $0.text.contains("Sie") })
        let language = try await gw.context().store.read { try $0.language(of: gw.requester) }
        #expect(language == "de")
    }
}
