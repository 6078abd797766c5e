import Foundation

/// Everything the intake needs to route one mail, gathered by the gateway (parsed mail, store look-ups, config).
public struct IntakeInput: Sendable {
    public var facts: MailFacts
    public var messageID: String
    /// Auto-reply / bulk signals (`Auto-Submitted`, `Precedence`, out-of-office subject …); empty for a person's mail.
    public var automaticSignals: [String]
    /// Why this is our own mail coming back, if it is.
    public var ownMailReason: String?
    /// For a delivery status notification: the Message-ID of the mail that failed.
    public var bounceOf: String?
    public var evidence: ThreadingEvidence
    /// The state and closing time of the ticket threading points at, if any.
    public var threadedTicket: (state: TicketState, closedAt: Date?)?
    /// The agent whose address sent the mail, if any.
    public var agentName: String?
    public var trust: TrustVerdict
    /// Whether the sender is a known customer (listed in the config or already a participant somewhere).
    public var senderKnown: Bool
    public var mailboxKind: TicketKind
    public var unknownSenders: Disposition
    public var rules: [IntakeRule]
    public var reopenClosedDays: Int
    public var now: Date

    public init(
        facts: MailFacts, messageID: String, automaticSignals: [String] = [], ownMailReason: String? = nil,
        bounceOf: String? = nil, evidence: ThreadingEvidence = ThreadingEvidence(),
        threadedTicket: (state: TicketState, closedAt: Date?)? = nil, agentName: String? = nil,
        trust: TrustVerdict = TrustVerdict(trusted: false, reason: ""), senderKnown: Bool = true,
        mailboxKind: TicketKind = .incident, unknownSenders: Disposition = .create, rules: [IntakeRule] = [],
        reopenClosedDays: Int = 14, now: Date
    ) {
        self.facts = facts
        self.messageID = messageID
        self.automaticSignals = automaticSignals
        self.ownMailReason = ownMailReason
        self.bounceOf = bounceOf
        self.evidence = evidence
        self.threadedTicket = threadedTicket
        self.agentName = agentName
        self.trust = trust
        self.senderKnown = senderKnown
        self.mailboxKind = mailboxKind
        self.unknownSenders = unknownSenders
        self.rules = rules
        self.reopenClosedDays = reopenClosedDays
        self.now = now
    }
}

/// Where a mail goes and in which capacity its sender speaks; every field ends up in the audit line.
public struct IntakeDecision: Sendable, Equatable {
    /// The destination of the mail.
    public enum Route: Sendable, Equatable {
        /// An article on an existing ticket; `automatic` mail is attached as a note without any effect.
        case existing(TicketID, automatic: Bool)
        /// A new ticket, classified; `linkedTo` names the closed ticket it follows up.
        case new(Classification, linkedTo: TicketID?)
        /// A delivery failure for one of our mails (ticket known or not).
        case bounce(TicketID?)
        /// Recorded and dropped (own mail looping, automatic mail without a ticket, ignore rules).
        case ignore
        /// Refused with a notice to the sender (reject rules, unknown senders).
        case reject
    }

    public var route: Route
    public var reason: String
    /// True when the sender is an agent AND authenticated: only then do commands count.
    public var trustedAgent: Bool
    /// Shown on the ticket, e.g. an unauthenticated mail claiming an agent's address.
    public var warnings: [String]

    public init(route: Route, reason: String, trustedAgent: Bool = false, warnings: [String] = []) {
        self.route = route
        self.reason = reason
        self.trustedAgent = trustedAgent
        self.warnings = warnings
    }
}

/// The intake rules, pure: loops and automatic mail first, then threading, then classification of new mail.
public enum Intake {
    public static func decide(_ input: IntakeInput) -> IntakeDecision {
        if let reason = input.ownMailReason {
            return IntakeDecision(route: .ignore, reason: "own mail: \(reason)")
        }
        var warnings: [String] = []
        var trustedAgent = false
        if let agent = input.agentName {
            if input.trust.trusted {
                trustedAgent = true
            } else {
                warnings.append(
                    "This mail claims to come from agent \(agent) <\(input.facts.sender)> but is not authenticated "
                        + "(\(input.trust.reason)); it was handled as a customer mail and its commands were ignored.")
            }
        }
        if let original = input.bounceOf {
            return IntakeDecision(
                route: .bounce(input.evidence.referencedTicket),
                reason: "delivery status notification for <\(original)>")
        }
        let automatic = !input.automaticSignals.isEmpty
        let signals = input.automaticSignals.joined(separator: ", ")
        let threading = Threading.decide(input.evidence, sender: input.facts.sender, senderIsAgent: trustedAgent)

        switch threading {
        case .existing(let id, let reason):
            if automatic {
                return IntakeDecision(
                    route: .existing(id, automatic: true), reason: "\(reason); automatic mail (\(signals)), no effect",
                    trustedAgent: false, warnings: warnings)
            }
            if let ticket = input.threadedTicket, ticket.state == .closed, !trustedAgent {
                let closedAt = ticket.closedAt ?? .distantPast
                let days = input.now.timeIntervalSince(closedAt) / 86_400
                if days > Double(input.reopenClosedDays) {
                    let classification = Classifier.classify(
                        input.facts, rules: input.rules, defaultKind: input.mailboxKind)
                    return IntakeDecision(
                        route: .new(classification, linkedTo: id),
                        reason: "\(reason), but \(id) was closed \(Int(days)) days ago (reopen window "
                            + "\(input.reopenClosedDays) days): new ticket linked to it",
                        trustedAgent: trustedAgent, warnings: warnings)
                }
            }
            return IntakeDecision(
                route: .existing(id, automatic: false), reason: reason, trustedAgent: trustedAgent, warnings: warnings)

        case .new(let reason):
            if automatic {
                return IntakeDecision(
                    route: .ignore, reason: "automatic mail (\(signals)) that refers to no ticket: recorded, dropped",
                    warnings: warnings)
            }
            var classification = Classifier.classify(input.facts, rules: input.rules, defaultKind: input.mailboxKind)
            var why = reason
            if let rule = classification.rule { why += "; rule \"\(rule)\"" }
            if classification.disposition == .create && !input.senderKnown && !trustedAgent
                && input.unknownSenders != .create
            {
                classification.disposition = input.unknownSenders
                why += "; unknown sender policy: \(input.unknownSenders.rawValue)"
            }
            switch classification.disposition {
            case .create:
                return IntakeDecision(
                    route: .new(classification, linkedTo: nil), reason: why, trustedAgent: trustedAgent,
                    warnings: warnings)
            case .ignore:
                return IntakeDecision(route: .ignore, reason: why, warnings: warnings)
            case .reject:
                return IntakeDecision(route: .reject, reason: why, warnings: warnings)
            }
        }
    }
}
