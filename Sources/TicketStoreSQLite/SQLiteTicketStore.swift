import CSQLiteConfig
import Foundation
import GRDB
import MailFormat
import ServiceDesk

/// The embedded default store: one SQLite file in WAL mode via GRDB, with migrations; `write` is one transaction.
public final class SQLiteTicketStore: TicketStore {
    private let pool: DatabasePool
    private let checkpointer: WALCheckpointer

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        _ = Self.processSetUp
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            // Checkpoints run on their own connection and thread (`WALCheckpointer`) after each write. That one
            // copies what it can while the writer goes on, but the log only starts over when a write begins with
            // everything copied, which a busy writer never sees: past 8 MB of log the writer checkpoints
            // itself, finds most frames already copied, and the log restarts. A bulk import's log stayed at 9 MB
            // instead of growing to 47 MB. A new store gets 16 KB pages: a quarter of the log frames (two writes each)
            // and shallower indexes for the same rows; a 5,000-mail sync took 10 ms less (A/B of 15 runs). A store
            // made with 4 KB pages keeps them (WAL mode cannot change it). A multi-row insert keeps a statement journal
            // (the pages it changes, to undo it alone); past 64 KB SQLite spilled it to a temporary file: a 5,000-mail
            // sync wrote 61 MB to 15 of them. In memory it never touches the disk.
            try db.execute(sql: "PRAGMA page_size = 16384; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY")
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(1, (8 << 20) / pageSize))")
        }
        // Two processes opening a new store at once (cron overlapping a manual run) would both see a migration as
        // pending and the second would fail on "already exists": migrations run under an exclusive file lock.
        let lock = open(path + ".migrate-lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        defer { if lock >= 0 { close(lock) } }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        checkpointer = try WALCheckpointer(path: path)
    }

    /// SQLite's process-wide settings, made once before its first connection: connections without a mutex of their
    /// own (GRDB serializes each on its queue, and documents this mode as the one it supports) and no memory
    /// statistics (a global mutex around every allocation). A bulk sync's writer took every lock for every call.
    private static let processSetUp: Void = {
        _ = tg_sqlite_config_multithread()
        _ = tg_sqlite_config_memstatus(0)
    }()

    public func read<T: Sendable>(_ body: @Sendable (any TicketReading) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteTransaction(db: db)) }
    }

    public func write<T: Sendable>(_ body: @Sendable (any TicketWriting) throws -> T) async throws -> T {
        let result = try await pool.write { db in
            let tx = SQLiteTransaction(db: db)
            let result = try body(tx)
            try tx.finish()
            return result
        }
        checkpointer.request()
        return result
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ticket_counter (kind TEXT PRIMARY KEY, last_number INTEGER NOT NULL);
                    CREATE TABLE ticket (
                        id TEXT PRIMARY KEY, kind TEXT NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL,
                        subject TEXT NOT NULL, requester_name TEXT, requester_address TEXT NOT NULL,
                        priority INTEGER NOT NULL, assignee TEXT, mailbox TEXT NOT NULL,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL, resolved_at REAL, closed_at REAL,
                        first_response_at REAL, UNIQUE (kind, number));
                    CREATE TABLE raw_mail (
                        id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, uid_validity INTEGER NOT NULL,
                        uid INTEGER NOT NULL, message_id TEXT, size INTEGER NOT NULL, bytes BLOB NOT NULL,
                        received_at REAL NOT NULL, UNIQUE (mailbox, uid_validity, uid));
                    CREATE TABLE article (
                        id INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES ticket(id), direction TEXT NOT NULL,
                        author TEXT NOT NULL, from_name TEXT, from_address TEXT NOT NULL, to_json TEXT NOT NULL,
                        subject TEXT NOT NULL, message_id TEXT NOT NULL, text TEXT NOT NULL, internal INTEGER NOT NULL,
                        raw_mail_id INTEGER REFERENCES raw_mail(id), created_at REAL NOT NULL);
                    CREATE INDEX article_ticket ON article(ticket_id, id);
                    CREATE UNIQUE INDEX article_inbound_message ON article(message_id) WHERE direction = 'in';
                    CREATE TABLE message_ref (message_id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES ticket(id));
                    CREATE TABLE participant (
                        ticket_id TEXT NOT NULL REFERENCES ticket(id), address TEXT NOT NULL, name TEXT,
                        role TEXT NOT NULL, PRIMARY KEY (ticket_id, address));
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL, at REAL NOT NULL, actor TEXT NOT NULL,
                        via_message_id TEXT, action TEXT NOT NULL, old_value TEXT, new_value TEXT);
                    CREATE INDEX audit_ticket ON audit(ticket_id, id);
                    CREATE TABLE mailbox_checkpoint (
                        mailbox TEXT PRIMARY KEY, uid_validity INTEGER NOT NULL, last_uid INTEGER NOT NULL,
                        updated_at REAL NOT NULL);
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY, ticket_id TEXT, purpose TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,
                        mail_from TEXT NOT NULL, recipients_json TEXT NOT NULL, raw BLOB NOT NULL,
                        status TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at REAL NOT NULL,
                        last_error TEXT, created_at REAL NOT NULL, sent_at REAL);
                    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
                    CREATE TABLE quarantine (
                        id INTEGER PRIMARY KEY, raw_mail_id INTEGER NOT NULL REFERENCES raw_mail(id),
                        reason TEXT NOT NULL, created_at REAL NOT NULL, resolved_at REAL);
                    """)
        }
        migrator.registerMigration("v2-ticket-document") { db in
            // The full ticket (every process field) as JSON; the columns above stay for listing and indexes.
            try db.execute(sql: "ALTER TABLE ticket ADD COLUMN document TEXT")
        }
        migrator.registerMigration("v3-intake") { db in
            try db.execute(
                sql: """
                    CREATE TABLE undeliverable (address TEXT PRIMARY KEY, reason TEXT NOT NULL, since REAL NOT NULL);
                    CREATE TABLE outbox_recipient (outbox_id INTEGER NOT NULL REFERENCES outbox(id), address TEXT NOT NULL,
                        automatic INTEGER NOT NULL, created_at REAL NOT NULL);
                    CREATE INDEX outbox_recipient_address ON outbox_recipient(address, created_at);
                    CREATE INDEX participant_address ON participant(address);
                    """)
        }
        migrator.registerMigration("v4-sync") { db in
            try db.execute(
                sql: """
                    ALTER TABLE raw_mail ADD COLUMN path TEXT;
                    ALTER TABLE quarantine ADD COLUMN outcome TEXT;
                    CREATE TABLE oauth_state (mailbox TEXT PRIMARY KEY, access_token TEXT NOT NULL,
                        expires_at REAL NOT NULL, refresh_token TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v5-person-language") { db in
            try db.execute(sql: "CREATE TABLE person (address TEXT PRIMARY KEY, language TEXT NOT NULL)")
        }
        migrator.registerMigration("v6-ticket-state-index") { db in
            // The timer tick reads tickets by state on every sync: without an index an idle sync grows with history.
            try db.execute(sql: "CREATE INDEX ticket_state ON ticket(state)")
        }
        migrator.registerMigration("v7-deferred-outbox") { db in
            // Outgoing mail queued unrendered (`DeferredMail` as JSON) and the outbound article its rendering fills.
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN deferred_json TEXT;
                    ALTER TABLE outbox ADD COLUMN article_id INTEGER;
                    """)
        }
        migrator.registerMigration("v8-article-text-in-raw") { db in
            // An inbound article whose text is its raw mail's text keeps it only there (1: read by parsing).
            try db.execute(sql: "ALTER TABLE article ADD COLUMN text_in_raw INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v9-without-rowid") { db in
            // Small rows found only by their key: stored in the key's own b-tree (WITHOUT ROWID) instead of a rowid
            // table plus a unique index, so each mail's message references, participant, person and recipient
            // rows cost one b-tree insert each instead of two.
            try db.execute(
                sql: """
                    CREATE TABLE message_ref_v9 (
                        message_id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES ticket(id)) WITHOUT ROWID;
                    INSERT INTO message_ref_v9 SELECT message_id, ticket_id FROM message_ref;
                    DROP TABLE message_ref;
                    ALTER TABLE message_ref_v9 RENAME TO message_ref;
                    CREATE TABLE participant_v9 (
                        ticket_id TEXT NOT NULL REFERENCES ticket(id), address TEXT NOT NULL, name TEXT,
                        role TEXT NOT NULL, PRIMARY KEY (ticket_id, address)) WITHOUT ROWID;
                    INSERT INTO participant_v9 SELECT ticket_id, address, name, role FROM participant;
                    DROP TABLE participant;
                    ALTER TABLE participant_v9 RENAME TO participant;
                    CREATE INDEX participant_address ON participant(address);
                    CREATE TABLE person_v9 (address TEXT PRIMARY KEY, language TEXT NOT NULL) WITHOUT ROWID;
                    INSERT INTO person_v9 SELECT address, language FROM person;
                    DROP TABLE person;
                    ALTER TABLE person_v9 RENAME TO person;
                    CREATE TABLE outbox_recipient_v9 (
                        outbox_id INTEGER NOT NULL REFERENCES outbox(id), address TEXT NOT NULL,
                        automatic INTEGER NOT NULL, created_at REAL NOT NULL,
                        PRIMARY KEY (address, created_at, outbox_id)) WITHOUT ROWID;
                    INSERT OR IGNORE INTO outbox_recipient_v9 SELECT outbox_id, address, automatic, created_at
                        FROM outbox_recipient;
                    DROP TABLE outbox_recipient;
                    ALTER TABLE outbox_recipient_v9 RENAME TO outbox_recipient;
                    """)
        }
        migrator.registerMigration("v10-raw-spool") { db in
            // A synced mail's bytes are in a spool segment (`RawSpool`): `path`, and `file_offset` within it.
            try db.execute(sql: "ALTER TABLE raw_mail ADD COLUMN file_offset INTEGER")
        }
        migrator.registerMigration("v11-person-facts") { db in
            // What the intake asks about an address in one row, written once per transaction: its language, whether
            // it takes part in any ticket (was the `participant_address` index), and the times of the automatic
            // mails of its last 70 minutes (were `outbox_recipient` rows, kept for history). A bulk sync wrote three
            // b-trees keyed in random order per new sender, and each commit rewrote most of their pages.
            try db.execute(
                sql: """
                    CREATE TABLE person_v11 (
                        address TEXT PRIMARY KEY, language TEXT, participant INTEGER NOT NULL DEFAULT 0,
                        automatic TEXT) WITHOUT ROWID;
                    INSERT INTO person_v11 (address, language) SELECT address, language FROM person;
                    INSERT INTO person_v11 (address, participant) SELECT DISTINCT address, 1 FROM participant WHERE true
                        ON CONFLICT(address) DO UPDATE SET participant = 1;
                    INSERT INTO person_v11 (address, automatic)
                        SELECT address, group_concat(printf('%!.17g', created_at)) FROM outbox_recipient
                        WHERE automatic = 1
                            AND created_at >= (SELECT MAX(created_at) FROM outbox_recipient WHERE automatic = 1) - 4200
                        GROUP BY address
                        ON CONFLICT(address) DO UPDATE SET automatic = excluded.automatic;
                    DROP TABLE person;
                    ALTER TABLE person_v11 RENAME TO person;
                    DROP INDEX participant_address;
                    """)
        }
        migrator.registerMigration("v12-queued-mail-index") { db in
            // The mails of a ticket still queued unrendered (no article yet): the conversation and the article list
            // ask for them by ticket, which scanned the whole outbox. Rows leave this small index when rendered.
            try db.execute(
                sql: """
                    CREATE INDEX outbox_queued_ticket ON outbox(ticket_id)
                        WHERE article_id IS NULL AND deferred_json IS NOT NULL
                    """)
        }
        return migrator
    }
}

/// One mail of a conversation as the database orders it: by time, an article before a mail queued at the same
/// instant, then by row.
struct ConversationEntry: Comparable {
    var at: Double
    var queued: Bool
    var rowID: Int64
    var messageID: String

    static func < (a: Self, b: Self) -> Bool {
        (a.at, a.queued ? 1 : 0, a.rowID) < (b.at, b.queued ? 1 : 0, b.rowID)
    }
}

/// What a transaction knows about an address: its person row and undeliverable reason as read, with what the
/// transaction changed since.
struct KnownPerson {
    var undeliverable: String?
    var language: String?
    var participant: Bool
    var automatic: [Double]
}

/// Facts about an address that a transaction has learnt but not written yet (nil: unchanged).
struct PendingPerson {
    var language: String?
    var participant = false
    /// The whole list to keep (`Person.recent`), when an automatic mail was queued.
    var automatic: [Double]?
}

/// How a person row keeps the times of automatic mails: exact decimal text, only those of the `window` before the
/// latest, which covers the hour the rate limit asks about.
enum Person {
    static let window: Double = 4200

    /// The key an address is known by: lowercased, without a new string when it already is (most addresses).
    static func key(_ address: String) -> String {
        address.utf8.contains { $0 >= 0x80 || ($0 >= 0x41 && $0 <= 0x5A) } ? address.lowercased() : address
    }

    static func times(_ text: String?) -> [Double] {
        text.map { $0.split(separator: ",").compactMap { Double($0) } } ?? []
    }

    static func text(_ times: [Double]) -> String {
        times.map { "\($0)" }.joined(separator: ",")  // Swift prints the shortest text that reads back exactly
    }

    static func recent(_ times: [Double]) -> [Double] {
        guard let latest = times.max() else { return [] }
        return times.filter { $0 >= latest - window }
    }
}

/// `TicketReading`/`TicketWriting` over one GRDB database connection inside a transaction.
final class SQLiteTransaction: TicketWriting {
    /// The connection itself: only for the queued rows' own inserts and for what just ran on `db`.
    private let connection: Database
    /// The connection with every queued row (see `pending`) written first: whatever runs on it sees them.
    var db: Database {
        get throws {
            try flushPending()
            return connection
        }
    }
    /// Row ids of the outbound articles inserted in this transaction, recorded with their outbox rows.
    private var outboundArticles: [String: Int64] = [:]
    /// What this transaction knows about an address (lowercased), read once by `learn` and kept up to date as it
    /// writes: a mail's sender is asked about by the intake, the language choice and the acknowledgement, so one
    /// lookup per question instead of one per question and fact.
    private var people: [String: KnownPerson] = [:]
    /// What this transaction learnt that the `person` rows do not hold yet, written once per address by `finish()`:
    /// a bulk sync tells the same new sender's row its language, its first ticket and its acknowledgement.
    private var pendingPeople: [String: PendingPerson] = [:]
    /// The conversation (`conversationMessageIDs`) of each ticket created in this transaction, kept as its articles
    /// and unrendered mails are written, with what the database orders them by: a new ticket's acknowledgement asked
    /// the database for the one mail it had just written.
    private var newConversations: [TicketID: [ConversationEntry]] = [:]
    /// The last ticket number per kind handed out in this transaction, written back once by `finish()`: a bulk sync
    /// numbers hundreds of tickets per transaction.
    private var counters: [TicketKind: Int64] = [:]
    /// GRDB's cached statements by the address of their SQL literal: looking them up by SQL text hashed the whole
    /// text for every statement of every mail.
    private var statements: [UnsafeRawPointer: Statement] = [:]
    /// The multi-row inserts of `insertRows`, by their head's address and row count.
    private var multiRowStatements: [MultiRowKey: Statement] = [:]
    /// Outbox rows queued by this transaction so far: the order of its new tickets' queued mails.
    private var queuedOutboxRows: Int64 = 0
    /// Rows inserted by this transaction but not yet written: inserted together, many per statement, by
    /// `flushPending()`, at the commit and before any other statement runs (`db`, `rows`). A bulk sync's writer
    /// spent most of its SQLite time on one statement per row (raw mail, ticket, article, participant, outbox).
    private var pending = PendingRows()
    /// The last row id handed out per table whose rows are queued with their ids (nil: read again when needed).
    private var lastRawMailID: Int64?
    private var lastArticleID: Int64?
    /// What `anticipate` read for a batch: the mailbox's raw mails already stored among the batch's UIDs.
    private var rawPreview: RawPreview?
    /// The Message-IDs `anticipate` asked about, and those of them that have an inbound article.
    private var askedMessageIDs: Set<String> = []
    private var inboundMessageIDs: Set<String> = []
    /// Message-IDs of the inbound articles inserted by this transaction.
    private var insertedInbound: Set<String> = []

    /// The raw mails of one mailbox and UIDVALIDITY a batch brings (`uids`), those among them stored before it
    /// (`stored`) and those this transaction inserted since (`inserted`).
    struct RawPreview {
        var mailbox: String
        var uidValidity: UInt32
        var uids: Set<UInt32>
        var stored: Set<UInt32>
        var inserted: Set<UInt32> = []

        func covers(_ raw: RawMail) -> Bool {
            raw.mailbox == mailbox && raw.uidValidity == uidValidity && uids.contains(raw.uid)
        }
    }

    struct MultiRowKey: Hashable {
        var head: UnsafeRawPointer
        var rows: Int
    }

    /// Each table's queued rows, flattened (`columns` values per row), inserted in this order (the rows a row
    /// refers to before it).
    struct PendingRows {
        var rawMails: [SQLArgument] = []
        var tickets: [SQLArgument] = []
        var articles: [SQLArgument] = []
        var participants: [SQLArgument] = []
        var outbox: [SQLArgument] = []
        var references: [SQLArgument] = []
        var audit: [SQLArgument] = []

        var isEmpty: Bool {
            rawMails.isEmpty && tickets.isEmpty && articles.isEmpty && participants.isEmpty && outbox.isEmpty
                && references.isEmpty && audit.isEmpty
        }
    }

    func prepared(_ sql: StaticString) throws -> SQLiteStatement {
        let key = UnsafeRawPointer(sql.utf8Start)
        if let statement = statements[key] { return statement.sqliteStatement }
        let statement = try connection.cachedStatement(sql: sql.description)
        statements[key] = statement
        return statement.sqliteStatement
    }

    func multiRowStatement(_ head: StaticString, columns: Int, rows: Int, then tail: StaticString) throws
        -> SQLiteStatement
    {
        let key = MultiRowKey(head: UnsafeRawPointer(head.utf8Start), rows: rows)
        if let statement = multiRowStatements[key] { return statement.sqliteStatement }
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        let statement = try connection.cachedStatement(
            sql: "\(head) VALUES " + Array(repeating: row, count: rows).joined(separator: ", ") + " \(tail)")
        multiRowStatements[key] = statement
        return statement.sqliteStatement
    }

    /// Inserts the queued rows (see `pending`): table by table in `PendingRows` order, each in the order queued.
    func flushPending() throws {
        guard !pending.isEmpty else { return }
        let rows = pending
        pending = PendingRows()
        try insertRows(Self.rawMailInsert, columns: 10, rows.rawMails)
        try insertRows(Self.ticketInsert, columns: 16, rows.tickets)
        try insertRows(Self.articleInsert, columns: 14, rows.articles)
        try insertRows(
            "INSERT OR IGNORE INTO participant (ticket_id, address, name, role)", columns: 4, rows.participants)
        try insertRows(Self.outboxInsert, columns: Self.outboxColumns, rows.outbox)
        try insertRows(
            "INSERT OR IGNORE INTO message_ref (message_id, ticket_id)", columns: 2, rows.references)
        try insertRows(
            "INSERT INTO audit (ticket_id, at, actor, via_message_id, action, old_value, new_value)", columns: 7,
            rows.audit)
    }

    static let outboxInsert: StaticString = """
        INSERT INTO outbox (ticket_id, purpose, message_id, mail_from, recipients_json, raw, status, attempts,
            next_attempt_at, last_error, created_at, sent_at, deferred_json, article_id)
        """
    static let outboxColumns = 14
    static let rawMailInsert: StaticString = """
        INSERT INTO raw_mail (id, mailbox, uid_validity, uid, message_id, size, bytes, received_at, path, file_offset)
        """
    static let ticketInsert: StaticString = """
        INSERT INTO ticket (id, kind, number, state, subject, requester_name, requester_address, priority,
            assignee, mailbox, created_at, updated_at, resolved_at, closed_at, first_response_at, document)
        """
    static let articleInsert: StaticString = """
        INSERT INTO article (id, ticket_id, direction, author, from_name, from_address, to_json, subject,
            message_id, text, internal, raw_mail_id, created_at, text_in_raw)
        """

    init(db: Database) {
        self.connection = db
    }

    // MARK: reading

    func ticket(_ id: TicketID) throws -> Ticket? {
        let row = try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT * FROM ticket WHERE id = ?"), arguments: [id.description])
        return row.flatMap(Self.ticket(from:))
    }

    func tickets() throws -> [Ticket] {
        let rows = try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM ticket ORDER BY created_at, kind, number"))
        return rows.compactMap(Self.ticket(from:))
    }

    static func ticket(from row: Row) -> Ticket? {
        if let document = row["document"] as String?,
            let ticket = try? JSONDecoder.store.decode(Ticket.self, from: Data(document.utf8))
        {
            return ticket
        }
        guard let id = TicketID(row["id"] as String) else { return nil }
        return Ticket(
            id: id, state: TicketState(rawValue: row["state"]) ?? .new, subject: row["subject"],
            requester: MailAddress(name: row["requester_name"], address: row["requester_address"]),
            priority: Priority(rawValue: row["priority"]) ?? .p3, assignee: row["assignee"], mailbox: row["mailbox"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            resolvedAt: (row["resolved_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            closedAt: (row["closed_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            firstResponseAt: (row["first_response_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    func articles(of id: TicketID) throws -> [Article] {
        let articles = try Row.fetchAll(
            try db.cachedStatement(
                sql: """
                    SELECT a.*, CASE WHEN a.text_in_raw THEN r.bytes END AS raw_bytes,
                        CASE WHEN a.text_in_raw THEN r.path END AS raw_path, r.file_offset AS raw_offset,
                        r.size AS raw_size
                    FROM article a LEFT JOIN raw_mail r ON r.id = a.raw_mail_id WHERE a.ticket_id = ?
                    ORDER BY a.created_at, a.id
                    """),
            arguments: [id.description]
        )
        .map { row -> Article in
            var text: String = row["text"]
            if row["text_in_raw"] as Bool {
                text = Self.rawText(
                    RawMail(
                        mailbox: "", uidValidity: 0, uid: 0, messageID: nil,
                        bytes: (row["raw_bytes"] as Data?).map { [UInt8]($0) } ?? [], receivedAt: Date(),
                        path: row["raw_path"], offset: row["raw_offset"], size: row["raw_size"] ?? 0))
            }
            return Article(
                ticketID: id, direction: Article.Direction(rawValue: row["direction"]) ?? .inbound,
                author: AuthorRole(rawValue: row["author"]) ?? .requester,
                from: MailAddress(name: row["from_name"], address: row["from_address"]),
                to: Self.decodeAddresses(row["to_json"]), subject: row["subject"], messageID: row["message_id"],
                text: text, isInternal: row["internal"],
                createdAt: Date(timeIntervalSince1970: row["created_at"]))
        }
        // Mails queued unrendered have no article yet: shown as outbound ones without subject and text (queued).
        let queued = try Row.fetchAll(
            try db.cachedStatement(sql: Self.queuedMailsSQL.description), arguments: [id.description]
        ).compactMap { row -> Article? in
            guard let job = Self.decodeDeferred(row["deferred_json"]) else { return nil }
            return Self.outboundArticle(
                ticketID: id, job: job, messageID: row["message_id"], subject: "", text: "",
                createdAt: Date(timeIntervalSince1970: row["created_at"]))
        }
        // Merged by time; at the same instant the article first (the mail that caused the queued one).
        var merged = articles
        for mail in queued {
            let index = merged.lastIndex { $0.createdAt <= mail.createdAt }.map { $0 + 1 } ?? 0
            merged.insert(mail, at: index)
        }
        return merged
    }

    /// The outbound article of a mail queued unrendered, with the parts it has (none until it is rendered).
    static func outboundArticle(
        ticketID: TicketID, job: DeferredMail, messageID: String, subject: String, text: String, createdAt: Date
    ) -> Article {
        Article(
            ticketID: ticketID, direction: .outbound, author: job.author ?? .system, from: job.from, to: job.to,
            subject: subject, messageID: messageID, text: text, isInternal: job.isInternal ?? false,
            createdAt: createdAt)
    }

    static func decodeDeferred(_ json: String?) -> DeferredMail? {
        json.flatMap { try? JSONDecoder.store.decode(DeferredMail.self, from: Data($0.utf8)) }
    }

    /// The text of an article kept in its raw mail: the raw mail parsed again, as the intake parsed it.
    static func rawText(_ raw: RawMail) -> String {
        guard let bytes = raw.contents() else { return "(text unavailable: its raw mail is gone)" }
        return MailParser.parse(bytes).text
    }

    /// The requester-visible mails of a ticket in time order: its articles, and the mails queued unrendered that
    /// have none yet (at the same instant the article first, as the mail that caused the queued one).
    func conversationMessageIDs(of id: TicketID) throws -> [String] {
        if let known = newConversations[id] { return known.sorted().map(\.messageID) }
        return try texts(Self.conversationSQL, .text(id.description))
    }

    /// A ticket's mails queued unrendered (they have no article yet), found through `outbox_queued_ticket`.
    static let queuedMailsSQL: StaticString = """
        SELECT message_id, deferred_json, created_at FROM outbox
        WHERE ticket_id = ?1 AND article_id IS NULL AND deferred_json IS NOT NULL ORDER BY id
        """

    /// A ticket's conversation: its requester-visible articles and its mails queued unrendered, in time order.
    static let conversationSQL: StaticString = """
        SELECT message_id FROM (
            SELECT message_id, created_at, 0 AS queued, id FROM article WHERE ticket_id = ?1
                AND (direction = 'out' OR (internal = 0 AND author = 'requester'))
            UNION ALL
            SELECT message_id, created_at, 1, id FROM outbox WHERE ticket_id = ?1 AND article_id IS NULL
                AND deferred_json IS NOT NULL)
        ORDER BY created_at, queued, id
        """

    func auditTrail(of id: TicketID) throws -> [AuditEntry] {
        return try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM audit WHERE ticket_id = ? ORDER BY id"),
            arguments: [id.description]
        )
        .map { row in
            AuditEntry(
                ticketID: id, at: Date(timeIntervalSince1970: row["at"]), actor: row["actor"],
                viaMessageID: row["via_message_id"], action: row["action"], oldValue: row["old_value"],
                newValue: row["new_value"])
        }
    }

    /// The ticket a Message-ID belongs to: an outbound mail's from `message_ref` (which older stores also filled
    /// for inbound mail), else the inbound article's own.
    func ticketID(forMessageID messageID: String) throws -> TicketID? {
        return try text(
            """
            SELECT ticket_id FROM message_ref WHERE message_id = ?1
            UNION ALL SELECT ticket_id FROM article WHERE message_id = ?1 AND direction = 'in' LIMIT 1
            """, .text(messageID)
        ).flatMap { TicketID($0) }
    }

    func hasInboundArticle(messageID: String) throws -> Bool {
        if insertedInbound.contains(messageID) { return true }
        if askedMessageIDs.contains(messageID) { return inboundMessageIDs.contains(messageID) }
        return try integer(
            "SELECT EXISTS (SELECT 1 FROM article WHERE message_id = ? AND direction = 'in')", .text(messageID)) == 1
    }

    func participants(of id: TicketID) throws -> Set<String> {
        Set(try texts("SELECT address FROM participant WHERE ticket_id = ?", .text(id.description)))
    }

    func checkpoint(mailbox: String) throws -> MailboxCheckpoint? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT * FROM mailbox_checkpoint WHERE mailbox = ?"), arguments: [mailbox]
        ).map {
            MailboxCheckpoint(
                mailbox: mailbox, uidValidity: UInt32(truncatingIfNeeded: $0["uid_validity"] as Int64),
                lastUID: UInt32(truncatingIfNeeded: $0["last_uid"] as Int64))
        }
    }

    func hasRawMail(mailbox: String, uidValidity: UInt32, uid: UInt32) throws -> Bool {
        try integer(
            "SELECT EXISTS (SELECT 1 FROM raw_mail WHERE mailbox = ? AND uid_validity = ? AND uid = ?)",
            .text(mailbox), .integer(Int64(uidValidity)), .integer(Int64(uid))) == 1
    }

    func outbox(status: OutboxItem.Status?) throws -> [OutboxItem] {
        if let status {
            return try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT * FROM outbox WHERE status = ? ORDER BY id"),
                arguments: [status.rawValue]
            )
            .map(Self.outboxItem(from:))
        }
        return try Row.fetchAll(try db.cachedStatement(sql: "SELECT * FROM outbox ORDER BY id")).map(
            Self.outboxItem(from:))
    }

    func dueOutbox(now: Date, limit: Int) throws -> [OutboxItem] {
        return try Row.fetchAll(
            try db.cachedStatement(
                sql: "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?"),
            arguments: [now.timeIntervalSince1970, limit]
        ).map(Self.outboxItem(from:))
    }

    static func outboxItem(from row: Row) -> OutboxItem {
        OutboxItem(
            id: row["id"], ticketID: (row["ticket_id"] as String?).flatMap { TicketID($0) }, purpose: row["purpose"],
            messageID: row["message_id"], mailFrom: row["mail_from"],
            recipients: (try? JSONDecoder().decode([String].self, from: Data((row["recipients_json"] as String).utf8)))
                ?? [],
            raw: [UInt8](row["raw"] as Data),
            deferred: decodeDeferred(row["deferred_json"]),
            status: OutboxItem.Status(rawValue: row["status"]) ?? .pending,
            attempts: row["attempts"], nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]),
            lastError: row["last_error"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
            sentAt: (row["sent_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    func quarantined() throws -> [QuarantineEntry] {
        try Row.fetchAll(
            try db.cachedStatement(
                sql: """
                    SELECT q.id, q.reason, q.created_at, r.mailbox, r.uid, r.message_id, r.size FROM quarantine q
                    JOIN raw_mail r ON r.id = q.raw_mail_id WHERE q.resolved_at IS NULL ORDER BY q.id
                    """)
        ).map { row in
            QuarantineEntry(
                id: row["id"], reason: row["reason"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                mailbox: row["mailbox"], uid: UInt32(truncatingIfNeeded: row["uid"] as Int64),
                messageID: row["message_id"], size: row["size"])
        }
    }

    func quarantinedMail(id: Int64) throws -> (entry: QuarantineEntry, raw: RawMail, rawID: Int64)? {
        guard
            let row = try Row.fetchOne(
                try db.cachedStatement(
                    sql: """
                        SELECT q.id AS qid, q.reason, q.created_at AS qcreated, q.resolved_at AS qresolved, r.* FROM quarantine q
                        JOIN raw_mail r ON r.id = q.raw_mail_id WHERE q.id = ?
                        """), arguments: [id])
        else { return nil }
        let uid = UInt32(truncatingIfNeeded: row["uid"] as Int64)
        let entry = QuarantineEntry(
            id: row["qid"], reason: row["reason"], createdAt: Date(timeIntervalSince1970: row["qcreated"]),
            mailbox: row["mailbox"], uid: uid, messageID: row["message_id"], size: row["size"])
        let raw = RawMail(
            mailbox: row["mailbox"], uidValidity: UInt32(truncatingIfNeeded: row["uid_validity"] as Int64), uid: uid,
            messageID: row["message_id"], bytes: [UInt8](row["bytes"] as Data),
            receivedAt: Date(timeIntervalSince1970: row["received_at"]), path: row["path"], offset: row["file_offset"],
            size: row["size"])
        guard (row["qresolved"] as Double?) == nil else { return nil }
        return (entry, raw, row["id"])
    }

    func auditEntries(from: Date, to: Date) throws -> [AuditEntry] {
        return try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM audit WHERE at >= ? AND at < ? ORDER BY id"),
            arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970]
        ).compactMap { row in
            guard let id = TicketID(row["ticket_id"] as String) else { return nil }
            return AuditEntry(
                ticketID: id, at: Date(timeIntervalSince1970: row["at"]), actor: row["actor"],
                viaMessageID: row["via_message_id"], action: row["action"], oldValue: row["old_value"],
                newValue: row["new_value"])
        }
    }

    func tickets(inStates states: [TicketState]) throws -> [Ticket] {
        guard !states.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: states.count).joined(separator: ", ")
        return try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM ticket WHERE state IN (\(marks)) ORDER BY created_at"),
            arguments: StatementArguments(states.map(\.rawValue))
        ).compactMap(Self.ticket(from:))
    }

    func oauthState(mailbox: String) throws -> OAuthState? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT * FROM oauth_state WHERE mailbox = ?"), arguments: [mailbox]
        ).map {
            OAuthState(
                mailbox: mailbox, accessToken: $0["access_token"],
                expiresAt: Date(timeIntervalSince1970: $0["expires_at"]), refreshToken: $0["refresh_token"])
        }
    }

    /// Counted from the times an address's row keeps: those of the `Person.window` before its latest automatic
    /// mail, which covers the hour the limit asks about.
    func automaticMailCount(to address: String, since: Date) throws -> Int {
        let since = since.timeIntervalSince1970
        return try person(Person.key(address)).automatic.reduce(0) { $0 + ($1 >= since ? 1 : 0) }
    }

    func undeliverableReason(_ address: String) throws -> String? {
        try person(Person.key(address)).undeliverable
    }

    func isParticipantAnywhere(_ address: String) throws -> Bool {
        try person(Person.key(address)).participant
    }

    /// What is known about an address (its lowercased `key`), learnt first when it is not known yet.
    private func person(_ key: String) throws -> KnownPerson {
        if let known = people[key] { return known }
        try learn(about: [key])
        return people[key] ?? KnownPerson(undeliverable: nil, language: nil, participant: false, automatic: [])
    }

    /// Reads what the intake and the acknowledgement ask about addresses (undeliverable, and the person row:
    /// language, participant anywhere, recent automatic mails) in one statement, one sender or a whole batch's
    /// (`anticipate`), and remembers it, with what this transaction has not written yet on top.
    private func learn(about keys: [String]) throws {
        let rows = try textRows(
            """
            SELECT j.value, u.reason, p.language, p.participant, p.automatic FROM json_each(?1) j
            LEFT JOIN person p ON p.address = j.value LEFT JOIN undeliverable u ON u.address = j.value
            """, columns: 5, .text(Self.encodeStrings(keys)))
        for row in rows {
            guard let key = row[0] else { continue }
            let unwritten = pendingPeople[key]
            people[key] = KnownPerson(
                undeliverable: row[1], language: unwritten?.language ?? row[2],
                participant: unwritten?.participant == true || row[3] == "1",
                automatic: unwritten?.automatic ?? Person.times(row[4]))
        }
    }

    // MARK: writing

    func markUndeliverable(_ address: String, reason: String, at: Date) throws {
        people[Person.key(address)] = nil  // learnt again, with the new reason
        try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO undeliverable (address, reason, since) VALUES (?, ?, ?)"
        ).execute(
            arguments: [address.lowercased(), reason, at.timeIntervalSince1970])
    }

    func language(of address: String) throws -> String? {
        try person(Person.key(address)).language
    }

    /// The first language recorded for an address stays.
    func recordLanguage(_ language: String, for address: String) throws {
        let key = Person.key(address)
        guard try person(key).language == nil else { return }
        people[key]?.language = language
        pendingPeople[key, default: PendingPerson()].language = language
    }

    func retryOutbox(id: Int64, at: Date) throws -> Bool {
        try db.execute(
            sql:
                "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status IN ('pending', 'failed')",
            arguments: [at.timeIntervalSince1970, id])
        return connection.changesCount > 0
    }

    func dropOutbox(id: Int64) throws -> Bool {
        try db.cachedStatement(
            sql: "UPDATE outbox SET status = 'dropped' WHERE id = ? AND status IN ('pending', 'failed')"
        ).execute(
            arguments: [id])
        return connection.changesCount > 0
    }

    func resolveQuarantine(id: Int64, outcome: String, at: Date) throws {
        try db.cachedStatement(
            sql: "UPDATE quarantine SET resolved_at = ?, outcome = ? WHERE id = ?"
        ).execute(
            arguments: [at.timeIntervalSince1970, outcome, id])
    }

    func save(_ state: OAuthState) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO oauth_state (mailbox, access_token, expires_at, refresh_token)
                VALUES (?, ?, ?, ?)
                """
        ).execute(
            arguments: [state.mailbox, state.accessToken, state.expiresAt.timeIntervalSince1970, state.refreshToken])
    }

    func clearUndeliverable(_ address: String) throws {
        people[Person.key(address)] = nil  // learnt again, without the reason
        try db.cachedStatement(sql: "DELETE FROM undeliverable WHERE address = ?").execute(arguments: [
            address.lowercased()
        ])
    }

    func quarantine(rawMailID: Int64, reason: String, at: Date) throws {
        try db.cachedStatement(
            sql: "INSERT INTO quarantine (raw_mail_id, reason, created_at) VALUES (?, ?, ?)"
        ).execute(
            arguments: [rawMailID, reason, at.timeIntervalSince1970])
    }

    func nextTicketID(kind: TicketKind) throws -> TicketID {
        let last: Int64
        if let counted = counters[kind] {
            last = counted
        } else {
            last = try integer("SELECT last_number FROM ticket_counter WHERE kind = ?", .text(kind.rawValue)) ?? 0
        }
        counters[kind] = last + 1
        return TicketID(kind: kind, number: Int(last + 1))
    }

    /// Writes what the transaction kept in memory (the ticket counters, the people's facts); the store calls it
    /// right before the commit.
    func finish() throws {
        try flushPending()
        for (kind, last) in counters {
            try run(
                """
                INSERT INTO ticket_counter (kind, last_number) VALUES (?, ?)
                ON CONFLICT(kind) DO UPDATE SET last_number = excluded.last_number
                """, .text(kind.rawValue), .integer(last))
        }
        // In address order: neighbouring rows share pages.
        var people: [SQLArgument] = []
        people.reserveCapacity(pendingPeople.count * 4)
        for (key, person) in pendingPeople.sorted(by: { $0.key < $1.key }) {
            people += [
                .text(key), .optional(person.language), .flag(person.participant),
                .optional(person.automatic.map(Person.text)),
            ]
        }
        try insertRows(
            "INSERT INTO person (address, language, participant, automatic)", columns: 4, people,
            then: """
                ON CONFLICT(address) DO UPDATE SET language = coalesce(person.language, excluded.language),
                    participant = max(person.participant, excluded.participant),
                    automatic = coalesce(excluded.automatic, person.automatic)
                """)
        pendingPeople = [:]
    }

    func insert(_ ticket: Ticket) throws {
        pending.tickets += [
            .text(ticket.id.description), .text(ticket.kind.rawValue), .integer(ticket.id.number),
            .text(ticket.state.rawValue), .text(ticket.subject), .optional(ticket.requester.name),
            .text(ticket.requester.address), .integer(ticket.priority.rawValue), .optional(ticket.assignee),
            .text(ticket.mailbox), .real(ticket.createdAt.timeIntervalSince1970),
            .real(ticket.updatedAt.timeIntervalSince1970), .optional(ticket.resolvedAt?.timeIntervalSince1970),
            .optional(ticket.closedAt?.timeIntervalSince1970), .optional(ticket.firstResponseAt?.timeIntervalSince1970),
            .text(try Self.encodeTicket(ticket)),
        ]
        newConversations[ticket.id] = []
    }

    func update(_ ticket: Ticket) throws {
        try db.cachedStatement(
            sql: """
                UPDATE ticket SET state = ?, subject = ?, priority = ?, assignee = ?, updated_at = ?, resolved_at = ?,
                    closed_at = ?, first_response_at = ?, document = ? WHERE id = ?
                """
        ).execute(
            arguments: [
                ticket.state.rawValue, ticket.subject, ticket.priority.rawValue, ticket.assignee,
                ticket.updatedAt.timeIntervalSince1970, ticket.resolvedAt?.timeIntervalSince1970,
                ticket.closedAt?.timeIntervalSince1970, ticket.firstResponseAt?.timeIntervalSince1970,
                try Self.encodeTicket(ticket), ticket.id.description,
            ])
    }

    func insert(_ article: Article, rawMailID: Int64?, textInRaw: Bool) throws {
        let ticketID = article.ticketID.description
        let inRaw = textInRaw && rawMailID != nil
        let rowID = try nextRowID(&lastArticleID, "SELECT coalesce(max(id), 0) FROM article")
        pending.articles += [
            .integer(rowID), .text(ticketID), .text(article.direction.rawValue), .text(article.author.rawValue),
            .optional(article.from.name), .text(article.from.address), .text(Self.encodeAddresses(article.to)),
            .text(article.subject), .text(article.messageID), .text(inRaw ? "" : article.text),
            .flag(article.isInternal), rawMailID.map { .integer($0) } ?? .null,
            .real(article.createdAt.timeIntervalSince1970), .flag(inRaw),
        ]
        if article.direction == .inbound { insertedInbound.insert(article.messageID) }
        if article.direction == .outbound { outboundArticles[article.messageID] = rowID }
        if article.direction == .outbound || (!article.isInternal && article.author == .requester) {
            newConversations[article.ticketID]?.append(
                ConversationEntry(
                    at: article.createdAt.timeIntervalSince1970, queued: false, rowID: rowID,
                    messageID: article.messageID))
        }
        // An inbound article's own row (and its unique index) already maps its Message-ID to the ticket.
        guard article.direction == .outbound else { return }
        pending.references += [.text(article.messageID), .text(ticketID)]
    }

    func addParticipant(_ address: MailAddress, role: AuthorRole, to id: TicketID) throws {
        let key = Person.key(address.address)
        pending.participants += [.text(id.description), .text(key), .optional(address.name), .text(role.rawValue)]
        // Not yet known: `learn` will take it from the pending facts.
        if people[key]?.participant != true {
            people[key]?.participant = true
            pendingPeople[key, default: PendingPerson()].participant = true
        }
    }

    func insert(_ raw: RawMail) throws -> Int64 {
        guard let id = try insertNew(raw) else {
            throw DatabaseError(
                resultCode: .SQLITE_CONSTRAINT,
                message: "raw mail \(raw.mailbox) \(raw.uidValidity)/\(raw.uid) is already stored")
        }
        return id
    }

    /// Queued with its row id: whether the key (mailbox, UIDVALIDITY, UID) is stored already comes from what
    /// `anticipate` read for the batch, else from a lookup.
    func insertNew(_ raw: RawMail) throws -> Int64? {
        if var preview = rawPreview, preview.covers(raw) {
            guard !preview.stored.contains(raw.uid), preview.inserted.insert(raw.uid).inserted else { return nil }
            rawPreview = preview
        } else if try hasRawMail(mailbox: raw.mailbox, uidValidity: raw.uidValidity, uid: raw.uid) {
            return nil
        }
        let id = try nextRowID(&lastRawMailID, "SELECT coalesce(max(id), 0) FROM raw_mail")
        pending.rawMails += [
            .integer(id), .text(raw.mailbox), .integer(Int64(raw.uidValidity)), .integer(Int64(raw.uid)),
            .optional(raw.messageID), .integer(raw.size), .blob(raw.bytes), .real(raw.receivedAt.timeIntervalSince1970),
            .optional(raw.path), raw.offset.map { .integer($0) } ?? .null,
        ]
        return id
    }

    /// The next row id of a table whose rows this transaction queues with their ids: one more than the last
    /// handed out, or than the table's largest (what SQLite itself would give, as no table uses AUTOINCREMENT).
    private func nextRowID(_ last: inout Int64?, _ largest: StaticString) throws -> Int64 {
        let next = try (last ?? integer(largest) ?? 0) + 1
        last = next
        return next
    }

    /// Reads at once, for a whole batch, what processing its mails asks about them: which raw mails and inbound
    /// Message-IDs are stored already and what is known about the senders. Three statements per batch instead of
    /// three per mail, and the mails' rows can stay queued until the commit.
    func anticipate(_ batch: BatchPreview) throws {
        if let low = batch.uids.min(), let high = batch.uids.max() {
            let stored = try integers(
                "SELECT uid FROM raw_mail WHERE mailbox = ? AND uid_validity = ? AND uid BETWEEN ? AND ?",
                .text(batch.mailbox), .integer(Int64(batch.uidValidity)), .integer(Int64(low)), .integer(Int64(high)))
            rawPreview = RawPreview(
                mailbox: batch.mailbox, uidValidity: batch.uidValidity, uids: Set(batch.uids),
                stored: Set(stored.map { UInt32(truncatingIfNeeded: $0) }))
        }
        let messageIDs = Set(batch.messageIDs).subtracting(askedMessageIDs)
        if !messageIDs.isEmpty {
            let found = try texts(
                """
                SELECT value FROM json_each(?1)
                WHERE EXISTS (SELECT 1 FROM article WHERE message_id = value AND direction = 'in')
                """, .text(Self.encodeStrings(Array(messageIDs))))
            askedMessageIDs.formUnion(messageIDs)
            inboundMessageIDs.formUnion(found)
        }
        let keys = Set(batch.addresses.map(Person.key)).filter { people[$0] == nil }
        if !keys.isEmpty { try learn(about: Array(keys)) }
    }

    func attempt<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        // The rows queued before belong to the mails before: written now, outside the savepoint. This mail's are
        // written inside it, so their errors are this mail's and the savepoint undoes them.
        try flushPending()
        let numbered = counters
        let conversations = newConversations
        let pendingFacts = pendingPeople
        do {
            try db.inSavepoint {
                result = try body()
                try flushPending()
                return .commit
            }
        } catch {
            // What this transaction remembers may describe writes the savepoint just undid.
            people = [:]
            outboundArticles = [:]
            lastRawMailID = nil
            lastArticleID = nil
            rawPreview = nil
            askedMessageIDs = []
            inboundMessageIDs = []
            insertedInbound = []
            newConversations = conversations
            counters = numbered
            pendingPeople = pendingFacts
            pending = PendingRows()
            throw error
        }
        return result!
    }

    func completeOutgoing(messageID: String, subject: String, text: String, raw: [UInt8]) throws {
        let row = try Row.fetchOne(
            try db.cachedStatement(
                sql: "SELECT id, ticket_id, deferred_json, created_at, article_id FROM outbox WHERE message_id = ?"),
            arguments: [messageID])
        if let row, let articleID = row["article_id"] as Int64? {
            // Queued before articles waited for rendering: fill in the one written with the row.
            try db.cachedStatement(sql: "UPDATE article SET subject = ?, text = ? WHERE id = ? AND direction = 'out'")
                .execute(arguments: [subject, text, articleID])
        } else if let row, let ticketID = (row["ticket_id"] as String?).flatMap(TicketID.init),
            let job = Self.decodeDeferred(row["deferred_json"])
        {
            try insert(
                Self.outboundArticle(
                    ticketID: ticketID, job: job, messageID: messageID, subject: subject, text: text,
                    createdAt: Date(timeIntervalSince1970: row["created_at"])),
                rawMailID: nil, textInRaw: false)
            try db.cachedStatement(sql: "UPDATE outbox SET article_id = ? WHERE id = ?").execute(arguments: [
                outboundArticles[messageID], row["id"] as Int64,
            ])
        }
        try db.cachedStatement(sql: "UPDATE outbox SET raw = ?, deferred_json = NULL WHERE message_id = ?").execute(
            arguments: [Data(raw), messageID])
    }

    func enqueue(_ item: OutboxItem) throws {
        let article = outboundArticles[item.messageID]
        // Queued (see `pending`); rows get their ids in this order when flushed.
        pending.outbox += [
            .optional(item.ticketID?.description), .text(item.purpose), .text(item.messageID), .text(item.mailFrom),
            .text(Self.encodeStrings(item.recipients)), .blob(item.raw), .text(item.status.rawValue),
            .integer(item.attempts), .real(item.nextAttemptAt.timeIntervalSince1970), .optional(item.lastError),
            .real(item.createdAt.timeIntervalSince1970), .optional(item.sentAt?.timeIntervalSince1970),
            .optional(item.deferred.map(Self.encodeDeferred)), article.map { .integer($0) } ?? .null,
        ]
        queuedOutboxRows += 1
        // An automatic mail counts toward each recipient's hourly limit once, however often it names them.
        if item.mailFrom.isEmpty {
            for key in Set(item.recipients.map(Person.key)) {
                let times = Person.recent(try person(key).automatic + [item.createdAt.timeIntervalSince1970])
                people[key]?.automatic = times
                pendingPeople[key, default: PendingPerson()].automatic = times
            }
        }
        // The outbound article inserted just before has already mapped its Message-ID to the ticket.
        if let ticketID = item.ticketID, article == nil {
            pending.references += [.text(item.messageID), .text(ticketID.description)]
            if item.deferred != nil {
                // Ordered among the ticket's queued mails by when they were queued, as their row ids will be.
                newConversations[ticketID]?.append(
                    ConversationEntry(
                        at: item.createdAt.timeIntervalSince1970, queued: true, rowID: queuedOutboxRows,
                        messageID: item.messageID))
            }
        }
    }

    func append(_ entry: AuditEntry) throws {
        pending.audit += [
            .text(entry.ticketID.description), .real(entry.at.timeIntervalSince1970), .text(entry.actor),
            .optional(entry.viaMessageID), .text(entry.action), .optional(entry.oldValue), .optional(entry.newValue),
        ]
    }

    func save(_ checkpoint: MailboxCheckpoint) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO mailbox_checkpoint (mailbox, uid_validity, last_uid, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(mailbox) DO UPDATE SET uid_validity = excluded.uid_validity,
                    last_uid = excluded.last_uid, updated_at = excluded.updated_at
                """
        ).execute(
            arguments: [
                checkpoint.mailbox, Int64(checkpoint.uidValidity), Int64(checkpoint.lastUID),
                Date().timeIntervalSince1970,
            ])
    }

    func markSent(outboxID: Int64, at: Date) throws {
        try db.execute(
            sql:
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
            arguments: [at.timeIntervalSince1970, outboxID])
    }

    func markAttemptFailed(outboxID: Int64, error: String, nextAttemptAt: Date, permanent: Bool) throws {
        try db.cachedStatement(
            sql: """
                UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?
                """
        ).execute(
            arguments: [permanent ? "failed" : "pending", error, nextAttemptAt.timeIntervalSince1970, outboxID])
    }

    // MARK: helpers

    static func decodeAddresses(_ json: String) -> [MailAddress] {
        (try? JSONDecoder().decode([MailAddress].self, from: Data(json.utf8))) ?? []
    }
}

extension JSONEncoder {
    /// Deterministic JSON for stored documents (sorted keys, dates as seconds since 1970); made once, as its
    /// options never change and encoding does not mutate it.
    static let store: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()
}

extension JSONDecoder {
    static var store: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}
