import Foundation
import MailFormat
import ServiceDesk
import TicketStoreSQLite

/// The store-free reading of one fetched mail, done once: parse, bounce report, auto-reply signals, our own loop
/// marks, sender trust, threading hints and language. Split from the transaction so the sync engine can prepare the
/// next batch on another core while the store writes the current one.
public struct PreparedMail: Sendable {
    public let raw: [UInt8]
    public let message: MailMessage
    public let origin: MailOrigin
    /// From, else Reply-To; nil when the mail names neither.
    let sender: MailAddress?
    /// The Message-ID, or a stable one derived from the bytes for mails without one.
    let messageID: String
    let report: DeliveryReport?
    /// Why the mail looks automatic (auto-reply headers, null return path); empty for people.
    let signals: [String]
    /// Why the mail is our own coming back, if it is.
    let ownMailReason: String?
    let trust: TrustVerdict?
    /// The first ticket tag of the subject and the first correctly signed body reference.
    let subjectTag: TicketID?
    let bodyReference: TicketID?
    /// The language the mail asks for or is written in, among the template locales.
    let locale: String
    /// The first line of the text, trimmed and lowercased (agents open tickets with `/change`).
    let firstLine: String?
    /// The subject without reply/forward prefixes and ticket tags: a new ticket's subject.
    let baseSubject: String
    /// Every header field with its own decoded value, as the intake rules match them (none when no rule looks at
    /// header fields).
    let ruleHeaders: [(String, String)]
    /// Where the sync engine appended the raw bytes (`RawSpool`); the store then keeps only that location.
    var spooled: RawLocation? = nil
}

extension PreparedMail {
    /// The mail as the store keeps it.
    func rawMail(receivedAt: Date) -> RawMail {
        RawMail(
            mailbox: origin.mailbox, uidValidity: origin.uidValidity, uid: origin.uid, messageID: message.messageID,
            bytes: spooled == nil ? raw : [], receivedAt: receivedAt, path: spooled?.path, offset: spooled?.offset,
            size: raw.count)
    }
}

extension MailProcessor {
    /// Reads everything about a mail that needs no store. Pure and cheap to run off the store's writer. The message
    /// is always parsed here with the default options: the store may keep an article's text only in the raw mail
    /// and parse it again the same way to show it.
    public func prepare(raw: [UInt8], origin: MailOrigin) -> PreparedMail {
        let message = MailParser.parse(raw)
        let sender = message.from.first ?? message.replyTo.first
        var signals = AutoReply.signals(message)
        if let returnPath = message.header("Return-Path"), Self.isNullPath(returnPath) {
            signals.append("null return path")
        }
        let secret = configuration.instance.secret.value
        return PreparedMail(
            raw: raw, message: message, origin: origin, sender: sender,
            messageID: message.messageID ?? syntheticMessageID(raw: raw, origin: origin),
            report: DeliveryReport.parse(message),
            signals: signals, ownMailReason: sender.flatMap { ownMailReason(message, sender: $0) },
            trust: sender.map {
                SenderTrust.evaluate(
                    fromAddress: $0.address, authenticationResults: message.headers(named: "Authentication-Results"),
                    policy: configuration.trustPolicy)
            },
            subjectTag: Threading.subjectTags(message.subject).first,
            bodyReference: TicketReference.find(in: message.text, secret: secret).first,
            locale: locale(for: message), firstLine: Self.firstLine(of: message.text),
            baseSubject: Threading.baseSubject(message.subject),
            ruleHeaders: rulesReadHeaders ? message.decodedHeaders.map { ($0.name, $0.value) } : [])
    }

    /// `<>` between blanks: the null reverse path of bounces and auto-replies.
    static func isNullPath(_ value: String) -> Bool {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        return value.utf8.drop(while: blank).reversed().drop(while: blank).elementsEqual("><".utf8)
    }

    /// The first non-empty line of a text, trimmed and lowercased, without splitting the whole text.
    static func firstLine(of text: String) -> String? {
        guard let start = text.firstIndex(where: { !$0.isNewline }) else { return nil }
        let end = text[start...].firstIndex(where: \.isNewline) ?? text.endIndex
        // Blanks trimmed in Swift: Foundation's trimming bridged every mail's first line to an NSString.
        let line = text[start..<end]
        guard let first = line.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = line.lastIndex(where: { !$0.isWhitespace })!
        return line[first...last].lowercased()
    }
}
