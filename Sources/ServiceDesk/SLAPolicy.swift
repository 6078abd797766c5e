import Foundation

/// A span of business time, written in the config as minutes (`90`) or with units (`"30m"`, `"4h"`, `"1h30m"`).
public struct BusinessDuration: Sendable, Hashable, ConfigText {
    public var minutes: Int

    public init(minutes: Int) { self.minutes = minutes }

    public static func hours(_ hours: Int) -> BusinessDuration { BusinessDuration(minutes: hours * 60) }

    /// Parses `90`, `90m`, `4h`, `1h30m` (no days: a business day's length depends on the calendar).
    public init?(_ text: some StringProtocol) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let plain = Int(trimmed), plain >= 0 {
            self.minutes = plain
            return
        }
        var total = 0
        var digits = ""
        var sawUnit = false
        for ch in trimmed where ch != " " {
            if ch.isASCII && ch.isNumber {
                digits.append(ch)
            } else if ch == "h" || ch == "m", let n = Int(digits) {
                total += ch == "h" ? n * 60 : n
                digits = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        guard sawUnit, digits.isEmpty else { return nil }
        self.minutes = total
    }

    public var description: String {
        let h = minutes / 60
        let m = minutes % 60
        if h == 0 { return "\(m)m" }
        return m == 0 ? "\(h)h" : "\(h)h\(m)m"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self), n >= 0 {
            self.minutes = n
            return
        }
        let text = try c.decode(String.self)
        guard let duration = BusinessDuration(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not \(Self.expectedForm)"))
        }
        self = duration
    }

    public static let expectedForm = "a duration like 30m or 4h"
}

/// The two clocks an SLA measures.
public enum SLAMetric: String, Sendable, Codable, CaseIterable {
    case firstResponse = "first_response"
    case resolution
}

/// The targets for one priority. YAML: `{ first_response: 30m, resolution: 4h }` (either may be left out).
public struct SLATarget: Sendable, Hashable, Codable {
    public var firstResponse: BusinessDuration?
    public var resolution: BusinessDuration?

    public init(firstResponse: BusinessDuration? = nil, resolution: BusinessDuration? = nil) {
        self.firstResponse = firstResponse
        self.resolution = resolution
    }

    private enum CodingKeys: String, CodingKey {
        case firstResponse = "first_response"
        case resolution
    }

    public subscript(metric: SLAMetric) -> BusinessDuration? {
        metric == .firstResponse ? firstResponse : resolution
    }
}

/// Who an escalation goes to; the gateway resolves the addresses from `agents:` and the service's owner group.
public enum EscalationTarget: String, Sendable, Codable, CaseIterable {
    case assignee
    case group
    case groupLead = "group_lead"
    case serviceOwner = "service_owner"
}

/// One escalation threshold. YAML: `{ at_percent: 75, notify: assignee }`, optionally `metric: resolution` to apply
/// it to one clock only (default: both).
public struct EscalationRule: Sendable, Hashable, Codable {
    public var atPercent: Int
    public var notify: EscalationTarget
    public var metric: SLAMetric?

    public init(atPercent: Int, notify: EscalationTarget, metric: SLAMetric? = nil) {
        self.atPercent = atPercent
        self.notify = notify
        self.metric = metric
    }

    private enum CodingKeys: String, CodingKey {
        case atPercent = "at_percent"
        case notify
        case metric
    }
}

/// Service-level targets per priority in business time, with escalation thresholds.
///
/// YAML (`sla[]`):
/// ```yaml
/// - name: standard
///   calendar: de-berlin            # a calendars[] name; omitted = around the clock (UTC)
///   targets:
///     p1: { first_response: 15m, resolution: 4h }
///     p3: { first_response: 4h, resolution: 27h }
///   escalations:                   # default: 75 % → assignee, 100 % → group_lead
///     - { at_percent: 75, notify: assignee }
///     - { at_percent: 100, notify: group_lead }
/// ```
/// Target keys are `p1` … `p5` (or `1` … `5`); priorities without a target have no SLA.
public struct SLAPolicy: Sendable, Equatable, Codable {
    public var name: String
    public var calendar: String?
    public var targets: [Priority: SLATarget]
    public var escalations: [EscalationRule]

    public static let defaultEscalations = [
        EscalationRule(atPercent: 75, notify: .assignee), EscalationRule(atPercent: 100, notify: .groupLead),
    ]

    public init(
        name: String, calendar: String? = nil, targets: [Priority: SLATarget],
        escalations: [EscalationRule] = SLAPolicy.defaultEscalations
    ) {
        self.name = name
        self.calendar = calendar
        self.targets = targets
        self.escalations = escalations.sorted { $0.atPercent < $1.atPercent }
    }

    private enum CodingKeys: String, CodingKey {
        case name, calendar, targets, escalations
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decodeIfPresent([String: SLATarget].self, forKey: .targets) ?? [:]
        var targets: [Priority: SLATarget] = [:]
        for (key, target) in raw {
            let digits = key.lowercased().hasPrefix("p") ? String(key.dropFirst()) : key
            guard let number = Int(digits), let priority = Priority(rawValue: number) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .targets, in: c, debugDescription: "'\(key)' is not a priority (p1 … p5)")
            }
            targets[priority] = target
        }
        let escalations = try c.decodeIfPresent([EscalationRule].self, forKey: .escalations)
        if let bad = escalations?.first(where: { $0.atPercent <= 0 }) {
            throw DecodingError.dataCorruptedError(
                forKey: .escalations, in: c, debugDescription: "at_percent must be positive, not \(bad.atPercent)")
        }
        self.init(
            name: try c.decode(String.self, forKey: .name),
            calendar: try c.decodeIfPresent(String.self, forKey: .calendar),
            targets: targets, escalations: escalations ?? SLAPolicy.defaultEscalations)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(calendar, forKey: .calendar)
        try c.encode(
            Dictionary(uniqueKeysWithValues: targets.map { ($0.key.description.lowercased(), $0.value) }),
            forKey: .targets)
        try c.encode(escalations, forKey: .escalations)
    }
}
