import Foundation
import MailFormat
import MailTransport
import ServiceDesk

/// Access tokens for XOAUTH2 mailboxes: refreshed five minutes before expiry, the rotated refresh token saved in the
/// store at once, and a refused refresh reported loudly with what to do (the most common complaint about peers is
/// that this fails silently).
struct TokenProvider {
    let store: any TicketStore
    let clock: @Sendable () -> Date
    var margin: TimeInterval = 300

    func accessToken(for mailbox: Configuration.Mailbox) async throws -> String? {
        guard let oauth = mailbox.imap.oauth else { return mailbox.imap.oauthToken?.value }
        // The state is keyed by the configured refresh token too, so pasting a new one into the config starts afresh.
        let key = "\(mailbox.name)#\(HMAC.hex(SHA256Digest.of(oauth.refreshToken.value), bytes: 6))"
        let now = clock()
        if let state = try await store.read({ try $0.oauthState(mailbox: key) }),
            state.expiresAt.timeIntervalSince(now) > margin
        {
            return state.accessToken
        }
        let current = try await store.read { try $0.oauthState(mailbox: key) }
        let refreshToken = current?.refreshToken ?? oauth.refreshToken.value
        guard let url = URL(string: oauth.tokenURL) else {
            throw GatewayError.oauth(mailbox: mailbox.name, message: "imap.oauth.token_url is not a URL.")
        }
        var fields = [
            ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", oauth.clientID),
        ]
        if let secret = oauth.clientSecret { fields.append(("client_secret", secret.value)) }
        if let scope = oauth.scope { fields.append(("scope", scope)) }
        let response: (status: Int, body: [UInt8])
        do {
            response = try await HTTPClient().postForm(url, fields: fields, caFile: mailbox.imap.caFile)
        } catch {
            throw GatewayError.oauth(
                mailbox: mailbox.name, message: "the OAuth token endpoint \(oauth.tokenURL) cannot be reached: \(error)"
            )
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        guard response.status == 200, let access = json["access_token"] as? String, !access.isEmpty else {
            let error =
                (json["error"] as? String).map {
                    "\($0)\((json["error_description"] as? String).map { ": \($0)" } ?? "")"
                }
                ?? "HTTP \(response.status)"
            throw GatewayError.oauth(
                mailbox: mailbox.name,
                message: "the OAuth token endpoint refused to refresh the access token (\(error)). Authorise "
                    + "Ticketgate again and put the new refresh token into mailboxes[].imap.oauth.refresh_token.")
        }
        let expiresIn =
            (json["expires_in"] as? NSNumber)?.doubleValue ?? Double(json["expires_in"] as? String ?? "")
            ?? 3600
        let state = OAuthState(
            mailbox: key, accessToken: access, expiresAt: now.addingTimeInterval(expiresIn),
            refreshToken: (json["refresh_token"] as? String) ?? refreshToken)
        try await store.write { try $0.save(state) }
        return access
    }
}

/// SHA-256 of a string, for keys that must not reveal the secret they are derived from.
enum SHA256Digest {
    static func of(_ text: String) -> [UInt8] {
        MailFormat.SHA256.digest(Array(text.utf8))
    }
}
