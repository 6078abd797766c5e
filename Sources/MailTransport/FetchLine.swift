/// Reads one untagged `* n FETCH (…)` response straight from its bytes into a `FetchedMessage`. A bulk sync gets one
/// per mail (and one more per mail for the size listing): the general tokenizer made a value, an array or a string
/// for every item of every one (about thirty allocations per response). Anything this reader does not expect (a
/// nested list, a quoted string inside a list, a malformed item) makes it give up with nil, and the caller reads the
/// response with the general tokenizer instead, so both always agree on what they accept.
enum FetchLine {
    /// The message of a FETCH response; nil when the line is not one this reader handles (not a FETCH, or unusual).
    /// A FETCH without a UID gives a message with UID 0, as the general reader does.
    static func parse(_ response: IMAPResponse) -> FetchedMessage? {
        response.line.withUnsafeBufferPointer { line in
            var reader = Reader(line: line, literals: response.literals)
            return reader.message()
        }
    }

    private struct Reader {
        let line: UnsafeBufferPointer<UInt8>
        let literals: [[UInt8]]
        var position = 0
        var literalIndex = 0

        init(line: UnsafeBufferPointer<UInt8>, literals: [[UInt8]]) {
            self.line = line
            self.literals = literals
        }

        mutating func message() -> FetchedMessage? {
            // `* <number> FETCH (`
            guard skip("* "), number() != nil, skip(" "), word().map({ equal($0, "FETCH") }) == true, skip(" ("),
                position < line.count
            else { return nil }
            var message = FetchedMessage(uid: 0, size: 0, flags: [], internalDate: nil, raw: [])
            while true {
                while position < line.count, line[position] == UInt8(ascii: " ") { position += 1 }
                guard position < line.count else { return nil }
                if line[position] == UInt8(ascii: ")") {
                    position += 1
                    // Only trailing spaces may follow the closing parenthesis.
                    while position < line.count, line[position] == UInt8(ascii: " ") { position += 1 }
                    return position == line.count ? message : nil
                }
                guard let key = word(), position < line.count, line[position] == UInt8(ascii: " ") else { return nil }
                position += 1
                guard position < line.count else { return nil }
                if equal(key, "UID") {
                    guard let value = number(), value <= Int(UInt32.max) else { return nil }
                    message.uid = UInt32(value)
                } else if equal(key, "RFC822.SIZE") {
                    guard let value = number() else { return nil }
                    message.size = value
                } else if equal(key, "FLAGS") {
                    guard let flags = flagList() else { return nil }
                    message.flags = flags
                } else if equal(key, "INTERNALDATE") {
                    guard line[position] == UInt8(ascii: "\""), let date = quoted() else { return nil }
                    message.internalDate = String(decoding: date, as: UTF8.self)
                } else if key.count >= 5, equal(UnsafeBufferPointer(rebasing: key[..<5]), "BODY[") {
                    guard let body = bodyValue() else { return nil }
                    message.raw = body
                } else if line[position] == UInt8(ascii: "(") {
                    // An item it does not use (`MODSEQ (12)`): skipped when it is a list of atoms.
                    guard flagList() != nil else { return nil }
                } else {
                    guard word() != nil else { return nil }
                }
            }
        }

        /// Consumes `text` exactly.
        mutating func skip(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard position + count <= line.count else { return false }
            for index in 0..<count where line[position + index] != text.utf8Start[index] { return false }
            position += count
            return true
        }

        /// A run of decimal digits (at most 18: no overflow), as a number.
        mutating func number() -> Int? {
            var value = 0
            let start = position
            while position < line.count, position - start < 18, line[position] >= 0x30, line[position] <= 0x39 {
                value = value * 10 + Int(line[position] - 0x30)
                position += 1
            }
            guard position > start, position == line.count || !isDigit(line[position]) else { return nil }
            guard position == line.count || isDelimiter(line[position]) else { return nil }
            return value
        }

        /// An atom up to a space or parenthesis; brackets (`BODY[HEADER.FIELDS (FROM)]`) keep their contents.
        mutating func word() -> UnsafeBufferPointer<UInt8>? {
            let start = position
            var depth = 0
            while position < line.count {
                let byte = line[position]
                if byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "]") {
                    depth = max(0, depth - 1)
                } else if depth == 0, isDelimiter(byte) {
                    break
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "{") || byte >= 0x80 {
                    return nil  // quoted text, a literal or non-ASCII inside an atom: the general tokenizer decides
                }
                position += 1
            }
            guard position > start else { return nil }
            return UnsafeBufferPointer(rebasing: line[start..<position])
        }

        /// `(\Seen $Label)`: atoms only; anything nested or quoted is left to the general tokenizer.
        mutating func flagList() -> [String]? {
            guard line[position] == UInt8(ascii: "(") else { return nil }
            position += 1
            var flags: [String] = []
            while position < line.count {
                let byte = line[position]
                if byte == UInt8(ascii: " ") {
                    position += 1
                } else if byte == UInt8(ascii: ")") {
                    position += 1
                    return flags
                } else if byte == UInt8(ascii: "(") {
                    return nil
                } else {
                    guard let flag = word() else { return nil }
                    // NIL inside a list is no flag, as the general reader has it.
                    if !equal(flag, "NIL") { flags.append(String(decoding: flag, as: UTF8.self)) }
                }
            }
            return nil
        }

        /// A quoted string with its backslash escapes undone.
        mutating func quoted() -> [UInt8]? {
            let quoted = IMAPQuoted.read(line, at: position)
            position = quoted.end
            return quoted.closed ? quoted.bytes : nil
        }

        /// A body section's value: its literal (the reader cut it out of the line), a quoted string, or NIL.
        mutating func bodyValue() -> [UInt8]? {
            switch line[position] {
            case UInt8(ascii: "{"):
                // `{n}` or `{n+}`: the reader has cut the n bytes out of the line into `literals`.
                position += 1
                let digits = position
                while position < line.count, isDigit(line[position]) { position += 1 }
                if position < line.count, line[position] == UInt8(ascii: "+") { position += 1 }
                guard position > digits, position < line.count, line[position] == UInt8(ascii: "}"),
                    literalIndex < literals.count
                else { return nil }
                position += 1
                defer { literalIndex += 1 }
                return literals[literalIndex]
            case UInt8(ascii: "\""):
                return quoted()
            default:
                guard let atom = word() else { return nil }
                return equal(atom, "NIL") ? [] : Array(atom)
            }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

        func isDelimiter(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")")
        }

        func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
            FetchLine.equal(bytes, text)
        }
    }

    /// Whether `bytes` spell `text`, ASCII letters in any case.
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count {
            let a = bytes[index]
            let b = text.utf8Start[index]
            guard a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7A) else { return false }
        }
        return true
    }
}
