import Dispatch

/// A serial executor on a private dispatch queue, so blocking libcurl calls of one connection never starve Swift's
/// cooperative thread pool (measured on Linux: a 20 ms timer delayed by 2 s otherwise).
/// It is also a task executor: a task started with it as preference runs at once on that queue's thread, without
/// waiting for a cooperative thread (at start-up both may be busy reading templates and opening the store).
final class QueueExecutor: SerialExecutor, TaskExecutor, Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            unownedJob.runSynchronously(on: executor)
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}
