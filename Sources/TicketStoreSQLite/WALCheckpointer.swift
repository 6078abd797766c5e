import Dispatch
import Foundation
import GRDB

/// Copies the write-ahead log back into the database on a connection and thread of its own, after each write
/// transaction, so that commits seldom wait for a checkpoint: a bulk sync's writer mostly appends to the log while
/// another core copies and syncs it. A passive checkpoint never blocks the writer; the writer's own checkpoint past
/// 8 MB (see `SQLiteTicketStore.init`) then finds little left to copy and lets the log start over.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "ticketgate.wal-checkpoint")
    private let lock = NSLock()
    private var pending = false

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Schedules one checkpoint unless one is already waiting to start.
    func request() {
        lock.lock()
        defer { lock.unlock() }
        guard !pending else { return }
        pending = true
        queue.async { [self] in
            lock.withLock { pending = false }
            // A failed checkpoint loses nothing: the log keeps the frames and the next request copies them.
            _ = try? connection.inDatabase { try $0.checkpoint(.passive) }
        }
    }
}
