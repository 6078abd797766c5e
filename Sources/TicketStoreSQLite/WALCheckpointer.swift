import Dispatch
import Foundation
import GRDB

/// Copies the write-ahead log back into the database on a connection and thread of its own, after every few write
/// transactions, so that commits seldom wait for a checkpoint: a bulk sync's writer mostly appends to the log while
/// another core copies and syncs it. A passive checkpoint never blocks the writer; the writer's own checkpoint past
/// 8 MB (see `SQLiteTicketStore.init`) then finds little left to copy and lets the log start over.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "ticketgate.wal-checkpoint")
    private let lock = NSLock()
    private var pending = false
    private var requests = 0
    /// Writes per checkpoint. A page that several transactions in a row change (an index's upper pages) is copied
    /// once instead of after each of them: a 5,000-mail sync's checkpoints copied about half as much.
    static let writesPerCheckpoint = 4

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Counts a write, and after every `writesPerCheckpoint` of them schedules one checkpoint unless one is already
    /// waiting to start.
    func request() {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        guard !pending, requests % Self.writesPerCheckpoint == 0 else { return }
        pending = true
        queue.async { [self] in
            lock.withLock { pending = false }
            // A failed checkpoint loses nothing: the log keeps the frames and the next request copies them.
            _ = try? connection.inDatabase { try $0.checkpoint(.passive) }
        }
    }
}
