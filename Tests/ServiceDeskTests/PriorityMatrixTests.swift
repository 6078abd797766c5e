import Foundation
import Testing

@testable import ServiceDesk

@Suite("Priority matrix")
struct PriorityMatrixTests {
    @Test(
        "the ITIL default matrix",
        arguments: [
            (Impact.high, Urgency.high, Priority.p1), (.high, .medium, .p2), (.high, .low, .p3),
            (.medium, .high, .p2), (.medium, .medium, .p3), (.medium, .low, .p4),
            (.low, .high, .p3), (.low, .medium, .p4), (.low, .low, .p5),
        ])
    func itil(impact: Impact, urgency: Urgency, priority: Priority) {
        #expect(PriorityMatrix.itil.priority(impact: impact, urgency: urgency) == priority)
    }

    @Test("configured cells override the default, others stay ITIL")
    func decoding() throws {
        let json = #"{"high": {"high": 1, "low": 2}, "low": {"low": 4}}"#
        let matrix = try JSONDecoder().decode(PriorityMatrix.self, from: Data(json.utf8))
        #expect(matrix.priority(impact: .high, urgency: .low) == .p2)
        #expect(matrix.priority(impact: .low, urgency: .low) == .p4)
        #expect(matrix.priority(impact: .medium, urgency: .medium) == .p3)
    }

    @Test("bad matrix entries name the problem")
    func badDecoding() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(PriorityMatrix.self, from: Data(#"{"huge": {"high": 1}}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(PriorityMatrix.self, from: Data(#"{"high": {"high": 7}}"#.utf8))
        }
    }

    @Test("/impact and /urgency recompute the priority")
    func commands() throws {
        let t = Fixture.ticket(.incident, .inProgress)
        let a = try Workflow.decide(t, Fixture.command(.impact(.high)), now: Fixture.t0, context: Fixture.context)
        #expect(a.ticket.priority == .p2)
        let b = try Workflow.decide(
            a.ticket, Fixture.command(.urgency(.high)), now: Fixture.t0, context: Fixture.context)
        #expect(b.ticket.priority == .p1)
        #expect(b.audit.contains { $0.action == "priority" && $0.oldValue == "P2" && $0.newValue == "P1" })
    }

    @Test("intake levels map onto impact and urgency")
    func levels() {
        for level in Level.allCases {
            #expect(Impact(level).rawValue == level.rawValue)
            #expect(Urgency(level).rawValue == level.rawValue)
        }
    }
}
