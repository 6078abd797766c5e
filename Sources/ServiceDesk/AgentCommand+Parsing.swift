import Foundation

extension AgentCommand {
    /// Command words and their aliases (German included) → canonical name.
    static let aliases: [String: String] = [
        "status": "status", "zustand": "status",
        "assign": "assign", "zuweisen": "assign",
        "priority": "priority", "prio": "priority", "priorität": "priority", "prioritaet": "priority",
        "impact": "impact", "auswirkung": "impact",
        "urgency": "urgency", "dringlichkeit": "urgency",
        "kind": "kind", "art": "kind",
        "service": "service", "dienst": "service",
        "link": "link", "verknüpfen": "link", "verknuepfen": "link",
        "problem": "problem",
        "note": "note", "notiz": "note", "intern": "note",
        "resolve": "resolve", "lösen": "resolve", "loesen": "resolve",
        "close": "close", "schließen": "close", "schliessen": "close",
        "reopen": "reopen", "wiedereröffnen": "reopen", "wiedereroeffnen": "reopen",
        "approve": "approve", "genehmigen": "approve",
        "reject": "reject", "ablehnen": "reject",
        "pending": "pending", "warten": "pending",
        "workaround": "workaround", "umgehung": "workaround",
        "send-workaround": "send-workaround", "sendworkaround": "send-workaround",
        "umgehung-senden": "send-workaround",
        "change": "change", "änderung": "change", "aenderung": "change",
    ]

    /// Reads the command block at the top of an agent's mail: leading blank lines, then lines starting with `/`
    /// (blank lines between them allowed). The first other line ends the block; everything from there is the text.
    /// Throws every bad line at once, so the agent can fix the mail in one go.
    public static func parse(lines: [String]) throws(CommandParseError) -> ParsedCommands {
        var commands: [AgentCommand] = []
        var errors: [CommandLineError] = []
        var isInternal = false
        var bodyStart = lines.count
        var noteText: String?
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard Self.looksLikeCommand(line) else {
                bodyStart = index
                break
            }
            do {
                let (command, rest) = try parse(line: line, number: index + 1)
                if command == .note {
                    isInternal = true
                    if let rest, !rest.isEmpty { noteText = rest }
                } else {
                    commands.append(command)
                }
            } catch {
                errors.append(error)
            }
        }
        guard errors.isEmpty else { throw CommandParseError(errors: errors) }
        var body = Array(lines[bodyStart...])
        while let first = body.first, first.trimmingCharacters(in: .whitespaces).isEmpty { body.removeFirst() }
        if let noteText { body.insert(noteText, at: 0) }
        return ParsedCommands(
            commands: commands, text: body.joined(separator: "\n"), isInternal: isInternal)
    }

    /// A command line starts with `/` and a word of letters and dashes; `/usr/bin is full` or `/24 subnet` is text.
    static func looksLikeCommand(_ line: String) -> Bool {
        guard line.hasPrefix("/") else { return false }
        let word = line.dropFirst().prefix { !$0.isWhitespace }
        return !word.isEmpty && word.allSatisfy { $0.isLetter || $0 == "-" }
    }

    /// Parses a whole mail text (any line ending).
    public static func parse(text: String) throws(CommandParseError) -> ParsedCommands {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        return try parse(lines: normalized.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// Parses one line; returns the command and, for `/note`, the text after it.
    private static func parse(line: String, number: Int) throws(CommandLineError) -> (AgentCommand, String?) {
        let body = line.dropFirst()
        let word = body.prefix { !$0.isWhitespace }
        let argument = body.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
        let arg: String? = argument.isEmpty ? nil : argument
        func fail(_ problem: CommandLineError.Problem) -> CommandLineError {
            CommandLineError(line: number, text: line, problem: problem)
        }
        guard let name = aliases[word.lowercased()] else { throw fail(.unknownCommand("/" + word)) }
        let command = "/" + name
        func required(_ expected: String) throws(CommandLineError) -> String {
            guard let arg else { throw fail(.missingArgument(command: command, expected: expected)) }
            return arg
        }
        func none() throws(CommandLineError) {
            if let arg { throw fail(.unexpectedArgument(command: command, value: arg)) }
        }
        switch name {
        case "status":
            let value = try required("a state such as in_progress or pending")
            guard let state = TicketState(name: value) else {
                throw fail(.invalidArgument(command: command, value: value, expected: "a known state"))
            }
            return (.status(state), nil)
        case "assign":
            return (.assign(try required("an agent or group")), nil)
        case "priority":
            let value = try required("a priority 1-5")
            let digits = value.lowercased().hasPrefix("p") ? String(value.dropFirst()) : value
            guard let n = Int(digits), let priority = Priority(rawValue: n) else {
                throw fail(.invalidArgument(command: command, value: value, expected: "a priority 1-5"))
            }
            return (.priority(priority), nil)
        case "impact":
            let value = try required("high, medium or low")
            guard let impact = Impact(name: value) else {
                throw fail(.invalidArgument(command: command, value: value, expected: "high, medium or low"))
            }
            return (.impact(impact), nil)
        case "urgency":
            let value = try required("high, medium or low")
            guard let urgency = Urgency(name: value) else {
                throw fail(.invalidArgument(command: command, value: value, expected: "high, medium or low"))
            }
            return (.urgency(urgency), nil)
        case "kind":
            let value = try required("incident or request")
            switch value.lowercased() {
            case "incident", "störung", "stoerung": return (.kind(.incident), nil)
            case "request", "service_request", "service-request", "anfrage", "anforderung":
                return (.kind(.serviceRequest), nil)
            default: throw fail(.invalidArgument(command: command, value: value, expected: "incident or request"))
            }
        case "service":
            let value = try required("a service name")
            let parts = value.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return (.service(parts[0], requestType: parts.count > 1 ? parts[1] : nil), nil)
        case "link":
            let value = try required("a ticket such as PRB-000001")
            guard let id = TicketID(value.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else {
                throw fail(.invalidArgument(command: command, value: value, expected: "a ticket id like INC-000042"))
            }
            return (.link(id), nil)
        case "problem":
            try none()
            return (.openProblem, nil)
        case "note":
            return (.note, arg)
        case "resolve":
            return (.resolve(try required("a resolution text")), nil)
        case "close":
            guard let arg else { return (.close(nil), nil) }
            guard let outcome = ChangeOutcome(name: arg) else {
                throw fail(
                    .invalidArgument(command: command, value: arg, expected: "successful, failed or rolled_back"))
            }
            return (.close(outcome), nil)
        case "reopen":
            try none()
            return (.reopen, nil)
        case "approve":
            try none()
            return (.approve, nil)
        case "reject":
            return (.reject(reason: try required("a reason")), nil)
        case "pending":
            return (.pending(reason: arg), nil)
        case "workaround":
            return (.workaround(try required("the workaround text")), nil)
        case "send-workaround":
            try none()
            return (.sendWorkaround, nil)
        default:  // change
            guard let arg else { return (.openChange(nil), nil) }
            guard let type = ChangeType(rawValue: arg.lowercased()) else {
                throw fail(.invalidArgument(command: command, value: arg, expected: "standard, normal or emergency"))
            }
            return (.openChange(type), nil)
        }
    }
}
