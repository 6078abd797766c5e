import Foundation
import MailFormat
import Testing

@testable import ServiceDesk

@Suite("Reports")
struct ReportTests {
    static let from = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01 UTC
    static let to = from.addingTimeInterval(28 * 86_400)

    static var tickets: [Ticket] {
        var list: [Ticket] = []
        for n in 1...10 {
            var t = Ticket(
                id: TicketID(kind: .incident, number: n), state: .inProgress, subject: "x",
                requester: Fixture.requester,
                priority: n <= 2 ? .p1 : .p3, mailbox: "support",
                createdAt: from.addingTimeInterval(Double(n) * 86_400),
                service: n % 2 == 0 ? "email" : "vpn")
            t.firstResponseAt = t.createdAt.addingTimeInterval(Double(n) * 600)
            t.sla.policy = "standard"
            if n <= 6 {
                t.state = .resolved
                t.resolvedAt = t.createdAt.addingTimeInterval(Double(n) * 3600)
            }
            if n == 1 {
                t.sla.breaches = [
                    SLABreach(metric: .resolution, detectedAt: t.resolvedAt!, targetMinutes: 30, elapsedMinutes: 60)
                ]
            }
            if n == 2 { t.reopenCount = 1 }
            list.append(t)
        }
        for (n, outcome) in [ChangeOutcome.successful, .successful, .failed].enumerated() {
            var c = Ticket(
                id: TicketID(kind: .change, number: n + 1), state: .closed, subject: "c", requester: Fixture.requester,
                mailbox: "support", createdAt: from.addingTimeInterval(86_400))
            c.closedAt = from.addingTimeInterval(2 * 86_400)
            c.changeOutcome = outcome
            list.append(c)
        }
        return list
    }

    @Test("volumes, medians, p90, compliance, backlog, reopen and change success")
    func numbers() {
        let report = Report.compute(tickets: Self.tickets, from: Self.from, to: Self.to)
        let incidents = report.byKind.first { $0.key == "incident" }!
        #expect(incidents.volume == 10)
        #expect(incidents.firstResponse.medianMinutes == 55)
        #expect(incidents.firstResponse.p90Minutes == 90)
        #expect(incidents.timeToResolve.medianMinutes == 210)
        #expect(incidents.slaMeasured == 6 && incidents.slaMet == 5)
        #expect(incidents.slaCompliancePercent == 83.3)
        #expect(incidents.breaches == 1 && incidents.backlog == 4 && incidents.reopened == 1)
        #expect(report.changes.successRatePercent == 66.7)
        #expect(report.weekly.count == 5)
        #expect(report.weekly.map(\.opened).reduce(0, +) == 13)
    }

    @Test("renderers: stable JSON keys, CSV rows, self-contained HTML")
    func rendering() {
        let report = Report.compute(tickets: Self.tickets, from: Self.from, to: Self.to)
        let json = report.json()
        for key in [
            "\"sla_compliance_percent\"", "\"time_to_resolve\"", "\"p90_minutes\"", "\"by_service\"", "\"weekly\"",
            "\"week_start\"",
        ] {
            #expect(json.contains(key))
        }
        #expect(json.contains("\"success_rate_percent\" : 66.7"))
        let empty = Report.compute(tickets: [], from: Self.from, to: Self.to).json()
        #expect(empty.contains("\"sla_compliance_percent\" : null"))
        #expect(empty.contains("\"median_minutes\" : null"))
        #expect(report.csv().split(separator: "\r\n").count == 1 + 1 + 4 + 3 + 5)
        let html = report.html()
        #expect(
            html.contains("<svg") && !html.contains("<script") && !html.contains("http://") && !html.contains("src="))
        #expect(report.text().contains("By service"))
    }
}
