import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` next to the store, so two cron runs never process the same mailbox at once.
public final class RunLock {
    private let descriptor: Int32

    /// Returns nil when another process holds the lock.
    public init?(path: String) throws {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw GatewayError.store(
                "Cannot open the lock file \(path) next to the store (store.sqlite): \(String(cString: strerror(errno)))."
            )
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
