/// How much of the business an incident affects; with `Urgency` it decides the priority.
public enum Impact: String, Sendable, Codable, CaseIterable {
    case high
    case medium
    case low

    /// Parses `high|medium|low` or the German `hoch|mittel|niedrig`.
    public init?(name: some StringProtocol) {
        switch name.lowercased() {
        case "high", "hoch": self = .high
        case "medium", "mittel": self = .medium
        case "low", "niedrig": self = .low
        default: return nil
        }
    }
}

/// How soon the business needs a fix; with `Impact` it decides the priority.
public enum Urgency: String, Sendable, Codable, CaseIterable {
    case high
    case medium
    case low

    /// Parses `high|medium|low` or the German `hoch|mittel|niedrig`.
    public init?(name: some StringProtocol) {
        guard let impact = Impact(name: name) else { return nil }
        self = Urgency(rawValue: impact.rawValue)!
    }
}

/// Impact × urgency → priority, so two agents rate the same situation the same way.
///
/// The default is the ITIL matrix (high/high = P1 … low/low = P5). In YAML (`priority_matrix:`) it is a mapping from
/// impact to urgency to a priority number; cells left out keep the ITIL default:
/// ```yaml
/// priority_matrix:
///   high: { high: 1, medium: 2, low: 3 }
///   medium: { high: 2, medium: 3, low: 4 }
///   low: { high: 3, medium: 4, low: 5 }
/// ```
public struct PriorityMatrix: Sendable, Equatable, Decodable {
    private var cells: [Impact: [Urgency: Priority]]

    /// The ITIL default matrix.
    public static let itil = PriorityMatrix()

    public init(_ overrides: [Impact: [Urgency: Priority]] = [:]) {
        var cells: [Impact: [Urgency: Priority]] = [:]
        for impact in Impact.allCases {
            for urgency in Urgency.allCases {
                let i = Impact.allCases.firstIndex(of: impact)!
                let u = Urgency.allCases.firstIndex(of: urgency)!
                cells[impact, default: [:]][urgency] = overrides[impact]?[urgency] ?? Priority(rawValue: i + u + 1)!
            }
        }
        self.cells = cells
    }

    public func priority(impact: Impact, urgency: Urgency) -> Priority {
        cells[impact]?[urgency] ?? .p3
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: [String: Int]].self)
        var overrides: [Impact: [Urgency: Priority]] = [:]
        for (impactName, row) in raw {
            guard let impact = Impact(name: impactName) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "unknown impact '\(impactName)'"))
            }
            for (urgencyName, number) in row {
                guard let urgency = Urgency(name: urgencyName) else {
                    throw DecodingError.dataCorrupted(
                        .init(codingPath: decoder.codingPath, debugDescription: "unknown urgency '\(urgencyName)'"))
                }
                guard let priority = Priority(rawValue: number) else {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: decoder.codingPath,
                            debugDescription: "priority \(number) for \(impactName)/\(urgencyName) is not 1…5"))
                }
                overrides[impact, default: [:]][urgency] = priority
            }
        }
        self.init(overrides)
    }
}

extension Impact {
    /// The impact an intake rule set (`then: {impact: high}`).
    public init(_ level: Level) { self = Impact(rawValue: level.rawValue)! }
}

extension Urgency {
    /// The urgency an intake rule set (`then: {urgency: low}`).
    public init(_ level: Level) { self = Urgency(rawValue: level.rawValue)! }
}
