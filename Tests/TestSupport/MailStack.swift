import Foundation
import MailTransport

/// The throwaway Dovecot + SMTP sink that `scripts/test` starts (see `scripts/mailstack`), found through the
/// `TG_TEST_*` variables. Integration tests fail with a clear message when it is missing: they never skip silently.
public struct MailStack: Sendable {
    public struct Missing: Error, CustomStringConvertible {
        public init() {}

        public var description: String {
            "The test mail stack is not running: run the tests with ./scripts/test (it starts Dovecot and an SMTP sink)."
        }
    }

    public let host = "127.0.0.1"
    public let imapPort: Int
    public let imapsPort: Int
    public let smtpPort: Int
    public let password: String
    public let caFile: String
    public let sinkDirectory: String

    public init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let imap = environment["TG_TEST_IMAP_PORT"].flatMap(Int.init),
            let imaps = environment["TG_TEST_IMAPS_PORT"].flatMap(Int.init),
            let smtp = environment["TG_TEST_SMTP_PORT"].flatMap(Int.init),
            let sink = environment["TG_TEST_SINK_DIR"]
        else { throw Missing() }
        imapPort = imap
        imapsPort = imaps
        smtpPort = smtp
        password = environment["TG_TEST_PASSWORD"] ?? "secret"
        caFile = environment["TG_TEST_CA_FILE"] ?? ""
        sinkDirectory = sink
    }

    /// A fresh mailbox user: every test works in its own mailbox, so tests can run in parallel.
    public func newUser(_ prefix: String = "user") -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    public func endpoint(user: String, password: String? = nil) -> IMAPEndpoint {
        IMAPEndpoint(
            url: URL(string: "imap://\(host):\(imapPort)")!, username: user, password: password ?? self.password)
    }

    /// Puts a raw message into a user's folder with IMAP APPEND, as an MTA's delivery would.
    public func deliver(_ raw: String, to user: String, folder: String = "INBOX") async throws {
        try await deliver(Array(raw.utf8), to: user, folder: folder)
    }

    public func deliver(_ raw: [UInt8], to user: String, folder: String = "INBOX") async throws {
        let session = IMAPSession(endpoint: endpoint(user: user))
        try await session.connect()
        if folder != "INBOX" { _ = try? await session.command("CREATE \"\(folder)\"") }
        try await session.append(folder, message: raw)
        await session.logout()
    }

    /// One message the SMTP sink accepted: envelope plus raw bytes.
    public struct SinkMessage: Sendable {
        public var mailFrom: String
        public var recipients: [String]
        public var raw: String
        public var file: String

        /// The first value of a header (unfolded), for assertions.
        public func header(_ name: String) -> String? {
            let head = raw.components(separatedBy: "\r\n\r\n").first ?? raw
            var unfolded: [String] = []
            for line in head.components(separatedBy: "\r\n") {
                if line.first == " " || line.first == "\t", !unfolded.isEmpty {
                    unfolded[unfolded.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
                } else {
                    unfolded.append(line)
                }
            }
            let prefix = name.lowercased() + ":"
            return unfolded.first { $0.lowercased().hasPrefix(prefix) }
                .map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Messages the sink accepted for an address, oldest first.
    public func sentMessages(to address: String) -> [SinkMessage] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: sinkDirectory)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file -> SinkMessage? in
            let base = "\(sinkDirectory)/\(file.dropLast(5))"
            guard let meta = FileManager.default.contents(atPath: "\(base).json"),
                let object = try? JSONSerialization.jsonObject(with: meta) as? [String: Any],
                let recipients = object["rcpt_tos"] as? [String],
                recipients.contains(where: { $0.lowercased() == address.lowercased() }),
                let raw = FileManager.default.contents(atPath: "\(base).eml")
            else { return nil }
            return SinkMessage(
                mailFrom: object["mail_from"] as? String ?? "", recipients: recipients,
                raw: String(decoding: raw, as: UTF8.self), file: base)
        }
    }
}
