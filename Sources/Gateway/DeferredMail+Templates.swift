import MailFormat
import ServiceDesk

/// An outgoing mail's rendered parts: what its outbox row and outbound article are filled with before it is sent.
struct RenderedOutgoing: Sendable {
    var messageID: String
    var subject: String
    var text: String
    var raw: [UInt8]

    /// Rendered template parts filled into an envelope (everything but subject and bodies) and composed.
    init(_ parts: RenderedMail, envelope: OutgoingMail) {
        var mail = envelope
        mail.subject = parts.subject
        mail.text = parts.text
        mail.html = parts.html
        messageID = mail.messageID
        subject = parts.subject
        text = parts.text
        raw = MailComposer.compose(mail)
    }
}

extension DeferredMail {
    /// The render job of a mail whose envelope (addresses, threading, date, header fields) is ready.
    init(
        template: String, locale: String, values: [String: Value], envelope: OutgoingMail, author: AuthorRole,
        isInternal: Bool
    ) {
        self.init(
            template: template, locale: locale, values: values, from: envelope.from, to: envelope.to,
            replyTo: envelope.replyTo, inReplyTo: envelope.inReplyTo, references: envelope.references,
            date: envelope.date, headers: envelope.extraHeaders.map { Header(name: $0.name, value: $0.rawValue) },
            author: author, isInternal: isInternal)
    }

    /// The envelope again, to render into.
    func envelope(messageID: String) -> OutgoingMail {
        OutgoingMail(
            from: from, to: to, replyTo: replyTo, subject: "", messageID: messageID, inReplyTo: inReplyTo,
            references: references, date: date,
            extraHeaders: headers.map { HeaderField(name: $0.name, rawValue: $0.value) }, text: "")
    }

    /// A view's Mustache context as stored with a queued mail; nil when a value is of a kind a row does not hold
    /// (then the mail is rendered at once instead).
    static func values(_ context: [String: Any]) -> [String: Value]? {
        var values: [String: Value] = [:]
        values.reserveCapacity(context.count)
        for (key, value) in context {
            switch value {
            case let text as String: values[key] = .text(text)
            case let flag as Bool: values[key] = .flag(flag)
            case let number as Int: values[key] = .number(number)
            default: return nil
            }
        }
        return values
    }
}

extension DeferredMail.Value {
    /// The value as the Mustache context holds it.
    var templateValue: Any {
        switch self {
        case .text(let text): text
        case .flag(let flag): flag
        case .number(let number): number
        }
    }
}
