import Foundation
import Logging
import MailFormat
import MailTransport
import ServiceDesk

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

    public init() {}
}

/// One sync cycle: for each mailbox fetch what is new since the checkpoint, process each mail in its own
/// transaction (ticket change + outbox + checkpoint together), then drain the outbox.
public struct SyncEngine: Sendable {
    public let configuration: Configuration
    public let store: any TicketStore
    public let processor: MailProcessor
    public let logger: Logger
    /// Upper bound of bytes fetched in one `UID FETCH` round trip.
    public var batchBytes = 8 << 20
    public var clock: @Sendable () -> Date = { Date() }

    public init(configuration: Configuration, store: any TicketStore, templates: TemplateSet, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.processor = MailProcessor(configuration: configuration, templates: templates)
        self.logger = logger
    }

    public func run() async throws -> SyncReport {
        var report = SyncReport()
        for mailbox in configuration.mailboxes {
            try await sync(mailbox, report: &report)
        }
        try await OutboxSender(configuration: configuration, store: store, logger: logger, clock: clock)
            .drain(report: &report)
        return report
    }

    func endpoint(for mailbox: Configuration.Mailbox) -> IMAPEndpoint {
        let imap = mailbox.imap
        return IMAPEndpoint(
            url: URL(string: imap.url)!, username: imap.username, password: imap.password?.value,
            oauthToken: imap.oauthToken?.value, security: imap.tls.flatMap(IMAPEndpoint.Security.init(rawValue:)),
            caFile: imap.caFile, verifyPeer: imap.verifyCertificate ?? true)
    }

    func sync(_ mailbox: Configuration.Mailbox, report: inout SyncReport) async throws {
        let session = IMAPSession(endpoint: endpoint(for: mailbox))
        do {
            try await session.connect()
        } catch {
            throw GatewayError.mailbox(name: mailbox.name, error)
        }
        defer { Task { [session] in await session.logout() } }
        let folder = mailbox.imap.folder ?? "INBOX"
        let status = try await session.select(folder)
        let saved = try await store.read { try $0.checkpoint(mailbox: mailbox.name) }
        var lastUID: UInt32 = 0
        if let saved, saved.uidValidity == status.uidValidity {
            lastUID = saved.lastUID
        } else if let saved {
            logger.warning(
                "UIDVALIDITY changed; resyncing with Message-ID deduplication",
                metadata: ["mailbox": "\(mailbox.name)", "old": "\(saved.uidValidity)", "new": "\(status.uidValidity)"])
        }
        if let next = status.uidNext, next <= lastUID + 1, saved?.uidValidity == status.uidValidity {
            logger.debug("no new mail", metadata: ["mailbox": "\(mailbox.name)"])
            return
        }
        let uids = try await session.uidSearch("UID \(lastUID + 1):*").filter { $0 > lastUID }
        guard !uids.isEmpty else { return }
        let sizes = try await session.fetchSizes(UIDSet.format(uids))
        for batch in Self.batches(sizes.sorted { $0.uid < $1.uid }, limit: batchBytes) {
            let messages = try await session.fetchMessages(UIDSet.format(batch))
            for fetched in messages.sorted(by: { $0.uid < $1.uid }) where fetched.uid > lastUID {
                report.fetched += 1
                let outcome = try await process(fetched, mailbox: mailbox.name, uidValidity: status.uidValidity)
                lastUID = fetched.uid
                record(outcome, uid: fetched.uid, mailbox: mailbox.name, report: &report)
            }
        }
    }

    func process(_ fetched: FetchedMessage, mailbox: String, uidValidity: UInt32) async throws -> MailOutcome {
        let message = MailParser.parse(fetched.raw)
        let origin = MailOrigin(mailbox: mailbox, uidValidity: uidValidity, uid: fetched.uid)
        let processor = self.processor
        let now = clock()
        let raw = fetched.raw
        return try await store.write { tx in
            let outcome: MailOutcome
            do {
                outcome = try processor.process(raw: raw, message: message, origin: origin, now: now, in: tx)
            } catch let error as TemplateError {
                throw GatewayError.template(error)
            }
            try tx.save(MailboxCheckpoint(mailbox: mailbox, uidValidity: uidValidity, lastUID: origin.uid))
            return outcome
        }
    }

    func record(_ outcome: MailOutcome, uid: UInt32, mailbox: String, report: inout SyncReport) {
        let metadata: Logger.Metadata = ["mailbox": "\(mailbox)", "uid": "\(uid)"]
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

    /// Splits sorted (uid, size) pairs into runs whose total size stays under `limit` (a single larger mail is its
    /// own batch).
    static func batches(_ sizes: [(uid: UInt32, size: Int)], limit: Int) -> [[UInt32]] {
        var result: [[UInt32]] = []
        var current: [UInt32] = []
        var total = 0
        for (uid, size) in sizes {
            if !current.isEmpty && total + size > limit {
                result.append(current)
                current = []
                total = 0
            }
            current.append(uid)
            total += size
        }
        if !current.isEmpty { result.append(current) }
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

    public var description: String {
        switch self {
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
        }
    }
}
