import Foundation

extension ServiceReport {
    /// Stable snake_case JSON (keys sorted, dates ISO 8601); field names are documented in docs/reports.md.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// One CSV row per slice: `dimension,key,volume,…` (RFC 4180 quoting).
    public func csv() -> String {
        var lines = [
            "dimension,key,volume,first_response_median_min,first_response_p90_min,time_to_resolve_median_min,"
                + "time_to_resolve_p90_min,sla_compliance_percent,breaches,backlog,backlog_median_age_days,"
                + "reopen_rate_percent"
        ]
        func cell(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        for (dimension, groups) in [
            ("total", [totals]), ("kind", byKind), ("service", byService), ("priority", byPriority),
        ] {
            for g in groups {
                lines.append(
                    [
                        dimension, quote(g.key), String(g.volume), cell(g.firstResponse.medianMinutes),
                        cell(g.firstResponse.p90Minutes), cell(g.timeToResolve.medianMinutes),
                        cell(g.timeToResolve.p90Minutes), cell(g.slaCompliancePercent), String(g.breaches),
                        String(g.backlog), cell(g.backlogMedianAgeDays), cell(g.reopenRatePercent),
                    ].joined(separator: ","))
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A plain-text summary for the terminal.
    public func text() -> String {
        func num(_ v: Double?, _ unit: String = "") -> String { v.map { String(format: "%.1f", $0) + unit } ?? "–" }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var out = "Service report \(LocalDate.utc(periodStart)) – \(LocalDate.utc(periodEnd))\n\n"
        let header =
            pad("", 18) + pad("volume", 8) + pad("1st resp med/p90 min", 22) + pad("resolve med/p90 min", 22)
            + pad("SLA %", 8) + pad("breaches", 10) + pad("backlog", 9) + "reopen %"
        for (title, groups) in [
            ("Total", [totals]), ("By kind", byKind), ("By service", byService), ("By priority", byPriority),
        ] {
            out += "\(title)\n\(header)\n"
            for g in groups {
                out +=
                    pad(g.key, 18) + pad(String(g.volume), 8)
                    + pad("\(num(g.firstResponse.medianMinutes)) / \(num(g.firstResponse.p90Minutes))", 22)
                    + pad("\(num(g.timeToResolve.medianMinutes)) / \(num(g.timeToResolve.p90Minutes))", 22)
                    + pad(num(g.slaCompliancePercent), 8) + pad(String(g.breaches), 10) + pad(String(g.backlog), 9)
                    + num(g.reopenRatePercent) + "\n"
            }
            out += "\n"
        }
        out +=
            "Changes: \(changes.closed) closed, \(changes.successful) successful, \(changes.failed) failed, "
            + "\(changes.rolledBack) rolled back, \(changes.rejected) rejected; success rate "
            + "\(num(changes.successRatePercent, " %"))\n"
        out +=
            "Problems: \(problems.opened) opened, \(problems.open) open (\(problems.knownErrors) known errors), "
            + "\(problems.resolved) resolved, \(problems.linkedIncidents) linked incidents\n"
        return out
    }
}

extension LocalDate {
    /// The UTC calendar day of a moment (reports use UTC weeks).
    static func utc(_ date: Date) -> LocalDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return LocalDate(year: c.year!, month: c.month!, day: c.day!)
    }
}
