import GRDB
import GRDBSQLite

/// One statement argument, bound straight through the SQLite C API.
enum SQLArgument {
    case text(String)
    case integer(Int64)
    case real(Double)
    case blob([UInt8])
    case null

    static func optional(_ value: String?) -> SQLArgument { value.map { .text($0) } ?? .null }
    static func optional(_ value: Double?) -> SQLArgument { value.map { .real($0) } ?? .null }
    static func integer(_ value: Int) -> SQLArgument { .integer(Int64(value)) }
    static func flag(_ value: Bool) -> SQLArgument { .integer(value ? 1 : 0) }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The statements a bulk sync runs for every mail, bound and stepped through the SQLite C API on GRDB's cached
/// prepared statements: GRDB's argument boxing (an array of existentials per call) cost more than SQLite's own work
/// for these small inserts and lookups. Errors become GRDB `DatabaseError`s like every other store error.
extension SQLiteTransaction {
    /// Runs a statement to completion.
    func run(_ sql: StaticString, _ arguments: SQLArgument...) throws {
        _ = try rows(sql, arguments) { _ in () }
    }

    /// The first column of the first row as text, nil when there is no row or the value is NULL.
    func text(_ sql: StaticString, _ arguments: SQLArgument...) throws -> String? {
        try rows(sql, arguments) { Self.text($0, 0) }.first ?? nil
    }

    /// Every row's first column as text (NULLs left out).
    func texts(_ sql: StaticString, _ arguments: SQLArgument...) throws -> [String] {
        try rows(sql, arguments) { Self.text($0, 0) }.compactMap { $0 }
    }

    /// The first column of the first row as an integer, nil when there is no row.
    func integer(_ sql: StaticString, _ arguments: SQLArgument...) throws -> Int64? {
        try rows(sql, arguments) { sqlite3_column_int64($0, 0) }.first
    }

    /// Every row's first column as an integer.
    func integers(_ sql: StaticString, _ arguments: SQLArgument...) throws -> [Int64] {
        try rows(sql, arguments) { sqlite3_column_int64($0, 0) }
    }

    /// Every row's first `columns` columns as text (NULL as nil).
    func textRows(_ sql: StaticString, columns: Int32, _ arguments: SQLArgument...) throws -> [[String?]] {
        try rows(sql, arguments) { statement in (0..<columns).map { Self.text(statement, $0) } }
    }

    private static func text(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Inserts rows given as `columns` values each, many per statement (`<head> VALUES (…), (…), … <tail>`, up to
    /// `rowsPerInsert` rows): one statement opens the table and its indexes once for all its rows. The `tail` (an
    /// upsert clause) belongs to the head: statements are cached by the head.
    func insertRows(_ head: StaticString, columns: Int, _ values: [SQLArgument], then tail: StaticString = "") throws {
        let rowCount = values.count / columns
        var done = 0
        while done < rowCount {
            let count = min(Self.rowsPerInsert, rowCount - done)
            let statement = try multiRowStatement(head, columns: columns, rows: count, then: tail)
            sqlite3_reset(statement)
            for offset in 0..<(count * columns) {
                guard bind(values[done * columns + offset], to: statement, at: Int32(offset + 1)) == SQLITE_OK else {
                    throw failure(statement, sql: head)
                }
            }
            guard sqlite3_step(statement) == SQLITE_DONE else { throw failure(statement, sql: head) }
            sqlite3_reset(statement)
            done += count
        }
    }

    /// At most 64 rows of at most 16 values: 1,024 variables, far below SQLite's limit (32,766).
    static var rowsPerInsert: Int { 64 }

    private func bind(_ argument: SQLArgument, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch argument {
        case .text(var text):
            text.withUTF8 { sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), transient) }
        case .integer(let value): sqlite3_bind_int64(statement, index, value)
        case .real(let value): sqlite3_bind_double(statement, index, value)
        case .blob(let bytes) where bytes.isEmpty: sqlite3_bind_zeroblob(statement, index, 0)
        case .blob(let bytes):
            bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        case .null: sqlite3_bind_null(statement, index)
        }
    }

    /// Runs a statement after the queued rows (see `flushPending`), reading each row it returns.
    private func rows<T>(_ sql: StaticString, _ arguments: [SQLArgument], _ read: (OpaquePointer) -> T) throws -> [T] {
        try flushPending()
        let statement = try prepared(sql)
        sqlite3_reset(statement)
        for (offset, argument) in arguments.enumerated() {
            guard bind(argument, to: statement, at: Int32(offset + 1)) == SQLITE_OK else {
                throw failure(statement, sql: sql)
            }
        }
        var result: [T] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: result.append(read(statement))
            case SQLITE_DONE:
                sqlite3_reset(statement)
                return result
            default: throw failure(statement, sql: sql)
            }
        }
    }

    private func failure(_ statement: OpaquePointer, sql: StaticString) -> DatabaseError {
        let connection = sqlite3_db_handle(statement)
        let error = DatabaseError(
            resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
            message: String(cString: sqlite3_errmsg(connection)), sql: sql.description)
        sqlite3_reset(statement)
        return error
    }
}
