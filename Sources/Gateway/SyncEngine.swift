import Foundation
import Logging
import MailFormat
import MailTransport
import ServiceDesk
import TicketStoreSQLite

/// Counts of one sync run, printed for cron mail and asserted by tests.
public struct SyncReport: Sendable, Equatable {
    public var fetched = 0
    public var created: [TicketID] = []
    public var appended: [TicketID] = []
    public var duplicates = 0
    public var ignored = 0
    public var quarantined = 0
    public var sent = 0
    public var sendFailures = 0
    public var timerUpdates = 0

    public init() {}
}

/// One sync cycle: for each mailbox fetch what is new since the checkpoint, process it in transactions of a bounded
/// number of mails (ticket changes + outbox + checkpoint commit together, so a crash redoes a whole chunk or
/// nothing), then drain the outbox. The next batch is fetched and prepared while the store writes the current one.
public struct SyncEngine: Sendable {
    public let configuration: Configuration
    public let store: any TicketStore
    public let processor: MailProcessor
    public let logger: Logger
    /// Upper bound of bytes fetched in one `UID FETCH` round trip.
    public var batchBytes = 8 << 20
    /// The first fetch is small so processing starts early; each next one doubles up to `batchBytes`.
    public var firstBatchBytes = 64 << 10
    /// Mails per fetch batch, and per store transaction while the writer keeps up: one commit per batch instead of
    /// per mail, and the first tickets are stored while later mails are still on the wire.
    public var mailsPerTransaction = 200
    /// Mails per store transaction at most when the writer is behind and several fetched batches wait: they go in
    /// one. A crash redoes at most this many, and other writers (the outbox, a second mailbox) wait at most for them.
    public var mailsPerCommit = 1000
    /// Fetches requested ahead of the one being read. Their answers wait in the socket (TCP holds the server back),
    /// so this bounds requests, not memory.
    public var fetchesAhead = 4
    /// The first new mails fetched together with the folder's selection (UIDs after the checkpoint), each cut at
    /// `openingBytes`: at most 2 MB whatever their sizes. Few, so the store starts early: the selection waits for
    /// all of them, and the later fetches are under way meanwhile (5,000 mails at 20 ms RTT: 32 took 0.58 s, 128
    /// took 0.61 s, medians of 21 interleaved runs).
    public var openingCount = SyncEngine.defaultOpening.count
    public var openingBytes = SyncEngine.defaultOpening.bytes
    static let defaultOpening = (count: 32, bytes: 64 << 10)
    public var clock: @Sendable () -> Date = { Date() }
    /// Where synced mails' raw bytes go, off the store's writer; nil keeps them in the database.
    public var spool: RawSpool?
    /// A connection opened before the engine existed (see `EarlyConnection`); used by the first sync of its mailbox.
    var early: EarlyConnection?

    public init(configuration: Configuration, store: any TicketStore, templates: TemplateSet, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.processor = MailProcessor(configuration: configuration, templates: templates)
        self.logger = logger
        self.spool = RawSpool(
            directory: URL(fileURLWithPath: configuration.store.sqlite).deletingLastPathComponent()
                .appendingPathComponent("raw").path)
    }

    public func run() async throws -> SyncReport {
        var report = SyncReport()
        for mailbox in configuration.mailboxes {
            try await sync(mailbox, report: &report)
        }
        try await runTimers(report: &report)
        var sender = OutboxSender(configuration: configuration, store: store, logger: logger, clock: clock)
        sender.processor = processor
        try await sender.drain(report: &report)
        return report
    }

    /// SLA escalations and auto-close, evaluated on every run; a second run with nothing due changes nothing.
    public func runTimers(report: inout SyncReport) async throws {
        let context = processor.workflow
        let states: [TicketState] =
            context.slaPolicies.isEmpty
            ? TicketState.allCases.filter(\.isResolved)
            : TicketState.allCases.filter { !$0.isFinished }
        let processor = self.processor
        let now = clock()
        let changed = try await store.write { tx -> Int in
            var changed = 0
            for ticket in try tx.tickets(inStates: states) where try processor.tick(ticket, now: now, tx: tx) {
                changed += 1
            }
            return changed
        }
        report.timerUpdates += changed
    }

    static func endpoint(for mailbox: Configuration.Mailbox, token: String?) -> IMAPEndpoint {
        let imap = mailbox.imap
        return IMAPEndpoint(
            url: URL(string: imap.url)!, username: imap.username, password: imap.password?.value,
            oauthToken: token, security: imap.tls.flatMap(IMAPEndpoint.Security.init(rawValue:)),
            caFile: imap.caFile, verifyPeer: imap.verifyCertificate ?? true)
    }

    /// Connects and logs in to one mailbox (refreshing its OAuth token first when needed).
    func connect(_ mailbox: Configuration.Mailbox) async throws -> IMAPSession {
        let token = try await TokenProvider(store: store, clock: clock).accessToken(for: mailbox)
        return try await Self.open(mailbox, token: token)
    }

    /// A logged-in session; with `awaitingLogin` false the login's answer comes with the first command's (see
    /// `IMAPSession.connect(awaitingLogin:)`).
    static func open(_ mailbox: Configuration.Mailbox, token: String?, awaitingLogin: Bool = true) async throws
        -> IMAPSession
    {
        try await login(
            IMAPSession(endpoint: endpoint(for: mailbox, token: token)), mailbox, awaitingLogin: awaitingLogin)
    }

    /// Connects and logs in a new session of the mailbox, with its errors named after the mailbox.
    static func login(_ session: IMAPSession, _ mailbox: Configuration.Mailbox, awaitingLogin: Bool) async throws
        -> IMAPSession
    {
        do {
            try await session.connect(awaitingLogin: awaitingLogin)
        } catch {
            throw GatewayError.mailbox(name: mailbox.name, error)
        }
        return session
    }

    /// The first mailbox's connection, opened as soon as the configuration is read so that its round trips overlap
    /// the rest of the start-up; its login is answered together with the selection. Not for a mailbox whose OAuth
    /// token may need a refresh: that needs the store.
    struct EarlyConnection: Sendable {
        let mailbox: String
        let session: Task<IMAPSession, any Error>
        /// For a store that does not exist yet, so has no checkpoint: the folder selected right after the login,
        /// with every mail's size and the first mails (`IMAPSession.select(_:sizesFrom:opening:)` from UID 1), as
        /// `sync` would ask once the store is open. A new store's migrations and the templates took longer than
        /// the login; now the first mails are on the wire meanwhile.
        let selection: Task<EarlySelection, any Error>?

        /// What the early selection asked for and got.
        struct EarlySelection: Sendable {
            var folder: String
            var opening: (count: Int, bytes: Int)
            var status: MailboxStatus
            var sizes: [(uid: UInt32, size: Int)]
            var opened: [FetchedMessage]
        }

        /// With `newStore` the folder is selected at once (see `selection`).
        init?(configuration: Configuration, newStore: Bool = false) {
            guard let mailbox = configuration.mailboxes.first, mailbox.imap.oauth == nil else { return nil }
            self.mailbox = mailbox.name
            let token = mailbox.imap.oauthToken?.value
            // Started on the session's own queue: a plain task waited ~10 ms for a cooperative thread, both being
            // busy with the templates and the new store's migrations, and the connection is the longest road.
            let session = IMAPSession(endpoint: SyncEngine.endpoint(for: mailbox, token: token))
            self.session = Self.task(on: session) { try await SyncEngine.login(session, mailbox, awaitingLogin: false) }
            guard newStore else {
                selection = nil
                return
            }
            let connected = self.session
            let folder = mailbox.imap.folder ?? "INBOX"
            let opening = SyncEngine.defaultOpening
            let select: @Sendable () async throws -> EarlySelection = {
                let session = try await connected.value
                do {
                    let (status, sizes, opened) = try await session.select(folder, sizesFrom: 1, opening: opening)
                    return EarlySelection(
                        folder: folder, opening: opening, status: status, sizes: sizes, opened: opened)
                } catch {
                    throw GatewayError.mailbox(name: mailbox.name, error)
                }
            }
            selection = Self.task(on: session, select)
        }

        /// A task started on the session's own queue (where the platform has task executors).
        static func task<T: Sendable>(
            on session: IMAPSession, _ operation: @escaping @Sendable () async throws -> T
        ) -> Task<T, any Error> {
            if #available(macOS 15.0, *) {
                return Task(executorPreference: session.taskExecutor, operation: operation)
            }
            return Task(operation: operation)
        }

        /// Closes the connection unused (start-up failed after it was opened).
        func discard() async {
            _ = await selection?.result
            session.cancel()
            if let opened = try? await session.value { await opened.disconnect() }
        }
    }

    /// One unit of fetching, in UID order: a batch of normal mails, one mail too large to load, or mails already
    /// fetched with the folder's selection.
    enum FetchPlan: Equatable {
        case batch([UInt32])
        case oversize(uid: UInt32, size: Int)
        case fetched([FetchedMessage])
    }

    func sync(_ mailbox: Configuration.Mailbox, report: inout SyncReport) async throws {
        let session: IMAPSession
        if let early, early.mailbox == mailbox.name {
            session = try await early.session.value
        } else {
            session = try await connect(mailbox)
        }
        do {
            try await sync(mailbox, session: session, report: &report)
            await session.logout()
        } catch {
            await session.disconnect()
            if error is GatewayError { throw error }
            throw GatewayError.mailbox(name: mailbox.name, error)
        }
    }

    /// Fetches and processes everything new in one mailbox over an open session.
    func sync(_ mailbox: Configuration.Mailbox, session: IMAPSession, report: inout SyncReport) async throws {
        let folder = mailbox.imap.folder ?? "INBOX"
        let saved = try await store.read { try $0.checkpoint(mailbox: mailbox.name) }
        // One round trip selects the folder, lists what is new after the checkpoint with its sizes, and already
        // fetches the first new mails (each cut at `openingBytes`, so a large one costs no memory): storing starts
        // a round trip earlier. For a new store it was already asked for right after the login.
        var status: MailboxStatus
        var sizes: [(uid: UInt32, size: Int)]
        var opened: [FetchedMessage]
        if saved == nil, let early, early.mailbox == mailbox.name, let selection = early.selection,
            case let selected = try await selection.value, selected.folder == folder,
            selected.opening == (openingCount, openingBytes)
        {
            (status, sizes, opened) = (selected.status, selected.sizes, selected.opened)
        } else {
            (status, sizes, opened) = try await session.select(
                folder, sizesFrom: (saved?.lastUID ?? 0) &+ 1, opening: (openingCount, openingBytes))
        }
        var lastUID: UInt32 = 0
        if let saved, saved.uidValidity == status.uidValidity {
            lastUID = saved.lastUID
        } else if let saved {
            logger.warning(
                "UIDVALIDITY changed; resyncing with Message-ID deduplication",
                metadata: ["mailbox": "\(mailbox.name)", "old": "\(saved.uidValidity)", "new": "\(status.uidValidity)"])
            sizes = try await session.fetchSizes("1:*").sorted { $0.uid < $1.uid }
            opened = []
        }
        sizes = sizes.filter { $0.uid > lastUID }
        guard !sizes.isEmpty else {
            logger.debug("no new mail", metadata: ["mailbox": "\(mailbox.name)"])
            return
        }
        // Only the fetched mails that are exactly the first new ones count: the checkpoint advances with each batch,
        // so a mail left for later must never sit below one stored now.
        let opening = Array(zip(sizes, opened).prefix { $0.uid == $1.uid && $1.size <= mailbox.messageLimit }.map(\.1))
        let plan =
            (opening.isEmpty ? [] : [FetchPlan.fetched(opening)])
            + Self.plan(
                Array(sizes.dropFirst(opening.count)), batchBytes: batchBytes, limit: mailbox.messageLimit,
                firstBatchBytes: firstBatchBytes, maxCount: max(1, mailsPerTransaction))
        let uidValidity = status.uidValidity
        // Three stages, each on its own thread: the fetcher keeps the connection busy (the next batch is always
        // under way), the preparer parses and reads each batch, and this task stores them, one transaction per
        // batch (per batches waiting, when it is behind). At most two batches (and `batchBytes`, or one batch) wait between stages, so memory stays bounded
        // however fast the network is and however large the mails are.
        let fetched = Handoff<Step<FetchedMessage>>(capacity: 2, byteLimit: batchBytes)
        let ready = Handoff<Step<PreparedMail>>(capacity: 2, byteLimit: batchBytes)
        let fetcher = Task {
            do {
                try await fetch(plan, mailbox: mailbox, uidValidity: uidValidity, session: session, into: fetched)
                await fetched.finish()
            } catch {
                await fetched.finish(throwing: error)
            }
        }
        let processor = self.processor
        let preparer = Task {
            do {
                while let step = try await fetched.take() {
                    let next = step.map { messages in
                        var prepared = messages.sorted { $0.uid < $1.uid }.map {
                            processor.prepare(
                                raw: $0.raw,
                                origin: MailOrigin(mailbox: mailbox.name, uidValidity: uidValidity, uid: $0.uid))
                        }
                        spool(&prepared, mailbox: mailbox.name)
                        return prepared
                    }
                    // A prepared mail holds its raw bytes and about as much again for what was read from them.
                    guard await ready.put(next, bytes: next.bytes { 2 * $0.raw.count }) else { return }
                }
                await ready.finish()
            } catch {
                await ready.finish(throwing: error)
            }
        }
        var done: [UInt32] = []
        do {
            while let step = try await ready.take() {
                switch step {
                case .batch(var prepared):
                    // Behind the preparer, the writer takes what has piled up into the same transaction: a commit
                    // writes the last page of every table and index it touched again, however few mails it holds.
                    let limit = max(1, mailsPerCommit)
                    while prepared.count < limit,
                        case .batch(let more)? = await ready.takeQueued(if: { [room = limit - prepared.count] in
                            if case .batch(let mails) = $0 { mails.count <= room } else { false }
                        })
                    {
                        prepared += more
                    }
                    // Copied only when needed: a prepared mail holds many references, each retained per copy.
                    let fresh =
                        prepared.allSatisfy { $0.origin.uid > lastUID }
                        ? prepared : prepared.filter { $0.origin.uid > lastUID }
                    let size = limit
                    for start in stride(from: 0, to: fresh.count, by: size) {
                        let chunk = fresh.count <= size ? fresh : Array(fresh[start..<min(start + size, fresh.count)])
                        let outcomes = try await process(chunk, mailbox: mailbox.name, uidValidity: uidValidity)
                        for (index, outcome) in zip(chunk.indices, outcomes) {
                            let uid = chunk[index].origin.uid
                            report.fetched += 1
                            lastUID = uid
                            done.append(uid)
                            record(outcome, uid: uid, mailbox: mailbox.name, report: &report)
                        }
                    }
                case .oversize(let uid, let size, let path, let head):
                    report.fetched += 1
                    let origin = MailOrigin(mailbox: mailbox.name, uidValidity: uidValidity, uid: uid)
                    let now = clock()
                    let outcome = try await store.write { tx in
                        let outcome = try processor.processOversize(
                            head: head, path: path, size: size, origin: origin, now: now, in: tx)
                        try tx.save(
                            MailboxCheckpoint(mailbox: origin.mailbox, uidValidity: origin.uidValidity, lastUID: uid))
                        return outcome
                    }
                    lastUID = uid
                    done.append(uid)
                    record(outcome, uid: uid, mailbox: mailbox.name, report: &report)
                }
                // Flags and moves share the connection with the fetcher: they wait until it is done, then go with
                // every transaction.
                if await fetched.isFinished {
                    await afterProcessing(done, mailbox: mailbox, session: session)
                    done = []
                }
            }
        } catch {
            // The fetcher must be done with the session before the caller closes it.
            await fetched.close()
            await ready.close()
            fetcher.cancel()
            preparer.cancel()
            _ = await fetcher.result
            _ = await preparer.result
            throw error
        }
        _ = await fetcher.result
        _ = await preparer.result
        await afterProcessing(done, mailbox: mailbox, session: session)
    }

    /// The preparer's stage for mails already in memory (`TicketgateBench store`): parsed and read, then spooled,
    /// exactly as a fetched batch is.
    public func prepare(_ raws: [[UInt8]], mailbox: String, uidValidity: UInt32, firstUID: UInt32) -> [PreparedMail] {
        var prepared = raws.enumerated().map { index, raw in
            processor.prepare(
                raw: raw, origin: MailOrigin(mailbox: mailbox, uidValidity: uidValidity, uid: firstUID + UInt32(index)))
        }
        spool(&prepared, mailbox: mailbox)
        return prepared
    }

    /// The writer's stage for prepared mails (`TicketgateBench store`): one transaction, as for a fetched batch.
    public func store(_ mails: [PreparedMail], mailbox: String, uidValidity: UInt32) async throws -> [MailOutcome] {
        try await process(mails, mailbox: mailbox, uidValidity: uidValidity)
    }

    /// Appends the mails' raw bytes to the spool, so the store keeps only where they are. When the spool fails (a
    /// full disk), the mails keep their bytes and the store writes them as before.
    func spool(_ mails: inout [PreparedMail], mailbox: String) {
        guard let spool, !mails.isEmpty else { return }
        do {
            // Flushed on the spool's thread; the writer waits for it before committing rows that point there.
            let locations = try spool.append(mails.map(\.raw), waitForDisk: false)
            for index in mails.indices { mails[index].spooled = locations[index] }
        } catch {
            logger.warning(
                "raw mails stay in the database: \(error)", metadata: ["mailbox": "\(mailbox)"])
        }
    }

    /// What one stage hands on to the next: a batch of mails (fetched, then prepared), or a mail too large to load,
    /// already streamed to disk.
    enum Step<Mail: Sendable>: Sendable {
        case batch([Mail])
        case oversize(uid: UInt32, size: Int, path: String, head: [UInt8])

        /// The same step with each mail of a batch transformed.
        func map<Other>(_ transform: ([Mail]) -> [Other]) -> Step<Other> {
            switch self {
            case .batch(let mails): .batch(transform(mails))
            case .oversize(let uid, let size, let path, let head):
                .oversize(uid: uid, size: size, path: path, head: head)
            }
        }

        /// About the bytes it holds in memory, given each mail's.
        func bytes(_ weight: (Mail) -> Int) -> Int {
            switch self {
            case .batch(let mails): mails.reduce(0) { $0 + weight($1) }
            case .oversize(_, _, _, let head): head.count
            }
        }
    }

    /// Fetches every step of the plan in order; each batch's successor is sent before the batch is read.
    func fetch(
        _ plan: [FetchPlan], mailbox: Configuration.Mailbox, uidValidity: UInt32, session: IMAPSession,
        into handoff: Handoff<Step<FetchedMessage>>
    ) async throws {
        for (index, step) in plan.enumerated() {
            let item: Step<FetchedMessage>
            switch step {
            case .batch(let uids):
                // The following batches (up to the next oversize mail) are requested now: the first ones are small
                // so that storing starts early, and without a deeper pipeline each of them cost a round trip.
                var next: [String] = []
                for following in plan[(index + 1)...].prefix(fetchesAhead) {
                    guard case .batch(let uids) = following else { break }
                    next.append(UIDSet.format(uids))
                }
                item = .batch(try await session.fetchMessages(UIDSet.format(uids), sendingAhead: next))
            case .fetched(let messages):
                item = .batch(messages)
            case .oversize(let uid, let size):
                let path = try quarantinePath(mailbox: mailbox.name, uidValidity: uidValidity, uid: uid)
                let head = try await session.streamMessage(uid: uid, to: path)
                item = .oversize(uid: uid, size: size, path: path, head: head)
            }
            guard await handoff.put(item, bytes: item.bytes { $0.raw.count }) else { return }
        }
    }

    /// Keep, flag or move what is safely stored. The checkpoint already advanced, so a failure here is logged and can
    /// never cause a re-import.
    func afterProcessing(_ uids: [UInt32], mailbox: Configuration.Mailbox, session: IMAPSession) async {
        guard !uids.isEmpty else { return }
        do {
            switch mailbox.afterProcessing ?? .keep {
            case .keep:
                return
            case .flag:
                try await session.addFlags(UIDSet.format(uids), flags: [mailbox.processedFlag ?? "$Ticketgate"])
            case .move:
                try await session.move(UIDSet.format(uids), to: mailbox.processedFolder ?? "Processed")
            }
        } catch {
            logger.warning(
                "after-processing step failed (mail stays where it is, nothing is imported twice): \(error)",
                metadata: ["mailbox": "\(mailbox.name)"])
        }
    }

    func quarantinePath(mailbox: String, uidValidity: UInt32, uid: UInt32) throws -> String {
        let directory = URL(fileURLWithPath: configuration.store.sqlite).deletingLastPathComponent()
            .appendingPathComponent("quarantine").appendingPathComponent(mailbox)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("\(uidValidity)-\(uid).eml").path
    }

    /// Processes prepared mails of one mailbox in one transaction that also advances the checkpoint to the last.
    /// When that fails for a reason other than the templates, the chunk is done again one mail at a time, each in a
    /// savepoint: a mail that still fails is quarantined with the error, and the others are stored as usual.
    func process(_ mails: [PreparedMail], mailbox: String, uidValidity: UInt32) async throws -> [MailOutcome] {
        do {
            return try await commit(mails, mailbox: mailbox, uidValidity: uidValidity, spooled: true)
        } catch let error as SpoolNotOnDisk {
            // The rows keep the bytes themselves, as when the spool could not take them at all.
            logger.warning("raw mails stay in the database: \(error.cause)", metadata: ["mailbox": "\(mailbox)"])
            return try await commit(mails, mailbox: mailbox, uidValidity: uidValidity, spooled: false)
        }
    }

    /// Spooled bytes that did not reach the disk: the transaction that would have pointed at them is undone.
    struct SpoolNotOnDisk: Error {
        var cause: RawSpoolError
    }

    /// `process` with the mails' spooled bytes (waited for on disk before the commit), or without (their rows keep
    /// the bytes).
    private func commit(_ mails: [PreparedMail], mailbox: String, uidValidity: UInt32, spooled: Bool) async throws
        -> [MailOutcome]
    {
        guard let last = mails.last else { return [] }
        let mails =
            spooled
            ? mails
            : mails.map { mail in
                var kept = mail
                kept.spooled = nil
                return kept
            }
        // A row never points at spooled bytes before they are on disk: checked right before the commit, after the
        // transaction's work, by when the spool's own flush has usually finished.
        let spool = self.spool
        let onDisk = mails.compactMap { mail in mail.spooled.map { (location: $0, size: mail.raw.count) } }
        let waitForSpool: @Sendable () throws -> Void = {
            guard let spool, !onDisk.isEmpty else { return }
            do throws(RawSpoolError) {
                try spool.waitUntilOnDisk(onDisk)
            } catch {
                throw SpoolNotOnDisk(cause: error)
            }
        }
        let processor = self.processor
        let clock = self.clock
        let checkpoint = MailboxCheckpoint(mailbox: mailbox, uidValidity: uidValidity, lastUID: last.origin.uid)
        do {
            return try await store.write { tx in
                do {
                    try processor.anticipate(mails, in: tx)
                    let outcomes = try mails.map { try processor.process($0, now: clock(), in: tx) }
                    try tx.save(checkpoint)
                    try waitForSpool()
                    return outcomes
                } catch let error as TemplateError {
                    throw GatewayError.template(error)
                }
            }
        } catch let error as GatewayError {
            throw error
        } catch let error as SpoolNotOnDisk {
            throw error
        } catch {
            logger.warning(
                "storing \(mails.count) mails together failed (\(error)); storing them one at a time",
                metadata: ["mailbox": "\(mailbox)"])
        }
        return try await store.write { tx in
            do {
                let outcomes = try mails.map { mail in
                    do {
                        return try tx.attempt { try processor.process(mail, now: clock(), in: tx) }
                    } catch let error as TemplateError {
                        throw error
                    } catch {
                        return try processor.quarantineFailure(mail, error: error, now: clock(), in: tx)
                    }
                }
                try tx.save(checkpoint)
                try waitForSpool()
                return outcomes
            } catch let error as TemplateError {
                throw GatewayError.template(error)
            }
        }
    }

    func record(_ outcome: MailOutcome, uid: UInt32, mailbox: String, report: inout SyncReport) {
        // Built only when a line is logged (the logger's metadata argument is an autoclosure).
        var metadata: Logger.Metadata { ["mailbox": "\(mailbox)", "uid": "\(uid)"] }
        switch outcome {
        case .created(let id, let reason):
            report.created.append(id)
            logger.info("new ticket \(id): \(reason)", metadata: metadata)
        case .appended(let id, let reason):
            report.appended.append(id)
            logger.info("added to \(id): \(reason)", metadata: metadata)
        case .duplicate(let id):
            report.duplicates += 1
            logger.info("duplicate of a mail already on \(id?.description ?? "a ticket")", metadata: metadata)
        case .alreadyProcessed:
            report.duplicates += 1
        case .ignored(let reason):
            report.ignored += 1
            logger.notice("ignored: \(reason)", metadata: metadata)
        case .quarantined(let reason):
            report.quarantined += 1
            logger.warning("quarantined: \(reason)", metadata: metadata)
        }
    }

    /// Splits sorted (uid, size) pairs into fetch steps in UID order: runs of at most `maxCount` mails whose total
    /// stays under `batchBytes`, and every mail above `limit` on its own to be streamed to disk. The first run may be
    /// smaller (`firstBatchBytes`), each next one doubling, so the first mails are stored while later ones are still
    /// on the wire.
    static func plan(
        _ sizes: [(uid: UInt32, size: Int)], batchBytes: Int, limit: Int, firstBatchBytes: Int? = nil,
        maxCount: Int = .max
    ) -> [FetchPlan] {
        var result: [FetchPlan] = []
        var current: [UInt32] = []
        var total = 0
        var budget = min(firstBatchBytes ?? batchBytes, batchBytes)
        for (uid, size) in sizes {
            if size > limit {
                if !current.isEmpty { result.append(.batch(current)) }
                current = []
                total = 0
                result.append(.oversize(uid: uid, size: size))
                continue
            }
            if !current.isEmpty && (total + size > budget || current.count >= maxCount) {
                result.append(.batch(current))
                current = []
                total = 0
                budget = min(budget * 2, batchBytes)
            }
            current.append(uid)
            total += size
        }
        if !current.isEmpty { result.append(.batch(current)) }
        return result
    }
}

/// Compact IMAP sequence sets: `1:5,7,9:12`.
enum UIDSet {
    static func format(_ uids: [UInt32]) -> String {
        let sorted = uids.sorted()
        var parts: [String] = []
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index]):\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

/// Failures of a gateway run, each phrased as what to fix; `exitCode` follows sysexits.
public enum GatewayError: Error, Sendable, CustomStringConvertible {
    case mailbox(name: String, any Error)
    case template(TemplateError)
    case configuration(ConfigurationError)
    case store(String)
    case oauth(mailbox: String, message: String)

    public var description: String {
        switch self {
        case .oauth(let mailbox, let message): return "Mailbox \"\(mailbox)\": \(message)"
        case .mailbox(let name, let error): return "Mailbox \"\(name)\": \(error)"
        case .template(let error): return error.description
        case .configuration(let error): return error.description
        case .store(let message): return message
        }
    }

    /// 75 temporary (retry later), 77 refused credentials, 78 configuration.
    public var exitCode: Int32 {
        switch self {
        case .mailbox(_, let error):
            guard let transport = error as? TransportError else { return 75 }
            switch transport {
            case .authenticationFailed: return 77
            case .tlsFailed, .invalidArgument: return 78
            default: return 75
            }
        case .template, .configuration: return 78
        case .store: return 74
        case .oauth: return 77
        }
    }
}
