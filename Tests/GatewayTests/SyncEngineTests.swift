import Foundation
import GRDB
import Logging
import MailTransport
import ServiceDesk
import Synchronization
import TestSupport
import Testing

@testable import Gateway

@Suite("Sync engine against Dovecot")
struct SyncEngineTests {
    func session(_ gw: GatewayFixture, user: String? = nil) async throws -> IMAPSession {
        let session = IMAPSession(endpoint: gw.stack.endpoint(user: user ?? gw.supportUser))
        try await session.connect()
        return session
    }

    /// The fixture's store (created now), opened beside the gateway with `sql` run in it: real SQLite failures.
    func storeDatabase(_ gw: GatewayFixture, adding sql: String) async throws -> DatabaseQueue {
        _ = try gw.context()
        let database = try DatabaseQueue(path: gw.directory.appendingPathComponent("ticketgate.sqlite").path)
        try await database.write { db in try db.execute(sql: sql) }
        return database
    }

    @Test("a mail above the limit is streamed to disk, quarantined, its sender told, and the rest goes on")
    func oversize() async throws {
        let gw = try GatewayFixture(mailboxYAML: "max_message_bytes: 65536")
        let big =
            "From: Bob <\(gw.requester)>\r\nSubject: Scan\r\nMessage-ID: <big-\(UUID())@c.test>\r\n\r\n"
            + String(repeating: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", count: 5000)
        try await gw.stack.deliver(big, to: gw.supportUser)
        try await gw.deliver("From: <other-\(gw.requester)>\nSubject: Small\nMessage-ID: <s-\(UUID())@c.test>\n\nhi\n")
        let report = try await gw.sync()
        #expect(report.quarantined == 1)
        #expect(report.created.count == 1)
        let entries = try await gw.context().store.read { try $0.quarantined() }
        let entry = try #require(entries.first)
        #expect(entry.reason.hasPrefix("too large: \(big.utf8.count) bytes"))
        let stored = try await gw.context().store.read { try $0.quarantinedMail(id: entry.id) }
        let path = try #require(stored?.raw.path)
        #expect(FileManager.default.contents(atPath: path) == Data(big.utf8))
        let notice = try #require(gw.stack.sentMessages(to: gw.requester).first)
        #expect(notice.mailFrom == "")
        #expect(notice.header("Auto-Submitted") == "auto-replied")

        // An operator retries it (e.g. after raising the limit): it goes on a ticket; the quarantine entry is closed.
        let context = try gw.context()
        let outcome = try await context.retryQuarantined(id: entry.id)
        guard case .created = outcome else {
            Issue.record("retry gave \(outcome)")
            return
        }
        #expect(try await context.store.read { try $0.quarantined() }.isEmpty)
        let after = try await gw.sync()
        #expect(after.fetched == 0)
        #expect(after.sent == 1)
    }

    @Test("a mail the store refuses is quarantined with the reason, the mails around it go on, nothing is redone")
    func oneBadMail() async throws {
        let gw = try GatewayFixture()
        // A real SQLite failure for exactly one mail: its inbound article is refused.
        let database = try await storeDatabase(
            gw,
            adding: """
                CREATE TRIGGER poison BEFORE INSERT ON article
                WHEN NEW.message_id LIKE 'poison-%' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END
                """)
        try database.close()
        let tag = UUID().uuidString.prefix(8)
        for (index, id) in ["good-1-\(tag)@c.test", "poison-\(tag)@c.test", "good-2-\(tag)@c.test"].enumerated() {
            try await gw.deliver(
                "From: <r\(index)-\(gw.requester)>\nSubject: Problem \(index)\nMessage-ID: <\(id)>\n\nIt broke.\n")
        }
        let report = try await gw.sync()
        #expect(report.fetched == 3)
        #expect(report.created.count == 2)
        #expect(report.quarantined == 1)
        let context = try gw.context()
        let entries = try await context.store.read { try $0.quarantined() }
        let entry = try #require(entries.first)
        #expect(entries.count == 1)
        #expect(entry.messageID == "poison-\(tag)@c.test")
        #expect(entry.reason.hasPrefix("processing failed:") && entry.reason.contains("refused for the test"))
        let stored = try await context.store.read { try $0.quarantinedMail(id: entry.id) }
        let bytes = try #require(stored).raw.contents()
        let kept = String(decoding: try #require(bytes), as: UTF8.self)
        #expect(kept.contains("It broke."))
        let requesters = try await gw.tickets().map(\.requester.address).sorted()
        #expect(requesters == ["r0-\(gw.requester)", "r2-\(gw.requester)"])
        #expect(report.sent == 2)

        let again = try await gw.sync()
        #expect(again.fetched == 0)
        #expect(again.sent == 0)
    }

    @Test(
        "synced mails' bytes are written once, to the spool beside the store; with the spool unwritable, in the store")
    func rawSpool() async throws {
        let gw = try GatewayFixture()
        let tag = UUID().uuidString.prefix(8)
        func mail(_ index: Int) -> String {
            "From: <r\(index)-\(gw.requester)>\nSubject: Disk \(index)\nMessage-ID: <spool-\(index)-\(tag)@c.test>\n\n"
                + "Disk \(index) is full.\n"
        }
        try await gw.deliver(mail(1))
        try await gw.deliver(mail(2))
        #expect(try await gw.sync().created.count == 2)
        let spool = gw.directory.appendingPathComponent("raw").path
        let database = try DatabaseQueue(path: gw.directory.appendingPathComponent("ticketgate.sqlite").path)
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT length(bytes) AS kept, path, file_offset, size FROM raw_mail ORDER BY id")
        }
        #expect(rows.map { $0["kept"] as Int } == [0, 0])
        #expect(rows.allSatisfy { ($0["path"] as String).hasPrefix(spool + "/") })
        #expect(rows.map { $0["file_offset"] as Int64 } == [0, rows[0]["size"]])
        // What users read comes from there: the article text (kept only in the raw mail) and the raw bytes.
        let context = try gw.context()
        let ticket = try #require(try await gw.tickets().first { $0.subject == "Disk 1" })
        let articles = try await context.store.read { try $0.articles(of: ticket.id) }
        #expect(articles.first?.text.contains("Disk 1 is full.") == true)

        // A spool that cannot be written (here a file where its directory should be) costs nothing but speed.
        try FileManager.default.removeItem(atPath: spool)
        #expect(FileManager.default.createFile(atPath: spool, contents: Data()))
        try await gw.deliver(mail(3))
        #expect(try await gw.sync().created.count == 1)
        let kept = try await database.read { db in
            try Data.fetchAll(db, sql: "SELECT bytes FROM raw_mail WHERE path IS NULL")
        }
        #expect(kept.count == 1 && String(decoding: kept[0], as: UTF8.self).contains("Disk 3 is full."))
        try database.close()
    }

    @Test(
        "a store failure while later batches are still on the wire stops the sync cleanly; the next run does it all",
        .timeLimit(.minutes(1)))
    func storeFailureMidPipeline() async throws {
        let gw = try GatewayFixture()
        // Every checkpoint write fails while the table `halt` has a row: the careful one-mail-at-a-time pass fails
        // too, so the error reaches the sync while the fetcher and preparer are still busy with later batches.
        let database = try await storeDatabase(
            gw,
            adding: """
                CREATE TABLE halt (x);
                INSERT INTO halt VALUES (1);
                CREATE TRIGGER halt_checkpoint BEFORE INSERT ON mailbox_checkpoint
                WHEN EXISTS (SELECT 1 FROM halt) BEGIN SELECT RAISE(ABORT, 'disk on fire'); END
                """)
        for index in 0..<30 {
            try await gw.deliver(
                "From: <r\(index)-\(gw.requester)>\nSubject: Batch \(index)\nMessage-ID: <h\(index)-\(UUID())@c.test>\n\nx\n"
            )
        }
        // Through a 30 ms-RTT link, so later fetches are still under way when the first transaction fails.
        let proxy = try ChildServer { portFile in
            [
                GatewayFixture.repository.appendingPathComponent("scripts/latency_proxy.py").path, "--port", "0",
                "--target", "\(gw.stack.imapPort)", "--delay-ms", "15", "--ready-file", portFile,
            ]
        }
        defer { proxy.stop() }
        let slow = gw.configPath + ".slow.yaml"
        try String(contentsOfFile: gw.configPath, encoding: .utf8).replacingOccurrences(
            of: "imap://127.0.0.1:\(gw.stack.imapPort)", with: "imap://127.0.0.1:\(proxy.port)"
        ).write(toFile: slow, atomically: true, encoding: .utf8)
        func engine(_ configPath: String) throws -> SyncEngine {
            var logger = Logger(label: "t")
            logger.logLevel = .critical
            let context = try GatewayContext(configPath: configPath, logger: logger)
            var engine = SyncEngine(
                configuration: context.configuration, store: context.store, templates: context.templates,
                logger: logger)
            engine.mailsPerTransaction = 3
            engine.firstBatchBytes = 1
            engine.openingCount = 0  // every batch goes through the fetch pipeline, later ones still on the wire
            return engine
        }
        await #expect(throws: GatewayError.self) { _ = try await engine(slow).run() }
        #expect(try await gw.tickets().isEmpty)
        try await database.write { db in try db.execute(sql: "DELETE FROM halt") }
        try database.close()
        let report = try await engine(slow).run()
        #expect(report.created.count == 30)
        #expect(report.duplicates == 0)
        #expect(try await gw.tickets().count == 30)
    }

    /// A store that counts its write transactions and makes each one slow, so fetched batches pile up behind it.
    final class SlowWrites: TicketStore, @unchecked Sendable {
        let inner: any TicketStore
        let writes = Mutex(0)

        init(_ inner: any TicketStore) { self.inner = inner }

        func read<T: Sendable>(_ body: @Sendable (any TicketReading) throws -> T) async throws -> T {
            try await inner.read(body)
        }

        func write<T: Sendable>(_ body: @Sendable (any TicketWriting) throws -> T) async throws -> T {
            writes.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(300))
            return try await inner.write(body)
        }
    }

    @Test("a writer behind the preparer stores the batches waiting for it together, at most mailsPerCommit at once")
    func batchesWaitingGoInOneTransaction() async throws {
        let gw = try GatewayFixture()
        for index in 0..<30 {
            try await gw.deliver(
                "From: <r\(index)-\(gw.requester)>\nSubject: G\(index)\nMessage-ID: <g\(index)-\(UUID())@c.test>\n\nx\n"
            )
        }
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let context = try gw.context()
        let store = SlowWrites(context.store)
        var engine = SyncEngine(
            configuration: context.configuration, store: store, templates: context.templates, logger: logger)
        // Batches of at most three mails, the first ones of one (their byte budget doubles from 1): stored one per
        // transaction, that is 16.
        engine.mailsPerTransaction = 3
        engine.mailsPerCommit = 6
        engine.firstBatchBytes = 1
        engine.openingCount = 0
        var report = SyncReport()
        try await engine.sync(context.configuration.mailboxes[0], report: &report)
        #expect(report.created.count == 30)
        // While a write takes 300 ms, the two batches the preparer may queue are ready: every transaction after
        // the first takes at least two batches (2 + 2 mails, 3 + 3 at most), so 16 batches need at most 9, and the
        // cap of six mails needs at least 5.
        let writes = store.writes.withLock { $0 }
        #expect(writes >= 5 && writes <= 9, "\(writes) transactions")
        let tickets = try await gw.tickets().sorted { $0.id.number < $1.id.number }
        #expect(tickets.map(\.subject) == (0..<30).map { "G\($0)" })
        #expect(try await context.store.read { try $0.checkpoint(mailbox: "support") }?.lastUID == 30)
    }

    @Test("mails fetched with the selection are stored first, and only while they are the first new ones in order")
    func openingFetch() async throws {
        let gw = try GatewayFixture()
        // UID 3 is longer than the opening cut: it and everything after it go through the fetch pipeline.
        let bodies = [40, 40, 3_000, 40, 40, 40].enumerated().map { index, length in
            "From: <\(gw.requester)>\r\nSubject: O\(index + 1)\r\nMessage-ID: <o\(index)-\(UUID())@c.test>\r\n\r\n"
                + String(repeating: "x", count: length) + "\r\n"
        }
        for body in bodies { try await gw.stack.deliver(body, to: gw.supportUser) }
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let context = try gw.context()
        var engine = SyncEngine(
            configuration: context.configuration, store: context.store, templates: context.templates, logger: logger)
        engine.openingBytes = 1_000
        engine.mailsPerTransaction = 2
        let report = try await engine.run()
        #expect(report.created.count == 6)
        // Tickets are numbered in the order the mails were stored: UID order, so the checkpoint never passed a mail.
        let tickets = try await gw.tickets().sorted { $0.id.number < $1.id.number }
        #expect(tickets.map(\.subject) == (1...6).map { "O\($0)" })
        #expect(try await context.store.read { try $0.checkpoint(mailbox: "support") }?.lastUID == 6)
        // A second run finds nothing new; the opening fetch of UIDs past the last one is empty.
        #expect(try await engine.run().fetched == 0)
    }

    @Test(
        "after processing, mails can be flagged or moved; neither makes anything import twice",
        arguments: ["flag", "move"])
    func afterProcessing(action: String) async throws {
        let gw = try GatewayFixture(
            mailboxYAML: "after_processing: \(action)\n    processed_flag: $Done\n    processed_folder: Processed")
        let setup = try await session(gw)
        try await setup.command("CREATE Processed")
        await setup.logout()
        for index in 0..<3 {
            try await gw.deliver(
                "From: <\(gw.requester)>\nSubject: M\(index)\nMessage-ID: <a\(index)-\(UUID())@c.test>\n\nx\n")
        }
        #expect(try await gw.sync().created.count == 3)
        let check = try await session(gw)
        if action == "flag" {
            _ = try await check.select("INBOX")
            #expect(try await check.uidSearch("KEYWORD $Done") == [1, 2, 3])
        } else {
            #expect(try await check.select("INBOX").exists == 0)
            #expect(try await check.select("Processed").exists == 3)
        }
        await check.logout()
        try await gw.deliver("From: <\(gw.requester)>\nSubject: M3\nMessage-ID: <a3-\(UUID())@c.test>\n\nx\n")
        let second = try await gw.sync()
        #expect(second.created.count == 1)
        #expect(second.duplicates == 0)
        #expect(try await gw.tickets().count == 4)
    }

    @Test("a UIDVALIDITY change resyncs without a single duplicate, also for mails without Message-ID")
    func uidValidityChange() async throws {
        let gw = try GatewayFixture(mailboxYAML: "")
        let yaml = try String(contentsOfFile: gw.configPath, encoding: .utf8).replacingOccurrences(
            of: "folder: INBOX", with: "folder: Support")
        try yaml.write(toFile: gw.configPath, atomically: true, encoding: .utf8)
        let mails = [
            "From: <\(gw.requester)>\r\nSubject: one\r\nMessage-ID: <u1-\(UUID())@c.test>\r\n\r\nx\r\n",
            "From: <\(gw.requester)>\r\nSubject: no id\r\n\r\nno message id here\r\n",
        ]
        for mail in mails { try await gw.stack.deliver(mail, to: gw.supportUser, folder: "Support") }
        #expect(try await gw.sync().created.count == 2)
        let admin = try await session(gw)
        let before = try await admin.select("Support").uidValidity
        _ = try await admin.select("INBOX")
        try await admin.command("DELETE Support")
        try await admin.command("CREATE Support")
        for mail in mails { try await admin.append("Support", message: Array(mail.utf8)) }
        try await admin.append(
            "Support",
            message: Array(
                "From: <\(gw.requester)>\r\nSubject: new\r\nMessage-ID: <u3-\(UUID())@c.test>\r\n\r\ny\r\n".utf8))
        let after = try await admin.select("Support").uidValidity
        await admin.logout()
        #expect(before != after)
        let report = try await gw.sync()
        #expect(report.duplicates == 2)
        #expect(report.created.count == 1)
        #expect(try await gw.tickets().count == 3)
    }

    @Test("several mailboxes keep their own checkpoints")
    func severalMailboxes() async throws {
        let gw = try GatewayFixture()
        let second = gw.stack.newUser("requests")
        let yaml = try String(contentsOfFile: gw.configPath, encoding: .utf8).replacingOccurrences(
            of: "smtp: {",
            with: """
                  - name: requests
                    address: \(second)@example.test
                    kind: request
                    imap: { url: "imap://127.0.0.1:\(gw.stack.imapPort)", username: \(second), password: \(gw.stack.password) }
                smtp: {
                """)
        try yaml.write(toFile: gw.configPath, atomically: true, encoding: .utf8)
        try await gw.deliver("From: <\(gw.requester)>\nSubject: Broken\nMessage-ID: <m1-\(UUID())@c.test>\n\nx\n")
        try await gw.stack.deliver(
            "From: <\(gw.requester)>\r\nSubject: New laptop\r\nMessage-ID: <m2-\(UUID())@c.test>\r\n\r\nx\r\n",
            to: second)
        let report = try await gw.sync()
        #expect(report.created.map(\.description).sorted() == ["INC-000001", "REQ-000001"])
        let checkpoints = try await gw.context().store.read { tx in
            (try tx.checkpoint(mailbox: "support")?.lastUID, try tx.checkpoint(mailbox: "requests")?.lastUID)
        }
        #expect(checkpoints.0 == 1)
        #expect(checkpoints.1 == 1)
        #expect(try await gw.sync() == SyncReport())
    }

    @Test("XOAUTH2 with a bearer token logs in")
    func xoauth2() async throws {
        let gw = try GatewayFixture()
        let yaml = try String(contentsOfFile: gw.configPath, encoding: .utf8).replacingOccurrences(
            of: "password: \(gw.stack.password), folder: INBOX",
            with: "oauth_token: \(gw.stack.password), folder: INBOX")
        try yaml.write(toFile: gw.configPath, atomically: true, encoding: .utf8)
        try await gw.deliver("From: <\(gw.requester)>\nSubject: token\nMessage-ID: <o-\(UUID())@c.test>\n\nx\n")
        #expect(try await gw.sync().created.count == 1)
    }

    @Test("plan: batches stay under the byte budget and oversize mails stand alone, in UID order")
    func plan() {
        let plan = SyncEngine.plan(
            [(1, 10), (2, 10), (3, 500), (4, 10), (5, 10), (6, 10)], batchBytes: 25, limit: 100)
        #expect(plan == [.batch([1, 2]), .oversize(uid: 3, size: 500), .batch([4, 5]), .batch([6])])
        #expect(UIDSet.format([1, 2, 3, 5, 7, 8]) == "1:3,5,7:8")
        // A batch is also one transaction: at most `maxCount` mails; the first budget doubles per batch.
        let counted = SyncEngine.plan(
            (1...9).map { (UInt32($0), 1) }, batchBytes: 100, limit: 100, firstBatchBytes: 2, maxCount: 3)
        #expect(counted == [.batch([1, 2]), .batch([3, 4, 5]), .batch([6, 7, 8]), .batch([9])])
    }
}
