import MailFormat

/// Someone whose `/approve` or `/reject` counts; named by address in the config so a forged name cannot vote.
///
/// YAML: `{ address: cab@example.test, name: "Change Board" }` (`name` optional).
public struct Approver: Sendable, Hashable, Codable {
    public var address: String
    public var name: String?

    public init(address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    public var mailAddress: MailAddress { MailAddress(name: name, address: address) }
}

/// How many of the named approvers must agree: `any` (one), `all`, or `majority` (more than half).
public enum Quorum: String, Sendable, Codable, CaseIterable {
    case any
    case all
    case majority

    /// Approvals needed out of `count` approvers.
    public func needed(of count: Int) -> Int {
        switch self {
        case .any: return min(1, count)
        case .all: return count
        case .majority: return count / 2 + 1
        }
    }
}

/// A kind of thing people may ask for under a service, and whether someone must approve it first.
///
/// YAML (`services[].request_types[]`): `name`, `requires_approval` (default false), `approvers` (list of
/// `{address, name}`), `quorum` (`any|all|majority`, default `any`).
public struct RequestType: Sendable, Equatable, Codable {
    public var name: String
    public var requiresApproval: Bool
    public var approvers: [Approver]
    public var quorum: Quorum

    public init(name: String, requiresApproval: Bool = false, approvers: [Approver] = [], quorum: Quorum = .any) {
        self.name = name
        self.requiresApproval = requiresApproval
        self.approvers = approvers
        self.quorum = quorum
    }

    private enum CodingKeys: String, CodingKey {
        case name
        case requiresApproval = "requires_approval"
        case approvers
        case quorum
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        requiresApproval = try c.decodeIfPresent(Bool.self, forKey: .requiresApproval) ?? false
        approvers = try c.decodeIfPresent([Approver].self, forKey: .approvers) ?? []
        quorum = try c.decodeIfPresent(Quorum.self, forKey: .quorum) ?? .any
        if requiresApproval && approvers.isEmpty {
            throw DecodingError.dataCorruptedError(
                forKey: .approvers, in: c,
                debugDescription: "request type '\(name)' requires approval but names no approvers")
        }
    }
}

/// One entry of the service catalog: who owns it, which SLA applies, and what can be requested. (Not named
/// `Service`, which would clash with ServiceLifecycle's protocol in the gateway.)
///
/// YAML (`services[]`): `name`, `owner_group`, `sla_policy` (name of an `sla[]` entry), `calendar` (optional name of
/// a `calendars[]` entry, overriding the policy's), `request_types` (list, optional).
public struct CatalogService: Sendable, Equatable, Codable {
    public var name: String
    public var ownerGroup: String?
    public var slaPolicy: String?
    public var calendar: String?
    public var requestTypes: [RequestType]

    public init(
        name: String, ownerGroup: String? = nil, slaPolicy: String? = nil, calendar: String? = nil,
        requestTypes: [RequestType] = []
    ) {
        self.name = name
        self.ownerGroup = ownerGroup
        self.slaPolicy = slaPolicy
        self.calendar = calendar
        self.requestTypes = requestTypes
    }

    private enum CodingKeys: String, CodingKey {
        case name
        case ownerGroup = "owner_group"
        case slaPolicy = "sla_policy"
        case calendar
        case requestTypes = "request_types"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        ownerGroup = try c.decodeIfPresent(String.self, forKey: .ownerGroup)
        slaPolicy = try c.decodeIfPresent(String.self, forKey: .slaPolicy)
        calendar = try c.decodeIfPresent(String.self, forKey: .calendar)
        requestTypes = try c.decodeIfPresent([RequestType].self, forKey: .requestTypes) ?? []
    }

    public func requestType(named name: String) -> RequestType? {
        requestTypes.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}

/// The service catalog (`services:` in the YAML config, a list of `CatalogService`); looked up case-insensitively.
public struct ServiceCatalog: Sendable, Equatable, Codable {
    public var services: [CatalogService]

    public init(_ services: [CatalogService] = []) { self.services = services }

    public init(from decoder: any Decoder) throws {
        services = try decoder.singleValueContainer().decode([CatalogService].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(services)
    }

    public func service(named name: String) -> CatalogService? {
        services.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}

/// Standard changes are pre-approved routine work, normal ones go to the change board, emergency ones to a small
/// emergency board.
public enum ChangeType: String, Sendable, Codable, CaseIterable {
    case standard
    case normal
    case emergency
}

/// How a change ended; recorded with `/close successful|failed|rolled_back` and counted in the change success rate.
public enum ChangeOutcome: String, Sendable, Codable, CaseIterable {
    case successful
    case failed
    case rolledBack = "rolled_back"

    /// Parses `successful|failed|rolled_back` (also `rolled-back`) or German `erfolgreich|fehlgeschlagen|zurückgerollt`.
    public init?(name: some StringProtocol) {
        switch name.lowercased().replacingOccurrences(of: "-", with: "_") {
        case "successful", "success", "erfolgreich": self = .successful
        case "failed", "fehlgeschlagen": self = .failed
        case "rolled_back", "rolledback", "zurückgerollt": self = .rolledBack
        default: return nil
        }
    }
}

/// Per-change-type approval rules: who approves and what quorum, or pre-approval.
///
/// YAML (`changes.types.<standard|normal|emergency>`): `preapproved` (default false), `approvers`, `quorum`; missing
/// approvers / quorum fall back to the top-level `changes:` values.
public struct ChangeTypePolicy: Sendable, Equatable, Codable {
    public var preapproved: Bool
    public var approvers: [Approver]?
    public var quorum: Quorum?

    public init(preapproved: Bool = false, approvers: [Approver]? = nil, quorum: Quorum? = nil) {
        self.preapproved = preapproved
        self.approvers = approvers
        self.quorum = quorum
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        preapproved = try c.decodeIfPresent(Bool.self, forKey: .preapproved) ?? false
        approvers = try c.decodeIfPresent([Approver].self, forKey: .approvers)
        quorum = try c.decodeIfPresent(Quorum.self, forKey: .quorum)
    }
}

/// The change advisory board by mail (`changes:` in the YAML config).
///
/// ```yaml
/// changes:
///   approvers: [ {address: cab1@example.test}, {address: cab2@example.test}, {address: cab3@example.test} ]
///   quorum: majority            # all | any | majority, default all
///   types:
///     standard: { preapproved: true }
///     emergency: { approvers: [ {address: ecab@example.test} ], quorum: any }
/// ```
public struct ChangePolicy: Sendable, Equatable, Codable {
    public var approvers: [Approver]
    public var quorum: Quorum
    public var types: [ChangeType: ChangeTypePolicy]

    public init(approvers: [Approver] = [], quorum: Quorum = .all, types: [ChangeType: ChangeTypePolicy] = [:]) {
        self.approvers = approvers
        self.quorum = quorum
        self.types = types
    }

    private enum CodingKeys: String, CodingKey {
        case approvers, quorum, types
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        approvers = try c.decodeIfPresent([Approver].self, forKey: .approvers) ?? []
        quorum = try c.decodeIfPresent(Quorum.self, forKey: .quorum) ?? .all
        let raw = try c.decodeIfPresent([String: ChangeTypePolicy].self, forKey: .types) ?? [:]
        var types: [ChangeType: ChangeTypePolicy] = [:]
        for (name, policy) in raw {
            guard let type = ChangeType(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .types, in: c, debugDescription: "unknown change type '\(name)' (standard|normal|emergency)"
                )
            }
            types[type] = policy
        }
        self.types = types
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(approvers, forKey: .approvers)
        try c.encode(quorum, forKey: .quorum)
        try c.encode(Dictionary(uniqueKeysWithValues: types.map { ($0.key.rawValue, $0.value) }), forKey: .types)
    }

    /// Whether this type needs no board at all.
    public func isPreapproved(_ type: ChangeType) -> Bool { types[type]?.preapproved ?? false }

    /// The approvers and quorum that decide a change of this type.
    public func board(for type: ChangeType) -> (approvers: [Approver], quorum: Quorum) {
        let policy = types[type]
        return (policy?.approvers ?? approvers, policy?.quorum ?? quorum)
    }
}
