import Foundation
import MailTransport

/// `sync`: the raw bulk-fetch limit for `scripts/bench sync`: how long fetching every message of a mailbox takes with
/// the gateway's own transport (`IMAPSession`: login, SELECT pipelined with the size listing, then
/// `UID FETCH … BODY.PEEK[]` in size-bounded batches, each next one sent before the current one is read, as the sync
/// engine does), with no parsing and no store. The
/// orchestration (mail stack, latency proxy, mbsync, ticketgate) is in `scripts/bench`.
///
/// Options: `--port N` (required), `--host`, `--user U`, `--password P`, `--folder F`, `--runs N` (default 3),
/// `--batch-bytes N` (default 8 MiB). Prints one line per run, then `sync-raw-fetch: median <s> s, <n> messages,
/// <bytes> bytes`.
enum SyncBenchmark {
    struct Options {
        var host = "127.0.0.1"
        var port = 0
        var user = ""
        var password = "secret"
        var folder = "INBOX"
        var runs = 3
        var batchBytes = 8 << 20
    }

    static func run(_ arguments: [String]) async throws {
        let options = try parse(arguments)
        let endpoint = IMAPEndpoint(
            url: URL(string: "imap://\(options.host):\(options.port)")!, username: options.user,
            password: options.password, security: IMAPEndpoint.Security.none)
        var times: [Double] = []
        var count = 0
        var bytes = 0
        for round in 1...options.runs {
            let start = ContinuousClock.now
            let session = IMAPSession(endpoint: endpoint)
            try await session.connect()
            let sizes = try await session.select(options.folder, sizesFrom: 1).sizes
            count = 0
            bytes = 0
            let sets = batches(sizes, limit: options.batchBytes)
            for (index, batch) in sets.enumerated() {
                let next = index + 1 < sets.count ? sets[index + 1] : nil
                let messages = try await session.fetchMessages(batch, sendingAhead: next)
                count += messages.count
                bytes += messages.reduce(0) { $0 + $1.raw.count }
            }
            await session.logout()
            let seconds = seconds(ContinuousClock.now - start)
            times.append(seconds)
            print("sync-raw-fetch: run \(round): \(format(seconds)) s, \(count) messages, \(bytes) bytes")
        }
        let sorted = times.sorted()
        print("sync-raw-fetch: median \(format(sorted[sorted.count / 2])) s, \(count) messages, \(bytes) bytes")
    }

    /// UID sets of consecutive runs whose total size stays under `limit` (a larger single mail is its own batch).
    static func batches(_ sizes: [(uid: UInt32, size: Int)], limit: Int) -> [String] {
        var result: [String] = []
        var first: UInt32?
        var last: UInt32 = 0
        var parts: [String] = []
        var total = 0
        func closeRun() {
            if let start = first { parts.append(start == last ? "\(start)" : "\(start):\(last)") }
            first = nil
        }
        for (uid, size) in sizes {
            if total > 0 && total + size > limit {
                closeRun()
                result.append(parts.joined(separator: ","))
                parts = []
                total = 0
            }
            if first != nil, uid == last + 1 {
                last = uid
            } else {
                closeRun()
                first = uid
                last = uid
            }
            total += size
        }
        closeRun()
        if !parts.isEmpty { result.append(parts.joined(separator: ",")) }
        return result
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else {
                throw UsageError(description: "\(arguments[index - 1]) needs a value")
            }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--host": options.host = try value()
            case "--port": options.port = Int(try value()) ?? 0
            case "--user": options.user = try value()
            case "--password": options.password = try value()
            case "--folder": options.folder = try value()
            case "--runs": options.runs = max(1, Int(try value()) ?? 3)
            case "--batch-bytes": options.batchBytes = max(1, Int(try value()) ?? options.batchBytes)
            default: throw UsageError(description: "unknown option \(arguments[index])")
            }
            index += 1
        }
        guard options.port > 0, !options.user.isEmpty else {
            throw UsageError(description: "usage: TicketgateBench sync --port N --user U [--password P] [--runs N]")
        }
        return options
    }
}
