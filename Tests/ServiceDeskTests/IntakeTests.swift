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
