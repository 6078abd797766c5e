import Foundation
import MailFormat
import ServiceDesk

/// Effects of the workflow turned into outbox mail (rendered from narrow view models) and into events for linked
/// tickets, all inside the transaction that caused them.
extension MailProcessor {
    func carryOut(
        _ effects: [Effect], ticket: Ticket, trigger: MailMessage?, now: Date, tx: any TicketWriting, depth: Int = 0
    )
        throws
    {
        let base = Base(self, ticket)
        for effect in effects {
            switch effect {
            case .sendAcknowledgement(let to):
                try send(
                    AcknowledgementView(
                        ticketID: base.id, subject: ticket.subject, priority: ticket.priority.description,
                        kind: ticket.kind.rawValue, requesterName: to.name, instanceName: base.instance,
                        ticketRef: base.ref), purpose: "acknowledgement", ticket: ticket, to: to, trigger: trigger,
                    automatic: true, now: now, tx: tx)
            case .relayAgentReply(let agentName, let text, let to):
                try send(
                    AgentReplyView(
                        ticketID: base.id, subject: ticket.subject, replyText: text, agentName: agentName,
                        instanceName: base.instance, ticketRef: base.ref), purpose: "agent_reply", ticket: ticket,
                    to: to, fromName: "\(agentName) (\(base.instance))", trigger: trigger, automatic: false,
                    authorRole: .agent,
                    attachments: (trigger?.attachments ?? []).filter { !$0.inline }.map {
                        OutgoingAttachment(
                            filename: $0.filename ?? "attachment", contentType: $0.contentType, data: $0.data)
                    }, now: now, tx: tx)
            case .notifyRequesterOfStatus(let to, let state, let note):
                try send(
                    StatusChangeView(
                        ticketID: base.id, subject: ticket.subject, requesterName: to.name, oldStatus: "",
                        newStatus: state.rawValue, comment: note, instanceName: base.instance, ticketRef: base.ref),
                    purpose: "status_change", ticket: ticket, to: to, trigger: trigger, automatic: true, now: now,
                    tx: tx)
            case .sendResolvedNotice(let to, let resolution):
                try send(
                    ResolvedView(
                        ticketID: base.id, subject: ticket.subject, requesterName: to.name, resolution: resolution,
                        reopenDays: workflow.autoCloseAfterDays, instanceName: base.instance,
                        ticketRef: base.ref), purpose: "resolved", ticket: ticket, to: to, trigger: trigger,
                    automatic: true, now: now, tx: tx)
            case .sendClosedNotice(let to, _):
                try send(
                    ClosedView(
                        ticketID: base.id, subject: ticket.subject, requesterName: to.name,
                        instanceName: base.instance, ticketRef: base.ref), purpose: "closed", ticket: ticket, to: to,
                    trigger: trigger, automatic: true, now: now, tx: tx)
            case .notifyAgents(let assignee, let group, let about):
                let excerpt = String((trigger?.replyText ?? trigger?.text ?? "").prefix(600))
                for agent in agents(assignee: assignee, group: group) {
                    try send(
                        NewTicketAgentsView(
                            ticketID: base.id,
                            subject: "\(ticket.subject) (\(about.rawValue.replacingOccurrences(of: "_", with: " ")))",
                            kind: ticket.kind.rawValue, priority: ticket.priority.description,
                            requesterName: ticket.requester.name, requesterAddress: ticket.requester.address,
                            service: ticket.service, excerpt: excerpt, instanceName: base.instance, ticketRef: base.ref),
                        purpose: "notify_agents", ticket: ticket, to: agent, trigger: trigger, automatic: true,
                        now: now, tx: tx)
                }
            case .escalate(let level, let target, let metric, let percent):
                let recipients = escalationRecipients(target, ticket: ticket)
                for agent in recipients {
                    try send(
                        SLAEscalationView(
                            ticketID: base.id, subject: ticket.subject, priority: ticket.priority.description,
                            target: metric == .firstResponse ? "response" : "resolution", isBreached: percent >= 100,
                            dueAt: "\(percent) % of the target used (escalation level \(level))",
                            assigneeName: ticket.assignee, instanceName: base.instance, ticketRef: base.ref),
                        purpose: "sla_escalation", ticket: ticket, to: agent, trigger: trigger, automatic: true,
                        now: now, tx: tx)
                }
            case .requestApproval(let approvers, _):
                for approver in approvers {
                    try send(
                        ApprovalRequestView(
                            ticketID: base.id, subject: ticket.subject, approverName: approver.name,
                            requesterName: ticket.requester.name ?? ticket.requester.address, service: ticket.service,
                            details: String((trigger?.text ?? ticket.subject).prefix(2000)),
                            instanceName: base.instance, ticketRef: base.ref), purpose: "approval_request",
                        ticket: ticket, to: MailAddress(name: approver.name, address: approver.address),
                        trigger: trigger, automatic: true, now: now, tx: tx)
                }
            case .sendApprovalOutcome(let to, let outcome):
                var approved = true
                var reason: String?
                if case .rejected(let why) = outcome {
                    approved = false
                    reason = why
                }
                try send(
                    ApprovalOutcomeView(
                        ticketID: base.id, subject: ticket.subject, requesterName: to.name, approved: approved,
                        approverName: "the approvers", reason: reason, instanceName: base.instance,
                        ticketRef: base.ref), purpose: "approval_outcome", ticket: ticket, to: to, trigger: trigger,
                    automatic: true, now: now, tx: tx)
            case .sendWorkaround(let to, let problem, let workaround):
                try send(
                    WorkaroundView(
                        ticketID: base.id, subject: ticket.subject, requesterName: to.name,
                        problemID: problem.description, workaround: workaround, instanceName: base.instance,
                        ticketRef: base.ref), purpose: "workaround", ticket: ticket, to: to, trigger: trigger,
                    automatic: true, now: now, tx: tx)
            case .sendCommandError(let to, let message):
                try send(
                    CommandErrorView(
                        agentName: to.name, command: message.split(separator: ":").first.map(String.init) ?? "",
                        error: message, ticketID: base.id, subject: ticket.subject, instanceName: base.instance,
                        ticketRef: base.ref), purpose: "command_error", ticket: ticket, to: to, trigger: trigger,
                    automatic: true, now: now, tx: tx)
            case .openProblem(let incident, let subject, let by):
                try openProblem(from: incident, subject: subject, by: by, now: now, tx: tx, depth: depth)
            case .shareWorkaround, .resolveLinkedIncidents, .linkTickets:
                guard depth < 3 else { continue }
                for followUp in effect.followUps(from: ticket.id) {
                    try apply(followUp.event, to: followUp.ticket, now: now, tx: tx, depth: depth + 1)
                }
            }
        }
    }

    /// Delivers an event to another ticket in the same transaction (a problem's resolution to its incidents …).
    func apply(_ event: TicketEvent, to id: TicketID, now: Date, tx: any TicketWriting, depth: Int) throws {
        guard let ticket = try tx.ticket(id) else { return }
        do {
            let transition = try Workflow.decide(ticket, event, now: now, context: workflow)
            try tx.update(transition.ticket)
            for entry in transition.audit { try tx.append(entry) }
            try carryOut(transition.effects, ticket: transition.ticket, trigger: nil, now: now, tx: tx, depth: depth)
        } catch let error as WorkflowError {
            try tx.append(
                AuditEntry(
                    ticketID: id, at: now, actor: "ticketgate", viaMessageID: nil, action: "not applied: \(error)"))
        }
    }

    func openProblem(from incident: TicketID, subject: String, by: String, now: Date, tx: any TicketWriting, depth: Int)
        throws
    {
        let agent = configuration.agents.first { $0.name == by || $0.address.lowercased() == by.lowercased() }
        let requester = MailAddress(
            name: agent?.name ?? by, address: agent?.address ?? configuration.mailboxes[0].address)
        let id = try tx.nextTicketID(kind: .problem)
        let mailbox = try tx.ticket(incident)?.mailbox ?? configuration.mailboxes[0].name
        try tx.insert(Ticket(id: id, subject: subject, requester: requester, mailbox: mailbox, createdAt: now))
        try tx.append(
            AuditEntry(
                ticketID: id, at: now, actor: by, viaMessageID: nil, action: "opened from", newValue: "\(incident)"))
        try apply(
            .openedFromIncident(incident: incident, by: by, messageID: nil), to: id, now: now, tx: tx, depth: depth + 1)
        try apply(.linkedToProblem(problem: id, by: by), to: incident, now: now, tx: tx, depth: depth + 1)
    }

    /// Agents to tell: the assignee, else the group's members, else every agent.
    func agents(assignee: String?, group: String?) -> [MailAddress] {
        let all = configuration.agents
        if let assignee, let agent = all.first(where: { $0.name == assignee || $0.address == assignee }) {
            return [MailAddress(name: agent.name, address: agent.address)]
        }
        let members = group.map { g in all.filter { ($0.groups ?? []).contains(g) } } ?? []
        return (members.isEmpty ? all : members).map { MailAddress(name: $0.name, address: $0.address) }
    }

    func escalationRecipients(_ target: EscalationTarget, ticket: Ticket) -> [MailAddress] {
        switch target {
        case .assignee: return agents(assignee: ticket.assignee, group: ticket.assignmentGroup)
        case .group, .groupLead: return agents(assignee: nil, group: ticket.assignmentGroup)
        case .serviceOwner:
            let owner = ticket.service.flatMap { workflow.catalog.service(named: $0)?.ownerGroup }
            return agents(assignee: nil, group: owner)
        }
    }

    /// The assignee (or every agent) hears that mail to a participant bounced or was refused.
    func notifyDeliveryFailure(
        ticket: Ticket, recipient: String, code: Int, detail: String, failedSubject: String, now: Date,
        tx: any TicketWriting
    ) throws {
        let base = Base(self, ticket)
        for agent in agents(assignee: ticket.assignee, group: ticket.assignmentGroup) {
            try send(
                DeliveryFailureView(
                    ticketID: base.id, subject: ticket.subject, assigneeName: agent.name, recipient: recipient,
                    code: code, detail: detail, failedSubject: failedSubject, instanceName: base.instance,
                    ticketRef: base.ref), purpose: "delivery_failure", ticket: ticket, to: agent, trigger: nil,
                automatic: true, now: now, tx: tx)
        }
    }

    /// Renders a view, composes the mail with threading headers and queues it with an outbound article.
    func send(
        _ view: some TemplateViewModel, purpose: String, ticket: Ticket, to: MailAddress, fromName: String? = nil,
        trigger: MailMessage?, automatic: Bool, authorRole: AuthorRole = .system,
        attachments: [OutgoingAttachment] = [], now: Date, tx: any TicketWriting
    ) throws {
        if let reason = try tx.undeliverableReason(to.address) {
            try tx.append(
                AuditEntry(
                    ticketID: ticket.id, at: now, actor: "ticketgate", viaMessageID: nil,
                    action: "not sent (\(purpose)): \(to.address) is undeliverable (\(reason))"))
            return
        }
        if automatic, try !automaticMailAllowed(to: to.address, now: now, tx: tx) {
            try tx.append(
                AuditEntry(
                    ticketID: ticket.id, at: now, actor: "ticketgate", viaMessageID: nil,
                    action: "automatic \(purpose) to \(to.address) suppressed: "
                        + "\(configuration.autoReplyLimitPerHour) automatic mails in the last hour"))
            return
        }
        let mailbox = configuration.mailboxes.first { $0.name == ticket.mailbox } ?? configuration.mailboxes[0]
        let secret = configuration.instance.secret.value
        let isAgent = agent(for: to.address) != nil
        // The recipient's recorded language first, then what their mail says, then the instance default.
        let recorded = try tx.language(of: to.address).flatMap { templates.locales.contains($0) ? $0 : nil }
        let language =
            recorded ?? (isAgent ? nil : trigger.map { self.locale(for: $0) }) ?? configuration.instance.language
            ?? "en"
        let messageID = OutboundMessageID.make(
            ticket: ticket.id, purpose: purpose, domain: configuration.instance.domain, secret: secret)
        let thread = try tx.conversationMessageIDs(of: ticket.id)
        // Chain to what the recipient has seen: their own mail for an acknowledgement, else the latest mail of the
        // conversation (an agent's mail to us is never shown to the requester).
        let parent = purpose == "acknowledgement" ? (trigger?.messageID ?? thread.last) : thread.last
        var references = thread
        if let parent, !references.contains(parent) { references.append(parent) }
        if references.count > 10 { references = [references[0]] + references.suffix(9) }
        var headers = [HeaderField(name: "X-Ticketgate-Ticket", rawValue: ticket.id.description)]
        if automatic {
            headers += automaticHeaders(generated: isAgent)
        } else {
            headers.append(HeaderField(name: "X-Ticketgate-Loop", rawValue: loopMarker))
        }
        let from = MailAddress(name: fromName ?? configuration.instance.name, address: mailbox.address)
        let envelope = OutgoingMail(
            from: from, to: [to], replyTo: [MailAddress(name: configuration.instance.name, address: mailbox.address)],
            subject: "", messageID: messageID, inReplyTo: parent, references: references, date: now,
            extraHeaders: headers, text: "", attachments: attachments)
        let template = type(of: view).templateName
        // Queued unrendered: the sender renders and composes right before the first attempt (`DeferredMail`), and
        // writes the outbound article then. Attachments are not kept with the row, so a mail carrying some is
        // rendered, and its article written, now.
        var deferred: DeferredMail?
        var rendered: RenderedOutgoing?
        if attachments.isEmpty, let stored = templates.storedValues(of: view, locale: language) {
            deferred = DeferredMail(
                template: template, locale: language, values: stored, envelope: envelope, author: authorRole,
                isInternal: isAgent)
        } else {
            let mail = RenderedOutgoing(try templates.render(view, locale: language), envelope: envelope)
            rendered = mail
            try tx.insert(
                Article(
                    ticketID: ticket.id, direction: .outbound, author: authorRole, from: from, to: [to],
                    subject: mail.subject, messageID: messageID, text: mail.text, isInternal: isAgent, createdAt: now),
                rawMailID: nil)
        }
        try tx.enqueue(
            OutboxItem(
                ticketID: ticket.id, purpose: purpose, messageID: messageID,
                mailFrom: automatic ? "" : mailbox.address, recipients: [to.address], raw: rendered?.raw ?? [],
                deferred: deferred, nextAttemptAt: now, createdAt: now))
    }

    /// Renders and composes a mail queued unrendered, exactly as `send` would have at queueing time.
    func render(_ deferred: DeferredMail, messageID: String) throws -> RenderedOutgoing {
        let parts = try templates.render(
            deferred.template, locale: deferred.locale, values: deferred.values.mapValues(\.templateValue))
        return RenderedOutgoing(parts, envelope: deferred.envelope(messageID: messageID))
    }

    /// The periodic tick for one ticket (SLA escalation, auto-close); writes only when something happened.
    func tick(_ ticket: Ticket, now: Date, tx: any TicketWriting) throws -> Bool {
        let transition = Workflow.tick(ticket, now: now, context: workflow)
        guard transition.ticket != ticket || !transition.effects.isEmpty else { return false }
        try tx.update(transition.ticket)
        for entry in transition.audit { try tx.append(entry) }
        try carryOut(transition.effects, ticket: transition.ticket, trigger: nil, now: now, tx: tx)
        return !transition.effects.isEmpty || !transition.audit.isEmpty
    }

    /// Values every view needs.
    struct Base {
        var id: String
        var ref: String
        var instance: String

        init(_ processor: MailProcessor, _ ticket: Ticket) {
            id = ticket.id.description
            ref = TicketReference.make(ticket.id, secret: processor.configuration.instance.secret.value)
            instance = processor.configuration.instance.name
        }
    }
}
