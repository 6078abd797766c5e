import Foundation
import Testing

@testable import ServiceDesk

@Suite("Sender trust")
struct SenderTrustTests {
    let policy = TrustPolicy(authservID: "mx.example.test")

    @Test("Authentication-Results parse with comments, quotes and several methods")
    func parse() throws {
        let results = try #require(
            AuthenticationResults(
                "mx.example.test 1; dkim=pass (2048-bit key) header.d=example.test header.s=sel; spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=anna@example.test; dmarc=pass header.from=\"example.test\""
            ))
        #expect(results.authservID == "mx.example.test")
        #expect(results.results.map(\.method) == ["dkim", "spf", "dmarc"])
        #expect(results.results[0].properties["header.d"] == "example.test")
        #expect(results.results[2].properties["header.from"] == "example.test")
        #expect(AuthenticationResults("") == nil)
    }

    @Test(
        "verdicts",
        arguments: [
            (["mx.example.test; dkim=pass header.d=example.test"], true),
            (["mx.example.test; dkim=pass header.d=mail.example.test"], true),
            (["mx.example.test; dkim=pass header.d=evil.test"], false),
            (["mx.example.test; dkim=fail header.d=example.test"], false),
            (["mx.example.test; spf=pass smtp.mailfrom=example.test; dmarc=pass header.from=example.test"], true),
            (["mx.example.test; spf=pass smtp.mailfrom=example.test; dmarc=fail header.from=example.test"], false),
            (["mx.example.test; spf=pass smtp.mailfrom=example.test"], false),
            (["evil.test; dkim=pass header.d=example.test"], false),
            ([], false),
            // Only the topmost header of our MTA counts: a forged lower one cannot help.
            (["mx.example.test; dkim=none", "mx.example.test; dkim=pass header.d=example.test"], false),
        ])
    func verdicts(headers: [String], trusted: Bool) {
        let verdict = SenderTrust.evaluate(
            fromAddress: "anna@example.test", authenticationResults: headers, policy: policy)
        #expect(verdict.trusted == trusted, "\(verdict.reason)")
    }

    @Test("no authserv_id configured means no agent mail is trusted, unless the own MTA is trusted")
    func policies() {
        let header = ["mx.example.test; dkim=pass header.d=example.test"]
        #expect(
            !SenderTrust.evaluate(
                fromAddress: "anna@example.test", authenticationResults: header, policy: TrustPolicy()
            ).trusted)
        #expect(
            SenderTrust.evaluate(
                fromAddress: "anna@example.test", authenticationResults: [], policy: TrustPolicy(internalMTA: true)
            ).trusted)
    }
}

@Suite("Classification rules")
struct ClassificationTests {
    let rules: [IntakeRule] = [
        IntakeRule(name: "spam", conditions: .init(senderDomain: ["spam.test"]), actions: .init(action: .ignore)),
        IntakeRule(
            name: "request-address", conditions: .init(recipient: ["request@example.test"]),
            actions: .init(kind: "request", service: "Workplace")),
        IntakeRule(
            name: "urgent-de", conditions: .init(keywords: ["dringend", "ausgefallen", "urgent", "down"]),
            actions: .init(impact: .high, urgency: .high)),
        IntakeRule(
            name: "vip", conditions: .init(header: .init(name: "X-Priority", contains: "1")),
            actions: .init(urgency: .high)),
        IntakeRule(name: "stranger", conditions: .init(sender: ["mallory@evil.test"]), actions: .init(action: .reject)),
    ]

    func facts(
        to: String = "support@example.test", from: String = "a@customer.test", subject: String = "Hello",
        body: String = "text", headers: [(String, String)] = []
    ) -> MailFacts {
        MailFacts(recipients: [to], sender: from, subject: subject, body: body, headers: headers)
    }

    @Test("first matching rule wins; no rule gives an incident")
    func order() {
        #expect(Classifier.classify(facts(), rules: rules) == Classification(kind: .incident))
        let request = Classifier.classify(facts(to: "Request@Example.test", subject: "URGENT"), rules: rules)
        #expect(request.kind == .serviceRequest)
        #expect(request.service == "Workplace")
        #expect(request.rule == "request-address")
        #expect(request.impact == nil)
    }

    @Test(
        "keywords match subject or body, case- and accent-insensitively, in German and English",
        arguments: [
            ("Server ausgefallen", "x"), ("x", "Das ist DRINGEND"), ("Mail server down", ""),
        ])
    func keywords(subject: String, body: String) {
        let result = Classifier.classify(facts(subject: subject, body: body), rules: rules)
        #expect(result.rule == "urgent-de")
        #expect(result.impact == .high)
    }

    @Test("header conditions, sender domains and dispositions")
    func others() {
        #expect(Classifier.classify(facts(headers: [("X-Priority", "1 (Highest)")]), rules: rules).urgency == .high)
        #expect(Classifier.classify(facts(from: "x@mail.spam.test"), rules: rules).disposition == .ignore)
        #expect(Classifier.classify(facts(from: "MALLORY@evil.test"), rules: rules).disposition == .reject)
    }

    @Test("kinds are read from the names people write")
    func kindNames() {
        #expect(TicketKind(configName: "request") == .serviceRequest)
        #expect(TicketKind(configName: "Change") == .change)
        #expect(TicketKind(configName: "bug") == nil)
    }
}

@Suite("Intake decisions")
struct IntakeDecisionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let inc = TicketID(kind: .incident, number: 5)

    func input(
        sender: String = "alice@customer.test", signals: [String] = [], evidence: ThreadingEvidence = .init(),
        threaded: (state: TicketState, closedAt: Date?)? = nil, agent: String? = nil, trusted: Bool = false,
        known: Bool = true, unknownSenders: Disposition = .create, bounceOf: String? = nil, own: String? = nil
    ) -> IntakeInput {
        IntakeInput(
            facts: MailFacts(
                recipients: ["support@example.test"], sender: sender, subject: "s", body: "b", headers: []),
            messageID: "m@x", automaticSignals: signals, ownMailReason: own, bounceOf: bounceOf, evidence: evidence,
            threadedTicket: threaded, agentName: agent, trust: TrustVerdict(trusted: trusted, reason: "test"),
            senderKnown: known, unknownSenders: unknownSenders, reopenClosedDays: 14, now: now)
    }

    @Test("own mail is always dropped, before anything else")
    func ownMail() {
        #expect(Intake.decide(input(evidence: .init(referencedTicket: inc), own: "ours")).route == .ignore)
    }

    @Test("automatic mail attaches to its ticket without effect, or is dropped when it refers to none")
    func automatic() {
        #expect(
            Intake.decide(input(signals: ["auto-submitted"], evidence: .init(referencedTicket: inc))).route
                == .existing(inc, automatic: true))
        #expect(Intake.decide(input(signals: ["precedence"])).route == .ignore)
    }

    @Test("a reply to a closed ticket reopens it within the window, else opens a new linked ticket")
    func closedWindow() {
        let recent = input(
            evidence: .init(referencedTicket: inc), threaded: (.closed, now.addingTimeInterval(-3 * 86_400)))
        #expect(Intake.decide(recent).route == .existing(inc, automatic: false))
        let old = input(
            evidence: .init(referencedTicket: inc), threaded: (.closed, now.addingTimeInterval(-30 * 86_400)))
        #expect(Intake.decide(old).route == .new(Classification(), linkedTo: inc))
    }

    @Test("an unauthenticated agent address is a customer with a warning; an authenticated one is an agent")
    func agentTrust() {
        let forged = Intake.decide(
            input(sender: "anna@example.test", evidence: .init(referencedTicket: inc), agent: "Anna"))
        #expect(!forged.trustedAgent)
        #expect(forged.warnings.count == 1)
        let genuine = Intake.decide(
            input(sender: "anna@example.test", evidence: .init(referencedTicket: inc), agent: "Anna", trusted: true))
        #expect(genuine.trustedAgent)
        #expect(genuine.warnings.isEmpty)
        // A forged agent cannot use the subject tag of a ticket it does not take part in.
        let tag = ThreadingEvidence(subjectTag: inc, taggedTicketParticipants: ["alice@customer.test"])
        guard case .new = Intake.decide(input(sender: "anna@example.test", evidence: tag, agent: "Anna")).route else {
            Issue.record("forged agent used a subject tag")
            return
        }
    }

    @Test(
        "unknown senders follow the mailbox policy; known ones and agents always get a ticket",
        arguments: [
            (Disposition.create, false, IntakeDecision.Route.new(Classification(), linkedTo: nil)),
            (.ignore, false, .ignore), (.reject, false, .reject),
            (.reject, true, .new(Classification(), linkedTo: nil)),
        ])
    func unknownSenders(policy: Disposition, known: Bool, expected: IntakeDecision.Route) {
        #expect(Intake.decide(input(known: known, unknownSenders: policy)).route == expected)
    }

    @Test("a bounce routes to the ticket of the failed mail")
    func bounce() {
        #expect(Intake.decide(input(evidence: .init(referencedTicket: inc), bounceOf: "ack@x")).route == .bounce(inc))
        #expect(Intake.decide(input(bounceOf: "ack@x")).route == .bounce(nil))
    }

    @Test("a signed body reference threads for participants only")
    func bodyReference() {
        let evidence = ThreadingEvidence(bodyReference: inc, referencedTicketParticipants: ["alice@customer.test"])
        #expect(Intake.decide(input(evidence: evidence)).route == .existing(inc, automatic: false))
        guard case .new = Intake.decide(input(sender: "eve@x.test", evidence: evidence)).route else {
            Issue.record("stranger threaded by body reference")
            return
        }
        let marker = TicketReference.make(inc, secret: "k")
        #expect(TicketReference.find(in: "> quoted\n> \(marker)\n", secret: "k") == [inc])
        #expect(TicketReference.find(in: marker, secret: "other").isEmpty)
        #expect(
            TicketReference.find(in: marker.replacingOccurrences(of: "000005", with: "000006"), secret: "k").isEmpty)
        // Brackets around and before a reference, repeats, two tickets in order, and cut-off ends.
        let req = TicketID(kind: .serviceRequest, number: 7)
        let other = TicketReference.make(req, secret: "k")
        #expect(TicketReference.find(in: "[[\(marker)] [x] \(other) Grüße \(marker)", secret: "k") == [inc, req])
        #expect(TicketReference.find(in: "see [TG:\(other.dropFirst(4))", secret: "k") == [req])
        #expect(TicketReference.find(in: "ends with [TG", secret: "k").isEmpty)
        #expect(TicketReference.find(in: "open [TG:INC-000005:", secret: "k").isEmpty)
        #expect(TicketReference.find(in: "", secret: "k").isEmpty)
    }
}
