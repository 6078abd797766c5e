import Foundation
import ServiceDesk
import Yams

/// A secret (password, instance key) given inline, from an environment variable or from a file; never logged.
public struct Secret: Sendable, Decodable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<secret>" }

    private enum Keys: String, CodingKey {
        case env
        case file
    }

    public init(from decoder: any Decoder) throws {
        if let inline = try? decoder.singleValueContainer().decode(String.self) {
            value = inline
            return
        }
        let container = try decoder.container(keyedBy: Keys.self)
        if let variable = try container.decodeIfPresent(String.self, forKey: .env) {
            guard let found = ProcessInfo.processInfo.environment[variable], !found.isEmpty else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "the environment variable \(variable) is not set"))
            }
            value = found
        } else if let path = try container.decodeIfPresent(String.self, forKey: .file) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "the file \(path) cannot be read"))
            }
            value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "a secret is a string, or a mapping with `env` or `file`"))
        }
    }
}

/// The whole configuration, decoded from one YAML file and validated before anything connects anywhere.
public struct Configuration: Sendable, Decodable {
    /// Identity of this installation: the name people see, the domain of Message-IDs and the signing secret.
    public struct Instance: Sendable, Decodable {
        public var name: String
        public var domain: String
        public var secret: Secret
        public var language: String?
    }

    /// Where tickets live; SQLite is the embedded default.
    public struct Store: Sendable, Decodable {
        public var sqlite: String
    }

    /// How to log in to a mailbox over IMAP.
    public struct IMAP: Sendable, Decodable {
        public var url: String
        public var username: String
        public var password: Secret?
        public var oauthToken: Secret?
        public var folder: String?
        public var tls: String?
        public var caFile: String?
        public var verifyCertificate: Bool?
        /// XOAUTH2 with refresh: the access token is renewed before expiry and the rotated refresh token kept.
        public var oauth: OAuth?

        enum CodingKeys: String, CodingKey {
            case url, username, password, folder, tls, oauth
            case oauthToken = "oauth_token"
            case caFile = "ca_file"
            case verifyCertificate = "verify_certificate"
        }
    }

    /// An OAuth 2 token endpoint and the first refresh token; later refresh tokens live in the store.
    public struct OAuth: Sendable, Decodable {
        public var tokenURL: String
        public var clientID: String
        public var clientSecret: Secret?
        public var refreshToken: Secret
        public var scope: String?

        enum CodingKeys: String, CodingKey {
            case scope
            case tokenURL = "token_url"
            case clientID = "client_id"
            case clientSecret = "client_secret"
            case refreshToken = "refresh_token"
        }
    }

    /// What happens to a mail in the IMAP folder once it is safely on a ticket.
    public enum AfterProcessing: String, Sendable, Decodable {
        case keep
        case flag
        case move
    }

    /// One support address whose inbox Ticketgate reads.
    public struct Mailbox: Sendable, Decodable {
        public var name: String
        public var address: String
        public var imap: IMAP
        /// Kind of ticket a new mail to this address opens unless a rule says otherwise (default incident).
        public var kind: String?
        /// What to do with mail from senders who are not known customers: create (default), reject or ignore.
        public var unknownSenders: Disposition?
        /// Mails above this size are never loaded whole: streamed to disk and quarantined (default 25 MiB).
        public var maxMessageBytes: Int?
        /// Tell the sender politely when their mail was too large (default true).
        public var notifyOversize: Bool?
        /// keep (default), flag with `processed_flag`, or move to `processed_folder`.
        public var afterProcessing: AfterProcessing?
        public var processedFlag: String?
        public var processedFolder: String?
        /// Daemon: seconds between polls when the server offers no IDLE (default 60).
        public var pollSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case name, address, imap, kind
            case unknownSenders = "unknown_senders"
            case maxMessageBytes = "max_message_bytes"
            case notifyOversize = "notify_oversize"
            case afterProcessing = "after_processing"
            case processedFlag = "processed_flag"
            case processedFolder = "processed_folder"
            case pollSeconds = "poll_seconds"
        }

        public var messageLimit: Int { maxMessageBytes ?? 25 << 20 }
    }

    /// Who counts as a known customer for the `unknown_senders` policy (besides every participant of a ticket).
    public struct Customers: Sendable, Decodable {
        public var domains: [String]?
        public var addresses: [String]?
    }

    /// Intake behaviour: ordered classification rules and the limits that keep mail loops and noise out.
    public struct Intake: Sendable, Decodable {
        public var rules: [IntakeRule]?
        /// A reply to a closed ticket reopens it within this many days; later it opens a new, linked ticket.
        public var reopenClosedDays: Int?
        /// At most this many To/Cc addresses become watchers of a new ticket.
        public var maxWatchers: Int?
        /// At most this many automatic mails per recipient address and hour.
        public var autoReplyLimitPerHour: Int?

        enum CodingKeys: String, CodingKey {
            case rules
            case reopenClosedDays = "reopen_closed_days"
            case maxWatchers = "max_watchers"
            case autoReplyLimitPerHour = "auto_reply_limit_per_hour"
        }
    }

    /// The outgoing mail server.
    public struct SMTP: Sendable, Decodable {
        public var url: String
        public var username: String?
        public var password: Secret?
        public var oauthToken: Secret?
        public var tls: String?
        public var caFile: String?
        public var verifyCertificate: Bool?

        enum CodingKeys: String, CodingKey {
            case url, username, password, tls
            case oauthToken = "oauth_token"
            case caFile = "ca_file"
            case verifyCertificate = "verify_certificate"
        }
    }

    /// A member of the service desk who works tickets from a mail client.
    public struct Agent: Sendable, Decodable {
        public var address: String
        public var name: String
        public var groups: [String]?
    }

    public var instance: Instance
    public var store: Store
    public var mailboxes: [Mailbox]
    public var smtp: SMTP
    public var agents: [Agent]
    public var templates: String
    public var trust: TrustPolicy?
    public var intake: Intake?
    public var customers: Customers?
    /// A folder with the same layout as `templates`; any file there replaces the shipped one.
    public var templateOverrides: String?
    public var services: ServiceCatalog?
    public var sla: [SLAPolicy]?
    public var calendars: [BusinessCalendar]?
    public var changes: ChangePolicy?
    public var priorityMatrix: PriorityMatrix?
    public var workflow: WorkflowSettings?

    /// Process settings that are not part of the catalog.
    public struct WorkflowSettings: Sendable, Decodable {
        /// Resolved tickets close automatically after this many days without objection (default 7).
        public var autoCloseDays: Int?
        /// The SLA policy for tickets whose service names none.
        public var defaultSLAPolicy: String?

        enum CodingKeys: String, CodingKey {
            case autoCloseDays = "auto_close_days"
            case defaultSLAPolicy = "default_sla_policy"
        }
    }

    enum CodingKeys: String, CodingKey {
        case instance, store, mailboxes, smtp, agents, templates, trust, intake, customers, services, sla, calendars
        case changes, workflow
        case templateOverrides = "template_overrides"
        case priorityMatrix = "priority_matrix"
    }

    /// What the pure workflow consults, built from the configuration.
    public var workflowContext: WorkflowContext {
        WorkflowContext(
            catalog: services ?? ServiceCatalog(), slaPolicies: sla ?? [], calendars: calendars ?? [],
            changes: changes ?? ChangePolicy(), priorityMatrix: priorityMatrix ?? .itil,
            defaultSLAPolicy: workflow?.defaultSLAPolicy, autoCloseAfterDays: workflow?.autoCloseDays ?? 7,
            reopenClosedWithinDays: nil, groups: Set(agents.flatMap { $0.groups ?? [] }),
            agents: Set(agents.flatMap { [$0.name, $0.address] }))
    }

    /// Every configured approver (they may answer by mail with `/approve` or `/reject`): of changes (all, then per
    /// change type), then of service request types.
    public var approvers: [Approver] {
        var all = (changes?.approvers ?? []) + (changes?.types.values.flatMap { $0.approvers ?? [] } ?? [])
        for service in services?.services ?? [] {
            all += service.requestTypes.flatMap(\.approvers)
        }
        return all
    }

    public var trustPolicy: TrustPolicy { trust ?? TrustPolicy() }
    public var intakeRules: [IntakeRule] { intake?.rules ?? [] }
    public var reopenClosedDays: Int { intake?.reopenClosedDays ?? 14 }
    public var maxWatchers: Int { intake?.maxWatchers ?? 10 }
    public var autoReplyLimitPerHour: Int { intake?.autoReplyLimitPerHour ?? 10 }

    /// Allowed keys per section; anything else is a typo worth an error, not a silent default.
    static let schema: ConfigSchema = .mapping([
        "instance": .mapping(["name": .scalar, "domain": .scalar, "secret": .secret, "language": .scalar]),
        "store": .mapping(["sqlite": .scalar]),
        "mailboxes": .list(
            .mapping([
                "name": .scalar, "address": .scalar, "kind": .scalar, "unknown_senders": .scalar,
                "max_message_bytes": .scalar, "notify_oversize": .scalar, "after_processing": .scalar,
                "processed_flag": .scalar, "processed_folder": .scalar, "poll_seconds": .scalar,
                "imap": .mapping([
                    "url": .scalar, "username": .scalar, "password": .secret, "oauth_token": .secret,
                    "folder": .scalar, "tls": .scalar, "ca_file": .scalar, "verify_certificate": .scalar,
                    "oauth": .mapping([
                        "token_url": .scalar, "client_id": .scalar, "client_secret": .secret,
                        "refresh_token": .secret, "scope": .scalar,
                    ]),
                ]),
            ])),
        "smtp": .mapping([
            "url": .scalar, "username": .scalar, "password": .secret, "oauth_token": .secret, "tls": .scalar,
            "ca_file": .scalar, "verify_certificate": .scalar,
        ]),
        "agents": .list(.mapping(["address": .scalar, "name": .scalar, "groups": .list(.scalar)])),
        "templates": .scalar,
        "template_overrides": .scalar,
        "services": .any, "sla": .any, "calendars": .any, "changes": .any, "priority_matrix": .any,
        "workflow": .mapping(["auto_close_days": .scalar, "default_sla_policy": .scalar]),
        "trust": .mapping(["authserv_id": .scalar, "internal_mta": .scalar]),
        "customers": .mapping(["domains": .list(.scalar), "addresses": .list(.scalar)]),
        "intake": .mapping([
            "rules": .list(
                .mapping([
                    "name": .scalar,
                    "if": .mapping([
                        "recipient": .scalarOrList, "sender": .scalarOrList, "sender_domain": .scalarOrList,
                        "subject": .scalarOrList, "body": .scalarOrList, "keywords": .scalarOrList,
                        "header": .mapping(["name": .scalar, "contains": .scalar]),
                    ]),
                    "then": .mapping([
                        "kind": .scalar, "service": .scalar, "impact": .scalar, "urgency": .scalar, "group": .scalar,
                        "action": .scalar,
                    ]),
                ])),
            "reopen_closed_days": .scalar, "max_watchers": .scalar, "auto_reply_limit_per_hour": .scalar,
        ]),
    ])

    /// Loads, checks and decodes the file; relative paths are resolved against the file's directory.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(path: path, keyPath: nil, message: "the file cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        var configuration = try parse(yaml: text, path: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        configuration.store.sqlite = resolve(configuration.store.sqlite, against: base)
        configuration.templates = resolve(configuration.templates, against: base)
        configuration.templateOverrides = configuration.templateOverrides.map { resolve($0, against: base) }
        return configuration
    }

    /// Parses YAML text: unknown keys, wrong types and invalid values are reported with their key path.
    public static func parse(yaml: String, path: String = "<config>") throws(ConfigurationError) -> Configuration {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(path: path, keyPath: nil, message: "the file is empty")
            }
            node = composed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(path: path, keyPath: nil, message: "it is not valid YAML: \(error)")
        }
        if let problem = schema.check(node, keyPath: "") {
            throw ConfigurationError(path: path, keyPath: problem.keyPath, message: problem.message)
        }
        let configuration: Configuration
        do {
            configuration = try YAMLDecoder().decode(Configuration.self, from: yaml)
        } catch let error as DecodingError {
            throw ConfigurationError(decoding: error, path: path)
        } catch {
            throw ConfigurationError(path: path, keyPath: nil, message: "\(error)")
        }
        try configuration.validate(path: path)
        return configuration
    }

    func validate(path: String) throws(ConfigurationError) {
        func fail(_ keyPath: String, _ message: String) -> ConfigurationError {
            ConfigurationError(path: path, keyPath: keyPath, message: message)
        }
        if instance.domain.isEmpty || instance.domain.contains("@") || instance.domain.contains(" ") {
            throw fail("instance.domain", "must be a bare domain such as example.test")
        }
        if instance.secret.value.count < 8 {
            throw fail("instance.secret", "must be at least 8 characters long")
        }
        if mailboxes.isEmpty { throw fail("mailboxes", "must list at least one mailbox") }
        var names: Set<String> = []
        for (index, mailbox) in mailboxes.enumerated() {
            if !names.insert(mailbox.name).inserted {
                throw fail("mailboxes[\(index)].name", "\"\(mailbox.name)\" is used twice")
            }
            if !Self.looksLikeAddress(mailbox.address) {
                throw fail("mailboxes[\(index)].address", "\"\(mailbox.address)\" is not a mail address")
            }
            guard let url = URL(string: mailbox.imap.url), let scheme = url.scheme?.lowercased(),
                scheme == "imap" || scheme == "imaps", url.host != nil
            else {
                throw fail("mailboxes[\(index)].imap.url", "must look like imap://host:port or imaps://host:port")
            }
            if mailbox.imap.password == nil && mailbox.imap.oauthToken == nil && mailbox.imap.oauth == nil {
                throw fail("mailboxes[\(index)].imap.password", "is missing (or give imap.oauth_token or imap.oauth)")
            }
            if let oauth = mailbox.imap.oauth, URL(string: oauth.tokenURL)?.scheme?.hasPrefix("http") != true {
                throw fail("mailboxes[\(index)].imap.oauth.token_url", "must be an http(s) URL")
            }
            if let limit = mailbox.maxMessageBytes, limit < 64 * 1024 {
                throw fail("mailboxes[\(index)].max_message_bytes", "must be at least 65536")
            }
            if mailbox.afterProcessing == .move && (mailbox.processedFolder ?? "").isEmpty {
                throw fail("mailboxes[\(index)].processed_folder", "is required when after_processing is move")
            }
            if let tls = mailbox.imap.tls, !["starttls", "none", "implicit"].contains(tls) {
                throw fail("mailboxes[\(index)].imap.tls", "must be starttls, implicit or none")
            }
        }
        guard let smtpURL = URL(string: smtp.url), let scheme = smtpURL.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", smtpURL.host != nil
        else {
            throw fail("smtp.url", "must look like smtp://host:port or smtps://host:port")
        }
        if let tls = smtp.tls, !["starttls", "none", "implicit"].contains(tls) {
            throw fail("smtp.tls", "must be starttls, implicit or none")
        }
        for (index, mailbox) in mailboxes.enumerated() {
            if let kind = mailbox.kind, TicketKind(configName: kind) == nil {
                throw fail("mailboxes[\(index)].kind", "must be incident, request, problem or change")
            }
        }
        for (index, rule) in intakeRules.enumerated() {
            if let kind = rule.actions.kind, TicketKind(configName: kind) == nil {
                throw fail("intake.rules[\(index)].then.kind", "must be incident, request, problem or change")
            }
        }
        for (index, agent) in agents.enumerated() where !Self.looksLikeAddress(agent.address) {
            throw fail("agents[\(index)].address", "\"\(agent.address)\" is not a mail address")
        }
    }

    static func looksLikeAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(" ")
    }

    static func resolve(_ path: String, against base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
    }

    /// The agent for an address, if any (addresses compare case-insensitively).
    public func agent(for address: String) -> Agent? {
        agents.first { $0.address.lowercased() == address.lowercased() }
    }

    /// Every address Ticketgate sends from; mail from these is our own coming back.
    public var ownAddresses: Set<String> { Set(mailboxes.map { $0.address.lowercased() }) }
}

/// A configuration problem in one sentence that names the file, the key and what to change.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var keyPath: String?
    public var message: String

    public init(path: String, keyPath: String?, message: String) {
        self.path = path
        self.keyPath = keyPath
        self.message = message
    }

    init(decoding error: DecodingError, path: String) {
        func keyPath(_ codingPath: [any CodingKey]) -> String {
            var result = ""
            for key in codingPath {
                if let index = key.intValue {
                    result += "[\(index)]"
                } else {
                    result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return result
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = keyPath(context.codingPath)
            self.init(
                path: path, keyPath: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)",
                message: "is required but missing")
        case .typeMismatch(let type, let context):
            self.init(path: path, keyPath: keyPath(context.codingPath), message: "must be a \(type)")
        case .valueNotFound(let type, let context):
            self.init(path: path, keyPath: keyPath(context.codingPath), message: "must be a \(type), not empty")
        case .dataCorrupted(let context):
            self.init(path: path, keyPath: keyPath(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(path: path, keyPath: nil, message: "\(error)")
        }
    }

    public var description: String {
        if let keyPath, !keyPath.isEmpty {
            return "Configuration error in \(path): \(keyPath) \(message)."
        }
        return "Configuration error in \(path): \(message)."
    }
}

/// The shape of allowed keys, checked on the YAML tree before decoding so a misspelt key is never ignored.
indirect enum ConfigSchema: Sendable {
    case scalar
    case any
    case scalarOrList
    case secret
    case mapping([String: ConfigSchema])
    case list(ConfigSchema)

    struct Problem {
        var keyPath: String
        var message: String
    }

    func check(_ node: Node, keyPath: String) -> Problem? {
        switch self {
        case .any:
            return nil
        case .scalar:
            if node.scalar == nil { return Problem(keyPath: keyPath, message: "must be a single value") }
        case .scalarOrList:
            if node.scalar != nil { return nil }
            return ConfigSchema.list(.scalar).check(node, keyPath: keyPath)
        case .secret:
            if node.scalar != nil { return nil }
            return ConfigSchema.mapping(["env": .scalar, "file": .scalar]).check(node, keyPath: keyPath)
        case .mapping(let keys):
            guard let mapping = node.mapping else {
                return Problem(keyPath: keyPath, message: "must be a mapping of keys")
            }
            for (key, value) in mapping {
                let name = key.string ?? ""
                let path = keyPath.isEmpty ? name : "\(keyPath).\(name)"
                guard let schema = keys[name] else {
                    let suggestion = keys.keys.min { editDistance($0, name) < editDistance($1, name) }
                    let hint = suggestion.map { editDistance($0, name) <= 3 ? " (did you mean \($0)?)" : "" } ?? ""
                    return Problem(keyPath: path, message: "is not a known setting\(hint)")
                }
                if let problem = schema.check(value, keyPath: path) { return problem }
            }
        case .list(let element):
            guard let sequence = node.sequence else {
                return Problem(keyPath: keyPath, message: "must be a list")
            }
            for (index, item) in sequence.enumerated() {
                if let problem = element.check(item, keyPath: "\(keyPath)[\(index)]") { return problem }
            }
        }
        return nil
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
