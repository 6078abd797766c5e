/// One command line from the top of an agent's mail (`/resolve Printer replaced`); the workflow applies them in order.
public enum AgentCommand: Sendable, Hashable {
    /// `/status <state>` moves the ticket along its process (`in_progress`, `pending`, `assessment` …).
    case status(TicketState)
    /// `/assign <agent|group>`: a configured group name sets the assignment group, anything else the assignee.
    case assign(String)
    /// `/priority <1-5>` overrides the matrix.
    case priority(Priority)
    case impact(Impact)
    case urgency(Urgency)
    /// `/kind incident|request` reclassifies between incident and service request.
    case kind(TicketKind)
    /// `/service <name> [request type]`.
    case service(String, requestType: String?)
    /// `/link <ticket>` links an incident and a problem (either side).
    case link(TicketID)
    /// `/problem` opens a new problem from this incident and links them.
    case openProblem
    /// `/note`: the rest of the mail is internal and not relayed.
    case note
    /// `/resolve <text>` resolves (incident, problem) or fulfils (service request).
    case resolve(String)
    /// `/close [successful|failed|rolled_back]`; changes need the outcome.
    case close(ChangeOutcome?)
    case reopen
    case approve
    case reject(reason: String)
    /// `/pending [reason]` waits for the customer or a third party; the SLA clock pauses.
    case pending(reason: String?)
    /// `/workaround <text>` records a problem's workaround and makes it a known error.
    case workaround(String)
    /// `/send-workaround` mails the recorded workaround to the requesters of all linked incidents.
    case sendWorkaround
    /// `/change [standard|normal|emergency]` as the first line of an agent's new mail opens a change.
    case openChange(ChangeType?)

    /// The canonical command word, used in audit lines and error messages.
    public var name: String {
        switch self {
        case .status: return "/status"
        case .assign: return "/assign"
        case .priority: return "/priority"
        case .impact: return "/impact"
        case .urgency: return "/urgency"
        case .kind: return "/kind"
        case .service: return "/service"
        case .link: return "/link"
        case .openProblem: return "/problem"
        case .note: return "/note"
        case .resolve: return "/resolve"
        case .close: return "/close"
        case .reopen: return "/reopen"
        case .approve: return "/approve"
        case .reject: return "/reject"
        case .pending: return "/pending"
        case .workaround: return "/workaround"
        case .sendWorkaround: return "/send-workaround"
        case .openChange: return "/change"
        }
    }
}

extension AgentCommand: CustomStringConvertible {
    /// The command as an agent would write it (`/status in_progress`).
    public var description: String {
        switch self {
        case .status(let state): return "/status \(state.rawValue)"
        case .assign(let who): return "/assign \(who)"
        case .priority(let p): return "/priority \(p.rawValue)"
        case .impact(let i): return "/impact \(i.rawValue)"
        case .urgency(let u): return "/urgency \(u.rawValue)"
        case .kind(let k): return "/kind \(k == .serviceRequest ? "request" : k.rawValue)"
        case .service(let s, let type): return "/service \(s)" + (type.map { " \($0)" } ?? "")
        case .link(let id): return "/link \(id)"
        case .resolve(let text): return "/resolve \(text)"
        case .close(let outcome): return "/close" + (outcome.map { " \($0.rawValue)" } ?? "")
        case .reject(let reason): return "/reject \(reason)"
        case .pending(let reason): return "/pending" + (reason.map { " \($0)" } ?? "")
        case .workaround(let text): return "/workaround \(text)"
        case .openChange(let type): return "/change" + (type.map { " \($0.rawValue)" } ?? "")
        case .openProblem, .note, .reopen, .approve, .sendWorkaround: return name
        }
    }
}

/// The commands found at the top of an agent's mail and the text that remains for the requester.
public struct ParsedCommands: Sendable, Equatable {
    public var commands: [AgentCommand]
    /// The mail text with the command lines removed (leading blank lines trimmed).
    public var text: String
    /// True when `/note` was given: `text` is an internal note, never relayed.
    public var isInternal: Bool

    public init(commands: [AgentCommand], text: String, isInternal: Bool) {
        self.commands = commands
        self.text = text
        self.isInternal = isInternal
    }
}

/// One bad command line, with its 1-based line number and what is wrong, ready to quote in the error mail.
public struct CommandLineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What exactly is wrong with a command line.
    public enum Problem: Sendable, Equatable {
        case unknownCommand(String)
        case missingArgument(command: String, expected: String)
        case invalidArgument(command: String, value: String, expected: String)
        case unexpectedArgument(command: String, value: String)
    }

    public var line: Int
    public var text: String
    public var problem: Problem

    public init(line: Int, text: String, problem: Problem) {
        self.line = line
        self.text = text
        self.problem = problem
    }

    public var description: String {
        let what: String
        switch problem {
        case .unknownCommand(let word): what = "unknown command \(word)"
        case .missingArgument(let command, let expected): what = "\(command) needs \(expected)"
        case .invalidArgument(let command, let value, let expected):
            what = "\(command): '\(value)' is not \(expected)"
        case .unexpectedArgument(let command, let value): what = "\(command) takes no argument, got '\(value)'"
        }
        return "line \(line) (\(text)): \(what)"
    }
}

/// Every bad command line of a mail; nothing of the mail is applied when this is thrown.
public struct CommandParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [CommandLineError]

    public init(errors: [CommandLineError]) { self.errors = errors }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
