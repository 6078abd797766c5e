import Foundation
import MailFormat
import ServiceDesk

/// The JSON columns written for every mail (the ticket document, addresses, recipients, queued render jobs), written
/// by hand: Foundation's JSONEncoder cost more than the inserts themselves in a bulk sync. Every shape is read back
/// with JSONDecoder (`JSONDecoder.store`), and the tests check that round trip.
extension SQLiteTransaction {
    /// The ticket as `Ticket.init(from:)` reads it. The rarely set nested parts (an approval round, a non-empty SLA
    /// clock) go through JSONEncoder; an empty SLA clock is left out, which the decoder reads as empty.
    static func encodeTicket(_ ticket: Ticket) throws -> String {
        var json = JSONObject(capacity: 384)
        json.string("id", ticket.id.description)
        json.string("state", ticket.state.rawValue)
        json.string("subject", ticket.subject)
        json.value("requester") { writeAddress(ticket.requester, to: &$0) }
        json.number("priority", ticket.priority.rawValue)
        json.string("assignee", ticket.assignee)
        json.string("mailbox", ticket.mailbox)
        json.date("createdAt", ticket.createdAt)
        json.date("updatedAt", ticket.updatedAt)
        json.date("resolvedAt", ticket.resolvedAt)
        json.date("closedAt", ticket.closedAt)
        json.date("firstResponseAt", ticket.firstResponseAt)
        json.string("reclassifiedAs", ticket.reclassifiedAs?.rawValue)
        json.string("impact", ticket.impact?.rawValue)
        json.string("urgency", ticket.urgency?.rawValue)
        json.string("service", ticket.service)
        json.string("requestType", ticket.requestType)
        json.string("assignmentGroup", ticket.assignmentGroup)
        json.string("linkedProblem", ticket.linkedProblem?.description)
        json.value("linkedIncidents") { writeStrings(ticket.linkedIncidents.map(\.description), to: &$0) }
        json.string("workaround", ticket.workaround)
        json.string("resolution", ticket.resolution)
        json.string("pendingReason", ticket.pendingReason)
        json.string("rejectionReason", ticket.rejectionReason)
        json.string("changeType", ticket.changeType?.rawValue)
        json.string("changeOutcome", ticket.changeOutcome?.rawValue)
        if let approval = ticket.approval {
            json.raw("approval", String(decoding: try JSONEncoder.store.encode(approval), as: UTF8.self))
        }
        json.number("reopenCount", ticket.reopenCount)
        if ticket.sla != SLAClock() {
            json.raw("sla", String(decoding: try JSONEncoder.store.encode(ticket.sla), as: UTF8.self))
        }
        return json.finished()
    }

    /// `[{"address":…,"name":…}]`.
    static func encodeAddresses(_ addresses: [MailAddress]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 * addresses.count + 2)
        writeAddresses(addresses, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `["a","b"]` for a list of strings (outbox recipients).
    static func encodeStrings(_ strings: [String]) -> String {
        var bytes: [UInt8] = []
        writeStrings(strings, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A queued render job (`DeferredMail`), written into one buffer (its nested parts included).
    static func encodeDeferred(_ mail: DeferredMail) -> String {
        var json = JSONObject(capacity: 1024)
        json.string("template", mail.template)
        json.string("locale", mail.locale)
        json.value("values") { bytes in
            var values = JSONObject(into: &bytes)
            for (key, value) in mail.values { values.templateValue(key, value) }
            values.close(into: &bytes)
        }
        json.value("from") { writeAddress(mail.from, to: &$0) }
        json.value("to") { writeAddresses(mail.to, to: &$0) }
        json.value("replyTo") { writeAddresses(mail.replyTo, to: &$0) }
        json.string("inReplyTo", mail.inReplyTo)
        json.value("references") { writeStrings(mail.references, to: &$0) }
        json.date("date", mail.date)
        json.value("headers") { bytes in
            bytes.append(UInt8(ascii: "["))
            for (index, header) in mail.headers.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                var field = JSONObject(into: &bytes)
                field.string("name", header.name)
                field.string("value", header.value)
                field.close(into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        json.string("author", mail.author?.rawValue)
        if let isInternal = mail.isInternal { json.literal("isInternal", isInternal ? "true" : "false") }
        return json.finished()
    }

    /// `{"address":…,"name":…}` appended to `bytes`.
    static func writeAddress(_ address: MailAddress, to bytes: inout [UInt8]) {
        var json = JSONObject(into: &bytes)
        json.string("address", address.address)
        json.string("name", address.name)
        json.close(into: &bytes)
    }

    static func writeAddresses(_ addresses: [MailAddress], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "["))
        for (index, address) in addresses.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            writeAddress(address, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    static func writeStrings(_ strings: [String], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.append(string, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

/// One JSON object written field by field into UTF-8 bytes; nil values are left out (as `encodeIfPresent` does).
/// Nested values are written in place into the same bytes (`value`), so a document is one buffer, not one string per
/// part.
struct JSONObject {
    private var bytes: [UInt8]
    /// Where this object's `{` is: a field before it needs no comma.
    private let start: Int

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        start = 0
        bytes.append(UInt8(ascii: "{"))
    }

    /// An object appended to `bytes`, which it holds (no copy) until `close(into:)` gives them back.
    init(into bytes: inout [UInt8]) {
        self.bytes = []
        swap(&self.bytes, &bytes)
        start = self.bytes.count
        self.bytes.append(UInt8(ascii: "{"))
    }

    /// A field name of our own: plain ASCII that needs no escaping, copied as it is.
    private mutating func key(_ name: StaticString) {
        if bytes.count > start + 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        append(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A field name from data (a template value's name), escaped.
    private mutating func key(escaping name: String) {
        if bytes.count > start + 1 { bytes.append(UInt8(ascii: ",")) }
        JSONText.append(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONText.append(value, to: &bytes)
    }

    mutating func number(_ name: StaticString, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Seconds since 1970, as `JSONDecoder.store` reads dates; Swift prints the shortest exact form of a Double.
    mutating func date(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value.timeIntervalSince1970).utf8)
    }

    /// A value that is already JSON.
    mutating func raw(_ name: StaticString, _ json: String) {
        key(name)
        bytes.append(contentsOf: json.utf8)
    }

    /// A JSON literal (`true`, `false`).
    mutating func literal(_ name: StaticString, _ json: StaticString) {
        key(name)
        append(json)
    }

    /// A value written by `write` straight into the document.
    mutating func value(_ name: StaticString, _ write: (inout [UInt8]) -> Void) {
        key(name)
        write(&bytes)
    }

    /// A template value under a name from data.
    mutating func templateValue(_ name: String, _ value: DeferredMail.Value) {
        key(escaping: name)
        switch value {
        case .text(let text): JSONText.append(text, to: &bytes)
        case .flag(let flag): append(flag ? "true" : "false")
        case .number(let number): bytes.append(contentsOf: String(number).utf8)
        }
    }

    /// Closes the object and hands the bytes back.
    mutating func close(into bytes: inout [UInt8]) {
        self.bytes.append(UInt8(ascii: "}"))
        swap(&self.bytes, &bytes)
    }

    func finished() -> String {
        var bytes = bytes
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// JSON string literals for the hand-written JSON columns.
enum JSONText {
    /// Appends `string` quoted and escaped; bytes that need no escape (all of most strings) are copied as they are.
    static func append(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        let copied = string.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                return false
            }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                    hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
