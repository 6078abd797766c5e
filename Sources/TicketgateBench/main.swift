import Foundation

/// Benchmarks run by `scripts/bench <name>`; each prints its figures and, last, one summary line.
let benchmarks: [String: @Sendable ([String]) async throws -> Void] = [
    "smtp": SMTPBenchmark.run,
    "parse": ParseBenchmark.run,
    "store": StoreBenchmark.run,
    "sync": SyncBenchmark.run,
]

/// A benchmark that cannot run, or whose result is wrong; the message says why.
struct BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let benchmark = benchmarks[name] else {
    FileHandle.standardError.write(
        Data("usage: ticketgate-bench \(benchmarks.keys.sorted().joined(separator: "|")) [options]\n".utf8))
    exit(64)
}
try await benchmark(Array(arguments.dropFirst()))
