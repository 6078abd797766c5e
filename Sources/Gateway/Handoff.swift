/// A bounded hand-over between two stages of the sync pipeline (fetch → prepare → store). `put` waits while
/// `capacity` items are queued, so a fast network cannot run ahead of the store by more than a few batches and memory
/// stays bounded; `take` waits for the next item and returns nil once the producer has finished. Closing (the
/// consumer failed) wakes a waiting producer, whose `put` then returns false.
actor Handoff<Element: Sendable> {
    private let capacity: Int
    private var items: [Element] = []
    private var head = 0
    private var end: Result<Void, any Error>?
    private var closed = false
    private var taker: CheckedContinuation<Void, Never>?
    private var putters: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Whether the producer has finished (everything it will ever put is queued).
    var isFinished: Bool { end != nil }

    /// Items queued and not taken yet (never more than the capacity).
    var count: Int { items.count - head }

    /// Queues an item, waiting for room; false when the consumer closed the hand-over.
    func put(_ item: Element) async -> Bool {
        while !closed && items.count - head >= capacity {
            await withCheckedContinuation { putters.append($0) }
        }
        guard !closed else { return false }
        items.append(item)
        wakeTaker()
        return true
    }

    /// The producer is done: `take` returns the rest, then nil (or throws `error`).
    func finish(throwing error: (any Error)? = nil) {
        end = error.map { .failure($0) } ?? .success(())
        wakeTaker()
    }

    /// The next item, nil after the last (or once closed); throws what the producer failed with.
    func take() async throws -> Element? {
        while head == items.count {
            if closed { return nil }
            if let end {
                try end.get()
                return nil
            }
            await withCheckedContinuation { taker = $0 }
        }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        if let putter = putters.first {
            putters.removeFirst()
            putter.resume()
        }
        return item
    }

    /// The consumer gives up: waiting and later `put`s return false, queued items are dropped, and a `take` waiting
    /// on the other side (a stage between two hand-overs) returns nil.
    func close() {
        closed = true
        items = []
        head = 0
        for putter in putters { putter.resume() }
        putters = []
        wakeTaker()
    }

    private func wakeTaker() {
        taker?.resume()
        taker = nil
    }
}
