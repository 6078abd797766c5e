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
        try self.init(configuration: Self.configuration(at: configPath), logger: logger)
    }

    /// The validated configuration file, or the configuration error to show.
    static func configuration(at path: String) throws(GatewayError) -> Configuration {
        do {
            return try Configuration.load(path: path)
        } catch {
            throw .configuration(error)
        }
    }

    /// Templates and store for an already loaded configuration.
    init(configuration: Configuration, logger: Logger) throws(GatewayError) {
        templates = try Self.templates(configuration)
        store = try Self.store(configuration)
        self.configuration = configuration
        self.logger = logger
    }

    init(configuration: Configuration, templates: TemplateSet, store: any TicketStore, logger: Logger) {
        self.configuration = configuration
        self.templates = templates
        self.store = store
        self.logger = logger
    }

    static func templates(_ configuration: Configuration) throws(GatewayError) -> TemplateSet {
        do {
            return try TemplateSet(
                directory: configuration.templates, overrides: configuration.templateOverrides,
                defaultLocale: configuration.instance.language ?? "en")
        } catch {
            throw .template(error)
        }
    }

    static func store(_ configuration: Configuration) throws(GatewayError) -> any TicketStore {
        do {
            return try SQLiteTicketStore(path: configuration.store.sqlite)
        } catch {
            throw .store("Cannot open the SQLite store \(configuration.store.sqlite) (store.sqlite): \(error).")
        }
    }

    /// `init(configuration:logger:)` with the store opened (and migrated) on another thread while the templates
    /// are parsed; a template error still comes first.
    static func opening(configuration: Configuration, logger: Logger) async throws -> GatewayContext {
        let store = Task.detached { try Self.store(configuration) }
        let templates: TemplateSet
        do {
            templates = try Self.templates(configuration)
        } catch {
            _ = await store.result  // the store is not used, but its opening must not outlive the run lock
            throw error
        }
        return GatewayContext(
            configuration: configuration, templates: templates, store: try await store.value, logger: logger)
    }

    /// The intake decision for a raw mail as if it arrived now in the first mailbox; reads the store, writes nothing.
    public func inspectIntake(_ raw: [UInt8]) async throws -> InspectView.IntakeView? {
        let processor = MailProcessor(configuration: configuration, templates: templates)
        let origin = MailOrigin(mailbox: configuration.mailboxes[0].name, uidValidity: 0, uid: 0)
        let mail = processor.prepare(raw: raw, origin: origin)
        guard let sender = mail.sender else { return nil }
        return try await store.read { tx in
            let context = try processor.intakeInput(mail, sender: sender, now: Date(), tx: tx)
            let decision = Intake.decide(context.input)
            return InspectView.IntakeView(decision, commands: processor.commandLines(mail.message, decision: decision))
        }
    }

    /// Processes a quarantined mail again (after a fix, or a raised size limit); returns what happened to it now.
    public func retryQuarantined(id: Int64) async throws -> MailOutcome {
        guard let item = try await store.read({ try $0.quarantinedMail(id: id) }) else {
            throw GatewayError.store("There is no open quarantine entry \(id) (see `ticketgate quarantine list`).")
        }
        guard let raw = item.raw.contents() else {
            throw GatewayError.store("The quarantined mail \(id) is no longer at \(item.raw.path ?? "its place").")
        }
        let processor = MailProcessor(configuration: configuration, templates: templates)
        let origin = MailOrigin(mailbox: item.raw.mailbox, uidValidity: item.raw.uidValidity, uid: item.raw.uid)
        let mail = processor.prepare(raw: raw, origin: origin)
        let now = Date()
        return try await store.write { tx in
            let outcome = try processor.route(mail, rawID: item.rawID, now: now, tx: tx)
            try tx.resolveQuarantine(id: id, outcome: "retried: \(outcome)", at: now)
            return outcome
        }
    }

    /// Drops a quarantined mail for good (its raw bytes stay for audit).
    public func dropQuarantined(id: Int64) async throws {
        let found = try await store.write { tx -> Bool in
            guard try tx.quarantinedMail(id: id) != nil else { return false }
            try tx.resolveQuarantine(id: id, outcome: "dropped by an operator", at: Date())
            return true
        }
        if !found {
            throw GatewayError.store("There is no open quarantine entry \(id) (see `ticketgate quarantine list`).")
        }
    }

    /// One cron run, holding the run lock; returns nil when another run holds it.
    public func sync() async throws -> SyncReport? {
        guard let lock = try Self.runLock(configuration, logger: logger) else { return nil }
        defer { withExtendedLifetime(lock) {} }
        return try await SyncEngine(configuration: configuration, store: store, templates: templates, logger: logger)
            .run()
    }

    /// The run lock next to the store (its folder made if new); nil, with one log line, while another run holds it.
    static func runLock(_ configuration: Configuration, logger: Logger) throws -> RunLock? {
        let directory = URL(fileURLWithPath: configuration.store.sqlite).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let lock = try RunLock(path: configuration.store.sqlite + ".lock") else {
            logger.notice("another ticketgate sync is running; nothing to do")
            return nil
        }
        return lock
    }

    /// One cron run from the configuration file (`ticketgate sync`): like `sync()`, but the first mailbox's connection
    /// (TCP, TLS, greeting, login) is opened while the templates are read and the store opens, each on its own
    /// thread. Errors come in the same order as before: configuration, templates, store, then the mailbox.
    public static func sync(configPath: String, logger: Logger) async throws -> SyncReport? {
        let configuration = try configuration(at: configPath)
        guard let lock = try runLock(configuration, logger: logger) else { return nil }
        defer { withExtendedLifetime(lock) {} }
        // No store file yet: no checkpoint, so the first mailbox's folder can be selected before the store is made.
        let newStore = !FileManager.default.fileExists(atPath: configuration.store.sqlite)
        let early = SyncEngine.EarlyConnection(configuration: configuration, newStore: newStore)
        let context: GatewayContext
        do {
            context = try await GatewayContext.opening(configuration: configuration, logger: logger)
        } catch {
            await early?.discard()
            throw error
        }
        var engine = SyncEngine(
            configuration: configuration, store: context.store, templates: context.templates, logger: logger)
        engine.early = early
        return try await engine.run()
    }
}
