import Foundation
import Logging
import MailTransport
import ServiceDesk
import ServiceLifecycle

/// `ticketgate run`: one worker per mailbox keeps its connection, syncs, drains the outbox and runs timers, then waits
/// in IDLE (re-issued every tick, well before the 29-minute limit) or polls. A graceful shutdown (SIGTERM/SIGINT) lets
/// the current cycle finish: every mail is processed in its own transaction, so nothing is lost or doubled.
public struct GatewayDaemon: Service {
    public let context: GatewayContext
    let lock = CycleLock()

    public init(context: GatewayContext) {
        self.context = context
    }

    public func run() async throws {
        let context = self.context
        let lock = self.lock
        context.logger.notice(
            "ticketgate daemon started", metadata: ["mailboxes": "\(context.configuration.mailboxes.map(\.name))"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for mailbox in context.configuration.mailboxes {
                    group.addTask { await Worker(context: context, mailbox: mailbox, lock: lock).run() }
                }
            }
        }
        context.logger.notice("ticketgate daemon stopped")
    }
}

/// One mailbox's loop: connect (with backoff), cycle, wait, repeat until cancelled.
struct Worker {
    let context: GatewayContext
    let mailbox: Configuration.Mailbox
    let lock: CycleLock
    let engine: SyncEngine

    init(context: GatewayContext, mailbox: Configuration.Mailbox, lock: CycleLock) {
        self.context = context
        self.mailbox = mailbox
        self.lock = lock
        self.engine = SyncEngine(
            configuration: context.configuration, store: context.store, templates: context.templates,
            logger: context.logger)
    }

    var tick: Duration { .seconds(max(5, mailbox.pollSeconds ?? 60)) }

    func run() async {
        var session: IMAPSession?
        var backoff: Duration = .seconds(1)
        let logger = context.logger
        while !Task.isCancelled {
            do {
                var connected = false
                if let session { connected = await session.isConnected }
                if !connected {
                    session = try await engine.connect(mailbox)
                    logger.info("connected", metadata: ["mailbox": "\(mailbox.name)"])
                }
                try await cycle(session!)
                backoff = .seconds(1)
                if Task.isCancelled { break }
                if await session!.capabilities.contains("IDLE") {
                    _ = try await session!.idle(timeout: tick)
                } else {
                    try await Task.sleep(for: tick)
                }
            } catch is CancellationError {
                break
            } catch {
                if Task.isCancelled { break }
                logger.error(
                    "\(error) — retrying in \(backoff)", metadata: ["mailbox": "\(mailbox.name)"])
                await session?.disconnect()
                session = nil
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(300))
            }
        }
        await session?.logout()
    }

    /// Sync this mailbox, drain the outbox and run the timers, serialised with the other workers and with any cron run.
    func cycle(_ session: IMAPSession) async throws {
        await lock.acquire()
        do {
            try await lockedCycle(session)
            await lock.release()
        } catch {
            await lock.release()
            throw error
        }
    }

    private func lockedCycle(_ session: IMAPSession) async throws {
        guard let fileLock = try RunLock(path: context.configuration.store.sqlite + ".lock") else {
            context.logger.info("a cron sync holds the lock; waiting for the next tick")
            return
        }
        var report = SyncReport()
        try await engine.sync(mailbox, session: session, report: &report)
        try await engine.runTimers(report: &report)
        var sender = OutboxSender(
            configuration: context.configuration, store: context.store, logger: context.logger, clock: { Date() })
        sender.processor = engine.processor
        try await sender.drain(report: &report)
        withExtendedLifetime(fileLock) {}
        if report != SyncReport() {
            let summary =
                "cycle: \(report.fetched) fetched, \(report.created.count) new, \(report.appended.count) updates, "
                + "\(report.sent) sent"
            context.logger.notice("\(summary)", metadata: ["mailbox": "\(mailbox.name)"])
        }
    }
}

/// A fair async mutex: cycles of different mailboxes never drain the outbox at the same time.
actor CycleLock {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
