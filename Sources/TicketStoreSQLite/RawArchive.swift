import Foundation
import GRDB
import ServiceDesk

/// The raw bytes of synced mail, in a SQLite file of their own beside the ticket database. A bulk sync stores each
/// batch's bytes here from its prepare stage while the store's writer is busy with the previous batch, so the writer
/// (the one thread every mail passes through) never copies mail bytes; it records a reference in the same
/// transaction as the ticket change. Commits here are synchronous (`FULL`): the bytes are on disk before any ticket
/// transaction can name them, so a crash or power loss can leave bytes nobody names (harmless, stored again on the
/// next run), never a reference without bytes.
final class RawArchive: Sendable {
    let path: String
    private let queue: DatabaseQueue

    init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS raw_bytes (
                        mailbox TEXT NOT NULL, uid_validity INTEGER NOT NULL, uid INTEGER NOT NULL, bytes BLOB NOT NULL,
                        PRIMARY KEY (mailbox, uid_validity, uid))
                    """)
        }
    }

    /// Stores (or replaces) the bytes of `mails` in one transaction.
    func store(_ mails: [RawMail]) async throws {
        guard !mails.isEmpty else { return }
        try await queue.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO raw_bytes (mailbox, uid_validity, uid, bytes) VALUES (?, ?, ?, ?)")
            for mail in mails {
                try statement.execute(
                    arguments: [mail.mailbox, Int64(mail.uidValidity), Int64(mail.uid), Data(mail.bytes)])
            }
        }
    }

    /// The stored bytes of a mail, nil when there are none.
    func bytes(of mail: RawMail) throws -> [UInt8]? {
        try queue.read { db in
            try Data.fetchOne(
                db, sql: "SELECT bytes FROM raw_bytes WHERE mailbox = ? AND uid_validity = ? AND uid = ?",
                arguments: [mail.mailbox, Int64(mail.uidValidity), Int64(mail.uid)]
            ).map { [UInt8]($0) }
        }
    }
}
