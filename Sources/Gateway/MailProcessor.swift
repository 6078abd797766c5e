import Foundation
import MailFormat
import ServiceDesk

/// What happened to one fetched mail; each case maps to one log line.
public enum MailOutcome: Sendable, Equatable {
    case created(TicketID, reason: String)
    case appended(TicketID, reason: String)
    case duplicate(TicketID?)
    case alreadyProcessed
    case ignored(reason: String)
    case quarantined(reason: String)
}

/// Where a fetched mail came from; with the Message-ID this is what makes re-processing a no-op.
public struct MailOrigin: Sendable, Equatable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var uid: UInt32

    public init(mailbox: String, uidValidity: UInt32, uid: UInt32) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
    }
}

/// Turns one parsed mail into ticket changes, articles and outbox mail, all through one store transaction.
/// Pure apart from the transaction it is handed, so the sync engine decides when that transaction commits.
public struct MailProcessor: Sendable {
    public let configuration: Configuration
    public let templates: TemplateSet
    /// Built once from the configuration: the timer tick consults it for every open ticket.
    public let workflow: WorkflowContext
    /// Our signed `X-Ticketgate-Loop` value: the same for every mail of the instance, so signed once.
    let loopMarker: String
    /// Whether any intake rule looks at header fields: only then does the prepare stage decode every field for them.
    let rulesReadHeaders: Bool
    /// The configured agents, approvers and our own addresses by lowercased address, indexed once: every mail asks
    /// several times who its sender and recipients are (the first entry wins, as in the configuration's lists).
    let agents: [String: Configuration.Agent]
    let approvers: [String: Approver]
    let ownAddresses: Set<String>

    public init(configuration: Configuration, templates: TemplateSet) {
        self.configuration = configuration
        self.templates = templates
        self.workflow = configuration.workflowContext
        self.loopMarker = LoopMarker.make(
            domain: configuration.instance.domain, secret: configuration.instance.secret.value)
        self.rulesReadHeaders = configuration.intakeRules.contains { $0.conditions.header != nil }
        self.agents = Dictionary(
            configuration.agents.map { ($0.address.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        self.approvers = Dictionary(
            configuration.approvers.map { ($0.address.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        self.ownAddresses = configuration.ownAddresses
    }

    /// The configured agent with this address (any case).
    func agent(for address: String) -> Configuration.Agent? {
        agents[address.lowercased()]
    }

    /// Tells the store which mails `process` is about to get (see `TicketWriting.anticipate`): all from one mailbox
    /// and UIDVALIDITY.
    public func anticipate(_ mails: [PreparedMail], in tx: any TicketWriting) throws {
        guard let first = mails.first else { return }
        try tx.anticipate(
            BatchPreview(
                mailbox: first.origin.mailbox, uidValidity: first.origin.uidValidity, uids: mails.map(\.origin.uid),
                messageIDs: mails.map(\.messageID), addresses: mails.compactMap { $0.sender?.address }))
    }

    /// Stores a prepared mail (once per mailbox, UIDVALIDITY and UID) and routes it.
    public func process(_ mail: PreparedMail, now: Date, in tx: any TicketWriting) throws -> MailOutcome {
        guard let rawID = try tx.insertNew(mail.rawMail(receivedAt: now)) else { return .alreadyProcessed }
        return try route(mail, rawID: rawID, now: now, tx: tx)
    }

    /// A mail whose processing failed (its writes already undone): kept with its raw bytes and the error as the
    /// reason, so the mails around it go on and an operator can retry it once the cause is fixed.
    public func quarantineFailure(_ mail: PreparedMail, error: any Error, now: Date, in tx: any TicketWriting) throws
        -> MailOutcome
    {
        let rawID = try tx.insert(mail.rawMail(receivedAt: now))
        return try quarantine(rawID, "processing failed: \(error)", tx: tx, now: now)
    }

    /// A mail too large to load: its bytes are already on disk; record it, quarantine it, tell the sender politely.
    public func processOversize(
        head: [UInt8], path: String, size: Int, origin: MailOrigin, now: Date, in tx: any TicketWriting
    ) throws -> MailOutcome {
        let message = MailParser.parse(head)
        guard
            let rawID = try tx.insertNew(
                RawMail(
                    mailbox: origin.mailbox, uidValidity: origin.uidValidity, uid: origin.uid,
                    messageID: message.messageID, bytes: [], receivedAt: now, path: path, size: size))
        else { return .alreadyProcessed }
        let mailbox = configuration.mailboxes.first { $0.name == origin.mailbox } ?? configuration.mailboxes[0]
        let reason = "too large: \(size) bytes, the limit is \(mailbox.messageLimit) bytes (raw kept at \(path))"
        try tx.quarantine(rawMailID: rawID, reason: reason, at: now)
        if mailbox.notifyOversize ?? true, let sender = message.from.first, AutoReply.signals(message).isEmpty,
            ownMailReason(message, sender: sender) == nil
        {
            try sendRejection(
                to: sender, message: message,
                reason:
                    "Your message is \(size / 1_048_576) MB; we accept up to \(mailbox.messageLimit / 1_048_576) MB. "
                    + "Please send large files as a link.", now: now, tx: tx)
        }
        return .quarantined(reason: reason)
    }

    /// Routes a stored mail (new, or retried from quarantine) to tickets, notices or the drop list.
    public func route(_ mail: PreparedMail, rawID: Int64, now: Date, tx: any TicketWriting) throws -> MailOutcome {
        let message = mail.message
        let origin = mail.origin
        guard let sender = mail.sender, sender.address.utf8.contains(UInt8(ascii: "@")) else {
            return try quarantine(rawID, "no usable From address", tx: tx, now: now)
        }
        let messageID = mail.messageID
        if try tx.hasInboundArticle(messageID: messageID) {
            return .duplicate(try tx.ticketID(forMessageID: messageID))
        }
        let gathered = try intakeInput(mail, sender: sender, now: now, tx: tx)
        // A person's language is recorded from their first own mail (not from autoresponders or bounces).
        if gathered.agent == nil, gathered.report == nil, gathered.input.automaticSignals.isEmpty,
            try tx.language(of: sender.address) == nil
        {
            try tx.recordLanguage(mail.locale, for: sender.address)
        }
        let intake = gathered.input
        let decision = Intake.decide(intake)

        switch decision.route {
        case .ignore:
            try tx.quarantine(rawMailID: rawID, reason: "dropped: \(decision.reason)", at: now)
            return .ignored(reason: decision.reason)

        case .reject:
            try tx.quarantine(rawMailID: rawID, reason: "rejected: \(decision.reason)", at: now)
            try sendRejection(to: sender, message: message, reason: decision.reason, now: now, tx: tx)
            return .ignored(reason: "rejected: \(decision.reason)")

        case .bounce(let ticketID):
            return try handleBounce(
                message, report: mail.report, ticketID: ticketID, rawID: rawID, messageID: messageID,
                reason: decision.reason, now: now, tx: tx)

        case .existing(let id, let automatic):
            guard var ticket = try tx.ticket(id) else {
                return try quarantine(rawID, "ticket \(id) vanished", tx: tx, now: now)
            }
            let author: AuthorRole = decision.trustedAgent ? .agent : .requester
            try tx.insert(
                article(
                    message, ticket: id, author: author, sender: sender, messageID: messageID, now: now,
                    isInternal: automatic),
                rawMailID: rawID, textInRaw: true)
            try tx.addParticipant(sender, role: author, to: id)
            try tx.append(
                AuditEntry(
                    ticketID: id, at: now, actor: sender.address, viaMessageID: messageID,
                    action: "threaded: \(decision.reason)"))
            try recordWarnings(decision.warnings, on: id, messageID: messageID, now: now, tx: tx)
            if automatic { return .appended(id, reason: decision.reason) }
            let context = workflow
            let transition: Transition
            if decision.trustedAgent, let agentName = intake.agentName {
                let text = message.replyText.isEmpty ? message.text : message.replyText
                let result = Workflow.handleAgentMail(
                    ticket, from: Principal(name: agentName, address: sender.address, isAuthenticated: true),
                    messageID: messageID, text: text, now: now, context: context)
                transition = result.transition
                if result.parsed?.isInternal == true {
                    try tx.append(
                        AuditEntry(
                            ticketID: id, at: now, actor: sender.address, viaMessageID: messageID,
                            action: "internal note (not relayed)"))
                }
            } else {
                transition = try Workflow.decide(
                    ticket, .customerReplied(from: sender, messageID: messageID), now: now, context: context)
            }
            ticket = transition.ticket
            try tx.update(ticket)
            for entry in transition.audit { try tx.append(entry) }
            try carryOut(transition.effects, ticket: ticket, trigger: message, now: now, tx: tx)
            return .appended(id, reason: decision.reason)

        case .new(var classification, let linkedTo):
            let firstLine = mail.firstLine
            var changeType: ChangeType?
            if decision.trustedAgent, let firstLine, firstLine == "/change" || firstLine.hasPrefix("/change ") {
                classification.kind = .change
                changeType =
                    ChangeType(rawValue: firstLine.dropFirst("/change".count).trimmingCharacters(in: .whitespaces))
                    ?? .normal
            }
            let id = try tx.nextTicketID(kind: classification.kind)
            let subject = mail.baseSubject
            let context = workflow
            var ticket = Ticket(
                id: id, subject: subject.isEmpty ? "(no subject)" : subject, requester: sender,
                mailbox: origin.mailbox, createdAt: now)
            ticket.impact = classification.impact.flatMap { Impact(rawValue: $0.rawValue) }
            ticket.urgency = classification.urgency.flatMap { Urgency(rawValue: $0.rawValue) }
            ticket.priority = context.priorityMatrix.priority(
                impact: ticket.impact ?? .medium, urgency: ticket.urgency ?? .medium)
            ticket.service = classification.service
            ticket.assignmentGroup = classification.group
            ticket.changeType = changeType
            // The workflow's first decision is pure, so the ticket is stored once, already in its first state.
            let transition = try Workflow.decide(
                ticket, .mailReceived(from: sender, messageID: messageID), now: now, context: context)
            try tx.insert(transition.ticket)
            try tx.insert(
                article(message, ticket: id, author: .requester, sender: sender, messageID: messageID, now: now),
                rawMailID: rawID, textInRaw: true)
            try tx.addParticipant(sender, role: .requester, to: id)
            let own = ownAddresses
            let watchers = (message.to + message.cc).filter {
                !own.contains($0.normalized) && $0.normalized != sender.normalized
                    && agent(for: $0.address) == nil
            }
            for watcher in watchers.prefix(configuration.maxWatchers) {
                try tx.addParticipant(watcher, role: .requester, to: id)
            }
            // The workflow's "created" entry carries why the mail opened a ticket: one row instead of two.
            var audit = transition.audit
            let why = "new \(classification.kind.rawValue): \(decision.reason)"
            if let created = audit.firstIndex(where: { $0.action == "created" }) {
                audit[created].action = "created (\(why))"
            } else {
                audit.insert(
                    AuditEntry(ticketID: id, at: now, actor: sender.address, viaMessageID: messageID, action: why),
                    at: 0)
            }
            try tx.append(audit[0])
            if let linkedTo {
                try tx.append(
                    AuditEntry(
                        ticketID: id, at: now, actor: "ticketgate", viaMessageID: messageID, action: "follows up",
                        newValue: linkedTo.description))
            }
            for (name, value) in [
                ("service", classification.service), ("group", classification.group),
                ("impact", classification.impact?.rawValue), ("urgency", classification.urgency?.rawValue),
            ] {
                if let value {
                    try tx.append(
                        AuditEntry(
                            ticketID: id, at: now, actor: "ticketgate", viaMessageID: messageID, action: name,
                            newValue: value))
                }
            }
            try recordWarnings(decision.warnings, on: id, messageID: messageID, now: now, tx: tx)
            for entry in audit.dropFirst() { try tx.append(entry) }
            try carryOut(transition.effects, ticket: transition.ticket, trigger: message, now: now, tx: tx)
            return .created(id, reason: decision.reason)
        }
    }

    /// The intake's view of a mail plus what the gateway needs again afterwards.
    struct IntakeContext {
        var input: IntakeInput
        var agent: Configuration.Agent?
        var report: DeliveryReport?
    }

    /// Gathers facts, store evidence and trust for the pure intake decision (read-only; also used by `mail inspect`).
    func intakeInput(_ mail: PreparedMail, sender: MailAddress, now: Date, tx: any TicketReading) throws
        -> IntakeContext
    {
        let message = mail.message
        let mailbox = configuration.mailboxes.first { $0.name == mail.origin.mailbox } ?? configuration.mailboxes[0]
        let agent = agent(for: sender.address)
        let report = mail.report
        let evidence = try gatherEvidence(mail, tx: tx)
        var threaded: (state: TicketState, closedAt: Date?)?
        let candidate = evidence.referencedTicket ?? evidence.subjectTag ?? evidence.bodyReference
        if let candidate, let ticket = try tx.ticket(candidate) { threaded = (ticket.state, ticket.closedAt) }
        var listed = false
        if let customers = configuration.customers {
            // Only with a customer list: the lowercased address and its domain are new strings for every mail.
            let address = sender.normalized
            let domain = address.split(separator: "@").last.map(String.init) ?? ""
            listed =
                (customers.addresses ?? []).contains { $0.lowercased() == address }
                || (customers.domains ?? []).contains {
                    domain == $0.lowercased() || domain.hasSuffix("." + $0.lowercased())
                }
        }
        let known = try listed || tx.isParticipantAnywhere(sender.address)
        let trust =
            mail.trust
            ?? SenderTrust.evaluate(
                fromAddress: sender.address, authenticationResults: message.headers(named: "Authentication-Results"),
                policy: configuration.trustPolicy)
        let facts = MailFacts(
            recipients: (message.to + message.cc).map(\.address) + [mailbox.address], sender: sender.address,
            subject: message.subject, body: message.text,
            headers: mail.ruleHeaders)
        let input = IntakeInput(
            facts: facts, messageID: mail.messageID, automaticSignals: report == nil ? mail.signals : [],
            ownMailReason: mail.ownMailReason,
            bounceOf: report.map { $0.originalMessageID ?? "unknown" }, evidence: evidence,
            threadedTicket: threaded,
            agentName: agent?.name ?? approvers[sender.address.lowercased()].map { $0.name ?? $0.address },
            trust: trust, senderKnown: known,
            mailboxKind: mailbox.kind.flatMap(TicketKind.init(configName:)) ?? .incident,
            unknownSenders: mailbox.unknownSenders ?? .create, rules: configuration.intakeRules,
            reopenClosedDays: configuration.reopenClosedDays, now: now)
        return IntakeContext(input: input, agent: agent, report: report)
    }

    /// The command lines an agent's mail carries (only counted for trusted agents).
    func commandLines(_ message: MailMessage, decision: IntakeDecision) -> [String] {
        guard decision.trustedAgent else { return [] }
        let text = message.replyText.isEmpty ? message.text : message.replyText
        let lines: [String] = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        return Array(lines.drop(while: { $0.isEmpty }).prefix(while: { $0.hasPrefix("/") }))
    }

    func recordWarnings(_ warnings: [String], on id: TicketID, messageID: String, now: Date, tx: any TicketWriting)
        throws
    {
        for warning in warnings {
            try tx.append(
                AuditEntry(
                    ticketID: id, at: now, actor: "ticketgate", viaMessageID: messageID, action: "warning: \(warning)"))
            try tx.insert(
                Article(
                    ticketID: id, direction: .inbound, author: .system,
                    from: MailAddress(name: "Ticketgate", address: "ticketgate@\(configuration.instance.domain)"),
                    to: [], subject: "Warning", messageID: "warning.\(messageID)", text: warning, isInternal: true,
                    createdAt: now),
                rawMailID: nil)
        }
    }

    /// A bounce: attached to the ticket of the failed mail, permanently failed recipients marked undeliverable.
    func handleBounce(
        _ message: MailMessage, report: DeliveryReport?, ticketID: TicketID?, rawID: Int64, messageID: String,
        reason: String, now: Date, tx: any TicketWriting
    ) throws -> MailOutcome {
        let failures = report?.recipients.filter(\.isPermanentFailure) ?? []
        for failure in failures {
            try tx.markUndeliverable(
                failure.address, reason: "\(failure.status ?? "5.0.0") \(failure.diagnostic ?? "permanent failure")",
                at: now)
        }
        guard let ticketID, try tx.ticket(ticketID) != nil else {
            try tx.quarantine(rawMailID: rawID, reason: "dropped: \(reason), no ticket found", at: now)
            return .ignored(reason: "\(reason), no ticket found")
        }
        let summary = (report?.recipients ?? []).map {
            "\($0.address): \($0.action ?? "?") \($0.status ?? "") \($0.diagnostic ?? "")"
        }.joined(separator: "\n")
        try tx.insert(
            Article(
                ticketID: ticketID, direction: .inbound, author: .system,
                from: message.from.first ?? MailAddress(address: "mailer-daemon@invalid"), to: message.to,
                subject: message.subject, messageID: messageID,
                text: "Delivery failed:\n\(summary)\n\n\(message.text)", isInternal: true, createdAt: now),
            rawMailID: rawID)
        for failure in failures {
            try tx.append(
                AuditEntry(
                    ticketID: ticketID, at: now, actor: "ticketgate", viaMessageID: messageID,
                    action: "recipient undeliverable", newValue: "\(failure.address) (\(failure.status ?? "5.0.0"))"))
            if let ticket = try tx.ticket(ticketID) {
                try notifyDeliveryFailure(
                    ticket: ticket, recipient: failure.address, code: Int(failure.status?.prefix(1) ?? "5") ?? 5,
                    detail: "\(failure.status ?? "") \(failure.diagnostic ?? "")", failedSubject: message.subject,
                    now: now, tx: tx)
            }
        }
        return .appended(ticketID, reason: reason)
    }

    /// Tells a sender that their mail was refused (never to automatic senders, rate-limited like every automatic mail).
    func sendRejection(
        to sender: MailAddress, message: MailMessage, reason: String,
        rejection: RejectedMailView.Reason = .senderNotAllowed,
        now: Date, tx: any TicketWriting
    ) throws {
        guard try automaticMailAllowed(to: sender.address, now: now, tx: tx) else { return }
        let mailbox = configuration.mailboxes[0]
        let view = RejectedMailView(
            senderName: sender.name, originalSubject: message.subject, reason: rejection,
            sizeLimit: rejection == .oversize ? "\(mailbox.messageLimit / 1_048_576) MB" : nil,
            supportAddress: mailbox.address, instanceName: configuration.instance.name)
        let rendered = try templates.render(view, locale: locale(for: message))
        let messageID = MessageID.generate(
            localPart: "tg.reject.\(UInt64.random(in: 0...UInt64.max))", domain: configuration.instance.domain)
        let mail = OutgoingMail(
            from: MailAddress(name: configuration.instance.name, address: mailbox.address), to: [sender],
            subject: rendered.subject, messageID: messageID, inReplyTo: message.messageID,
            references: message.messageID.map { [$0] } ?? [], date: now,
            extraHeaders: automaticHeaders(), text: rendered.text, html: rendered.html)
        try tx.enqueue(
            OutboxItem(
                ticketID: nil, purpose: "rejected_mail", messageID: messageID, mailFrom: "",
                recipients: [sender.address], raw: MailComposer.compose(mail), nextAttemptAt: now, createdAt: now))
    }

    func automaticHeaders(generated: Bool = false) -> [HeaderField] {
        [
            HeaderField(name: "Auto-Submitted", rawValue: generated ? "auto-generated" : "auto-replied"),
            HeaderField(name: "X-Auto-Response-Suppress", rawValue: "All"),
            HeaderField(name: "X-Ticketgate-Loop", rawValue: loopMarker),
        ]
    }

    /// The loop brake: no automatic mail to an address that bounced, nor more than the hourly limit.
    func automaticMailAllowed(to address: String, now: Date, tx: any TicketWriting) throws -> Bool {
        if try tx.undeliverableReason(address) != nil { return false }
        // Our own agents cannot be an autoresponder loop: their notifications are never rate-limited.
        if agent(for: address) != nil { return true }
        let recent = try tx.automaticMailCount(to: address, since: now.addingTimeInterval(-3600))
        return recent < configuration.autoReplyLimitPerHour
    }

    /// The requester's language: Content-Language / Accept-Language of their mail, else a light detection from the
    /// text, else the instance default; only languages with templates.
    func locale(for message: MailMessage) -> String {
        LanguageChooser.choose(
            recorded: nil, contentLanguage: message.header("Content-Language"),
            acceptLanguage: message.header("Accept-Language"), text: message.text, available: templates.locales,
            fallback: configuration.instance.language ?? "en")
    }

    func quarantine(_ rawID: Int64, _ reason: String, tx: any TicketWriting, now: Date) throws -> MailOutcome {
        try tx.quarantine(rawMailID: rawID, reason: reason, at: now)
        return .quarantined(reason: reason)
    }

    /// Our own mail coming back is never a new ticket: a valid loop marker, our Message-ID format, or our address.
    func ownMailReason(_ message: MailMessage, sender: MailAddress) -> String? {
        let domain = configuration.instance.domain
        let secret = configuration.instance.secret.value
        if message.headers(named: "X-Ticketgate-Loop").contains(where: {
            LoopMarker.isValid($0, domain: domain, secret: secret)
        }) {
            return "carries our signed X-Ticketgate-Loop header"
        }
        if let id = message.messageID, OutboundMessageID.ticket(in: id, domain: domain, secret: secret) != nil {
            return "Message-ID \(id) is one of ours"
        }
        if ownAddresses.contains(sender.normalized) {
            return "sent from our own address \(sender.address)"
        }
        return nil
    }

    func gatherEvidence(_ mail: PreparedMail, tx: any TicketReading) throws -> ThreadingEvidence {
        var evidence = ThreadingEvidence()
        let message = mail.message
        let domain = configuration.instance.domain
        let secret = configuration.instance.secret.value
        var candidates = message.inReplyTo + message.references.reversed()
        if let original = mail.report?.originalMessageID { candidates.insert(original, at: 0) }
        for id in candidates {
            if let ticket = OutboundMessageID.ticket(in: id, domain: domain, secret: secret),
                try tx.ticket(ticket) != nil
            {
                evidence.referencedTicket = ticket
                break
            }
            if let ticket = try tx.ticketID(forMessageID: id) {
                evidence.referencedTicket = ticket
                break
            }
        }
        if let tag = mail.subjectTag {
            evidence.subjectTag = tag
            if try tx.ticket(tag) != nil {
                evidence.taggedTicketParticipants = try tx.participants(of: tag)
            }
        }
        if let reference = mail.bodyReference {
            evidence.bodyReference = reference
            if try tx.ticket(reference) != nil {
                evidence.referencedTicketParticipants = try tx.participants(of: reference)
            }
        }
        return evidence
    }

    func article(
        _ message: MailMessage, ticket: TicketID, author: AuthorRole, sender: MailAddress, messageID: String,
        now: Date, isInternal: Bool = false
    ) -> Article {
        Article(
            ticketID: ticket, direction: .inbound, author: author, from: sender, to: message.to + message.cc,
            subject: message.subject, messageID: messageID, text: message.text, isInternal: isInternal, createdAt: now)
    }

    /// Mails without a Message-ID get a stable one derived from their bytes, so a re-delivery is still recognised.
    func syntheticMessageID(raw: [UInt8], origin: MailOrigin) -> String {
        "no-message-id.\(HMAC.hex(SHA256.digest(raw)).prefix(32))@\(configuration.instance.domain)"
    }
}
