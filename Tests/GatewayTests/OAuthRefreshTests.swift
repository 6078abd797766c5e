import Foundation
import ServiceDesk
import TestSupport
import Testing

@testable import Gateway

/// XOAUTH2 with a real token endpoint (scripts/token_endpoint.py) and Dovecot accepting the issued bearer token.
@Suite("OAuth refresh")
struct OAuthRefreshTests {
    /// Starts the token endpoint (scripts/token_endpoint.py); returns its URL and a stopper.
    func endpoint(_ arguments: [String]) throws -> (url: String, stop: () -> Void) {
        let script = GatewayFixture.repository.appendingPathComponent("scripts/token_endpoint.py").path
        let server = try ChildServer { portFile in [script, "--port", "0", "--ready-file", portFile] + arguments }
        return ("http://127.0.0.1:\(server.port)/token", server.stop)
    }

    func configure(_ gw: GatewayFixture, tokenURL: String) throws {
        let yaml = try String(contentsOfFile: gw.configPath, encoding: .utf8).replacingOccurrences(
            of: "password: \(gw.stack.password), folder: INBOX",
            with: "folder: INBOX, oauth: { token_url: \"\(tokenURL)\", client_id: tg, refresh_token: R0 }")
        try yaml.write(toFile: gw.configPath, atomically: true, encoding: .utf8)
    }

    @Test("the access token is refreshed before expiry and the rotated refresh token is kept across runs")
    func rotation() async throws {
        let gw = try GatewayFixture()
        // Tokens live 120 s: inside the 5-minute margin, so every run refreshes, each time with the rotated token.
        let token = try endpoint(["--refresh-token", "R0", "--client-id", "tg", "--expires-in", "120"])
        defer { token.stop() }
        try configure(gw, tokenURL: token.url)
        try await gw.deliver("From: <\(gw.requester)>\nSubject: one\nMessage-ID: <o1-\(UUID())@c.test>\n\nx\n")
        #expect(try await gw.sync().created.count == 1)
        try await gw.deliver("From: <\(gw.requester)>\nSubject: two\nMessage-ID: <o2-\(UUID())@c.test>\n\nx\n")
        // R0 is now invalid at the endpoint: this run only works because R0.1 was persisted.
        #expect(try await gw.sync().created.count == 1)
        let states = try await gw.context().store.read { tx in try tx.oauthStateCount() }
        #expect(states == 1)
    }

    @Test("a refused refresh fails loudly: exit 77 and a sentence that says what to do")
    func refused() async throws {
        let gw = try GatewayFixture()
        let token = try endpoint(["--refresh-token", "R0", "--client-id", "tg", "--fail-after", "0"])
        defer { token.stop() }
        try configure(gw, tokenURL: token.url)
        let result = try CommandLineTests().run(["sync", "--config", gw.configPath])
        #expect(result.status == 77)
        #expect(result.stderr.contains("Mailbox \"support\""))
        #expect(result.stderr.contains("refused to refresh the access token (invalid_grant"))
        #expect(result.stderr.contains("refresh_token"))
    }
}

extension TicketReading {
    /// How many mailboxes have OAuth state (test helper; there is one configured here).
    func oauthStateCount() throws -> Int {
        try oauthState(mailbox: "support#\(HMAC.hex(SHA256Digest.of("R0")).prefix(12))") == nil ? 0 : 1
    }
}
