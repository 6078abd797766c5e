import ServiceDesk

/// An outgoing mail's rendered parts: what its outbox row and outbound article are filled with before it is sent.
struct RenderedOutgoing: Sendable {
    var messageID: String
    var subject: String
    var text: String
    var raw: [UInt8]
}

extension DeferredMail {
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
