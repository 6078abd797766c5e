/// A bounded hand-over between two stages of the sync pipeline (fetch → prepare → store). `put` waits while
/// `capacity` items or `byteLimit` bytes are queued (one item always fits), so a fast network cannot run ahead of the
/// store by more than a few batches and memory stays bounded even for batches of large mails; `take` waits for the
/// next item and returns nil once the producer has finished. Closing (the consumer failed) wakes a waiting producer,
/// whose `put` then returns false.
actor Handoff<Element: Sendable> {
    private let capacity: Int
    private let byteLimit: Int
    private var items: [(element: Element, bytes: Int)] = []
    private var queuedBytes = 0
    private var end: Result<Void, any Error>?
    private var closed = false
    private var taker: CheckedContinuation<Void, Never>?
    private var putters: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int, byteLimit: Int = .max) {
        self.capacity = max(1, capacity)
        self.byteLimit = byteLimit
    }

    /// Whether the producer has finished (everything it will ever put is queued).
    var isFinished: Bool { end != nil }

    /// Items queued and not taken yet (never more than the capacity).
    var count: Int { items.count }

    /// Bytes queued and not taken yet.
    var bytes: Int { queuedBytes }

    /// Queues an item of about `bytes` bytes, waiting for room; false when the consumer closed the hand-over.
    func put(_ item: Element, bytes: Int = 0) async -> Bool {
        while !closed && count > 0 && (count >= capacity || queuedBytes + bytes > byteLimit) {
            await withCheckedContinuation { putters.append($0) }
        }
        guard !closed else { return false }
        items.append((item, bytes))
        queuedBytes += bytes
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
        while items.isEmpty {
            if closed { return nil }
            if let end {
                try end.get()
                return nil
            }
            await withCheckedContinuation { taker = $0 }
        }
        // Removed, not just passed: a queue that never runs empty (a producer ahead of its consumer, the usual
        // case) must not keep every batch it ever handed on. A few items at most, so the shift costs nothing.
        return removeFirst()
    }

    /// The next item if one is queued now and `accept` takes it, else nil at once (the item stays queued): a consumer
    /// that is behind gathers what has piled up without waiting for more.
    func takeQueued(if accept: @Sendable (Element) -> Bool) -> Element? {
        guard let first = items.first, accept(first.element) else { return nil }
        return removeFirst()
    }

    /// The consumer gives up: waiting and later `put`s return false, queued items are dropped, and a `take` waiting
    /// on the other side (a stage between two hand-overs) returns nil.
    func close() {
        closed = true
        items = []
        queuedBytes = 0
        for putter in putters { putter.resume() }
        putters = []
        wakeTaker()
    }

    private func removeFirst() -> Element {
        let item = items.removeFirst()
        queuedBytes -= item.bytes
        // Every waiting producer checks again (room may now suit one of them).
        for putter in putters { putter.resume() }
        putters = []
        return item.element
    }

    private func wakeTaker() {
        taker?.resume()
        taker = nil
    }
}
