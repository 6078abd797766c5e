import Foundation
import TestSupport
import Testing

@testable import Gateway

@Suite("Daemon mode")
struct DaemonTests {
    /// Polls until `condition` holds or `seconds` pass.
    func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    @Test("ticketgate run picks up new mail through IDLE and stops cleanly on SIGTERM without losing or doubling")
    func idleAndShutdown() async throws {
        let gw = try GatewayFixture(mailboxYAML: "poll_seconds: 300")
        try await gw.deliver("From: <\(gw.requester)>\nSubject: First\nMessage-ID: <d1-\(UUID())@c.test>\n\nx\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
        process.arguments = ["run", "--config", gw.configPath]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.interrupt() } }

        #expect(eventually(15) { gw.stack.sentMessages(to: gw.requester).count == 1 })
        // The worker is now waiting in IDLE with a 300 s tick: only IDLE can make the next mail show up quickly.
        try await Task.sleep(for: .milliseconds(500))
        let started = Date()
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Second\nMessage-ID: <d2-\(UUID())@c.test>\n\nx\n")
        #expect(eventually(15) { gw.stack.sentMessages(to: gw.requester).count == 2 })
        #expect(Date().timeIntervalSince(started) < 10)

        process.terminate()  // SIGTERM
        #expect(eventually(15) { !process.isRunning })
        #expect(process.terminationStatus == 0)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("daemon stopped"), "\(log)")

        // Mail that arrives while it is down is picked up by the next run, once.
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Third\nMessage-ID: <d3-\(UUID())@c.test>\n\nx\n")
        let report = try await gw.sync()
        #expect(report.created.count == 1)
        #expect(try await gw.tickets().count == 3)
        #expect(gw.stack.sentMessages(to: gw.requester).count == 3)
    }
}
