import Foundation

extension ServiceReport {
    /// One self-contained HTML page (inline CSS and SVG, no scripts, no external assets).
    public func html(title: String = "Ticketgate service report") -> String {
        let period = "\(LocalDate.utc(periodStart)) – \(LocalDate.utc(periodEnd))"
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func num(_ v: Double?, _ unit: String = "") -> String { v.map { String(format: "%.1f", $0) + unit } ?? "–" }
        func tiles() -> String {
            let items = [
                ("Tickets", String(totals.volume)), ("SLA compliance", num(totals.slaCompliancePercent, " %")),
                ("Breaches", String(totals.breaches)), ("Backlog", String(totals.backlog)),
                ("Median time to resolve", num(totals.timeToResolve.medianMinutes.map { $0 / 60 }, " h")),
                ("Change success", num(changes.successRatePercent, " %")),
            ]
            return items.map {
                "<div class=\"tile\"><div class=\"v\">\(esc($0.1))</div><div class=\"l\">\(esc($0.0))</div></div>"
            }
            .joined()
        }
        func table(_ title: String, _ groups: [ReportGroup]) -> String {
            var rows = ""
            for g in groups {
                rows +=
                    "<tr><td>\(esc(g.key))</td><td>\(g.volume)</td><td>\(num(g.firstResponse.medianMinutes))</td>"
                    + "<td>\(num(g.firstResponse.p90Minutes))</td><td>\(num(g.timeToResolve.medianMinutes))</td>"
                    + "<td>\(num(g.timeToResolve.p90Minutes))</td><td>\(num(g.slaCompliancePercent))</td>"
                    + "<td>\(g.breaches)</td><td>\(g.backlog)</td><td>\(num(g.backlogMedianAgeDays))</td>"
                    + "<td>\(num(g.reopenRatePercent))</td></tr>"
            }
            return
                "<h2>\(esc(title))</h2><table><thead><tr><th></th><th>Volume</th><th>1st resp. median (min)</th>"
                + "<th>1st resp. p90</th><th>Resolve median (min)</th><th>Resolve p90</th><th>SLA %</th><th>Breaches</th>"
                + "<th>Backlog</th><th>Backlog age (d)</th><th>Reopen %</th></tr></thead><tbody>\(rows)</tbody></table>"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title))</title>
            <style>
            body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f7fa;color:#1f2933}
            header{background:#1f3a5f;color:#fff;padding:24px 40px}header h1{margin:0;font-size:24px}
            header p{margin:4px 0 0;opacity:.8}main{padding:24px 40px;max-width:1200px}
            .tiles{display:flex;flex-wrap:wrap;gap:16px;margin-bottom:24px}
            .tile{background:#fff;border-radius:10px;padding:16px 20px;min-width:150px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
            .tile .v{font-size:26px;font-weight:600;color:#1f3a5f}.tile .l{font-size:13px;color:#627d98}
            .card{background:#fff;border-radius:10px;padding:16px 20px;margin-bottom:24px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
            h2{font-size:17px;margin:24px 0 8px}table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
            th,td{padding:6px 10px;border-bottom:1px solid #e4e7eb;text-align:right}th:first-child,td:first-child{text-align:left}
            th{background:#f0f4f8;font-weight:600}svg text{font:12px system-ui,sans-serif;fill:#52606d}
            </style></head><body>
            <header><h1>\(esc(title))</h1><p>\(esc(period))</p></header>
            <main><div class="tiles">\(tiles())</div>
            <div class="card"><h2>Weekly volume and backlog</h2>\(trendChart())</div>
            <div class="card"><h2>SLA compliance per service</h2>\(complianceChart())</div>
            \(table("By kind", byKind))\(table("By service", byService))\(table("By priority", byPriority))
            <p>Changes: \(changes.closed) closed · \(changes.successful) successful · \(changes.failed) failed · \
            \(changes.rolledBack) rolled back · \(changes.rejected) rejected. Problems: \(problems.open) open \
            (\(problems.knownErrors) known errors), \(problems.resolved) resolved.</p>
            </main></body></html>

            """
    }

    /// Bars for weekly opened tickets, a line for the backlog at each week's end.
    func trendChart() -> String {
        let width = 760.0
        let height = 240.0
        let left = 40.0
        let bottom = 30.0
        guard !weekly.isEmpty else { return "<p>No weeks in the period.</p>" }
        let maxValue = Double(max(1, weekly.map { max($0.opened, $0.backlog) }.max() ?? 1))
        let step = (width - left - 10) / Double(weekly.count)
        let plot = height - bottom - 10
        func y(_ v: Int) -> Double { 10 + plot - Double(v) / maxValue * plot }
        var svg =
            "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" "
            + "aria-label=\"Weekly volume and backlog\">"
        for tick in [0, Int(maxValue / 2), Int(maxValue)] {
            svg +=
                "<line x1=\"\(left)\" x2=\"\(width - 10)\" y1=\"\(y(tick))\" y2=\"\(y(tick))\" stroke=\"#e4e7eb\"/>"
                + "<text x=\"\(left - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(tick)</text>"
        }
        var points: [String] = []
        for (i, w) in weekly.enumerated() {
            let x = left + Double(i) * step
            svg +=
                "<rect x=\(q(x + step * 0.15)) y=\(q(y(w.opened))) width=\(q(step * 0.7)) "
                + "height=\(q(10 + plot - y(w.opened))) rx=\"3\" fill=\"#7cb8e4\"><title>\(w.weekStart): \(w.opened) opened</title></rect>"
            points.append("\(fmt(x + step / 2)),\(fmt(y(w.backlog)))")
            if weekly.count <= 16 || i % max(1, weekly.count / 8) == 0 {
                svg +=
                    "<text x=\(q(x + step / 2)) y=\(q(height - 10)) text-anchor=\"middle\">\(w.weekStart.dropFirst(5))</text>"
            }
        }
        svg +=
            "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#d64545\" stroke-width=\"2.5\"/>"
        svg +=
            "<rect x=\"\(left)\" y=\"0\" width=\"10\" height=\"10\" fill=\"#7cb8e4\"/><text x=\"\(left + 14)\" y=\"9\">opened</text>"
            + "<line x1=\"\(left + 80)\" x2=\"\(left + 96)\" y1=\"5\" y2=\"5\" stroke=\"#d64545\" stroke-width=\"2.5\"/>"
            + "<text x=\"\(left + 100)\" y=\"9\">backlog</text></svg>"
        return svg
    }

    /// Horizontal bars of SLA compliance per service, coloured by how close they are to 100 %.
    func complianceChart() -> String {
        let measured = byService.filter { $0.slaCompliancePercent != nil }
        guard !measured.isEmpty else { return "<p>No tickets measured against an SLA.</p>" }
        let row = 28.0
        let labelWidth = 160.0
        let barWidth = 520.0
        var svg =
            "<svg viewBox=\"0 0 760 \(Int(row * Double(measured.count) + 10))\" width=\"100%\" role=\"img\" "
            + "aria-label=\"SLA compliance per service\">"
        for (i, g) in measured.enumerated() {
            let value = g.slaCompliancePercent ?? 0
            let y = Double(i) * row + 5
            let color = value >= 95 ? "#3ebd93" : value >= 80 ? "#f0b429" : "#d64545"
            let name = g.key.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            svg +=
                "<text x=\(q(labelWidth - 8)) y=\(q(y + 15)) text-anchor=\"end\">\(name)</text>"
                + "<rect x=\(q(labelWidth)) y=\(q(y)) width=\(q(barWidth)) height=\"20\" rx=\"4\" fill=\"#f0f4f8\"/>"
                + "<rect x=\(q(labelWidth)) y=\(q(y)) width=\(q(barWidth * value / 100)) height=\"20\" rx=\"4\" fill=\"\(color)\"/>"
                + "<text x=\(q(labelWidth + barWidth + 8)) y=\(q(y + 15))>\(String(format: "%.1f", value)) %</text>"
        }
        return svg + "</svg>"
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
    private func q(_ v: Double) -> String { "\"" + fmt(v) + "\"" }
}
