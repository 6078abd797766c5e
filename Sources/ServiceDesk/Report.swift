import Foundation

/// Median and 90th percentile of a set of durations, in minutes; nil when nothing was measured.
public struct DurationStats: Sendable, Equatable, Codable {
    public var count: Int
    public var medianMinutes: Double?
    public var p90Minutes: Double?

    public init(_ minutes: [Double]) {
        let sorted = minutes.sorted()
        count = sorted.count
        medianMinutes = Self.percentile(sorted, 0.5)
        p90Minutes = Self.percentile(sorted, 0.9)
    }

    /// Encodes every field, `null` included, so the JSON shape never depends on the data.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(medianMinutes, forKey: .medianMinutes)
        try c.encode(p90Minutes, forKey: .p90Minutes)
    }

    private enum CodingKeys: String, CodingKey {
        case count, medianMinutes, p90Minutes
    }

    /// Nearest-rank percentile (interpolated median for even counts).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        if p == 0.5 && sorted.count % 2 == 0 {
            return (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }
}

/// The measures of one slice of tickets (a kind, a service, a priority, or all).
public struct ReportGroup: Sendable, Equatable, Codable {
    public var key: String
    public var volume: Int
    public var firstResponse: DurationStats
    public var timeToResolve: DurationStats
    public var slaMeasured: Int
    public var slaMet: Int
    public var slaCompliancePercent: Double?
    public var breaches: Int
    public var backlog: Int
    public var backlogMedianAgeDays: Double?
    public var backlogMaxAgeDays: Double?
    public var resolved: Int
    public var reopened: Int
    public var reopenRatePercent: Double?

    private enum CodingKeys: String, CodingKey {
        case key, volume, firstResponse, timeToResolve, slaMeasured, slaMet, slaCompliancePercent, breaches, backlog
        case backlogMedianAgeDays, backlogMaxAgeDays, resolved, reopened, reopenRatePercent
    }

    /// Encodes every field, `null` included, so the JSON shape never depends on the data.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(volume, forKey: .volume)
        try c.encode(firstResponse, forKey: .firstResponse)
        try c.encode(timeToResolve, forKey: .timeToResolve)
        try c.encode(slaMeasured, forKey: .slaMeasured)
        try c.encode(slaMet, forKey: .slaMet)
        try c.encode(slaCompliancePercent, forKey: .slaCompliancePercent)
        try c.encode(breaches, forKey: .breaches)
        try c.encode(backlog, forKey: .backlog)
        try c.encode(backlogMedianAgeDays, forKey: .backlogMedianAgeDays)
        try c.encode(backlogMaxAgeDays, forKey: .backlogMaxAgeDays)
        try c.encode(resolved, forKey: .resolved)
        try c.encode(reopened, forKey: .reopened)
        try c.encode(reopenRatePercent, forKey: .reopenRatePercent)
    }
}

/// Change outcomes of the changes closed in the period.
public struct ChangeStats: Sendable, Equatable, Codable {
    public var closed: Int
    public var successful: Int
    public var failed: Int
    public var rolledBack: Int
    public var rejected: Int
    public var successRatePercent: Double?

    private enum CodingKeys: String, CodingKey {
        case closed, successful, failed, rolledBack, rejected, successRatePercent
    }

    /// Encodes every field, `null` included.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(closed, forKey: .closed)
        try c.encode(successful, forKey: .successful)
        try c.encode(failed, forKey: .failed)
        try c.encode(rolledBack, forKey: .rolledBack)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(successRatePercent, forKey: .successRatePercent)
    }
}

/// Problem counts at the end of the period.
public struct ProblemStats: Sendable, Equatable, Codable {
    public var opened: Int
    public var open: Int
    public var knownErrors: Int
    public var resolved: Int
    public var linkedIncidents: Int
}

/// One week of the trend: tickets opened and resolved in it and the backlog at its end.
public struct WeekPoint: Sendable, Equatable, Codable {
    public var weekStart: String
    public var opened: Int
    public var resolved: Int
    public var backlog: Int
}

/// The measurement report for a period: what continual improvement looks at. Pure: tickets and audit in, numbers out.
public struct ServiceReport: Sendable, Equatable, Codable {
    public var periodStart: Date
    public var periodEnd: Date
    public var totals: ReportGroup
    public var byKind: [ReportGroup]
    public var byService: [ReportGroup]
    public var byPriority: [ReportGroup]
    public var changes: ChangeStats
    public var problems: ProblemStats
    public var weekly: [WeekPoint]
}

/// Builds `ServiceReport`s from ticket records.
public enum Report {
    /// Computes the report for `[from, to)`. Durations are measured in business time of `calendar` (wall-clock by
    /// default); `audit` adds reopens that older tickets did not count themselves.
    public static func compute(
        tickets: [Ticket], audit: [AuditEntry] = [], from: Date, to: Date,
        calendar: BusinessCalendar = .aroundTheClock
    ) -> ServiceReport {
        var reopensFromAudit: [TicketID: Int] = [:]
        for entry in audit where entry.action == "reopened" && entry.at >= from && entry.at < to {
            reopensFromAudit[entry.ticketID, default: 0] += 1
        }
        let inPeriod = tickets.filter { $0.createdAt >= from && $0.createdAt < to }
        // Business-time durations once per ticket, not once per slice.
        var durations: [TicketID: Durations] = [:]
        for t in tickets {
            durations[t.id] = Durations(
                firstResponse: t.firstResponseAt.map { calendar.businessSeconds(from: t.createdAt, to: $0) / 60 },
                resolve: t.resolvedAt.map { SLA.resolutionSeconds(t, now: $0, calendar: calendar) / 60 })
        }
        func group(_ key: String, _ filter: (Ticket) -> Bool) -> ReportGroup {
            measure(
                key: key, created: inPeriod.filter(filter), all: tickets.filter(filter), from: from, to: to,
                durations: durations, reopens: reopensFromAudit)
        }
        let services = Set(tickets.map { $0.service ?? "(none)" }).sorted()
        let changesClosed = tickets.filter {
            $0.kind == .change && ($0.closedAt.map { $0 >= from && $0 < to } ?? false)
        }
        let outcomes = changesClosed.compactMap(\.changeOutcome)
        let successful = outcomes.filter { $0 == .successful }.count
        let problems = tickets.filter { $0.kind == .problem && $0.createdAt < to }
        return ServiceReport(
            periodStart: from, periodEnd: to, totals: group("all") { _ in true },
            byKind: TicketKind.allCases.map { kind in group(kind.rawValue) { $0.kind == kind } },
            byService: services.map { name in group(name) { ($0.service ?? "(none)") == name } },
            byPriority: Priority.allCases.map { p in group(p.description) { $0.priority == p } },
            changes: ChangeStats(
                closed: changesClosed.count, successful: successful,
                failed: outcomes.filter { $0 == .failed }.count,
                rolledBack: outcomes.filter { $0 == .rolledBack }.count,
                rejected: changesClosed.filter { $0.state == .rejected }.count,
                successRatePercent: outcomes.isEmpty ? nil : percent(successful, outcomes.count)),
            problems: ProblemStats(
                opened: problems.filter { $0.createdAt >= from }.count,
                open: problems.filter { isOpen($0, at: to) }.count,
                knownErrors: problems.filter { isOpen($0, at: to) && $0.workaround != nil }.count,
                resolved: problems.filter { ($0.resolvedAt.map { $0 >= from && $0 < to }) ?? false }.count,
                linkedIncidents: problems.reduce(0) { $0 + $1.linkedIncidents.count }),
            weekly: weeks(tickets: tickets, from: from, to: to))
    }

    static func percent(_ part: Int, _ whole: Int) -> Double {
        (Double(part) * 1000 / Double(whole)).rounded() / 10
    }

    /// Whether a ticket was still waiting for the desk at a moment.
    static func isOpen(_ ticket: Ticket, at date: Date) -> Bool {
        guard ticket.createdAt < date else { return false }
        if let done = ticket.resolvedAt ?? ticket.closedAt, done < date { return false }
        if ticket.state.isFinished && ticket.resolvedAt == nil && ticket.closedAt == nil { return false }
        return true
    }

    /// Business minutes to first response and to resolution of one ticket.
    struct Durations {
        var firstResponse: Double?
        var resolve: Double?
    }

    static func measure(
        key: String, created: [Ticket], all: [Ticket], from: Date, to: Date, durations: [TicketID: Durations],
        reopens: [TicketID: Int]
    ) -> ReportGroup {
        let firstResponses = created.compactMap { durations[$0.id]?.firstResponse }
        let resolvedInPeriod = all.filter { ($0.resolvedAt.map { $0 >= from && $0 < to }) ?? false }
        let resolveTimes = resolvedInPeriod.compactMap { durations[$0.id]?.resolve }
        let measured = all.filter {
            $0.sla.policy != nil
                && ((($0.resolvedAt.map { $0 >= from && $0 < to }) ?? false) || !$0.sla.breaches.isEmpty)
                && $0.createdAt < to
        }
        let met = measured.filter { $0.sla.breaches.isEmpty }.count
        let breaches = all.flatMap(\.sla.breaches).filter { $0.detectedAt >= from && $0.detectedAt < to }.count
        let backlog = all.filter { isOpen($0, at: to) }
        let ages = backlog.map { to.timeIntervalSince($0.createdAt) / 86_400 }.sorted()
        let reopened = all.filter { t in
            (reopens[t.id] ?? 0) > 0 || (t.reopenCount > 0 && t.createdAt >= from && t.createdAt < to)
        }.count
        let resolvedCount = resolvedInPeriod.count
        return ReportGroup(
            key: key, volume: created.count, firstResponse: DurationStats(firstResponses),
            timeToResolve: DurationStats(resolveTimes), slaMeasured: measured.count, slaMet: met,
            slaCompliancePercent: measured.isEmpty ? nil : percent(met, measured.count), breaches: breaches,
            backlog: backlog.count,
            backlogMedianAgeDays: DurationStats.percentile(ages, 0.5).map { ($0 * 10).rounded() / 10 },
            backlogMaxAgeDays: ages.last.map { ($0 * 10).rounded() / 10 }, resolved: resolvedCount, reopened: reopened,
            reopenRatePercent: resolvedCount == 0 ? nil : percent(reopened, resolvedCount))
    }

    /// ISO weeks (Monday 00:00 UTC) overlapping the period.
    static func weeks(tickets: [Ticket], from: Date, to: Date) -> [WeekPoint] {
        var utc = Calendar(identifier: .iso8601)
        utc.timeZone = TimeZone(identifier: "UTC")!
        guard var start = utc.dateInterval(of: .weekOfYear, for: from)?.start else { return [] }
        var points: [WeekPoint] = []
        while start < to && points.count < 520 {
            let end = utc.date(byAdding: .day, value: 7, to: start)!
            let c = utc.dateComponents([.year, .month, .day], from: start)
            points.append(
                WeekPoint(
                    weekStart: LocalDate(year: c.year!, month: c.month!, day: c.day!).description,
                    opened: tickets.filter { $0.createdAt >= start && $0.createdAt < end }.count,
                    resolved: tickets.filter { ($0.resolvedAt.map { $0 >= start && $0 < end }) ?? false }.count,
                    backlog: tickets.filter { isOpen($0, at: min(end, to)) }.count))
            start = end
        }
        return points
    }
}
