import Foundation
import PropertyBased
import Testing

@testable import ServiceDesk

@Suite("Business calendar and SLA")
struct BusinessCalendarTests {
    static let berlin = try! BusinessCalendar(
        name: "de-berlin", timeZone: "Europe/Berlin",
        hours: [
            .monday: [BusinessHours("08:00-12:00")!, BusinessHours("13:00-17:00")!],
            .tuesday: [BusinessHours("08:00-17:00")!], .wednesday: [BusinessHours("08:00-17:00")!],
            .thursday: [BusinessHours("08:00-17:00")!], .friday: [BusinessHours("08:00-15:00")!],
        ],
        holidays: [LocalDate("2026-04-03")!, LocalDate("2026-04-06")!, LocalDate("2026-10-03")!])

    /// A moment given in Berlin wall-clock time.
    static func berlinTime(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int = 0) -> Date {
        berlin.gregorian.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi))!
    }

    @Test("across the spring DST switch (Sun 29 Mar 2026) business hours stay wall-clock hours")
    func springForward() {
        let friday = Self.berlinTime(2026, 3, 27, 14)
        // Fri 14–15 (60) + Mon 08–12 (240) = 300 minutes.
        #expect(Self.berlin.add(minutes: 300, to: friday) == Self.berlinTime(2026, 3, 30, 12))
        #expect(Self.berlin.add(minutes: 301, to: friday) == Self.berlinTime(2026, 3, 30, 13, 1))
        #expect(Self.berlin.businessMinutes(from: friday, to: Self.berlinTime(2026, 3, 30, 17)) == 60 + 480)
        // Wall-clock 08:00 on Monday is 06:00 UTC after the switch (07:00 UTC before).
        #expect(
            Self.berlinTime(2026, 3, 30, 8).timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400) == 6 * 3600)
    }

    @Test("across the autumn DST switch (Sun 25 Oct 2026)")
    func fallBack() {
        let friday = Self.berlinTime(2026, 10, 23, 14, 30)
        #expect(Self.berlin.add(minutes: 30 + 60, to: friday) == Self.berlinTime(2026, 10, 26, 9))
        #expect(Self.berlin.businessMinutes(from: friday, to: Self.berlinTime(2026, 10, 27, 8)) == 30 + 480)
    }

    @Test("holidays (Good Friday, Easter Monday) are skipped")
    func holidays() {
        let thursday = Self.berlinTime(2026, 4, 2, 16)
        #expect(Self.berlin.add(minutes: 120, to: thursday) == Self.berlinTime(2026, 4, 7, 9))
        #expect(Self.berlin.businessMinutes(from: thursday, to: Self.berlinTime(2026, 4, 7, 9)) == 120)
    }

    static let moments = Gen.int(in: 1_767_225_600...1_830_297_600).map {
        Date(timeIntervalSince1970: TimeInterval($0))
    }

    @Test("property: adding then measuring gives back the minutes")
    func addThenMeasure() async {
        await propertyCheck(count: 200, input: Self.moments, Gen.int(in: 0...20_000)) { start, minutes in
            let end = Self.berlin.add(minutes: minutes, to: start)
            #expect(Self.berlin.businessMinutes(from: start, to: end) == minutes)
        }
    }

    @Test("property: more minutes never end earlier, and never outside business hours")
    func monotonicAndInside() async {
        await propertyCheck(count: 200, input: Self.moments, Gen.int(in: 1...10_000), Gen.int(in: 0...600)) {
            start, a, b in
            let first = Self.berlin.add(minutes: a, to: start)
            let second = Self.berlin.add(minutes: a + b, to: start)
            #expect(first <= second)
            #expect(Self.berlin.isBusinessTime(first) || Self.berlin.isBusinessTime(first.addingTimeInterval(-1)))
            #expect(!Self.berlin.holidays.contains(Self.berlin.localDate(of: first.addingTimeInterval(-1))))
        }
    }

    @Test("property: measuring is additive over a split point")
    func additive() async {
        await propertyCheck(count: 100, input: Self.moments, Gen.int(in: 0...2_000_000), Gen.int(in: 0...2_000_000)) {
            start, x, y in
            let mid = start.addingTimeInterval(TimeInterval(x))
            let end = mid.addingTimeInterval(TimeInterval(y))
            let whole = Self.berlin.businessSeconds(from: start, to: end)
            let parts =
                Self.berlin.businessSeconds(from: start, to: mid) + Self.berlin.businessSeconds(from: mid, to: end)
            #expect(abs(whole - parts) < 0.001)
        }
    }

    @Test("calendar config decodes from snake_case and rejects nonsense")
    func decoding() throws {
        let json =
            #"{"name":"x","time_zone":"Europe/Berlin","hours":{"monday":["09:00-17:00"]},"holidays":["2026-12-25"]}"#
        let calendar = try JSONDecoder().decode(BusinessCalendar.self, from: Data(json.utf8))
        #expect(calendar.hours[.monday] == [BusinessHours(startMinute: 540, endMinute: 1020)])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(
                BusinessCalendar.self,
                from: Data(#"{"name":"x","time_zone":"Mars/Base","hours":{"monday":["09:00-17:00"]}}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(
                BusinessCalendar.self,
                from: Data(#"{"name":"x","time_zone":"UTC","hours":{"monday":["17:00-09:00"]}}"#.utf8))
        }
        let policy = try JSONDecoder().decode(
            SLAPolicy.self,
            from: Data(
                #"{"name":"std","calendar":"x","targets":{"p1":{"first_response":"15m","resolution":"4h"},"3":{"resolution":90}}}"#
                    .utf8))
        #expect(policy.targets[.p1] == SLATarget(firstResponse: BusinessDuration(minutes: 15), resolution: .hours(4)))
        #expect(policy.targets[.p3]?.resolution?.minutes == 90)
        #expect(policy.escalations == SLAPolicy.defaultEscalations)
        let changes = try JSONDecoder().decode(
            ChangePolicy.self,
            from: Data(
                #"{"approvers":[{"address":"a@x"}],"quorum":"majority","types":{"standard":{"preapproved":true},"emergency":{"approvers":[{"address":"e@x"}],"quorum":"any"}}}"#
                    .utf8))
        #expect(changes.isPreapproved(.standard) && changes.board(for: .emergency).quorum == .any)
        #expect(changes.board(for: .normal).approvers == [Approver(address: "a@x")])
        let service = try JSONDecoder().decode(
            CatalogService.self,
            from: Data(
                #"{"name":"email","owner_group":"mail","sla_policy":"std","request_types":[{"name":"mailbox","requires_approval":true,"approvers":[{"address":"b@x"}]}]}"#
                    .utf8))
        #expect(service.requestType(named: "MAILBOX")?.requiresApproval == true)
    }

    static var slaContext: WorkflowContext {
        var ctx = Fixture.context
        ctx.calendars = [berlin]
        ctx.slaPolicies = [
            SLAPolicy(
                name: "standard", calendar: "de-berlin",
                targets: [.p3: SLATarget(firstResponse: BusinessDuration(minutes: 60), resolution: .hours(8))])
        ]
        ctx.defaultSLAPolicy = "standard"
        return ctx
    }

    @Test("SLA: 75 % notifies the assignee, 100 % the group lead and records a breach; ticks are idempotent")
    func escalation() throws {
        let created = Self.berlinTime(2026, 6, 1, 9)  // Monday
        var t = Ticket(
            id: TicketID(kind: .incident, number: 5), state: .inProgress, subject: "VPN", requester: Fixture.requester,
            assignee: "Anna", mailbox: "support", createdAt: created, firstResponseAt: created)
        let ctx = Self.slaContext
        #expect(Workflow.tick(t, now: Self.berlinTime(2026, 6, 1, 13), context: ctx).effects.isEmpty)
        let at75 = Workflow.tick(t, now: Self.berlinTime(2026, 6, 1, 16), context: ctx)  // 6 of 8 h (lunch excluded)
        #expect(at75.effects == [.escalate(level: 1, to: .assignee, metric: .resolution, percent: 75)])
        t = at75.ticket
        #expect(Workflow.tick(t, now: Self.berlinTime(2026, 6, 1, 16, 30), context: ctx).effects.isEmpty)
        let at100 = Workflow.tick(t, now: Self.berlinTime(2026, 6, 2, 10), context: ctx)
        #expect(at100.effects == [.escalate(level: 2, to: .groupLead, metric: .resolution, percent: 100)])
        #expect(at100.ticket.sla.breaches.map(\.metric) == [.resolution])
        #expect(at100.audit.contains { $0.action == "sla breached" })
        #expect(Workflow.tick(at100.ticket, now: Self.berlinTime(2026, 6, 3, 10), context: ctx).effects.isEmpty)
    }

    @Test("SLA: pending pauses the resolution clock")
    func pause() throws {
        let created = Self.berlinTime(2026, 6, 1, 9)
        var t = Ticket(
            id: TicketID(kind: .incident, number: 6), state: .inProgress, subject: "VPN", requester: Fixture.requester,
            mailbox: "support", createdAt: created, firstResponseAt: created)
        let ctx = Self.slaContext
        t = try Workflow.decide(
            t, Fixture.command(.pending(reason: "vendor")), now: Self.berlinTime(2026, 6, 1, 10), context: ctx
        ).ticket
        #expect(Workflow.tick(t, now: Self.berlinTime(2026, 6, 5, 12), context: ctx).effects.isEmpty)
        t = try Workflow.decide(
            t, .customerReplied(from: Fixture.requester, messageID: "r@x"), now: Self.berlinTime(2026, 6, 8, 8),
            context: ctx
        ).ticket
        #expect(t.state == .inProgress && t.sla.pauses.count == 1)
        let policy = ctx.slaPolicies[0]
        let status = SLA.status(t, now: Self.berlinTime(2026, 6, 8, 9), policy: policy, calendar: Self.berlin)
        #expect(status.first { $0.metric == .resolution }?.elapsedMinutes == 120)
    }

    @Test("a round-the-clock Berlin calendar has 23 h on the spring switch day and 25 h on the autumn one")
    func dstDayLengths() throws {
        let allDay = [BusinessHours(startMinute: 0, endMinute: 1440)]
        let always = try BusinessCalendar(
            name: "24x7-berlin", timeZone: "Europe/Berlin",
            hours: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, allDay) }))
        func day(_ m: Int, _ d: Int) -> Int {
            always.businessMinutes(from: Self.berlinTime(2026, m, d, 0), to: Self.berlinTime(2026, m, d + 1, 0))
        }
        #expect(day(3, 29) == 23 * 60)
        #expect(day(10, 25) == 25 * 60)
        #expect(day(6, 1) == 24 * 60)
        let saturdayNoon = Self.berlinTime(2026, 3, 28, 12)
        #expect(always.add(minutes: 24 * 60, to: saturdayNoon) == Self.berlinTime(2026, 3, 29, 13))
    }

    @Test("SLA: a late first response is recorded as a breach when it happens, without waiting for a tick")
    func firstResponseBreach() throws {
        let created = Self.berlinTime(2026, 6, 1, 9)
        let t = Ticket(
            id: TicketID(kind: .incident, number: 7), state: .new, subject: "VPN", requester: Fixture.requester,
            mailbox: "support", createdAt: created)
        let r = try Workflow.decide(
            t, .agentReplied(agent: "Anna", messageID: "late@x", relayText: "Sorry"),
            now: Self.berlinTime(2026, 6, 1, 11),
            context: Self.slaContext)
        #expect(r.ticket.sla.breaches.map(\.metric) == [.firstResponse])
        #expect(r.ticket.sla.breaches.first?.elapsedMinutes == 120)
        #expect(Workflow.tick(r.ticket, now: Self.berlinTime(2026, 6, 1, 12), context: Self.slaContext).effects.isEmpty)
    }

    @Test("property: SLA evaluation is idempotent at any later moment")
    func idempotentEvaluation() async {
        let created = Self.berlinTime(2026, 6, 1, 9)
        let policy = Self.slaContext.slaPolicies[0]
        await propertyCheck(count: 100, input: Gen.int(in: 0...(20 * 86_400)), Gen.int(in: 0...(5 * 86_400))) { a, b in
            let t = Ticket(
                id: TicketID(kind: .incident, number: 8), state: .inProgress, subject: "x",
                requester: Fixture.requester,
                mailbox: "support", createdAt: created)
            let first = SLA.evaluate(
                t, now: created.addingTimeInterval(Double(a)), policy: policy, calendar: Self.berlin)
            let again = SLA.evaluate(
                first.ticket, now: created.addingTimeInterval(Double(a)), policy: policy, calendar: Self.berlin)
            #expect(again.effects.isEmpty && again.ticket == first.ticket)
            let later = SLA.evaluate(
                first.ticket, now: created.addingTimeInterval(Double(a + b)), policy: policy, calendar: Self.berlin)
            let fired = Set(first.ticket.sla.firedThresholds)
            #expect(Set(later.ticket.sla.firedThresholds).isSuperset(of: fired))
            #expect(later.effects.count == later.ticket.sla.firedThresholds.count - fired.count)
        }
    }
}
