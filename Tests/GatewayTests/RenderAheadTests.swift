import Foundation
import Testing

@testable import Gateway

@Suite("Render-ahead of outgoing mail")
struct RenderAheadTests {
    struct Broken: Error {}

    func job(_ n: Int, fail: Bool = false) -> RenderAhead.Job {
        {
            if fail { throw Broken() }
            // uneven work, so the background lane and the finishing thread complete out of order
            var sum = 0
            for i in 0..<((n % 7) * 20_000) { sum &+= i }
            return RenderedOutgoing(messageID: "m\(n)", subject: "s\(n)", text: "\(sum)", raw: [UInt8(n % 256)])
        }
    }

    @Test("results come back complete and in submission order, whoever rendered them")
    func order() throws {
        let batch = RenderAhead()
        for n in 0..<500 { batch.submit(job(n)) }
        let results = try batch.finish()
        #expect(results.map(\.messageID) == (0..<500).map { "m\($0)" })
        #expect(results.map(\.raw) == (0..<500).map { [UInt8($0 % 256)] })
        // the batch is reusable and empty after finishing
        #expect(try batch.finish().isEmpty)
    }

    @Test("a failing rendering fails the whole batch, so its transaction rolls back")
    func failure() {
        let batch = RenderAhead()
        for n in 0..<50 { batch.submit(job(n, fail: n == 31)) }
        #expect(throws: Broken.self) { try batch.finish() }
    }

    @Test("only code inside a rendering transaction sees a batch")
    func scope() throws {
        #expect(RenderAhead.current == nil)
        let inside = RenderAhead.$current.withValue(RenderAhead()) { RenderAhead.current != nil }
        #expect(inside)
        #expect(RenderAhead.current == nil)
    }
}
