import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A helper server a test starts on 127.0.0.1 (a cutting proxy, a token endpoint): it reports its port in a file,
/// never inherits the test runner's output (a survivor would keep `swift test` waiting), and is ended with SIGKILL
/// (children inherit the runner's signal mask, in which SIGTERM may be blocked).
public struct ChildServer: Sendable {
    public let port: Int
    private let pid: Int32

    /// `arguments` receives the path of the port file; with `portOnStandardOutput` the server prints its port instead.
    public init(
        executable: String = "/usr/bin/python3", portOnStandardOutput: Bool = false,
        arguments: (String) -> [String]
    ) throws {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("tg-port-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: portFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments(portFile.path)
        process.standardOutput = portOnStandardOutput ? try FileHandle(forWritingTo: portFile) : FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port = 0
        for _ in 0..<200 where port == 0 {
            Thread.sleep(forTimeInterval: 0.05)
            let text = (try? String(contentsOf: portFile, encoding: .utf8)) ?? ""
            port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        self.port = port
        self.pid = process.processIdentifier
    }

    public func stop() {
        kill(pid, SIGKILL)
    }
}
