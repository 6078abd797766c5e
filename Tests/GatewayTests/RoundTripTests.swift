import Foundation
import Logging
import MailFormat
import ServiceDesk
import TestSupport
import Testing

@testable import Gateway

/// A gateway wired to its own fresh support mailbox and SQLite file on the shared test stack.
struct GatewayFixture {
    let stack: MailStack
    let supportUser: String
    let directory: URL
    let configPath: String
    let requester: String
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL

    init(password: String? = nil, imapPort: Int? = nil, mailboxYAML: String = "", extraYAML: String = "") throws {
        stack = try MailStack()
        supportUser = stack.newUser("support")
        requester = "alice-\(UUID().uuidString.prefix(8).lowercased())@customer.test"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tg-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("ticketgate.yaml").path
        let yaml = """
            instance: { name: "IT Service Desk", domain: example.test, secret: "test-secret-0123456789" }
            store: { sqlite: ./ticketgate.sqlite }
            mailboxes:
              - name: support
                address: \(supportUser)@example.test
                \(mailboxYAML)
                imap: { url: "imap://127.0.0.1:\(imapPort ?? stack.imapPort)", username: \(supportUser), password: \(password ?? stack.password), folder: INBOX }
            smtp: { url: "smtp://127.0.0.1:\(stack.smtpPort)", tls: none }
            agents:
              - { address: anna@example.test, name: Anna }
            templates: \(Self.repository.appendingPathComponent("templates").path)
            trust: { authserv_id: mx.example.test }
            \(extraYAML)
            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func context() throws -> GatewayContext {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try GatewayContext(configPath: configPath, logger: logger)
    }

    func sync() async throws -> SyncReport {
        try #require(try await context().sync())
    }

    func deliver(_ raw: String) async throws {
        try await stack.deliver(raw.replacingOccurrences(of: "\n", with: "\r\n"), to: supportUser)
    }

    func tickets() async throws -> [Ticket] {
        try await context().store.read { try $0.tickets() }
    }

    func articles(_ id: String) async throws -> [Article] {
        let ticketID = try #require(TicketID(id))
        return try await context().store.read { try $0.articles(of: ticketID) }
    }
}

@Suite("Mail round trip through Dovecot and SMTP")
struct RoundTripTests {
    @Test("fault report → incident + acknowledgement; replies thread; agent reply relayed; idle sync does nothing")
    func walkingSkeleton() async throws {
        let gw = try GatewayFixture()
        let alice = gw.requester
        let original = "orig-\(UUID().uuidString)@customer.test"
        try await gw.deliver(
            """
            From: Alice Example <\(alice)>
            To: IT Support <\(gw.supportUser)@example.test>
            Subject: Printer on floor 3 =?UTF-8?Q?sp=C3=BCckt?=
            Message-ID: <\(original)>
            Date: Tue, 24 Nov 2026 09:00:00 +0100

            The printer jams on every page.
            """)

        // Step 3: a new incident and an acknowledgement with the ticket number and threading headers.
        let first = try await gw.sync()
        #expect(first.created.map(\.description) == ["INC-000001"])
        #expect(first.sent == 1)
        let tickets = try await gw.tickets()
        #expect(tickets.count == 1)
        #expect(tickets.first?.kind == .incident)
        #expect(tickets.first?.state == .new)
        #expect(tickets.first?.subject == "Printer on floor 3 spückt")
        #expect(tickets.first?.requester.address == alice)
        let acks = gw.stack.sentMessages(to: alice)
        try #require(acks.count == 1)
        let ack = acks[0]
        #expect(MailParser.parse(Array(ack.raw.utf8)).subject == "[INC-000001] Printer on floor 3 spückt")
        #expect(ack.header("In-Reply-To") == "<\(original)>")
        #expect(ack.header("References")?.contains("<\(original)>") == true)
        #expect(ack.header("Auto-Submitted") == "auto-replied")
        #expect(ack.mailFrom == "")
        let ackID = try #require(ack.header("Message-ID")).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))

        // Step 4: a reply to the acknowledgement, and a mail that only carries the tag, land on the same ticket.
        try await gw.deliver(
            """
            From: <\(alice)>
            To: \(gw.supportUser)@example.test
            Subject: Re: something else entirely
            Message-ID: <reply1-\(UUID().uuidString)@customer.test>
            In-Reply-To: <\(ackID)>
            References: <\(original)> <\(ackID)>

            It also smells of smoke now.
            """)
        try await gw.deliver(
            """
            From: <\(alice)>
            To: \(gw.supportUser)@example.test
            Subject: AW: [INC-000001] Printer
            Message-ID: <reply2-\(UUID().uuidString)@customer.test>

            Forgot to say: it is the HP one.
            """)
        let second = try await gw.sync()
        #expect(second.created.isEmpty)
        #expect(second.appended.map(\.description) == ["INC-000001", "INC-000001"])
        #expect(try await gw.tickets().count == 1)

        // Step 5: an agent replies from a mail client; the new text (not the quote) is relayed from the support address.
        try await gw.deliver(
            """
            Authentication-Results: mx.example.test; dkim=pass header.d=example.test; spf=pass
            From: Anna <anna@example.test>
            To: \(gw.supportUser)@example.test
            Subject: Re: [INC-000001] Printer on floor 3
            Message-ID: <agent1-\(UUID().uuidString)@example.test>
            In-Reply-To: <\(ackID)>
            References: <\(original)> <\(ackID)>

            Please switch it off; a technician is on the way.

            On Tue, 24 Nov 2026 at 09:05, IT Service Desk wrote:
            > Hello Alice,
            > thank you for your message.
            """)
        let third = try await gw.sync()
        #expect(third.appended.map(\.description) == ["INC-000001"])
        #expect(third.sent == 1)
        let relayed = gw.stack.sentMessages(to: alice)
        try #require(relayed.count == 2)
        let relay = relayed[1]
        #expect(relay.mailFrom == "\(gw.supportUser)@example.test")
        #expect(relay.header("From")?.contains("\(gw.supportUser)@example.test") == true)
        #expect(relay.header("From")?.contains("Anna") == true)
        #expect(MailParser.parse(Array(relay.raw.utf8)).subject == "Re: [INC-000001] Printer on floor 3 spückt")
        #expect(relay.header("In-Reply-To")?.contains("reply2-") == true)
        #expect(relay.header("References")?.contains("agent1-") == false)
        #expect(relay.header("Auto-Submitted") == nil)
        #expect(relay.header("References")?.contains("<\(original)>") == true)
        let relayText = MailParser.parse(Array(relay.raw.utf8)).text
        #expect(relayText.contains("technician is on the way"))
        #expect(!relayText.contains("thank you for your message"))
        let articles = try await gw.articles("INC-000001")
        #expect(articles.map(\.direction) == [.inbound, .outbound, .inbound, .inbound, .inbound, .outbound])
        #expect(articles[4].author == .agent)
        let ticket = try #require(try await gw.tickets().first)
        #expect(ticket.state == .inProgress)
        #expect(ticket.assignee == "Anna")

        // Step 6: nothing new → nothing changes, nothing is sent.
        let idle = try await gw.sync()
        #expect(idle == SyncReport())
        #expect(gw.stack.sentMessages(to: alice).count == 2)
        #expect(try await gw.articles("INC-000001").count == articles.count)
    }

    @Test("a stranger quoting someone else's ticket tag gets a new ticket")
    func strangerTag() async throws {
        let gw = try GatewayFixture()
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Laptop\nMessage-ID: <a-\(UUID())@c.test>\n\nbroken\n")
        try await gw.deliver(
            "From: <mallory@evil.test>\nSubject: Re: [INC-000001] Laptop\nMessage-ID: <m-\(UUID())@e.test>\n\nclose it\n"
        )
        let report = try await gw.sync()
        #expect(report.created.map(\.description) == ["INC-000001", "INC-000002"])
        #expect(try await gw.articles("INC-000001").filter { $0.direction == .inbound }.count == 1)
    }

    @Test("the same Message-ID delivered twice makes one article, and our own mail coming back is ignored")
    func duplicatesAndLoops() async throws {
        let gw = try GatewayFixture()
        let id = "dup-\(UUID())@c.test"
        let mail = "From: <\(gw.requester)>\nSubject: VPN\nMessage-ID: <\(id)>\n\nVPN down\n"
        try await gw.deliver(mail)
        try await gw.deliver(mail)
        try await gw.deliver(
            "From: <\(gw.supportUser)@example.test>\nSubject: [INC-000001] VPN\nX-Ticketgate-Loop: example.test\nMessage-ID: <tg.INC-000001.x.y.z@example.test>\n\nack\n"
        )
        let report = try await gw.sync()
        #expect(report.created.count == 1)
        #expect(report.duplicates == 1)
        #expect(report.ignored == 1)
        #expect(report.sent == 1)
        #expect(try await gw.articles("INC-000001").filter { $0.direction == .inbound }.count == 1)
    }

    @Test("an automatic reply never creates a ticket nor triggers an acknowledgement")
    func autoReply() async throws {
        let gw = try GatewayFixture()
        try await gw.deliver(
            "From: <\(gw.requester)>\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <o-\(UUID())@c.test>\n\nI am away\n"
        )
        let report = try await gw.sync()
        #expect(report.created.isEmpty)
        #expect(report.ignored == 1)
        #expect(report.sent == 0)
        let dropped = try await gw.context().store.read { try $0.quarantined() }
        #expect(dropped.first?.reason.hasPrefix("dropped: automatic mail") == true)
        #expect(gw.stack.sentMessages(to: gw.requester).isEmpty)
    }
}

@Suite("Command line")
struct CommandLineTests {
    static let binary = GatewayFixture.repository.appendingPathComponent(".build/debug/ticketgate").path

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        // Both pipes are at EOF, so the process is exiting; poll (waitUntilExit busy-waits off the main thread).
        while process.isRunning { Thread.sleep(forTimeInterval: 0.01) }
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    @Test("sync, tickets list --json and tickets show --json expose the documented fields")
    func jsonContract() async throws {
        let gw = try GatewayFixture()
        try await gw.deliver(
            "From: Bob <\(gw.requester)>\nSubject: Mail server slow\nMessage-ID: <j-\(UUID())@c.test>\n\nslow\n")
        let sync = try run(["sync", "--config", gw.configPath])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.stdout.contains("created INC-000001"))
        let list = try run(["tickets", "list", "--config", gw.configPath, "--json"])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        let ticket = array[0]
        #expect(ticket["id"] as? String == "INC-000001")
        #expect(ticket["kind"] as? String == "incident")
        #expect(ticket["state"] as? String == "new")
        #expect(ticket["subject"] as? String == "Mail server slow")
        #expect(ticket["requester"] as? String == gw.requester)
        #expect(ticket["priority"] as? String == "P3")
        let created = try #require(ticket["created_at"] as? String)
        #expect((try? Date(created, strategy: .iso8601)) != nil)
        let show = try run(["tickets", "show", "INC-000001", "--config", gw.configPath, "--json"])
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let articles = try #require(detail["articles"] as? [[String: Any]])
        #expect(articles.map { $0["direction"] as? String } == ["in", "out"])
        for key in ["from", "to", "subject", "message_id", "text", "created_at"] {
            #expect(articles[0][key] != nil, "missing \(key)")
        }
        // the inbound text is kept in the raw mail only and read back from it
        #expect(articles[0]["text"] as? String == "slow\n")
        #expect(articles[1]["to"] as? [String] == [gw.requester])
        let human = try run(["tickets", "list", "--config", gw.configPath])
        #expect(human.stdout.contains("INC-000001"))
    }

    @Test("a wrong password exits 77 with one sentence naming the mailbox")
    func wrongPassword() throws {
        let gw = try GatewayFixture(password: "wrong")
        let result = try run(["sync", "--config", gw.configPath])
        #expect(result.status == 77)
        #expect(result.stderr.contains("Mailbox \"support\""))
        #expect(result.stderr.contains("refused the login"))
        #expect(!result.stderr.contains("wrong"))
    }

    @Test("an unreachable server exits 75 and names it")
    func unreachable() throws {
        let gw = try GatewayFixture(imapPort: 9)
        let result = try run(["sync", "--config", gw.configPath])
        #expect(result.status == 75)
        #expect(result.stderr.contains("Cannot reach the mail server imap://127.0.0.1:9"))
    }

    @Test("a start-up error is reported before the mailbox's, although the connection opens during start-up")
    func startupErrorFirst() throws {
        let gw = try GatewayFixture(imapPort: 9)
        let config = try String(contentsOfFile: gw.configPath, encoding: .utf8)
        let templates = GatewayFixture.repository.appendingPathComponent("templates").path
        try config.replacingOccurrences(of: templates, with: templates + "-missing")
            .write(toFile: gw.configPath, atomically: true, encoding: .utf8)
        let result = try run(["sync", "--config", gw.configPath])
        #expect(result.status == 78)
        #expect(result.stderr.contains("templates-missing"), "\(result.stderr)")
        #expect(!result.stderr.contains("Cannot reach"))
    }

    @Test("a misspelt key exits 78 and names the key path")
    func badKey() throws {
        let gw = try GatewayFixture(extraYAML: "smpt: { url: x }")
        let result = try run(["sync", "--config", gw.configPath])
        #expect(result.status == 78)
        #expect(result.stderr.contains("smpt is not a known setting (did you mean smtp?)"))
    }
}
