import Foundation
import ServiceDesk
import Synchronization

/// Where a mail's raw bytes were appended: the `path` and `offset` of the `RawMail` that keeps them.
public struct RawLocation: Sendable, Equatable {
    public var path: String
    public var offset: Int64

    public init(path: String, offset: Int64) {
        self.path = path
        self.offset = offset
    }
}

/// Why raw mails could not be appended to the spool; the caller keeps them in the database instead.
public struct RawSpoolError: Error, CustomStringConvertible {
    public var description: String
}

/// Appends raw mails to segment files beside the store, so that a bulk sync writes each mail's bytes once and off the
/// store's writer. Kept in the database, every byte was copied into the write-ahead log and again into the database
/// file, on the one thread every transaction waits for (a tenth of a 5,000-mail sync). The bytes are on disk
/// (`fdatasync`) before `append` returns, or, with `waitForDisk` false, before `waitUntilOnDisk` does (a flush on a
/// thread of the spool's own meanwhile): either way a row committed after that never points at bytes that a crash
/// or a power failure could take; bytes whose row never commits (a crash in between) stay unused in the segment.
///
/// A segment is plain concatenated mails, never rewritten; rows give each mail's offset and size. Segments rotate at
/// 64 MB (`segmentLimit`), and a later run appends to the newest one while it has room.
public final class RawSpool: Sendable {
    /// A segment is not grown past this many bytes (unless one batch alone is larger).
    public let segmentLimit: Int64

    private struct Segment {
        var descriptor: Int32
        var path: String
    }

    /// The directory of the segments.
    public let directory: String
    private let current = Mutex<Segment?>(nil)
    /// How far each segment written by this process is on disk, and who waits for more.
    private let durability = Mutex(Durability())
    /// Flushes appended segments in the background (`append(_:waitForDisk: false)`).
    private let flusher = DispatchQueue(label: "ticketgate.spool.flush")

    private struct Durability {
        var onDisk: [String: Int64] = [:]
        var failure: RawSpoolError?
        var waiting: [(path: String, end: Int64, signal: DispatchSemaphore)] = []
    }

    public init(directory: String, segmentLimit: Int64 = 64 << 20) {
        self.directory = directory
        self.segmentLimit = segmentLimit
    }

    deinit {
        current.withLock { segment in
            if let segment { close(segment.descriptor) }
        }
    }

    /// Appends the mails in order and returns where each one is; either all are appended and on disk, or it throws.
    /// With `waitForDisk` false they are written and flushed on the spool's own thread: a row may point at them
    /// once `waitUntilOnDisk` says they are on disk. A sync's preparer spent a third of its time waiting for the
    /// disk, one flush per batch, while the writer usually commits those rows much later.
    public func append(_ mails: [[UInt8]], waitForDisk: Bool = true) throws -> [RawLocation] {
        guard !mails.isEmpty else { return [] }
        let total = mails.reduce(Int64(0)) { $0 + Int64($1.count) }
        return try current.withLock { segment throws -> [RawLocation] in
            var open = try segment ?? openNewest()
            segment = open
            // Another process sharing the store (it should not: the run lock) appends under the same lock.
            flock(open.descriptor, LOCK_EX)
            defer { flock(open.descriptor, LOCK_UN) }
            var start = Int64(lseek(open.descriptor, 0, SEEK_END))
            if start > 0, start + total > segmentLimit {
                // A segment is on disk before it is let go: `waitUntilOnDisk` counts on it.
                guard fdatasync(open.descriptor) == 0 else { throw failure("cannot flush", open.path) }
                written(open.path, through: .max)
                flock(open.descriptor, LOCK_UN)
                close(open.descriptor)
                segment = nil
                open = try create()
                segment = open
                flock(open.descriptor, LOCK_EX)
                start = Int64(lseek(open.descriptor, 0, SEEK_END))
            }
            guard start >= 0 else { throw failure("cannot find the end of", open.path) }
            try write(mails, to: open)
            let end = start + total
            if waitForDisk {
                guard fdatasync(open.descriptor) == 0 else { throw failure("cannot flush", open.path) }
                written(open.path, through: end)
            } else {
                let descriptor = dup(open.descriptor)
                guard descriptor >= 0 else { throw failure("cannot flush", open.path) }
                let path = open.path
                flusher.async { [self] in
                    let flushed = fdatasync(descriptor) == 0
                    let error = flushed ? nil : failure("cannot flush", path)
                    close(descriptor)
                    if let error { fail(error) } else { written(path, through: end) }
                }
            }
            var offset = start
            return mails.map { mail in
                defer { offset += Int64(mail.count) }
                return RawLocation(path: open.path, offset: offset)
            }
        }
    }

    /// Returns once the bytes of these mails (location and size) are on disk; throws when a flush failed. Blocks:
    /// the store's writer calls it on its own thread right before committing rows that point there, after the
    /// transaction's work, so the flush has usually long finished.
    public func waitUntilOnDisk(_ mails: [(location: RawLocation, size: Int)]) throws(RawSpoolError) {
        var ends: [String: Int64] = [:]
        for (location, size) in mails {
            ends[location.path] = max(ends[location.path] ?? 0, location.offset + Int64(size))
        }
        for (path, end) in ends {
            let signal = DispatchSemaphore(value: 0)
            let waits = try durability.withLock { state throws(RawSpoolError) -> Bool in
                if state.onDisk[path, default: -1] >= end { return false }
                if let failure = state.failure { throw failure }
                state.waiting.append((path, end, signal))
                return true
            }
            guard waits else { continue }
            signal.wait()
            try durability.withLock { state throws(RawSpoolError) in
                if state.onDisk[path, default: -1] < end, let failure = state.failure { throw failure }
            }
        }
    }

    /// Records that a segment is on disk through `end`, and wakes who waited for that.
    private func written(_ path: String, through end: Int64) {
        let woken = durability.withLock { state in
            state.onDisk[path] = max(state.onDisk[path] ?? -1, end)
            let done = state.waiting.filter { $0.path == path && $0.end <= end }
            state.waiting.removeAll { $0.path == path && $0.end <= end }
            return done.map(\.signal)
        }
        for signal in woken { signal.signal() }
    }

    /// A flush failed: whoever waits, or will wait, gets the error.
    private func fail(_ error: RawSpoolError) {
        let woken = durability.withLock { state in
            state.failure = state.failure ?? error
            defer { state.waiting = [] }
            return state.waiting.map(\.signal)
        }
        for signal in woken { signal.signal() }
    }

    /// Reads `size` bytes at `offset` of a segment (or of a whole file when `offset` is nil), at most `limit`; nil
    /// when the file is missing or shorter than the row says.
    public static func read(path: String, offset: Int64?, size: Int, limit: Int = .max) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var length = size
        if offset == nil {
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { return nil }
            length = Int(info.st_size)
        }
        let start = off_t(offset ?? 0)
        let wanted = min(length, limit)
        var bytes = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let count = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, wanted - done, start + off_t(done))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            done += count
        }
        return bytes
    }

    /// Writes the mails in order, gathered into writes of about 1 MB (a system call per mail cost more than the copy).
    private func write(_ mails: [[UInt8]], to segment: Segment) throws(RawSpoolError) {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20)
        for (index, mail) in mails.enumerated() {
            chunk.append(contentsOf: mail)
            guard chunk.count >= 1 << 20 || index == mails.count - 1 else { continue }
            var done = 0
            while done < chunk.count {
                let count = chunk.withUnsafeBytes {
                    Foundation.write(segment.descriptor, $0.baseAddress! + done, $0.count - done)
                }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw failure("cannot write to", segment.path) }
                done += count
            }
            chunk.removeAll(keepingCapacity: true)
        }
    }

    /// The newest segment while it has room, else a new one.
    private func openNewest() throws(RawSpoolError) -> Segment {
        try makeDirectory()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".mails") }.sorted()
        if let newest = names.last {
            let path = directory + "/" + newest
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            if descriptor >= 0 {
                if lseek(descriptor, 0, SEEK_END) < segmentLimit { return Segment(descriptor: descriptor, path: path) }
                close(descriptor)
            }
        }
        return try create()
    }

    private func create() throws(RawSpoolError) -> Segment {
        try makeDirectory()
        // Named by the millisecond, so names sort by age; a name already taken (two segments in one millisecond)
        // moves on to the next one.
        var stamp = Int64(Date().timeIntervalSince1970 * 1000)
        var path: String
        var descriptor: Int32
        repeat {
            let name = String(repeating: "0", count: max(0, 14 - String(stamp).count)) + "\(stamp)-\(getpid()).mails"
            path = directory + "/" + name
            descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            stamp += 1
        } while descriptor < 0 && errno == EEXIST
        guard descriptor >= 0 else { throw failure("cannot create", path) }
        // The new name must survive a power failure as well as the bytes written under it.
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 {
            fsync(parent)
            close(parent)
        }
        return Segment(descriptor: descriptor, path: path)
    }

    private func makeDirectory() throws(RawSpoolError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RawSpoolError(description: "cannot create the raw mail directory \(directory): \(error)")
        }
    }

    private func failure(_ what: String, _ path: String) -> RawSpoolError {
        RawSpoolError(description: "\(what) the raw mail segment \(path): \(String(cString: strerror(errno)))")
    }
}

extension RawMail {
    /// The raw bytes wherever they are kept (at most `limit`): in the row, in a spool segment, or in a file of their
    /// own; nil when the file is gone or shorter than recorded.
    public func contents(limit: Int = .max) -> [UInt8]? {
        guard let path else { return limit < bytes.count ? Array(bytes.prefix(limit)) : bytes }
        return RawSpool.read(path: path, offset: offset, size: size, limit: limit)
    }
}
