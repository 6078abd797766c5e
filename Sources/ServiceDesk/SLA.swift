import Foundation

/// A stretch of time in which a ticket's SLA clock stood still (while pending).
public struct SLAPause: Sendable, Hashable, Codable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }
}

/// A missed SLA target, kept on the ticket for reports and for the people who have to explain it.
public struct SLABreach: Sendable, Hashable, Codable {
    public var metric: SLAMetric
    public var detectedAt: Date
    public var targetMinutes: Int
    public var elapsedMinutes: Int

    public init(metric: SLAMetric, detectedAt: Date, targetMinutes: Int, elapsedMinutes: Int) {
        self.metric = metric
        self.detectedAt = detectedAt
        self.targetMinutes = targetMinutes
        self.elapsedMinutes = elapsedMinutes
    }
}

/// The SLA bookkeeping a ticket carries: pauses, thresholds already escalated (so a second tick does nothing),
/// and breaches.
public struct SLAClock: Sendable, Hashable, Codable {
    /// The policy last applied, so reports know the ticket was measured.
    public var policy: String?
    public var pausedSince: Date?
    public var pauses: [SLAPause]
    /// Keys `metric@percent` of escalations already sent, e.g. `resolution@75`.
    public var firedThresholds: [String]
    public var breaches: [SLABreach]

    public init(
        policy: String? = nil, pausedSince: Date? = nil, pauses: [SLAPause] = [], firedThresholds: [String] = [],
        breaches: [SLABreach] = []
    ) {
        self.policy = policy
        self.pausedSince = pausedSince
        self.pauses = pauses
        self.firedThresholds = firedThresholds
        self.breaches = breaches
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = try c.decodeIfPresent(String.self, forKey: .policy)
        pausedSince = try c.decodeIfPresent(Date.self, forKey: .pausedSince)
        pauses = try c.decodeIfPresent([SLAPause].self, forKey: .pauses) ?? []
        firedThresholds = try c.decodeIfPresent([String].self, forKey: .firedThresholds) ?? []
        breaches = try c.decodeIfPresent([SLABreach].self, forKey: .breaches) ?? []
    }

    public func isBreached(_ metric: SLAMetric) -> Bool { breaches.contains { $0.metric == metric } }
}

/// Where one SLA clock of a ticket stands at a moment.
public struct SLAStatus: Sendable, Equatable {
    public var metric: SLAMetric
    public var targetMinutes: Int
    public var elapsedMinutes: Int
    /// Whether the clock still runs (not yet answered / resolved, not paused).
    public var isRunning: Bool
    /// When the target is reached if the clock keeps running (nil when stopped).
    public var dueAt: Date?

    /// Elapsed share of the target in percent (may exceed 100).
    public var percent: Int { targetMinutes == 0 ? 100 : elapsedMinutes * 100 / targetMinutes }
}

/// The SLA engine: measures tickets against `SLAPolicy` targets in business time and escalates, idempotently.
public enum SLA {
    /// The kinds measured against SLAs: the ones a requester waits on.
    public static func applies(to kind: TicketKind) -> Bool { kind == .incident || kind == .serviceRequest }

    /// Business seconds the resolution clock has run until `now`: pending time does not count.
    public static func resolutionSeconds(_ ticket: Ticket, now: Date, calendar: BusinessCalendar) -> TimeInterval {
        let end = min(ticket.resolvedAt ?? ticket.closedAt ?? now, now)
        var total = calendar.businessSeconds(from: ticket.createdAt, to: end)
        for pause in ticket.sla.pauses {
            total -= calendar.businessSeconds(from: max(pause.start, ticket.createdAt), to: min(pause.end, end))
        }
        if let since = ticket.sla.pausedSince {
            total -= calendar.businessSeconds(from: since, to: end)
        }
        return max(0, total)
    }

    /// Business seconds from creation to the first agent response (or `now`).
    public static func firstResponseSeconds(_ ticket: Ticket, now: Date, calendar: BusinessCalendar) -> TimeInterval {
        calendar.businessSeconds(from: ticket.createdAt, to: min(ticket.firstResponseAt ?? now, now))
    }

    /// Both clocks of a ticket under a policy; empty when the policy sets no target for its priority.
    public static func status(_ ticket: Ticket, now: Date, policy: SLAPolicy, calendar: BusinessCalendar) -> [SLAStatus]
    {
        guard applies(to: ticket.kind), let target = policy.targets[ticket.priority] else { return [] }
        var result: [SLAStatus] = []
        if let goal = target.firstResponse {
            let elapsed = firstResponseSeconds(ticket, now: now, calendar: calendar)
            let running = ticket.firstResponseAt == nil && ticket.state.isOpen
            let remaining = TimeInterval(goal.minutes * 60) - elapsed
            result.append(
                SLAStatus(
                    metric: .firstResponse, targetMinutes: goal.minutes, elapsedMinutes: Int(elapsed / 60),
                    isRunning: running, dueAt: running ? calendar.add(seconds: max(0, remaining), to: now) : nil))
        }
        if let goal = target.resolution {
            let elapsed = resolutionSeconds(ticket, now: now, calendar: calendar)
            let running = ticket.state.isOpen && ticket.sla.pausedSince == nil
            let remaining = TimeInterval(goal.minutes * 60) - elapsed
            result.append(
                SLAStatus(
                    metric: .resolution, targetMinutes: goal.minutes, elapsedMinutes: Int(elapsed / 60),
                    isRunning: running, dueAt: running ? calendar.add(seconds: max(0, remaining), to: now) : nil))
        }
        return result
    }

    /// Escalates every threshold crossed since the last evaluation and records breaches. Evaluating the resulting
    /// ticket again at the same or a later time yields no effects unless a new threshold has been crossed.
    public static func evaluate(_ ticket: Ticket, now: Date, policy: SLAPolicy, calendar: BusinessCalendar)
        -> Transition
    {
        var next = ticket
        var effects: [Effect] = []
        var audit: [AuditEntry] = []
        let statuses = status(ticket, now: now, policy: policy, calendar: calendar)
        if !statuses.isEmpty { next.sla.policy = policy.name }
        for status in statuses where status.isRunning {
            for (index, rule) in policy.escalations.enumerated()
            where rule.metric == nil || rule.metric == status.metric {
                let key = "\(status.metric.rawValue)@\(rule.atPercent)"
                guard status.percent >= rule.atPercent, !next.sla.firedThresholds.contains(key) else { continue }
                next.sla.firedThresholds.append(key)
                effects.append(
                    .escalate(level: index + 1, to: rule.notify, metric: status.metric, percent: rule.atPercent))
                audit.append(
                    AuditEntry(
                        ticketID: ticket.id, at: now, actor: "system", viaMessageID: nil, action: "sla escalated",
                        oldValue: nil, newValue: "\(key) → \(rule.notify.rawValue)"))
            }
        }
        recordBreaches(&next, statuses: statuses, now: now, audit: &audit)
        return Transition(ticket: next, effects: effects, audit: audit)
    }

    /// Records breaches without escalating: used after every event, so a target missed between two ticks (say, a
    /// late resolution) is still on record.
    static func recordBreaches(_ ticket: inout Ticket, now: Date, policy: SLAPolicy, calendar: BusinessCalendar)
        -> [AuditEntry]
    {
        let statuses = status(ticket, now: now, policy: policy, calendar: calendar)
        if !statuses.isEmpty { ticket.sla.policy = policy.name }
        var audit: [AuditEntry] = []
        recordBreaches(&ticket, statuses: statuses, now: now, audit: &audit)
        return audit
    }

    private static func recordBreaches(
        _ ticket: inout Ticket, statuses: [SLAStatus], now: Date, audit: inout [AuditEntry]
    ) {
        for status in statuses
        where status.elapsedMinutes > status.targetMinutes || (status.isRunning && status.percent >= 100) {
            guard !ticket.sla.isBreached(status.metric) else { continue }
            ticket.sla.breaches.append(
                SLABreach(
                    metric: status.metric, detectedAt: now, targetMinutes: status.targetMinutes,
                    elapsedMinutes: status.elapsedMinutes))
            audit.append(
                AuditEntry(
                    ticketID: ticket.id, at: now, actor: "system", viaMessageID: nil, action: "sla breached",
                    oldValue: "\(status.targetMinutes) min", newValue: "\(status.elapsedMinutes) min"))
        }
    }
}
