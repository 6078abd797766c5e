import ArgumentParser
import Foundation
import Gateway
import Logging
import MailFormat
import ServiceDesk
import ServiceLifecycle
import TicketStoreSQLite

/// Shared options: which configuration to use and how chatty to be.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String = "config/ticketgate.yaml"

    @Flag(name: .long, help: "Log every mail's decision (info level) to stderr.")
    var verbose = false

    func context() throws -> GatewayContext {
        try Self.context(config: config, verbose: verbose)
    }

    static func context(config: String, verbose: Bool) throws -> GatewayContext {
        bootstrapLogging(verbose: verbose)
        do {
            return try GatewayContext(configPath: config, logger: Logger(label: "ticketgate"))
        } catch {
            fail(error)
        }
    }
}

extension CommonOptions {
    static func bootstrapLogging(verbose: Bool) {
        let level: Logger.Level = verbose ? .info : .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

func fail(_ error: any Error) -> Never {
    let code = (error as? GatewayError)?.exitCode ?? 1
    FileHandle.standardError.write(Data("ticketgate: \(error)\n".utf8))
    exit(code)
}

/// Every command names itself (`commandName`): left out, ArgumentParser derives the name with
/// `String(describing:)`, which scans all protocol conformances of this statically linked binary, 2.5 ms of the
/// 13 ms of CPU a cron run spent before its own work began.
@main
struct Ticketgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticketgate",
        abstract: "Email-driven IT service management: mail in, tickets through ITIL processes, mail out.",
        subcommands: [
            Sync.self, Run.self, Tickets.self, Mail.self, Quarantine.self, Outbox.self, Templates.self, Report.self,
        ])
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch new mail from every mailbox, update tickets, and send the outbox (one cron run).")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        CommonOptions.bootstrapLogging(verbose: options.verbose)
        do {
            guard
                let report = try await GatewayContext.sync(
                    configPath: options.config, logger: Logger(label: "ticketgate"))
            else { return }
            print(
                "sync: \(report.fetched) fetched, \(report.created.count) new tickets, \(report.appended.count) updates, "
                    + "\(report.duplicates) duplicates, \(report.ignored) ignored, \(report.quarantined) quarantined, "
                    + "\(report.timerUpdates) timer updates, \(report.sent) mails sent, \(report.sendFailures) send failures"
            )
            for id in report.created { print("  created \(id)") }
            for id in report.appended { print("  updated \(id)") }
        } catch {
            fail(error)
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run as a daemon: IDLE on every mailbox, sync on new mail, send the outbox, run timers; "
            + "stops cleanly on SIGTERM or SIGINT.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let context = try CommonOptions.context(config: options.config, verbose: true)
        let group = ServiceGroup(
            services: [GatewayDaemon(context: context)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: context.logger)
        do {
            try await group.run()
        } catch {
            fail(error)
        }
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Measure the service: volume, response and resolution times, SLA compliance, backlog, reopens, "
            + "change success, problems — per kind, service and priority.")

    @OptionGroup var options: CommonOptions
    @Option(help: "First day (YYYY-MM-DD, inclusive); default 90 days ago.") var from: String?
    @Option(help: "Last day (YYYY-MM-DD, inclusive); default today.") var to: String?
    @Option(help: "text, json, csv or html.") var format: String = "text"

    func run() async throws {
        let context = try options.context()
        let day: TimeInterval = 86_400
        func parse(_ text: String?, _ name: String) throws -> Date? {
            guard let text else { return nil }
            guard let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) else {
                FileHandle.standardError.write(
                    Data("ticketgate: --\(name) \"\(text)\" is not a date such as 2026-11-01.\n".utf8))
                throw ExitCode(64)
            }
            return date
        }
        guard ["text", "json", "csv", "html"].contains(format) else {
            FileHandle.standardError.write(Data("ticketgate: --format must be text, json, csv or html.\n".utf8))
            throw ExitCode(64)
        }
        let end = try parse(to, "to").map { $0.addingTimeInterval(day) } ?? Date()
        let start = try parse(from, "from") ?? end.addingTimeInterval(-90 * day)
        let data = try await context.store.read { tx in
            (try tx.tickets(), try tx.auditEntries(from: start, to: end))
        }
        let report = ServiceDesk.Report.compute(tickets: data.0, audit: data.1, from: start, to: end)
        switch format {
        case "json": print(report.json())
        case "csv": print(report.csv(), terminator: "")
        case "html": print(report.html(title: "\(context.configuration.instance.name) — service report"))
        default: print(report.text())
        }
    }
}

struct Tickets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickets",
        abstract: "List and show tickets.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List every ticket.")
        @OptionGroup var options: CommonOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let context = try options.context()
            let tickets = try await context.store.read { try $0.tickets() }
            let views = tickets.map(TicketSummaryView.init)
            if json {
                print(try JSONOutput.encode(views))
                return
            }
            print(
                TextTable.render(
                    header: ["ID", "KIND", "STATE", "PRIO", "REQUESTER", "SUBJECT"],
                    rows: views.map { [$0.id, $0.kind, $0.state, $0.priority, $0.requester, $0.subject] }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one ticket with its articles.")
        @Argument(help: "Ticket id, e.g. INC-000001.") var id: String
        @OptionGroup var options: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let ticketID = TicketID(id) else {
                FileHandle.standardError.write(
                    Data("ticketgate: \"\(id)\" is not a ticket id such as INC-000001.\n".utf8))
                throw ExitCode(64)
            }
            let context = try options.context()
            let detail = try await context.store.read { tx -> TicketDetailView? in
                guard let ticket = try tx.ticket(ticketID) else { return nil }
                return TicketDetailView(
                    ticket: ticket, articles: try tx.articles(of: ticketID), audit: try tx.auditTrail(of: ticketID))
            }
            guard let detail else {
                FileHandle.standardError.write(Data("ticketgate: there is no ticket \(ticketID).\n".utf8))
                throw ExitCode(1)
            }
            if json {
                print(try JSONOutput.encode(detail))
                return
            }
            let t = detail.ticket
            print("\(t.id)  \(t.kind)  \(t.state)  \(t.priority)")
            print("Subject:   \(t.subject)")
            print("Requester: \(t.requesterName.map { "\($0) <\(t.requester)>" } ?? t.requester)")
            print("Assignee:  \(t.assignee ?? "-")")
            print("Created:   \(t.createdAt)")
            for article in detail.articles {
                let arrow = article.direction == "in" ? "→ in " : "← out"
                print("\n\(arrow) \(article.createdAt)  \(article.from) → \(article.to.joined(separator: ", "))")
                if article.queued {
                    print("  (queued: rendered from its template when it is sent)")
                    continue
                }
                print("  \(article.subject)\(article.internal ? "  [internal]" : "")")
                for line in article.text.split(separator: "\n", omittingEmptySubsequences: false).prefix(20) {
                    print("  | \(line)")
                }
            }
            print("\nAudit:")
            for entry in detail.audit {
                let change = entry.old != nil || entry.new != nil ? " \(entry.old ?? "-") → \(entry.new ?? "-")" : ""
                print("  \(entry.at)  \(entry.actor)  \(entry.action)\(change)")
            }
        }
    }
}

struct Mail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Look at raw mail the way the gateway sees it.", subcommands: [Inspect.self])

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect", abstract: "Parse raw message files and print what was found.")
        @Argument(help: "Raw RFC 5322 message files.") var files: [String]
        @Flag(help: "Print one JSON object per file and line.") var json = false
        @Option(help: "With a configuration, also show the intake decision (reads the store, changes nothing).")
        var config: String?

        func run() async throws {
            var context: GatewayContext?
            if let config { context = try CommonOptions.context(config: config, verbose: false) }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("ticketgate: cannot read \(file).\n".utf8))
                    throw ExitCode(66)
                }
                let message = MailParser.parse([UInt8](data))
                var view = InspectView(message)
                if let context {
                    do {
                        view.intake = try await context.inspectIntake([UInt8](data))
                    } catch {
                        fail(error)
                    }
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(view), as: UTF8.self))
                } else {
                    print(view.summary(file: file))
                }
            }
        }
    }
}

struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Mails that could not be put on a ticket, or were dropped, with the reason.",
        subcommands: [List.self, Show.self, Retry.self, Drop.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one quarantined mail and why it is there.")
        @Argument(help: "Quarantine id from `quarantine list`.") var id: Int64
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            guard let item = try await context.store.read({ try $0.quarantinedMail(id: id) }) else {
                fail(GatewayError.store("There is no open quarantine entry \(id)."))
            }
            print("Quarantine \(item.entry.id): \(item.entry.reason)")
            print("Mailbox \(item.entry.mailbox), UID \(item.entry.uid), \(item.entry.size) bytes")
            if let path = item.raw.path {
                print("Raw mail on disk: \(path)" + (item.raw.offset.map { " at byte \($0)" } ?? ""))
            }
            let head = item.raw.contents(limit: 65_536) ?? []
            print("")
            print(InspectView(MailParser.parse(head)).summary(file: "quarantine \(id)"))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Process a quarantined mail again.")
        @Argument(help: "Quarantine id from `quarantine list`.") var id: Int64
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            do {
                print("quarantine \(id): \(try await context.retryQuarantined(id: id))")
            } catch {
                fail(error)
            }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drop", abstract: "Drop a quarantined mail for good.")
        @Argument(help: "Quarantine id from `quarantine list`.") var id: Int64
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            do {
                try await context.dropQuarantined(id: id)
                print("quarantine \(id): dropped")
            } catch {
                fail(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List quarantined mail with the reason.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            let entries = try await context.store.read { try $0.quarantined() }
            print(
                TextTable.render(
                    header: ["ID", "MAILBOX", "UID", "SIZE", "REASON"],
                    rows: entries.map { ["\($0.id)", $0.mailbox, "\($0.uid)", "\($0.size)", $0.reason] }))
        }
    }
}

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Mail waiting to be sent, sent, or failed.", subcommands: [List.self, Retry.self, Drop.self])

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Queue a pending or failed mail for the next send.")
        @Argument(help: "Outbox id from `outbox list`.") var id: Int64
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            let id = self.id
            guard try await context.store.write({ try $0.retryOutbox(id: id, at: Date()) }) else {
                fail(
                    GatewayError.store(
                        "There is no pending or failed outbox mail \(id) (see `ticketgate outbox list`)."))
            }
            print("outbox \(id): queued; the next sync sends it")
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drop", abstract: "Give up on a pending or failed mail.")
        @Argument(help: "Outbox id from `outbox list`.") var id: Int64
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            let id = self.id
            guard try await context.store.write({ try $0.dropOutbox(id: id) }) else {
                fail(
                    GatewayError.store(
                        "There is no pending or failed outbox mail \(id) (see `ticketgate outbox list`)."))
            }
            print("outbox \(id): dropped")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the outbox.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let context = try options.context()
            let items = try await context.store.read { try $0.outbox(status: nil) }
            print(
                TextTable.render(
                    header: ["ID", "TICKET", "PURPOSE", "STATUS", "TRIES", "TO", "ERROR"],
                    rows: items.map {
                        [
                            "\($0.id ?? 0)", $0.ticketID?.description ?? "-", $0.purpose, $0.status.rawValue,
                            "\($0.attempts)", $0.recipients.joined(separator: ","), $0.lastError ?? "",
                        ]
                    }))
        }
    }
}

/// Fixed-width columns for people reading a terminal.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "(none)" }
        let all = [header] + rows
        let widths = header.indices.map { column in min(60, all.map { $0[column].count }.max() ?? 0) }
        return all.map { row in
            row.enumerated().map { index, cell in
                let clipped = cell.count > widths[index] ? String(cell.prefix(widths[index] - 1)) + "…" : cell
                return clipped.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
