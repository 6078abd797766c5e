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

    public init(configuration: Configuration, templates: TemplateSet) {
        self.configuration = configuration
        self.templates = templates
    }

    public func process(
        raw: [UInt8], message: MailMessage, origin: MailOrigin, now: Date, in tx: any TicketWriting
    ) throws -> MailOutcome {
        if try tx.hasRawMail(mailbox: origin.mailbox, uidValidity: origin.uidValidity, uid: origin.uid) {
            return .alreadyProcessed
        }
        let rawID = try tx.insert(
            RawMail(
                mailbox: origin.mailbox, uidValidity: origin.uidValidity, uid: origin.uid,
                messageID: message.messageID, bytes: raw, receivedAt: now))

        guard let sender = message.from.first ?? message.replyTo.first else {
            return try quarantine(rawID, "no From address", tx: tx, now: now)
        }
        if let reason = ownMailReason(message, sender: sender) {
            return .ignored(reason: reason)
        }
        let messageID = message.messageID ?? syntheticMessageID(raw: raw, origin: origin)
        if try tx.hasInboundArticle(messageID: messageID) {
            return .duplicate(try tx.ticketID(forMessageID: messageID))
        }

        let agent = configuration.agent(for: sender.address)
        let evidence = try gatherEvidence(message, tx: tx)
        let decision = Threading.decide(evidence, sender: sender.address, senderIsAgent: agent != nil)

        switch decision {
        case .existing(let id, let reason):
            guard var ticket = try tx.ticket(id) else {
                return try quarantine(rawID, "ticket \(id) vanished", tx: tx, now: now)
            }
            let author: AuthorRole = agent != nil ? .agent : .requester
            try tx.insert(
                article(message, ticket: id, author: author, sender: sender, messageID: messageID, now: now),
                rawMailID: rawID)
            try tx.addParticipant(sender, role: author, to: id)
            if message.autoSubmitted {
                try tx.append(
                    AuditEntry(
                        ticketID: id, at: now, actor: sender.address, viaMessageID: messageID,
                        action: "automatic mail attached without effect"))
                return .appended(id, reason: "\(reason); automatic mail, no state change")
            }
            let event: TicketEvent
            if let agent {
                let relay = message.replyText.isEmpty ? message.text : message.replyText
                event = .agentReplied(agent: agent.name, messageID: messageID, relayText: relay)
            } else {
                event = .customerReplied(from: sender, messageID: messageID)
            }
            let transition = try Workflow.decide(ticket, event, now: now)
            ticket = transition.ticket
            try tx.update(ticket)
            try tx.append(
                AuditEntry(
                    ticketID: id, at: now, actor: sender.address, viaMessageID: messageID, action: "threaded: \(reason)"
                ))
            for entry in transition.audit { try tx.append(entry) }
            try carryOut(transition.effects, ticket: ticket, trigger: message, agent: agent, now: now, tx: tx)
            return .appended(id, reason: reason)

        case .new(let reason):
            if message.autoSubmitted {
                return try quarantine(rawID, "automatic mail that refers to no ticket (\(reason))", tx: tx, now: now)
            }
            let id = try tx.nextTicketID(kind: .incident)
            let subject = Threading.baseSubject(message.subject)
            let ticket = Ticket(
                id: id, subject: subject.isEmpty ? "(no subject)" : subject, requester: sender,
                mailbox: origin.mailbox, createdAt: now)
            try tx.insert(ticket)
            try tx.insert(
                article(message, ticket: id, author: .requester, sender: sender, messageID: messageID, now: now),
                rawMailID: rawID)
            try tx.addParticipant(sender, role: .requester, to: id)
            let own = configuration.ownAddresses
            for watcher in (message.to + message.cc).prefix(20) where !own.contains(watcher.normalized) {
                if configuration.agent(for: watcher.address) == nil {
                    try tx.addParticipant(watcher, role: .requester, to: id)
                }
            }
            let transition = try Workflow.decide(ticket, .mailReceived(from: sender, messageID: messageID), now: now)
            try tx.append(
                AuditEntry(
                    ticketID: id, at: now, actor: sender.address, viaMessageID: messageID,
                    action: "new ticket: \(reason)"))
            for entry in transition.audit { try tx.append(entry) }
            try carryOut(transition.effects, ticket: transition.ticket, trigger: message, agent: nil, now: now, tx: tx)
            return .created(id, reason: reason)
        }
    }

    private func quarantine(_ rawID: Int64, _ reason: String, tx: any TicketWriting, now: Date) throws -> MailOutcome {
        try tx.quarantine(rawMailID: rawID, reason: reason, at: now)
        return .quarantined(reason: reason)
    }

    /// Our own mail coming back is never a new ticket: loop header, our Message-ID format, or our own address.
    func ownMailReason(_ message: MailMessage, sender: MailAddress) -> String? {
        if message.header("X-Ticketgate-Loop") != nil { return "carries our X-Ticketgate-Loop header" }
        if let id = message.messageID, OutboundMessageID.isOurs(id, domain: configuration.instance.domain) {
            return "Message-ID \(id) is one of ours"
        }
        if configuration.ownAddresses.contains(sender.normalized) {
            return "sent from our own address \(sender.address)"
        }
        return nil
    }

    func gatherEvidence(_ message: MailMessage, tx: any TicketWriting) throws -> ThreadingEvidence {
        var evidence = ThreadingEvidence()
        for id in (message.inReplyTo + message.references.reversed()) {
            if let ticket = OutboundMessageID.ticket(
                in: id, domain: configuration.instance.domain, secret: configuration.instance.secret.value),
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
        if let tag = Threading.subjectTags(message.subject).first {
            evidence.subjectTag = tag
            if try tx.ticket(tag) != nil {
                evidence.taggedTicketParticipants = try tx.participants(of: tag)
            }
        }
        return evidence
    }

    func article(
        _ message: MailMessage, ticket: TicketID, author: AuthorRole, sender: MailAddress, messageID: String, now: Date
    ) -> Article {
        Article(
            ticketID: ticket, direction: .inbound, author: author, from: sender, to: message.to + message.cc,
            subject: message.subject, messageID: messageID, text: message.text,
            isInternal: message.autoSubmitted, createdAt: now)
    }

    /// Mails without a Message-ID get a stable one derived from where they were found and their bytes.
    func syntheticMessageID(raw: [UInt8], origin: MailOrigin) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in raw {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "no-message-id.\(String(hash, radix: 16))@\(configuration.instance.domain)"
    }

    // MARK: effects → outbox

    func carryOut(
        _ effects: [Effect], ticket: Ticket, trigger: MailMessage, agent: Configuration.Agent?, now: Date,
        tx: any TicketWriting
    ) throws {
        for effect in effects {
            switch effect {
            case .sendAcknowledgement(let to):
                try enqueue(
                    template: "acknowledgement", purpose: "acknowledgement", ticket: ticket, to: to,
                    fromName: configuration.instance.name, trigger: trigger, automatic: true,
                    values: ["requester_name": to.name ?? to.address], authorRole: .system, now: now, tx: tx)
            case .relayAgentReply(let agentName, let text, let to):
                try enqueue(
                    template: "agent_reply", purpose: "agent_reply", ticket: ticket, to: to,
                    fromName: "\(agentName) (\(configuration.instance.name))", trigger: trigger, automatic: false,
                    values: ["reply_text": text, "agent_name": agentName], authorRole: .agent, now: now, tx: tx)
            }
        }
    }

    func enqueue(
        template: String, purpose: String, ticket: Ticket, to: MailAddress, fromName: String, trigger: MailMessage,
        automatic: Bool, values extra: [String: String], authorRole: AuthorRole, now: Date, tx: any TicketWriting
    ) throws {
        let mailbox = configuration.mailboxes.first { $0.name == ticket.mailbox } ?? configuration.mailboxes[0]
        var values: [String: Any] = [
            "ticket_id": ticket.id.description, "subject": ticket.subject, "priority": ticket.priority.description,
            "kind_label": ticket.kind == .incident ? "incident" : "service request",
            "instance_name": configuration.instance.name, "requester_name": ticket.requester.name ?? "",
        ]
        for (key, value) in extra { values[key] = value }
        let locale = configuration.instance.language ?? "en"
        let rendered = try templates.render(template, locale: locale, values: values)
        let messageID = OutboundMessageID.make(
            ticket: ticket.id, purpose: purpose, domain: configuration.instance.domain,
            secret: configuration.instance.secret.value)
        let thread = try conversation(of: ticket.id, tx: tx)
        // Chain to what the recipient has seen: their own mail for an acknowledgement, else the latest mail of the
        // conversation they took part in (an agent's mail to us is never shown to them).
        let parent = authorRole == .system ? (trigger.messageID ?? thread.last) : thread.last
        var references = thread
        if let parent, !references.contains(parent) { references.append(parent) }
        if references.count > 10 { references = [references[0]] + references.suffix(9) }
        var headers = [
            HeaderField(name: "X-Ticketgate-Ticket", rawValue: ticket.id.description),
            HeaderField(name: "X-Ticketgate-Loop", rawValue: configuration.instance.domain),
        ]
        if automatic {
            headers.append(HeaderField(name: "Auto-Submitted", rawValue: "auto-replied"))
            headers.append(HeaderField(name: "X-Auto-Response-Suppress", rawValue: "All"))
        }
        let from = MailAddress(name: fromName, address: mailbox.address)
        let mail = OutgoingMail(
            from: from, to: [to], replyTo: [MailAddress(name: configuration.instance.name, address: mailbox.address)],
            subject: rendered.subject, messageID: messageID, inReplyTo: parent, references: references, date: now,
            extraHeaders: headers, text: rendered.text, html: rendered.html)
        let bytes = MailComposer.compose(mail)
        try tx.enqueue(
            OutboxItem(
                ticketID: ticket.id, purpose: purpose, messageID: messageID,
                mailFrom: automatic ? "" : mailbox.address, recipients: [to.address], raw: bytes, nextAttemptAt: now,
                createdAt: now))
        try tx.insert(
            Article(
                ticketID: ticket.id, direction: .outbound, author: authorRole, from: from, to: [to],
                subject: rendered.subject, messageID: messageID, text: rendered.text, createdAt: now),
            rawMailID: nil)
    }

    /// Message-IDs the requester has seen, oldest first: what References should chain.
    func conversation(of id: TicketID, tx: any TicketWriting) throws -> [String] {
        try tx.articles(of: id).filter { !$0.isInternal && $0.author != .agent || $0.direction == .outbound }
            .map(\.messageID)
    }
}
