import Foundation
import MailFormat

/// How far one mailbox has been read. Advanced only in the transaction that records what the mails did.
public struct MailboxCheckpoint: Sendable, Equatable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var lastUID: UInt32

    public init(mailbox: String, uidValidity: UInt32, lastUID: UInt32) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.lastUID = lastUID
    }
}

/// A received mail exactly as fetched, kept for audit and reprocessing, keyed by where it came from.
public struct RawMail: Sendable, Equatable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var uid: UInt32
    public var messageID: String?
    public var bytes: [UInt8]
    public var receivedAt: Date
    /// For mail kept on disk instead of in the database: the file of its bytes (then `bytes` is empty). A mail too
    /// large to load is the whole file; a synced mail is `size` bytes at `offset` of a spool segment.
    public var path: String?
    public var offset: Int64?
    public var size: Int

    public init(
        mailbox: String, uidValidity: UInt32, uid: UInt32, messageID: String?, bytes: [UInt8], receivedAt: Date,
        path: String? = nil, offset: Int64? = nil, size: Int? = nil
    ) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
        self.messageID = messageID
        self.bytes = bytes
        self.receivedAt = receivedAt
        self.path = path
        self.offset = offset
        self.size = size ?? bytes.count
    }
}

/// An outgoing mail queued before it is rendered: the template, its values and the envelope. The sender renders and
/// composes it right before the first attempt and stores the bytes, so every retry sends the same bytes. Rendering
/// was a third of the work of a bulk sync, and a mail waiting for a mail server that is down needs none of it yet.
public struct DeferredMail: Sendable, Equatable, Codable {
    /// A template value: the only kinds the view models hold.
    public enum Value: Sendable, Equatable, Codable {
        case text(String)
        case flag(Bool)
        case number(Int)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .flag(flag)
            } else if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .flag(let flag): try container.encode(flag)
            case .number(let number): try container.encode(number)
            }
        }
    }

    /// A header field of the envelope (`X-Ticketgate-Ticket`, `Auto-Submitted`, …).
    public struct Header: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The template's name stem (`acknowledgement`).
    public var template: String
    public var locale: String
    public var values: [String: Value]
    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: [MailAddress]
    /// Without angle brackets, as in `OutgoingMail`.
    public var inReplyTo: String?
    public var references: [String]
    public var date: Date
    public var headers: [Header]
    /// The outbound article's author and whether only agents see it. The article is written when the mail is
    /// rendered, so a bulk sync writes one row per acknowledgement instead of two; nil in jobs queued before that
    /// (their article was written with the row).
    public var author: AuthorRole?
    public var isInternal: Bool?

    public init(
        template: String, locale: String, values: [String: Value], from: MailAddress, to: [MailAddress],
        replyTo: [MailAddress], inReplyTo: String?, references: [String], date: Date, headers: [Header],
        author: AuthorRole? = nil, isInternal: Bool? = nil
    ) {
        self.template = template
        self.locale = locale
        self.values = values
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.headers = headers
        self.author = author
        self.isInternal = isInternal
    }
}

/// A mail waiting to be sent: the exact bytes (so a retry resends the same Message-ID) and the envelope. A mail
/// queued by a sync carries `deferred` and empty bytes until the sender renders it.
public struct OutboxItem: Sendable, Equatable {
    /// Lifecycle of an outbox row.
    public enum Status: String, Sendable, Codable {
        case pending
        case sent
        case failed
        case dropped
    }

    public var id: Int64?
    public var ticketID: TicketID?
    public var purpose: String
    public var messageID: String
    public var mailFrom: String
    public var recipients: [String]
    public var raw: [UInt8]
    /// What to render when `raw` is still empty.
    public var deferred: DeferredMail?
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?

    public init(
        id: Int64? = nil, ticketID: TicketID?, purpose: String, messageID: String, mailFrom: String,
        recipients: [String], raw: [UInt8], deferred: DeferredMail? = nil, status: Status = .pending, attempts: Int = 0,
        nextAttemptAt: Date,
        lastError: String? = nil, createdAt: Date, sentAt: Date? = nil
    ) {
        self.id = id
        self.ticketID = ticketID
        self.purpose = purpose
        self.messageID = messageID
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.raw = raw
        self.deferred = deferred
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}

/// Read access to the ticket store, inside one consistent snapshot.
public protocol TicketReading {
    func ticket(_ id: TicketID) throws -> Ticket?
    func tickets() throws -> [Ticket]
    func articles(of id: TicketID) throws -> [Article]
    func auditTrail(of id: TicketID) throws -> [AuditEntry]
    /// The ticket that owns a Message-ID (inbound or outbound), for threading.
    func ticketID(forMessageID messageID: String) throws -> TicketID?
    /// Whether an inbound article with this Message-ID exists already (the same mail via two addresses).
    func hasInboundArticle(messageID: String) throws -> Bool
    /// Lowercased addresses of everyone taking part in a ticket.
    func participants(of id: TicketID) throws -> Set<String>
    func checkpoint(mailbox: String) throws -> MailboxCheckpoint?
    func hasRawMail(mailbox: String, uidValidity: UInt32, uid: UInt32) throws -> Bool
    func outbox(status: OutboxItem.Status?) throws -> [OutboxItem]
    func dueOutbox(now: Date, limit: Int) throws -> [OutboxItem]
    func quarantined() throws -> [QuarantineEntry]
    /// How many automatic mails (null return path) went to an address since a moment: the loop brake.
    func automaticMailCount(to address: String, since: Date) throws -> Int
    /// Whether mail to this address bounced permanently and nobody has cleared it since.
    func undeliverableReason(_ address: String) throws -> String?
    /// Whether the address takes part in any ticket (a known customer).
    func isParticipantAnywhere(_ address: String) throws -> Bool
    /// One quarantined (or dropped) mail with its raw bytes or file path.
    func quarantinedMail(id: Int64) throws -> (entry: QuarantineEntry, raw: RawMail, rawID: Int64)?
    func oauthState(mailbox: String) throws -> OAuthState?
    /// Every audit line in a period, for reports.
    func auditEntries(from: Date, to: Date) throws -> [AuditEntry]
    /// Tickets in the given states (the periodic tick needs only those that can still change by time).
    func tickets(inStates states: [TicketState]) throws -> [Ticket]
    /// The language recorded for a person (from their first mail), if any.
    func language(of address: String) throws -> String?
    /// Message-IDs the requester has seen, oldest first (outbound mail and their own public mail): what the
    /// References of the next mail chain. Read for every outgoing mail, so a store answers it without article texts.
    func conversationMessageIDs(of id: TicketID) throws -> [String]
}

/// Write access inside one transaction: everything done through it commits together or not at all.
public protocol TicketWriting: TicketReading {
    func nextTicketID(kind: TicketKind) throws -> TicketID
    func insert(_ ticket: Ticket) throws
    func update(_ ticket: Ticket) throws
    /// Stores an article. `textInRaw` says its text is exactly the text of the raw mail `rawMailID` as the parser
    /// reads it: the store may then keep the text only there (mail bodies are most of a store's bytes) and read it
    /// back by parsing the raw mail.
    func insert(_ article: Article, rawMailID: Int64?, textInRaw: Bool) throws
    func addParticipant(_ address: MailAddress, role: AuthorRole, to id: TicketID) throws
    func insert(_ raw: RawMail) throws -> Int64
    /// Stores a raw mail unless its mailbox, UIDVALIDITY and UID are already stored; its row id, nil when it was.
    func insertNew(_ raw: RawMail) throws -> Int64?
    func enqueue(_ item: OutboxItem) throws
    func append(_ entry: AuditEntry) throws
    func save(_ checkpoint: MailboxCheckpoint) throws
    func quarantine(rawMailID: Int64, reason: String, at: Date) throws
    func resolveQuarantine(id: Int64, outcome: String, at: Date) throws
    func save(_ state: OAuthState) throws
    func markUndeliverable(_ address: String, reason: String, at: Date) throws
    func clearUndeliverable(_ address: String) throws
    func markSent(outboxID: Int64, at: Date) throws
    func markAttemptFailed(outboxID: Int64, error: String, nextAttemptAt: Date, permanent: Bool) throws
    /// Queues a failed or pending mail again for now (operator `outbox retry`); false when there is no such row.
    func retryOutbox(id: Int64, at: Date) throws -> Bool
    /// Gives up on a queued mail (operator `outbox drop`); false when there is no such unsent row.
    func dropOutbox(id: Int64) throws -> Bool
    func recordLanguage(_ language: String, for address: String) throws
    /// Fills in the rendered subject, text and bytes of an outgoing mail queued unrendered: its outbox row, and its
    /// outbound article (written now, or filled in when it was queued with the row); the sender calls it right
    /// before the first attempt (see `DeferredMail`).
    func completeOutgoing(messageID: String, subject: String, text: String, raw: [UInt8]) throws
    /// Runs `body` so that, when it throws, only its own writes are undone (a savepoint) and the transaction goes
    /// on: one mail that cannot be processed is quarantined instead of failing every mail committed with it.
    func attempt<T>(_ body: () throws -> T) throws -> T
    /// Announces the mails about to be processed in this transaction, so a store can read what processing will ask
    /// about them in a few statements for the whole batch (optional: the default does nothing).
    func anticipate(_ batch: BatchPreview) throws
}

/// The mails of a batch as a store sees them before processing: their place in the mailbox, their Message-IDs and
/// the addresses processing asks about.
public struct BatchPreview: Sendable, Equatable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var uids: [UInt32]
    public var messageIDs: [String]
    public var addresses: [String]

    public init(mailbox: String, uidValidity: UInt32, uids: [UInt32], messageIDs: [String], addresses: [String]) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uids = uids
        self.messageIDs = messageIDs
        self.addresses = addresses
    }
}

extension TicketWriting {
    public func anticipate(_ batch: BatchPreview) throws {}

    public func insertNew(_ raw: RawMail) throws -> Int64? {
        if try hasRawMail(mailbox: raw.mailbox, uidValidity: raw.uidValidity, uid: raw.uid) { return nil }
        return try insert(raw)
    }

    /// Stores an article with its own text.
    public func insert(_ article: Article, rawMailID: Int64?) throws {
        try insert(article, rawMailID: rawMailID, textInRaw: false)
    }
}

/// The persistence boundary. Each `write` is one transaction, so a ticket change, its articles, outbox rows and the
/// mailbox checkpoint become durable together: that is how a crash can neither lose nor double a mail.
public protocol TicketStore: Sendable {
    func read<T: Sendable>(_ body: @Sendable (any TicketReading) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @Sendable (any TicketWriting) throws -> T) async throws -> T
}

/// A mail that could not be put on a ticket, kept with its raw bytes and the reason.
public struct QuarantineEntry: Sendable, Equatable {
    public var id: Int64
    public var reason: String
    public var createdAt: Date
    public var mailbox: String
    public var uid: UInt32
    public var messageID: String?
    public var size: Int

    public init(
        id: Int64, reason: String, createdAt: Date, mailbox: String, uid: UInt32, messageID: String?, size: Int
    ) {
        self.id = id
        self.reason = reason
        self.createdAt = createdAt
        self.mailbox = mailbox
        self.uid = uid
        self.messageID = messageID
        self.size = size
    }
}

/// The current OAuth 2 tokens of a mailbox: refresh tokens rotate, so the latest one must survive restarts.
public struct OAuthState: Sendable, Equatable {
    public var mailbox: String
    public var accessToken: String
    public var expiresAt: Date
    public var refreshToken: String

    public init(mailbox: String, accessToken: String, expiresAt: Date, refreshToken: String) {
        self.mailbox = mailbox
        self.accessToken = accessToken
        self.expiresAt = expiresAt
        self.refreshToken = refreshToken
    }
}
