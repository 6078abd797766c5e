import Foundation
import Logging
import MailTransport
import ServiceDesk

/// Drains due outbox rows over one reused SMTP connection. A row is marked sent only after the server accepted it; a
/// crash in between resends it once with the same Message-ID, which receivers deduplicate.
public struct OutboxSender: Sendable {
    public let configuration: Configuration
    public let store: any TicketStore
    public let logger: Logger
    public let clock: @Sendable () -> Date
    /// Give up on a mail that has failed temporarily for this long.
    public var maximumAge: TimeInterval = 3 * 86_400
    /// Renders the notice to the assignee when a mail fails for good.
    public var processor: MailProcessor?

    public init(
        configuration: Configuration, store: any TicketStore, logger: Logger, clock: @escaping @Sendable () -> Date
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.clock = clock
    }

    func endpoint() -> SMTPEndpoint {
        let smtp = configuration.smtp
        return SMTPEndpoint(
            url: URL(string: smtp.url)!, username: smtp.username, password: smtp.password?.value,
            oauthToken: smtp.oauthToken?.value, security: smtp.tls.flatMap(IMAPEndpoint.Security.init(rawValue:)),
            caFile: smtp.caFile, verifyPeer: smtp.verifyCertificate ?? true, heloName: configuration.instance.domain)
    }

    public func drain(report: inout SyncReport) async throws {
        let sender = SMTPSender(endpoint: endpoint())
        defer { Task { await sender.close() } }
        // A first small page: when the server is down, the first attempt ends the drain, and reading (and decoding)
        // a hundred queued mails for it cost more than the attempt (a tenth of a bulk sync's tail).
        var limit = 8
        while true {
            let now = clock()
            let due = try await store.read { [limit] in try $0.dueOutbox(now: now, limit: limit) }
            limit = 100
            if due.isEmpty { return }
            for item in due {
                guard let id = item.id else { continue }
                try Task.checkCancellation()  // a shutdown stops between mails, never between send and record
                var raw = item.raw
                if raw.isEmpty {
                    guard let rendered = try await complete(item, item.deferred, report: &report) else { continue }
                    raw = rendered
                }
                let delivery: SMTPDelivery
                do {
                    delivery = try await sender.send(raw, mailFrom: item.mailFrom, recipients: item.recipients)
                } catch {
                    report.sendFailures += 1
                    let permanent = error.permanent || now.timeIntervalSince(item.createdAt) > maximumAge
                    let next = now.addingTimeInterval(Self.backoff(attempt: item.attempts))
                    let detail = error.description
                    let processor = self.processor
                    let refused = error.recipients.filter { !$0.accepted }
                    try await store.write { tx in
                        try tx.markAttemptFailed(outboxID: id, error: detail, nextAttemptAt: next, permanent: permanent)
                        if permanent {
                            let failures =
                                refused.isEmpty
                                ? item.recipients.map { RecipientResult(address: $0, code: error.code, text: detail) }
                                : refused
                            try Self.recordPermanentFailure(
                                item, failures: failures, processor: processor, now: now, tx: tx)
                        }
                    }
                    logger.error(
                        "sending \(item.purpose) for \(item.ticketID?.description ?? "-") failed: \(detail)",
                        metadata: ["permanent": "\(permanent)"])
                    if error.transport != nil && !permanent { return }  // server down: try again next run
                    continue
                }
                let sentAt = clock()
                // The server has the mail: record that even when a shutdown cancels this task right now, or the
                // next run would send it again. An unstructured task does not inherit the cancellation.
                let store = self.store
                try await Task {
                    try await store.write { tx in try tx.markSent(outboxID: id, at: sentAt) }
                }.value
                report.sent += 1
                logger.info(
                    "sent \(item.purpose) for \(item.ticketID?.description ?? "-")",
                    metadata: ["message-id": "\(item.messageID)", "to": "\(delivery.accepted)"])
                for failure in delivery.refused {
                    logger.warning("recipient refused: \(failure.address) \(failure.code) \(failure.text)")
                }
                let permanentlyRefused = delivery.refused.filter(\.permanent)
                if !permanentlyRefused.isEmpty {
                    let processor = self.processor
                    try await store.write { tx in
                        try Self.recordPermanentFailure(
                            item, failures: permanentlyRefused, processor: processor, now: now, tx: tx)
                    }
                }
            }
        }
    }

    /// Renders a mail queued unrendered and stores its bytes and text before the first attempt, so every attempt
    /// sends the same bytes. A mail that cannot be rendered (a template broken since it was queued) fails for good
    /// with the reason on its row; nil then.
    func complete(_ item: OutboxItem, _ deferred: DeferredMail?, report: inout SyncReport) async throws -> [UInt8]? {
        guard let id = item.id else { return nil }
        let rendered: RenderedOutgoing
        do {
            guard let deferred else {
                throw GatewayError.store("the queued mail has no bytes and no readable render job")
            }
            guard let processor else { throw GatewayError.store("no templates to render queued mail with") }
            rendered = try processor.render(deferred, messageID: item.messageID)
        } catch {
            report.sendFailures += 1
            let detail = "rendering failed: \(error)"
            let now = clock()
            try await store.write { tx in
                try tx.markAttemptFailed(outboxID: id, error: detail, nextAttemptAt: now, permanent: true)
            }
            logger.error("not sending \(item.purpose) for \(item.ticketID?.description ?? "-"): \(detail)")
            return nil
        }
        try await store.write { tx in
            try tx.completeOutgoing(
                messageID: rendered.messageID, subject: rendered.subject, text: rendered.text, raw: rendered.raw)
        }
        return rendered.raw
    }

    /// A 5xx for a recipient: shown on the ticket, the address marked undeliverable, the assignee told.
    static func recordPermanentFailure(
        _ item: OutboxItem, failures: [RecipientResult], processor: MailProcessor?, now: Date, tx: any TicketWriting
    ) throws {
        for failure in failures {
            try tx.markUndeliverable(failure.address, reason: "\(failure.code) \(failure.text)", at: now)
            guard let ticketID = item.ticketID, let ticket = try tx.ticket(ticketID) else { continue }
            try tx.append(
                AuditEntry(
                    ticketID: ticketID, at: now, actor: "ticketgate", viaMessageID: item.messageID,
                    action: "delivery failed permanently (\(item.purpose))",
                    newValue: "\(failure.address): \(failure.code) \(failure.text)"))
            // Never chase a failed notice to an agent with another notice.
            if item.purpose != "delivery_failure", let processor {
                try processor.notifyDeliveryFailure(
                    ticket: ticket, recipient: failure.address, code: failure.code, detail: failure.text,
                    failedSubject: item.purpose, now: now, tx: tx)
            }
        }
    }

    /// Exponential backoff with jitter: 1 min, 2, 4 … capped at 1 h, ±20 %.
    static func backoff(attempt: Int) -> TimeInterval {
        let base = min(3600, 60 * pow(2, Double(min(attempt, 10))))
        return base * Double.random(in: 0.8...1.2)
    }
}
