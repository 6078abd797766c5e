import Foundation
import MailFormat
import Synchronization

/// Message-IDs of our outbound mail carry the ticket and an HMAC under the instance secret, so a reply that names one
/// threads to its ticket even if the store never saw that id, and nobody can forge one for another ticket.
public enum OutboundMessageID {
    /// `tg.<ticket>.<purpose>.<nonce>.<mac>@<domain>`
    public static func make(ticket: TicketID, purpose: String, domain: String, secret: String) -> String {
        // Written as bytes into one buffer (a bulk sync makes one per acknowledgement; the interpolations of the
        // parts made about eight strings and arrays each time).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(56 + purpose.utf8.count + domain.utf8.count)
        bytes += "tg.".utf8
        bytes += ticket.description.utf8
        bytes.append(UInt8(ascii: "."))
        // Purposes are our own snake_case names; anything else becomes `_`.
        for byte in purpose.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
            default: bytes.append(UInt8(ascii: "_"))
            }
        }
        bytes.append(UInt8(ascii: "."))
        bytes += String(nextNonce(), radix: 36).utf8
        let signature = mac(Array(bytes[3...]), secret: secret)
        bytes.append(UInt8(ascii: "."))
        bytes += signature.utf8
        bytes.append(UInt8(ascii: "@"))
        bytes += domain.utf8
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The ticket named by one of our Message-IDs, if its signature checks out.
    public static func ticket(in messageID: String, domain: String, secret: String) -> TicketID? {
        guard isOurs(messageID, domain: domain) else { return nil }
        let local = messageID.dropFirst(3).dropLast(domain.count + 1)
        guard let lastDot = local.lastIndex(of: ".") else { return nil }
        let payload = String(local[..<lastDot])
        let signature = local[local.index(after: lastDot)...]
        guard signature == mac(payload, secret: secret) else { return nil }
        return payload.split(separator: ".").first.flatMap { TicketID($0) }
    }

    /// Whether the id has our shape and domain (signature not checked: enough to recognise our own mail looping).
    public static func isOurs(_ messageID: String, domain: String) -> Bool {
        messageID.hasPrefix("tg.") && messageID.lowercased().hasSuffix("@\(domain.lowercased())")
    }

    static func mac(_ payload: String, secret: String) -> String {
        mac(Array(payload.utf8), secret: secret)
    }

    static func mac(_ payload: [UInt8], secret: String) -> String {
        HMAC.hex(HMAC.sha256(secret: secret, message: payload), bytes: 8)
    }

    /// A nonce unique within the process (splitmix64 over a counter from a random start: a bijection, so no two
    /// calls repeat) and unpredictable across processes, without a `getrandom` call per mail.
    static func nextNonce() -> UInt64 {
        var z = nonceSeed &+ nonceCounter.wrappingAdd(1, ordering: .relaxed).newValue &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static let nonceSeed: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    private static let nonceCounter = Atomic<UInt64>(0)
}

/// A signed ticket reference for mail footers (`[TG:INC-000001:1a2b3c4d]`): threading for clients that drop
/// In-Reply-To/References and the subject tag, and unforgeable for any other ticket.
public enum TicketReference {
    public static func make(_ ticket: TicketID, secret: String) -> String {
        "[TG:\(ticket):\(mac(ticket, secret: secret))]"
    }

    /// Every correctly signed reference in a text (quoted history included), first first. Scans UTF-8 bytes: it
    /// runs over the whole body of every incoming mail.
    public static func find(in text: String, secret: String) -> [TicketID] {
        var result: [TicketID] = []
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            let count = bytes.count
            var index = 0
            // memchr to each `[`, then the rest of `[TG:` by hand
            while index < count, let hit = memchr(base + index, Int32(UInt8(ascii: "[")), count - index) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                index = at + 1
                guard at + 4 <= count, bytes[at + 1] == UInt8(ascii: "T"), bytes[at + 2] == UInt8(ascii: "G"),
                    bytes[at + 3] == UInt8(ascii: ":")
                else { continue }
                let start = at + 4
                guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "]")) else { break }
                index = end
                let fields = bytes[start..<end].split(separator: UInt8(ascii: ":"))
                guard fields.count == 2, let ticket = TicketID(String(decoding: fields[0], as: UTF8.self)),
                    String(decoding: fields[1], as: UTF8.self) == mac(ticket, secret: secret)
                else { continue }
                if !result.contains(ticket) { result.append(ticket) }
            }
        }
        return result
    }

    static func mac(_ ticket: TicketID, secret: String) -> String {
        HMAC.hex(HMAC.sha256(secret: secret, message: Array("ref:\(ticket)".utf8)), bytes: 4)
    }
}

/// The value of our `X-Ticketgate-Loop` header: the instance domain and a signature, so an outsider cannot make
/// their mail look like our own (and get it dropped) nor strip our loop protection by copying the header.
public enum LoopMarker {
    public static func make(domain: String, secret: String) -> String {
        "\(domain); sig=\(mac(domain, secret: secret))"
    }

    public static func isValid(_ value: String, domain: String, secret: String) -> Bool {
        value.trimmingCharacters(in: .whitespaces) == make(domain: domain, secret: secret)
    }

    static func mac(_ domain: String, secret: String) -> String {
        HMAC.hex(HMAC.sha256(secret: secret, message: Array("loop:\(domain)".utf8)), bytes: 8)
    }
}

/// HMAC (RFC 2104) over MailFormat's SHA-256.
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        SHA256.HMACKey(key).mac(message)
    }

    /// HMAC-SHA256 under a secret given as text; the padded key is prepared once per secret and process.
    public static func sha256(secret: String, message: [UInt8]) -> [UInt8] {
        let key = keys.withLock { keys in
            if let key = keys[secret] { return key }
            let key = SHA256.HMACKey(Array(secret.utf8))
            keys[secret] = key
            return key
        }
        return key.mac(message)
    }

    private static let keys = Mutex<[String: SHA256.HMACKey]>([:])

    /// Lowercase hex of raw bytes (of the first `count` of them).
    public static func hex(_ bytes: [UInt8], bytes count: Int? = nil) -> String {
        let count = min(count ?? bytes.count, bytes.count)
        return String(unsafeUninitializedCapacity: count * 2) { out in
            for index in 0..<count {
                out[index * 2] = digit(bytes[index] >> 4)
                out[index * 2 + 1] = digit(bytes[index] & 0x0F)
            }
            return count * 2
        }
    }

    private static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
