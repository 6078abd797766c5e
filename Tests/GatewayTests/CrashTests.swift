import Foundation
import GRDB
import ServiceDesk
import TestSupport
import Testing
import TicketStoreSQLite

@testable import Gateway

#if canImport(Glibc)
    import Glibc
#endif

/// Drives the real `ticketgate` binary against the test mail stack: Maildir delivery, processes that can be killed,
/// and a reader for what the SMTP sink accepted. Shared by the crash and overlap tests.
enum SyncHarness {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The binary under test: `$TICKETGATE_BIN`, else the `ticketgate` built next to this test bundle (same build
    /// directory, so `swift build --build-tests` / `swift test` keep it current), else `.build/debug/ticketgate`.
    static func binary() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let path = environment["TICKETGATE_BIN"], !path.isEmpty { candidates.append(path) }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
            // The test binary lives in <build>/debug/ or in <build>/debug/<Package>.xctest/…
            for _ in 0..<3 {
                candidates.append(directory.appendingPathComponent("ticketgate").path)
                directory = directory.deletingLastPathComponent()
            }
        }
        candidates.append(GatewayFixture.repository.appendingPathComponent(".build/debug/ticketgate").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(
                description:
                    "No ticketgate binary (looked at \(candidates)); run `swift build --build-tests` or set TICKETGATE_BIN."
            )
        }
        return found
    }

    /// `TG_TEST_MAIL_ROOT`: tests may deliver by writing Maildir files directly (see scripts/mailstack).
    static func mailRoot() throws -> String {
        guard let root = ProcessInfo.processInfo.environment["TG_TEST_MAIL_ROOT"], !root.isEmpty else {
            throw Failure(
                description:
                    "TG_TEST_MAIL_ROOT is not set: run the tests with ./scripts/test (it starts Dovecot and an SMTP sink)."
            )
        }
        return root
    }

    /// One generated customer mail.
    struct Mail: Sendable {
        var index: Int
        var requester: String
        var messageID: String
        var subject: String
        var raw: [UInt8]
    }

    private static let topics = [
        ("Printer", "The printer on floor %d jams on every page and shows error 0x%04X."),
        ("VPN", "Since this morning the VPN drops every few minutes (attempt %d, code %04X)."),
        ("Laptop", "My laptop does not boot any more, asset tag %d, beep code %04X."),
        ("Outlook", "Outlook keeps asking for my password; ticket reference %d / %04X."),
        ("Access", "I need read access to the finance share for project %d (cost centre %04X)."),
    ]

    /// `count` small, distinct mails from distinct requesters (`r<i>-<tag>@customer.test`) to `support`.
    static func makeMails(count: Int, tag: String, support: String) -> [Mail] {
        (0..<count).map { index in
            let requester = "r\(index)-\(tag)@customer.test"
            let messageID = "crash-\(index)-\(tag)@customer.test"
            let (topic, sentence) = topics[index % topics.count]
            let subject = "\(topic) problem #\(index)"
            let minute = index % 60
            let text = """
                From: Requester \(index) <\(requester)>
                To: IT Support <\(support)@example.test>
                Subject: \(subject)
                Message-ID: <\(messageID)>
                Date: Tue, 24 Nov 2026 09:\(minute < 10 ? "0" : "")\(minute):00 +0100
                MIME-Version: 1.0
                Content-Type: text/plain; charset=utf-8

                Hello,

                \(String(format: sentence, index, index &* 7919 & 0xFFFF))
                Could you please have a look?

                Thanks,
                Requester \(index)

                """
            return Mail(
                index: index, requester: requester, messageID: messageID, subject: subject,
                raw: Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        }
    }

    /// Delivers like an MDA: writes each mail to `<root>/<user>/Maildir/tmp/` (mode 0644, readable by the mail user)
    /// and renames it into `new/`. Thousands of mails take a fraction of a second.
    static func deliverToMaildir(_ mails: [Mail], user: String) throws {
        let maildir = URL(fileURLWithPath: try mailRoot()).appendingPathComponent(user).appendingPathComponent(
            "Maildir")
        let manager = FileManager.default
        for sub in ["tmp", "new", "cur"] {
            try manager.createDirectory(
                at: maildir.appendingPathComponent(sub), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o777])
        }
        let stamp = Int(Date().timeIntervalSince1970)
        let pid = getpid()
        for mail in mails {
            let name = "\(stamp).M\(mail.index)P\(pid).ticketgate-test,S=\(mail.raw.count)"
            let tmp = maildir.appendingPathComponent("tmp").appendingPathComponent(name).path
            guard manager.createFile(atPath: tmp, contents: Data(mail.raw), attributes: [.posixPermissions: 0o644])
            else { throw Failure(description: "cannot write \(tmp)") }
            // createFile applies the umask: make sure the mail user (other) can read it.
            chmod(tmp, 0o644)
            let target = maildir.appendingPathComponent("new").appendingPathComponent(name).path
            guard rename(tmp, target) == 0 else {
                throw Failure(description: "cannot rename \(tmp): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A running `ticketgate` process whose stdout and stderr go to a log file.
    final class Run: @unchecked Sendable {
        let process = Process()
        let logPath: String
        let started = ContinuousClock.now
        private let lock = NSLock()
        private var finished: Duration?
        private var waiters: [CheckedContinuation<Void, Never>] = []

        init(binary: String, arguments: [String], logPath: String) throws {
            self.logPath = logPath
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            process.terminationHandler = { [weak self] _ in self?.didExit() }
            try process.run()
            try? log.close()
        }

        private func didExit() {
            lock.lock()
            finished = ContinuousClock.now - started
            let pending = waiters
            waiters = []
            lock.unlock()
            for waiter in pending { waiter.resume() }
        }

        var isRunning: Bool {
            lock.lock()
            defer { lock.unlock() }
            return finished == nil
        }

        /// Sends SIGKILL if the process is still running; returns whether it was.
        @discardableResult
        func sigkill() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            guard finished == nil else { return false }
            return kill(process.processIdentifier, SIGKILL) == 0
        }

        /// Waits for the exit; returns the wall time from start to exit.
        @discardableResult
        func wait() async -> Duration {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if finished != nil {
                    lock.unlock()
                    continuation.resume()
                } else {
                    waiters.append(continuation)
                    lock.unlock()
                }
            }
            // terminationHandler may run before Process has stored the status: wait for that too.
            while process.isRunning { try? await Task.sleep(for: .milliseconds(1)) }
            return lock.withLock { finished ?? .zero }
        }

        var wasKilled: Bool { process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL }
        var status: Int32 { process.terminationStatus }
        var output: String {
            (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        }
    }

    /// One message the SMTP sink accepted for one of our requesters.
    struct SentMail: Sendable {
        var recipients: [String]
        var mailFrom: String
        var messageID: String
        var inReplyTo: String?
        var subject: String?
        var file: String
    }

    /// Every message in the sink addressed to one of `recipients` (one directory pass, however many there are).
    static func sentMail(to recipients: Set<String>, sinkDirectory: String) -> [SentMail] {
        let manager = FileManager.default
        let files = ((try? manager.contentsOfDirectory(atPath: sinkDirectory)) ?? []).filter { $0.hasSuffix(".json") }
        var result: [SentMail] = []
        for file in files.sorted() {
            let base = "\(sinkDirectory)/\(file.dropLast(5))"
            guard let meta = manager.contents(atPath: "\(base).json"),
                let object = try? JSONSerialization.jsonObject(with: meta) as? [String: Any],
                let rcpts = object["rcpt_tos"] as? [String],
                rcpts.contains(where: { recipients.contains($0.lowercased()) }),
                let raw = manager.contents(atPath: "\(base).eml")
            else { continue }
            let headers = headerFields(raw)
            result.append(
                SentMail(
                    recipients: rcpts.map { $0.lowercased() }, mailFrom: object["mail_from"] as? String ?? "",
                    messageID: stripAngles(headers["message-id"] ?? ""),
                    inReplyTo: headers["in-reply-to"].map(stripAngles),
                    subject: headers["subject"], file: base))
        }
        return result
    }

    /// The unfolded header fields of a raw message (first occurrence wins), keys lowercased.
    static func headerFields(_ raw: Data) -> [String: String] {
        let bytes = [UInt8](raw)
        var end = bytes.count
        for i in 0..<max(0, bytes.count - 3)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            end = i
            break
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        var fields: [String: String] = [:]
        var lastKey: String?
        for line in head.components(separatedBy: "\r\n") {
            if let first = line.first, first == " " || first == "\t", let key = lastKey {
                fields[key, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].lowercased()
            lastKey = nil
            if fields[key] == nil {
                fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                lastKey = key
            }
        }
        return fields
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func stripAngles(_ value: String) -> String {
        value.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
    }

    /// Counts of progress lines in a `--verbose` log: mails turned into tickets, and outbox mails sent.
    static func progress(in log: String) -> (created: Int, sent: Int) {
        var created = 0
        var sent = 0
        for line in log.split(separator: "\n") {
            if line.contains("] new ticket ") {
                created += 1
            } else if line.contains("] sent ") {
                sent += 1
            }
        }
        return (created, sent)
    }

    /// Checks the store and the sink after the gateway has processed `mails` exactly once: one ticket per mail with
    /// exactly one inbound article of the right Message-ID, every outbox row sent, and at least one acknowledgement
    /// per requester, all with the same Message-ID as its outbox row. Returns the number of acknowledgements the sink
    /// received more than once (re-sent after a crash between SMTP accept and the outbox update).
    static func verifyExactlyOnce(
        _ mails: [Mail], gateway gw: GatewayFixture, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (resent: Int, resentRequesters: [String]) {
        let context = try gw.context()
        let byMessageID = Dictionary(uniqueKeysWithValues: mails.map { ($0.messageID, $0) })
        let snapshot = try await context.store.read { tx -> [(Ticket, [Article])] in
            try tx.tickets().map { ($0, try tx.articles(of: $0.id)) }
        }
        let outbox = try await context.store.read { try $0.outbox(status: nil) }
        let quarantined = try await context.store.read { try $0.quarantined() }

        #expect(
            snapshot.count == mails.count, "tickets: \(snapshot.count), mails: \(mails.count)",
            sourceLocation: sourceLocation)
        #expect(quarantined.isEmpty, "quarantined: \(quarantined.prefix(5))", sourceLocation: sourceLocation)
        var seen: [String: String] = [:]  // message-id -> ticket
        var problems: [String] = []
        var ackIDByRequester: [String: String] = [:]
        for (ticket, articles) in snapshot {
            let inbound = articles.filter { $0.direction == .inbound }
            if inbound.count != 1 {
                problems.append("\(ticket.id) has \(inbound.count) inbound articles")
                continue
            }
            let id = stripAngles(inbound[0].messageID)
            if let other = seen[id] {
                problems.append("\(id) is on \(other) and \(ticket.id)")
            }
            seen[id] = ticket.id.description
            guard let mail = byMessageID[id] else {
                problems.append("\(ticket.id) carries an unknown Message-ID \(id)")
                continue
            }
            if ticket.requester.address.lowercased() != mail.requester {
                problems.append("\(ticket.id): requester \(ticket.requester.address), mail from \(mail.requester)")
            }
            let acks = outbox.filter { $0.ticketID == ticket.id && $0.purpose == "acknowledgement" }
            if acks.count != 1 {
                problems.append("\(ticket.id) has \(acks.count) acknowledgements queued")
            } else {
                ackIDByRequester[mail.requester] = stripAngles(acks[0].messageID)
            }
        }
        let missing = Set(byMessageID.keys).subtracting(seen.keys)
        #expect(
            missing.isEmpty, "\(missing.count) mails on no ticket, e.g. \(missing.sorted().prefix(5))",
            sourceLocation: sourceLocation)
        #expect(problems.isEmpty, "\(problems.count) problems: \(problems.prefix(10))", sourceLocation: sourceLocation)
        // Every stored mail kept its raw bytes through the kills, in the database or in the spool: they were on disk
        // before the row that points at them committed.
        let databasePath = gw.directory.appendingPathComponent("ticketgate.sqlite").path
        let rows = try DatabaseQueue(path: databasePath).read { db in
            try Row.fetchAll(db, sql: "SELECT bytes, path, file_offset, size, message_id FROM raw_mail")
        }
        let kept = rows.filter { row in
            let raw = RawMail(
                mailbox: "", uidValidity: 0, uid: 0, messageID: nil, bytes: [UInt8](row["bytes"] as Data),
                receivedAt: Date(), path: row["path"], offset: row["file_offset"], size: row["size"])
            guard let bytes = raw.contents(), bytes.count == raw.size else { return false }
            return String(decoding: bytes, as: UTF8.self).contains((row["message_id"] as String?) ?? "\u{0}")
        }.count
        #expect(
            kept == mails.count, "raw mails readable with their Message-ID: \(kept) of \(mails.count)",
            sourceLocation: sourceLocation)
        let unsent = outbox.filter { $0.status != .sent }
        #expect(
            unsent.isEmpty,
            "\(unsent.count) outbox rows not sent, e.g. \(unsent.prefix(3).map { "\($0.messageID) \($0.status) \($0.lastError ?? "")" })",
            sourceLocation: sourceLocation)

        // The sink: at least one acknowledgement per requester; a second copy only with the same Message-ID.
        let requesters = Set(mails.map(\.requester))
        let sent = sentMail(to: requesters, sinkDirectory: gw.stack.sinkDirectory)
        var copies: [String: [SentMail]] = [:]
        for mail in sent {
            for rcpt in mail.recipients where requesters.contains(rcpt) { copies[rcpt, default: []].append(mail) }
        }
        let withoutAck = requesters.filter { copies[$0] == nil }
        #expect(
            withoutAck.isEmpty,
            "\(withoutAck.count) requesters got no acknowledgement, e.g. \(withoutAck.sorted().prefix(5))",
            sourceLocation: sourceLocation)
        var resent = 0
        var resentRequesters: [String] = []
        var different: [String] = []
        for (requester, list) in copies {
            let ids = Set(list.map(\.messageID))
            if ids.count != 1 || (ackIDByRequester[requester].map { ids != [$0] } ?? false) {
                different.append("\(requester): \(ids.sorted()) vs outbox \(ackIDByRequester[requester] ?? "-")")
            }
            if let mail = mails.first(where: { $0.requester == requester }),
                list.contains(where: { $0.inReplyTo != mail.messageID })
            {
                different.append("\(requester): acknowledgement not in reply to <\(mail.messageID)>")
            }
            if list.count > 1 {
                resent += list.count - 1
                resentRequesters.append(requester)
            }
        }
        #expect(
            different.isEmpty, "acknowledgements that are not one outbox row: \(different.sorted().prefix(10))",
            sourceLocation: sourceLocation)
        return (resent, resentRequesters.sorted())
    }
}

/// SplitMix64: a small seeded generator, so a kill schedule can be replayed with `TG_CRASH_SEED`.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Crash safety of ticketgate sync (SIGKILL at random moments)")
struct CrashTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// 2,000 mails; `ticketgate sync` killed with SIGKILL at random moments at least 20 times, restarted each time, then
    /// left to finish. Every mail must be on exactly one ticket, every requester must have an acknowledgement, and an
    /// acknowledgement may arrive twice only where a kill fell between SMTP accept and the outbox update.
    ///
    /// The delays are random (seeded: set `TG_CRASH_SEED` to replay a schedule) between 20 ms and 1.5 s, scaled as the
    /// run goes so that the kills spread over the whole work (processing and sending): each delay is drawn uniformly
    /// up to twice the start cost plus the expected remaining work (at the fastest rate seen) divided by the kills still
    /// wanted (twice the kills still missing to 20, plus 15). Knobs: `TG_CRASH_MAILS`
    /// (default 2000), `TG_CRASH_KILLS` (minimum kills, default 20).
    @Test(
        "2,000 mails, SIGKILL at random moments ≥ 20 times: every mail on exactly one ticket, no acknowledgement lost")
    func killAtRandomMoments() async throws {
        let mailCount = Self.environment["TG_CRASH_MAILS"].flatMap(Int.init) ?? 2000
        let minimumKills = Self.environment["TG_CRASH_KILLS"].flatMap(Int.init) ?? 20
        let seed = Self.environment["TG_CRASH_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(1) << 48)
        var random = SplitMix64(seed: seed)
        print(
            "CrashTests: seed \(seed) (replay with TG_CRASH_SEED=\(seed)), \(mailCount) mails, ≥ \(minimumKills) kills")

        let binary = try SyncHarness.binary()
        let gw = try GatewayFixture()
        let arguments = ["sync", "--config", gw.configPath, "--verbose"]
        let testStart = ContinuousClock.now

        // Calibration: syncs of the still empty mailbox measure the fixed cost of a run (start, configuration, store,
        // IMAP login, SELECT). The first one also creates the store, which no later run does: the second one is the
        // measure (a release build's first run took three times as long, and delays scaled on it let the work finish
        // before 20 kills had landed).
        var startup = Duration.zero
        for attempt in 0..<2 {
            let empty = try SyncHarness.Run(
                binary: binary, arguments: arguments,
                logPath: gw.directory.appendingPathComponent("calibration-\(attempt).log").path)
            startup = await empty.wait()
            try #require(empty.status == 0 && !empty.wasKilled, "empty sync failed: \(empty.output)")
        }

        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let mails = SyncHarness.makeMails(count: mailCount, tag: tag, support: gw.supportUser)
        try SyncHarness.deliverToMaildir(mails, user: gw.supportUser)

        struct Kill {
            var run: Int
            var delay: Duration
            var created: Int  // cumulative tickets created when the process died
            var sent: Int  // cumulative mails sent when it died
            var sentInRun: Int
        }
        var kills: [Kill] = []
        var created = 0
        var sent = 0
        // Per phase, the average rate seen, per second of a run beyond its fixed start cost: mails stored (a run
        // stores every new mail before it sends anything) and acknowledgements sent. Storing is many times faster than
        // sending, so one rate for both spread the kills badly: a release build stored all mails before the first
        // kill (no kill fell into storing in two of three rounds). Averages, not maxima: stores commit in chunks, and
        // one chunk landing in a short run made the fastest rate tiny delays and hundreds of runs.
        var stored = (units: 0.0, seconds: 0.0)
        var sentSoFar = (units: 0.0, seconds: 0.0)
        let minimumDelay = Duration.milliseconds(20)
        let maximumDelay = Duration.milliseconds(1500)
        let budget = Duration.seconds(Self.environment["TG_CRASH_BUDGET_S"].flatMap(Int.init) ?? 120)
        var run = 0
        var completed = false
        var otherExits: [String] = []
        var lastCreatingRun = 0

        while !completed {
            run += 1
            try #require(run < 500, "more than 500 runs")
            // Expected remaining time of the phase an uninterrupted run is in, from its rate seen so far. Until a run has
            // sent something, mails are still being stored (the count misses what killed runs did not log: a floor).
            let storing = sent == 0
            let phase = storing ? stored : sentSoFar
            let rate = phase.seconds > 0 ? phase.units / phase.seconds : 0
            let remainingUnits = storing ? max(mailCount - created, mailCount / 20) : max(mailCount - sent, 0)
            let wanted = 4 * max(minimumKills - kills.count, 0) + 30
            let overBudget = ContinuousClock.now - testStart > budget
            var delay: Duration?
            if !overBudget {
                let cap: Duration
                if storing && rate == 0 {
                    // Kills land while mails are stored: a release build stores 2,000 in a few tens of milliseconds
                    // beyond the fixed cost (one run drawn up to 40 ms past it stored them all, and no kill fell into
                    // storing), so the bound starts 20 ms past the fixed cost and grows by 20 ms per run until a run
                    // has stored long enough to measure the rate.
                    cap = startup + .milliseconds(20 * run)
                } else if rate == 0 {
                    cap = max(startup * 3, .milliseconds(300))
                } else {
                    // Underestimating the remaining time only adds kills.
                    let remaining = Duration.seconds(Double(remainingUnits) / rate)
                    cap = (startup + remaining / wanted) * 2
                }
                // Until enough kills have landed, never wait longer than 400 ms: a fast run must not outrun the kills.
                let ceiling = kills.count < minimumKills ? min(maximumDelay, .milliseconds(400)) : maximumDelay
                let upper = min(max(cap, minimumDelay + .milliseconds(20)), ceiling)
                let fraction = Double(random.next() >> 11) / Double(UInt64(1) << 53)
                delay = minimumDelay + (upper - minimumDelay) * fraction
            }
            let process = try SyncHarness.Run(
                binary: binary, arguments: arguments,
                logPath: gw.directory.appendingPathComponent(String(format: "run-%02d.log", run)).path)
            if let delay {
                try await Task.sleep(until: process.started + delay, clock: .continuous)
                process.sigkill()
            }
            let elapsed = await process.wait()
            let progress = SyncHarness.progress(in: process.output)
            created += progress.created
            sent += progress.sent
            let working = SyncHarness.seconds(elapsed - startup)
            if working > 0.05, progress.sent == 0, progress.created > 0 {
                stored = (stored.units + Double(progress.created), stored.seconds + working)
            }
            if working > 0.05, progress.created == 0, progress.sent > 0 {
                sentSoFar = (sentSoFar.units + Double(progress.sent), sentSoFar.seconds + working)
            }
            if progress.created > 0 { lastCreatingRun = run }
            if process.wasKilled {
                kills.append(
                    Kill(run: run, delay: delay ?? elapsed, created: created, sent: sent, sentInRun: progress.sent))
            } else if process.status == 0 {
                completed = true
            } else {
                otherExits.append("run \(run): exit \(process.status): \(process.output.suffix(400))")
                try #require(otherExits.count < 5, "runs failed: \(otherExits)")
            }
        }

        // Once more: nothing may be left to do.
        let idle = try SyncHarness.Run(
            binary: binary, arguments: ["sync", "--config", gw.configPath],
            logPath: gw.directory.appendingPathComponent("run-idle.log").path)
        await idle.wait()
        #expect(idle.status == 0, "idle run: \(idle.output)")
        #expect(idle.output.contains("sync: 0 fetched"), "idle run: \(idle.output)")
        #expect(idle.output.contains(" 0 mails sent"), "idle run: \(idle.output)")

        // A kill fell into the sending phase when its run had sent something, or no later run created a ticket (so
        // every mail was processed before it). Only such a kill can cause an acknowledgement to be sent twice.
        let duringSending = kills.filter { $0.sentInRun > 0 || $0.run >= lastCreatingRun }.count
        let duringProcessing = kills.count - duringSending
        let schedule = kills.map { "#\($0.run) \(Self.ms($0.delay)) ms (\($0.created) tickets, \($0.sent) sent)" }
        print(
            "CrashTests: \(kills.count) kills (\(duringProcessing) while processing, \(duringSending) while sending) over \(run) runs: \(schedule.joined(separator: ", "))"
        )
        #expect(otherExits.isEmpty, "runs that neither finished nor were killed: \(otherExits)")
        #expect(kills.count >= minimumKills, "only \(kills.count) kills landed before the work was done (seed \(seed))")
        if duringProcessing == 0 {
            // Not a failure of the gateway: on a loaded machine the test's own timer can fire after a fast build has
            // stored everything. The round still checks every kill that landed.
            print("CrashTests: note: no kill fell into storing in this round (seed \(seed))")
        }

        let (resent, who) = try await SyncHarness.verifyExactlyOnce(mails, gateway: gw)
        print(
            "CrashTests: acknowledgements sent twice: \(resent) (allowed: ≤ \(kills.count) kills, \(duringSending) of them while sending)\(who.isEmpty ? "" : ": \(who.prefix(10))")"
        )
        #expect(resent <= kills.count, "\(resent) acknowledgements re-sent, but only \(kills.count) kills")
        #expect(
            resent <= duringSending,
            "\(resent) acknowledgements re-sent, but only \(duringSending) kills fell into the sending phase")
        print(
            "CrashTests: seed \(seed), \(mailCount) mails, \(kills.count) kills, \(resent) re-sent, total \(Self.ms(ContinuousClock.now - testStart)) ms"
        )
    }

    static func ms(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
