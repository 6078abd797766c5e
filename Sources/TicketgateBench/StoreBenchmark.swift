import Foundation
import Gateway
import Logging

/// `store`: what the sync costs per mail once the bytes are here, stage by stage and without the network: the
/// preparer (parse, read, spool) in CPU time of its thread, and the writer (threading, workflow, acknowledgement,
/// one transaction per batch) in wall time and in CPU time of the whole process (the WAL checkpointer included).
/// Both run one after the other, so each figure is the stage's own, not a share of a busy machine. The mails come
/// from a Maildir (`scripts/bench` uses the mailbox it generated for `sync`), each run into a fresh store.
///
/// Options: `--config PATH` (required; its store is removed before each run), `--maildir DIR` (required),
/// `--runs N` (default 5), `--batch N` (mails per transaction, default 200). Prints one line per run, then
/// `store: prepare <µs>/mail, write <µs>/mail, write cpu <µs>/mail`.
enum StoreBenchmark {
    struct Options {
        var config = ""
        var maildir = ""
        var runs = 5
        var batch = 200
    }

    static func run(_ arguments: [String]) async throws {
        let options = try parse(arguments)
        let raws = try readMaildir(options.maildir)
        guard !raws.isEmpty else { throw BenchError("no mails in \(options.maildir)/cur or /new") }
        var prepares: [Double] = []
        var writes: [Double] = []
        var writeCPUs: [Double] = []
        for round in 1...options.runs {
            let context = try freshContext(options.config)
            let engine = SyncEngine(
                configuration: context.configuration, store: context.store, templates: context.templates,
                logger: context.logger)
            var prepared: [[PreparedMail]] = []
            let prepareStart = threadCPU()
            for start in stride(from: 0, to: raws.count, by: options.batch) {
                let chunk = Array(raws[start..<min(start + options.batch, raws.count)])
                prepared.append(engine.prepare(chunk, mailbox: "support", uidValidity: 1, firstUID: UInt32(start + 1)))
            }
            let prepare = threadCPU() - prepareStart
            let wallStart = ContinuousClock.now
            let cpuStart = processCPU()
            var created = 0
            for batch in prepared {
                let outcomes = try await engine.store(batch, mailbox: "support", uidValidity: 1)
                created += outcomes.filter { if case .created = $0 { true } else { false } }.count
            }
            let write = seconds(ContinuousClock.now - wallStart)
            let writeCPU = processCPU() - cpuStart
            guard created == raws.count else { throw BenchError("\(created) of \(raws.count) mails made tickets") }
            let perMail = { (value: Double) in value * 1e6 / Double(raws.count) }
            prepares.append(perMail(prepare))
            writes.append(perMail(write))
            writeCPUs.append(perMail(writeCPU))
            print(
                "store: run \(round): \(raws.count) mails, prepare \(format(prepares.last!)) µs/mail (thread cpu),"
                    + " write \(format(writes.last!)) µs/mail (wall), \(format(writeCPUs.last!)) µs/mail (process cpu)")
        }
        print(
            "store: prepare \(format(median(prepares))) µs/mail, write \(format(median(writes))) µs/mail,"
                + " write cpu \(format(median(writeCPUs))) µs/mail")
    }

    /// The configuration's context with its store (and spool) removed first, so every run starts empty.
    static func freshContext(_ configPath: String) throws -> GatewayContext {
        let probe = try GatewayContext(configPath: configPath, logger: Logger(label: "bench"))
        let path = probe.configuration.store.sqlite
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("raw"))
        return try GatewayContext(configPath: configPath, logger: Logger(label: "bench"))
    }

    /// Every file of `cur/` and `new/`, by name (the generator's names sort in sending order).
    static func readMaildir(_ directory: String) throws -> [[UInt8]] {
        var paths: [String] = []
        for sub in ["cur", "new"] {
            let folder = directory + "/" + sub
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            paths += names.map { folder + "/" + $0 }
        }
        return try paths.sorted().map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
    }

    static func threadCPU() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func processCPU() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--config": options.config = value
            case "--maildir": options.maildir = value
            case "--runs": options.runs = max(1, Int(value) ?? 5)
            case "--batch": options.batch = max(1, Int(value) ?? 200)
            default: throw BenchError("unknown option \(flag)")
            }
        }
        guard !options.config.isEmpty, !options.maildir.isEmpty else {
            throw BenchError("usage: store --config PATH --maildir DIR [--runs N] [--batch N]")
        }
        return options
    }
}
