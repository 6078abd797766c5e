/// One complete IMAP server response. Literal bodies are cut out of `line` (which keeps the `{n}` markers) and kept
/// in `literals`, so a body line such as `A004 OK` can never be read as protocol.
public struct IMAPResponse: Sendable, Equatable {
    /// Whether the response is untagged (`*`), a continuation request (`+`) or the completion of a tagged command.
    public enum Kind: Sendable, Equatable {
        case untagged
        case continuation
        case tagged(String)
    }

    public var kind: Kind
    /// The logical line without CRLF, literal markers included, literal contents excluded.
    public var line: [UInt8]
    public var literals: [[UInt8]]

    public var text: String { String(decoding: line, as: UTF8.self) }

    /// Whether the line begins with `prefix`, ASCII letters in any case; reads no more than the prefix (a check on
    /// every response of a bulk fetch).
    public func startsWith(_ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count else { return false }
        return line.withUnsafeBufferPointer { FetchLine.equal(UnsafeBufferPointer(rebasing: $0[..<count]), prefix) }
    }

    /// For a tagged response: `OK`, `NO` or `BAD` (uppercased).
    public var status: String? {
        let tokens = text.split(separator: " ", maxSplits: 2)
        guard case .tagged = kind, tokens.count >= 2 else { return nil }
        return tokens[1].uppercased()
    }
}

/// Frames a byte stream into `IMAPResponse`s incrementally; bytes go in as they arrive and complete responses come out.
public struct IMAPResponseReader: Sendable {
    public enum FramingError: Error, Sendable, Equatable, CustomStringConvertible {
        case lineTooLong(Int)
        case literalTooLarge(Int)

        public var description: String {
            switch self {
            case .lineTooLong(let n): return "a response line exceeded \(n) bytes without a literal"
            case .literalTooLarge(let n): return "a literal of \(n) bytes exceeds the configured limit"
            }
        }
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var scanFrom = 0
    private var pendingLine: [UInt8] = []
    private var pendingLiterals: [[UInt8]] = []
    private var literalRemaining: Int?
    public let maxLineBytes: Int
    public let maxLiteralBytes: Int

    public init(maxLineBytes: Int = 1 << 20, maxLiteralBytes: Int = 1 << 30) {
        self.maxLineBytes = maxLineBytes
        self.maxLiteralBytes = maxLiteralBytes
    }

    /// Bytes received but not yet part of a returned response.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanFrom -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete response, or nil when more bytes are needed.
    public mutating func next() throws(FramingError) -> IMAPResponse? {
        while true {
            if let remaining = literalRemaining {
                guard buffer.count - start >= remaining else { return nil }
                pendingLiterals.append(Array(buffer[start..<start + remaining]))
                start += remaining
                scanFrom = start
                literalRemaining = nil
                continue
            }
            guard let newline = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) else {
                scanFrom = buffer.count
                if buffer.count - start + pendingLine.count > maxLineBytes {
                    throw .lineTooLong(maxLineBytes)
                }
                return nil
            }
            var end = newline
            if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let segment = buffer[start..<end]
            start = newline + 1
            scanFrom = start
            pendingLine.append(contentsOf: segment)
            if pendingLine.count > maxLineBytes { throw .lineTooLong(maxLineBytes) }
            if let size = Self.trailingLiteralSize(segment) {
                guard size <= maxLiteralBytes else { throw .literalTooLarge(size) }
                literalRemaining = size
                continue
            }
            let response = Self.classify(line: pendingLine, literals: pendingLiterals)
            pendingLine = []
            pendingLiterals = []
            return response
        }
    }

    /// `{123}` or `{123+}` at the very end of a line announces a literal of that many bytes.
    static func trailingLiteralSize(_ segment: ArraySlice<UInt8>) -> Int? {
        guard segment.last == UInt8(ascii: "}") else { return nil }
        var index = segment.index(before: segment.endIndex)
        var digitsEnd = index
        if index > segment.startIndex && segment[segment.index(before: index)] == UInt8(ascii: "+") {
            index = segment.index(before: index)
            digitsEnd = index
        }
        var digitsStart = digitsEnd
        while digitsStart > segment.startIndex {
            let previous = segment[segment.index(before: digitsStart)]
            guard previous >= UInt8(ascii: "0") && previous <= UInt8(ascii: "9") else { break }
            digitsStart = segment.index(before: digitsStart)
        }
        guard digitsStart < digitsEnd, digitsStart > segment.startIndex,
            segment[segment.index(before: digitsStart)] == UInt8(ascii: "{"), digitsEnd - digitsStart <= 12
        else { return nil }
        var value = 0
        for byte in segment[digitsStart..<digitsEnd] { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        return value
    }

    static func classify(line: [UInt8], literals: [[UInt8]]) -> IMAPResponse {
        if line.first == UInt8(ascii: "*") { return IMAPResponse(kind: .untagged, line: line, literals: literals) }
        if line.first == UInt8(ascii: "+") { return IMAPResponse(kind: .continuation, line: line, literals: literals) }
        let tagEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let tag = String(decoding: line[..<tagEnd], as: UTF8.self)
        return IMAPResponse(kind: .tagged(tag), line: line, literals: literals)
    }
}

/// A parsed IMAP data item: atoms, strings (quoted or literal), parenthesised lists and NIL.
public enum IMAPValue: Sendable, Equatable {
    case atom(String)
    case string([UInt8])
    case list([IMAPValue])
    case null

    public var atom: String? {
        if case .atom(let value) = self { return value }
        return nil
    }

    public var bytes: [UInt8]? {
        switch self {
        case .string(let bytes): return bytes
        case .atom(let value): return Array(value.utf8)
        default: return nil
        }
    }

    public var stringValue: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    public var list: [IMAPValue]? {
        if case .list(let values) = self { return values }
        return nil
    }
}

extension IMAPResponse {
    /// Tokenises the response into values, substituting literals in order. Bracketed sections (`BODY[HEADER]`) stay
    /// part of their atom.
    public func values() -> [IMAPValue] {
        var tokenizer = IMAPTokenizer(line: line, literals: literals)
        return tokenizer.parseSequence(closing: nil)
    }
}

private struct IMAPTokenizer {
    let line: [UInt8]
    let literals: [[UInt8]]
    var position = 0
    var literalIndex = 0

    init(line: [UInt8], literals: [[UInt8]]) {
        self.line = line
        self.literals = literals
    }

    mutating func parseSequence(closing: UInt8?) -> [IMAPValue] {
        var values: [IMAPValue] = []
        while position < line.count {
            let byte = line[position]
            if byte == UInt8(ascii: " ") {
                position += 1
                continue
            }
            if let closing, byte == closing {
                position += 1
                return values
            }
            switch byte {
            case UInt8(ascii: "("):
                position += 1
                values.append(.list(parseSequence(closing: UInt8(ascii: ")"))))
            case UInt8(ascii: ")"):
                position += 1  // unbalanced; ignore
            case UInt8(ascii: "\""):
                values.append(.string(parseQuoted()))
            case UInt8(ascii: "{"):
                if let literal = parseLiteral() {
                    values.append(.string(literal))
                } else {
                    values.append(parseAtom())
                }
            default:
                values.append(parseAtom())
            }
        }
        return values
    }

    mutating func parseQuoted() -> [UInt8] {
        let quoted = IMAPQuoted.read(line, at: position)
        position = quoted.end
        return quoted.bytes
    }

    mutating func parseLiteral() -> [UInt8]? {
        var index = position + 1
        while index < line.count, line[index] != UInt8(ascii: "}") { index += 1 }
        guard index < line.count, literalIndex < literals.count else { return nil }
        position = index + 1
        defer { literalIndex += 1 }
        return literals[literalIndex]
    }

    mutating func parseAtom() -> IMAPValue {
        let begin = position
        var depth = 0
        while position < line.count {
            let byte = line[position]
            if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth = max(0, depth - 1)
            } else if depth == 0
                && (byte == UInt8(ascii: " ") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")"))
            {
                break
            }
            position += 1
        }
        let text = String(decoding: line[begin..<position], as: UTF8.self)
        return text.uppercased() == "NIL" ? .null : .atom(text)
    }
}

/// IMAP quoted strings, for the general tokenizer and the direct FETCH reader alike.
enum IMAPQuoted {
    /// The quoted string whose opening `"` is at `start`: its bytes with backslash escapes undone, the index after
    /// it, and whether its closing `"` was there (else it ran to the end of the line).
    static func read<Line: RandomAccessCollection<UInt8>>(_ line: Line, at start: Int) -> (
        bytes: [UInt8], end: Int, closed: Bool
    ) where Line.Index == Int {
        var position = start + 1
        var result: [UInt8] = []
        while position < line.endIndex {
            let byte = line[position]
            position += 1
            if byte == UInt8(ascii: "\\"), position < line.endIndex {
                result.append(line[position])
                position += 1
            } else if byte == UInt8(ascii: "\"") {
                return (result, position, true)
            } else {
                result.append(byte)
            }
        }
        return (result, position, false)
    }
}
