import Foundation

/// One `Authentication-Results` header (RFC 8601): who evaluated the mail and what each method concluded.
public struct AuthenticationResults: Sendable, Equatable {
    /// One method's verdict, e.g. `dkim=pass header.d=example.test`.
    public struct Result: Sendable, Equatable {
        public var method: String
        public var result: String
        public var properties: [String: String]
    }

    public var authservID: String
    public var results: [Result]

    /// Parses a header value; comments in parentheses are dropped, quoted strings kept.
    public init?(_ value: String) {
        let cleaned = Self.removeComments(value)
        var statements = Self.splitStatements(cleaned)
        guard !statements.isEmpty else { return nil }
        let head = statements.removeFirst().split(whereSeparator: \.isWhitespace)
        guard let id = head.first, !id.isEmpty else { return nil }
        authservID = String(id).lowercased()
        results = statements.compactMap { statement in
            let tokens = statement.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = tokens.first, let equals = first.firstIndex(of: "=") else { return nil }
            let method = first[..<equals].lowercased()
            let result = first[first.index(after: equals)...].lowercased()
            var properties: [String: String] = [:]
            for token in tokens.dropFirst() {
                guard let eq = token.firstIndex(of: "=") else { continue }
                let key = token[..<eq].lowercased()
                var value = String(token[token.index(after: eq)...])
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                    value = String(value.dropFirst().dropLast())
                }
                properties[key] = value
            }
            return Result(method: method, result: result, properties: properties)
        }
    }

    public func passes(_ method: String) -> [Result] {
        results.filter { $0.method == method && $0.result == "pass" }
    }

    static func removeComments(_ text: String) -> String {
        var output = ""
        var depth = 0
        var quoted = false
        for character in text {
            if character == "\"" && depth == 0 { quoted.toggle() }
            if !quoted && character == "(" {
                depth += 1
                continue
            }
            if !quoted && character == ")" && depth > 0 {
                depth -= 1
                continue
            }
            if depth == 0 { output.append(character) }
        }
        return output
    }

    static func splitStatements(_ text: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            } else {
                current.append(character)
            }
        }
        statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
        return statements.filter { !$0.isEmpty }
    }
}

/// Which evidence makes a mail from an agent address really the agent's. Without it anyone could forge `From:` and
/// run commands.
public struct TrustPolicy: Sendable, Equatable, Decodable {
    /// The `authserv-id` of our own MTA, the only `Authentication-Results` we believe.
    public var authservID: String?
    /// Trust agent addresses outright because our own MTA refuses outside mail that claims an internal sender.
    public var internalMTA: Bool

    public init(authservID: String? = nil, internalMTA: Bool = false) {
        self.authservID = authservID
        self.internalMTA = internalMTA
    }

    enum CodingKeys: String, CodingKey {
        case authservID = "authserv_id"
        case internalMTA = "internal_mta"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        authservID = try container.decodeIfPresent(String.self, forKey: .authservID)
        internalMTA = try container.decodeIfPresent(Bool.self, forKey: .internalMTA) ?? false
    }
}

/// The verdict on a sender, with the reason shown on the ticket.
public struct TrustVerdict: Sendable, Equatable {
    public var trusted: Bool
    public var reason: String

    public init(trusted: Bool, reason: String) {
        self.trusted = trusted
        self.reason = reason
    }
}

/// Decides whether the `From:` of a mail is authenticated, from the topmost `Authentication-Results` header of the
/// trusted MTA (lower ones could have been written by anybody).
public enum SenderTrust {
    public static func evaluate(
        fromAddress: String, authenticationResults: [String], policy: TrustPolicy
    ) -> TrustVerdict {
        if policy.internalMTA {
            return TrustVerdict(trusted: true, reason: "the instance trusts its own MTA for internal mail")
        }
        guard let authservID = policy.authservID?.lowercased() else {
            return TrustVerdict(trusted: false, reason: "no trusted authserv_id is configured")
        }
        guard
            let results = authenticationResults.lazy.compactMap(AuthenticationResults.init)
                .first(where: { $0.authservID == authservID })
        else {
            return TrustVerdict(trusted: false, reason: "no Authentication-Results from \(authservID)")
        }
        let fromDomain = domain(of: fromAddress)
        for dkim in results.passes("dkim") {
            let signer = (dkim.properties["header.d"] ?? dkim.properties["header.i"].map(domain(of:)) ?? "")
                .lowercased()
            if !signer.isEmpty && aligned(signer, fromDomain) {
                return TrustVerdict(trusted: true, reason: "DKIM pass for \(signer), aligned with \(fromDomain)")
            }
        }
        let spfPass = !results.passes("spf").isEmpty
        let dmarcPass = results.passes("dmarc").contains { result in
            result.properties["header.from"].map { aligned($0.lowercased(), fromDomain) } ?? true
        }
        if spfPass && dmarcPass {
            return TrustVerdict(trusted: true, reason: "SPF and DMARC pass for \(fromDomain)")
        }
        return TrustVerdict(
            trusted: false, reason: "\(authservID) reports no aligned DKIM pass and no SPF+DMARC pass for \(fromDomain)"
        )
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address.lowercased() }
        return address[address.index(after: at)...].lowercased()
    }

    /// Relaxed alignment (DMARC): the same organisational domain, approximated by the last two labels.
    static func aligned(_ a: String, _ b: String) -> Bool {
        organisational(a) == organisational(b)
    }

    static func organisational(_ domain: String) -> String {
        domain.split(separator: ".").suffix(2).joined(separator: ".")
    }
}
