import Foundation
import ServiceDesk

/// An outgoing mail's rendered parts, to be filled into the rows queued for it before its transaction commits.
struct RenderedOutgoing: Sendable {
    var messageID: String
    var subject: String
    var text: String
    var raw: [UInt8]
}

/// Renders and composes the outgoing mail of one store transaction on another core while the store writer goes on
/// with the next mails: templates and MIME composition are pure, and were two thirds of the writer's time in a bulk
/// sync. The writer queues each mail with empty parts, submits its rendering here, and before committing calls
/// `finish`, which helps with what is left, waits for the rest and hands back every result in submission order, so
/// the rows and the checkpoint still commit together or not at all.
final class RenderAhead: @unchecked Sendable {
    typealias Job = @Sendable () throws -> RenderedOutgoing

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var results: [Result<RenderedOutgoing, any Error>?] = []
    private var next = 0
    private var completed = 0
    private var workerRunning = false

    /// One background lane for every batch: the other core of a small machine, never the cooperative pool.
    private static let queue = DispatchQueue(label: "ticketgate.render-ahead", qos: .userInitiated)

    /// Queues one rendering; a background worker starts when none is running.
    func submit(_ job: @escaping Job) {
        condition.lock()
        jobs.append(job)
        results.append(nil)
        let start = !workerRunning
        if start { workerRunning = true }
        condition.unlock()
        if start {
            Self.queue.async { [self] in
                drain()
                condition.lock()
                workerRunning = false
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// Takes and runs jobs until none is left unclaimed.
    private func drain() {
        while true {
            condition.lock()
            guard next < jobs.count else {
                condition.unlock()
                return
            }
            let index = next
            let job = jobs[index]
            next += 1
            condition.unlock()
            let result = Result { try job() }
            condition.lock()
            results[index] = result
            completed += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Every result in submission order once all are done (the caller's thread helps); rethrows the first failure.
    func finish() throws -> [RenderedOutgoing] {
        drain()
        condition.lock()
        while completed < jobs.count { condition.wait() }
        let done = results
        jobs = []
        results = []
        next = 0
        completed = 0
        condition.unlock()
        return try done.map { try $0!.get() }
    }

    /// The batch of the transaction being written on this thread, if its writer renders ahead.
    @TaskLocal static var current: RenderAhead?
}

extension RenderAhead {
    /// Runs `body` (one transaction's work) rendering ahead, then fills every queued mail's parts into its rows.
    static func rendering<T>(in tx: any TicketWriting, _ body: () throws -> T) throws -> T {
        let batch = RenderAhead()
        let value = try $current.withValue(batch) { try body() }
        for mail in try batch.finish() {
            try tx.completeOutgoing(messageID: mail.messageID, subject: mail.subject, text: mail.text, raw: mail.raw)
        }
        return value
    }
}
