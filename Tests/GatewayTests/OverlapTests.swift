import Foundation
import ServiceDesk
import TestSupport
import Testing

@testable import Gateway

@Suite("Overlapping ticketgate sync runs (cron)")
struct OverlapTests {
    enum Store: String, CustomTestStringConvertible, CaseIterable {
        /// Nothing exists yet: both processes create and migrate the SQLite file at the same moment.
        case fresh
        /// The store exists (one earlier sync of the empty mailbox).
        case existing

        var testDescription: String { rawValue }
    }

    /// Two `ticketgate sync` processes started at the same moment on one configuration and a mailbox of 300 mails:
    /// 300 tickets and exactly 300 acknowledgements; one process does the work, the other exits 0 at once with one
    /// log line.
    @Test("two syncs started together: no duplicates, the second exits 0 at once", arguments: Store.allCases)
    func twoSyncsAtOnce(store: Store) async throws {
        let mailCount = 300
        let binary = try SyncHarness.binary()
        let gw = try GatewayFixture()
        let arguments = ["sync", "--config", gw.configPath]
        if store == .existing {
            let first = try SyncHarness.Run(
                binary: binary, arguments: arguments, logPath: gw.directory.appendingPathComponent("init.log").path)
            await first.wait()
            try #require(first.status == 0, "initial sync: \(first.output)")
        }
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let mails = SyncHarness.makeMails(count: mailCount, tag: tag, support: gw.supportUser)
        try SyncHarness.deliverToMaildir(mails, user: gw.supportUser)

        let a = try SyncHarness.Run(
            binary: binary, arguments: arguments, logPath: gw.directory.appendingPathComponent("a.log").path)
        let b = try SyncHarness.Run(
            binary: binary, arguments: arguments, logPath: gw.directory.appendingPathComponent("b.log").path)
        let elapsedA = await a.wait()
        let elapsedB = await b.wait()
        let outputs = [a.output, b.output]
        print(
            "OverlapTests(\(store)): A \(CrashTests.ms(elapsedA)) ms exit \(a.status): \(a.output.prefix(200).debugDescription)"
        )
        print(
            "OverlapTests(\(store)): B \(CrashTests.ms(elapsedB)) ms exit \(b.status): \(b.output.prefix(200).debugDescription)"
        )
        #expect(a.status == 0 && !a.wasKilled, "A: \(a.output.suffix(600))")
        #expect(b.status == 0 && !b.wasKilled, "B: \(b.output.suffix(600))")

        // Exactly one did the work and printed the report; the other printed one log line and nothing else.
        let workers = outputs.filter { $0.contains("sync: \(mailCount) fetched") }
        #expect(workers.count == 1, "reports: \(outputs.map { $0.prefix(300) })")
        let idle = zip([elapsedA, elapsedB], outputs).filter { !$0.1.contains("sync: ") }
        #expect(idle.count == 1, "expected one run to exit at once: \(outputs.map { $0.prefix(300) })")
        if let (elapsed, output) = idle.first {
            let lines = output.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.count == 1, "the overlapping run should log one line, got: \(lines)")
            let worker = elapsed == elapsedA ? elapsedB : elapsedA
            #expect(elapsed < worker, "the overlapping run took \(elapsed), the working one \(worker)")
            #expect(elapsed < .seconds(2), "the overlapping run took \(elapsed)")
        }

        let (resent, who) = try await SyncHarness.verifyExactlyOnce(mails, gateway: gw)
        #expect(resent == 0, "acknowledgements sent twice: \(who.prefix(10))")
        let acks = SyncHarness.sentMail(to: Set(mails.map(\.requester)), sinkDirectory: gw.stack.sinkDirectory)
        #expect(acks.count == mailCount, "\(acks.count) acknowledgements in the sink")
    }

    /// Many runs started at short intervals while the first is still working (cron every minute on a slow server):
    /// whatever overlaps, the result is the same as one run.
    @Test("five syncs started 50 ms apart: 300 tickets, 300 acknowledgements")
    func staggeredRuns() async throws {
        let mailCount = 300
        let binary = try SyncHarness.binary()
        let gw = try GatewayFixture()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let mails = SyncHarness.makeMails(count: mailCount, tag: tag, support: gw.supportUser)
        try SyncHarness.deliverToMaildir(mails, user: gw.supportUser)
        var runs: [SyncHarness.Run] = []
        for index in 0..<5 {
            runs.append(
                try SyncHarness.Run(
                    binary: binary, arguments: ["sync", "--config", gw.configPath],
                    logPath: gw.directory.appendingPathComponent("run-\(index).log").path))
            try await Task.sleep(for: .milliseconds(50))
        }
        for run in runs {
            await run.wait()
            #expect(run.status == 0 && !run.wasKilled, "\(run.output.suffix(600))")
        }
        let (resent, who) = try await SyncHarness.verifyExactlyOnce(mails, gateway: gw)
        #expect(resent == 0, "acknowledgements sent twice: \(who.prefix(10))")
        let acks = SyncHarness.sentMail(to: Set(mails.map(\.requester)), sinkDirectory: gw.stack.sinkDirectory)
        #expect(acks.count == mailCount, "\(acks.count) acknowledgements in the sink")
    }
}
