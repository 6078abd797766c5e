import Foundation
import Logging
import MailFormat
import ServiceDesk
import TicketStoreSQLite

/// Everything a command needs, built once from the configuration file: validated config, open store, templates.
public struct GatewayContext: Sendable {
    public let configuration: Configuration
    public let store: any TicketStore
    public let templates: TemplateSet
    public let logger: Logger

    public init(configPath: String, logger: Logger) throws(GatewayError) {
        let configuration: Configuration
        do {
            configuration = try Configuration.load(path: configPath)
        } catch {
            throw .configuration(error)
        }
        do {
            templates = try TemplateSet(directory: configuration.templates, defaultLocale: "en")
        } catch {
            throw .template(error)
        }
        do {
            store = try SQLiteTicketStore(path: configuration.store.sqlite)
        } catch {
            throw .store("Cannot open the SQLite store \(configuration.store.sqlite) (store.sqlite): \(error).")
        }
        self.configuration = configuration
        self.logger = logger
    }

    /// The intake decision for a raw mail as if it arrived now in the first mailbox; reads the store, writes nothing.
    public func inspectIntake(_ raw: [UInt8]) async throws -> InspectView.IntakeView? {
        let message = MailParser.parse(raw)
        guard let sender = message.from.first ?? message.replyTo.first else { return nil }
        let processor = MailProcessor(configuration: configuration, templates: templates)
        let origin = MailOrigin(mailbox: configuration.mailboxes[0].name, uidValidity: 0, uid: 0)
        return try await store.read { tx in
            let messageID = message.messageID ?? processor.syntheticMessageID(raw: raw, origin: origin)
            let context = try processor.intakeInput(
                message, sender: sender, messageID: messageID, origin: origin, now: Date(), tx: tx)
            let decision = Intake.decide(context.input)
            return InspectView.IntakeView(decision, commands: processor.commandLines(message, decision: decision))
        }
    }

    /// One cron run, holding the run lock; returns nil when another run holds it.
    public func sync() async throws -> SyncReport? {
        guard let lock = try RunLock(path: configuration.store.sqlite + ".lock") else {
            logger.notice("another ticketgate sync is running; nothing to do")
            return nil
        }
        defer { withExtendedLifetime(lock) {} }
        return try await SyncEngine(configuration: configuration, store: store, templates: templates, logger: logger)
            .run()
    }
}
