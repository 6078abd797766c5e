import Foundation
import TestSupport
import Testing

@testable import Gateway

/// A TCP proxy that forwards to Dovecot but cuts every connection after `limit` bytes from the server: a server
/// restart or network failure in the middle of a literal.
enum CuttingProxy {
    static let script = """
        import asyncio, sys
        target, limit = int(sys.argv[1]), int(sys.argv[2])
        async def handle(reader, writer):
            up_r, up_w = await asyncio.open_connection('127.0.0.1', target)
            async def up():
                try:
                    while data := await reader.read(65536):
                        up_w.write(data); await up_w.drain()
                except Exception: pass
            async def down():
                sent = 0
                try:
                    while data := await up_r.read(65536):
                        if sent + len(data) > limit:
                            writer.write(data[:limit - sent]); await writer.drain(); break
                        sent += len(data); writer.write(data); await writer.drain()
                except Exception: pass
                writer.close(); up_w.close()
            await asyncio.gather(up(), down())
        async def main():
            server = await asyncio.start_server(handle, '127.0.0.1', 0)
            print(server.sockets[0].getsockname()[1], flush=True)
            await server.serve_forever()
        asyncio.run(main())
        """

    static func start(target: Int, limit: Int) throws -> ChildServer {
        try ChildServer(portOnStandardOutput: true) { _ in ["-c", script, "\(target)", "\(limit)"] }
    }
}

@Suite("Connection failures")
struct ConnectionDropTests {
    @Test(
        "a connection dropped in the middle of a literal is a temporary error; the next run loses and doubles nothing")
    func dropMidLiteral() async throws {
        let stack = try MailStack()
        let direct = try GatewayFixture()
        for index in 0..<3 {
            let body = String(repeating: "line \(index) of a long mail body\r\n", count: 1500)
            try await direct.stack.deliver(
                "From: <\(direct.requester)>\r\nSubject: Big \(index)\r\nMessage-ID: <big\(index)-\(UUID())@c.test>\r\n\r\n\(body)",
                to: direct.supportUser)
        }
        let proxy = try CuttingProxy.start(target: stack.imapPort, limit: 60_000)
        defer { proxy.stop() }
        #expect(proxy.port > 0)
        let yaml = try String(contentsOfFile: direct.configPath, encoding: .utf8).replacingOccurrences(
            of: "imap://127.0.0.1:\(stack.imapPort)", with: "imap://127.0.0.1:\(proxy.port)")
        let proxied = direct.configPath + ".proxied.yaml"
        try yaml.write(toFile: proxied, atomically: true, encoding: .utf8)

        let broken = try CommandLineTests().run(["sync", "--config", proxied])
        #expect(broken.status == 75, "\(broken.stderr)")
        #expect(broken.stderr.contains("connection"), "\(broken.stderr)")

        // What the broken run committed before the cut stays; the next run takes exactly the rest.
        let before = try await direct.tickets().count
        #expect(before < 3)
        let report = try await direct.sync()
        #expect(report.created.count == 3 - before)
        #expect(report.duplicates == 0)
        #expect(try await direct.tickets().count == 3)
        #expect(direct.stack.sentMessages(to: direct.requester).count == 3)
        #expect(try await direct.sync() == SyncReport())
    }
}
