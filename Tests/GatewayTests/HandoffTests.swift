import Testing

@testable import Gateway

/// The bounded hand-over between sync stages: order, back-pressure, the producer's end and error, closing.
@Suite("Pipeline hand-over")
struct HandoffTests {
    struct Broken: Error {}

    @Test("items arrive in order; a producer waits while the hand-over is full", .timeLimit(.minutes(1)))
    func orderAndBackPressure() async throws {
        let handoff = Handoff<Int>(capacity: 2)
        let producer = Task {
            for item in 0..<10 { _ = await handoff.put(item) }
            await handoff.finish()
        }
        // Until something is taken the producer cannot queue more than the capacity.
        while await handoff.count < 2 { await Task.yield() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await handoff.count == 2)
        #expect(await handoff.isFinished == false)
        var received: [Int] = []
        while let item = try await handoff.take() { received.append(item) }
        #expect(received == Array(0..<10))
        await producer.value
        #expect(await handoff.isFinished)
    }

    /// A batch stand-in whose release can be observed.
    final class Batch: Sendable {}

    @Test("a taken item is released even while the queue never runs empty (memory stays bounded)")
    func takenItemsAreReleased() async throws {
        let handoff = Handoff<Batch>(capacity: 2)
        weak var first: Batch?
        weak var second: Batch?
        do {
            let a = Batch()
            let b = Batch()
            first = a
            second = b
            _ = await handoff.put(a)
            _ = await handoff.put(b)
        }
        // The producer stays ahead: one item is always queued, as in a sync that is store-bound.
        for _ in 0..<3 {
            _ = try await handoff.take()
            _ = await handoff.put(Batch())
        }
        #expect(await handoff.count == 2)
        #expect(first == nil)
        #expect(second == nil)
    }

    @Test(
        "a consumer that is behind gathers what is queued, only what it accepts, and never waits for more",
        .timeLimit(.minutes(1)))
    func takeQueued() async throws {
        let handoff = Handoff<Int>(capacity: 4)
        #expect(await handoff.takeQueued { _ in true } == nil)  // empty: nil at once, no waiting
        for item in [1, 2, -3, 4] { _ = await handoff.put(item, bytes: 10) }
        // A producer waiting for room is let in by what is gathered.
        let producer = Task { await handoff.put(5, bytes: 10) }
        var gathered: [Int] = []
        while let item = await handoff.takeQueued(if: { $0 > 0 }) { gathered.append(item) }
        // It stops at the first item it does not accept, which stays queued in its place.
        #expect(gathered == [1, 2])
        #expect(await producer.value)
        #expect(await handoff.count == 3)
        #expect(await handoff.bytes == 30)
        #expect(try await handoff.take() == -3)
        #expect(await handoff.takeQueued { $0 > 0 } == 4)
    }

    @Test("a byte limit holds back the next item, but one item always fits however large", .timeLimit(.minutes(1)))
    func byteLimit() async throws {
        let handoff = Handoff<Int>(capacity: 10, byteLimit: 100)
        #expect(await handoff.put(1, bytes: 500))  // alone, larger than the limit: accepted
        let second = Task { await handoff.put(2, bytes: 10) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await handoff.count == 1)  // waits: 500 + 10 > 100
        #expect(try await handoff.take() == 1)
        #expect(await second.value)
        #expect(await handoff.put(3, bytes: 60))
        let fourth = Task { await handoff.put(4, bytes: 60) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await handoff.bytes == 70)  // 10 + 60: the next 60 would exceed 100
        #expect(try await handoff.take() == 2)
        try await Task.sleep(for: .milliseconds(50))
        #expect(await handoff.count == 1)  // 60 + 60 still exceeds 100
        #expect(try await handoff.take() == 3)
        #expect(await fourth.value)
        #expect(try await handoff.take() == 4)
        #expect(await handoff.bytes == 0)
    }

    @Test("what was queued before the producer failed is handed on, then its error")
    func failureAfterItems() async throws {
        let handoff = Handoff<Int>(capacity: 4)
        #expect(await handoff.put(1))
        #expect(await handoff.put(2))
        await handoff.finish(throwing: Broken())
        #expect(try await handoff.take() == 1)
        #expect(try await handoff.take() == 2)
        await #expect(throws: Broken.self) { _ = try await handoff.take() }
    }

    @Test("closing releases a waiting producer (put is false) and a waiting consumer (nil)", .timeLimit(.minutes(1)))
    func closing() async throws {
        let full = Handoff<Int>(capacity: 1)
        #expect(await full.put(1))
        let blocked = Task { await full.put(2) }
        for _ in 0..<50 { await Task.yield() }
        await full.close()
        #expect(await blocked.value == false)
        #expect(await full.put(3) == false)

        let empty = Handoff<Int>(capacity: 1)
        let waiting = Task { try await empty.take() }
        for _ in 0..<50 { await Task.yield() }
        await empty.close()
        #expect(try await waiting.value == nil)
    }
}
