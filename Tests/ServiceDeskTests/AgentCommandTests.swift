import PropertyBased
import Testing

@testable import ServiceDesk

@Suite("Agent command parser")
struct AgentCommandTests {
    @Test(
        "single command lines, English and German",
        arguments: [
            ("/status in_progress", AgentCommand.status(.inProgress)),
            ("/status pending", .status(.pending)),
            ("/zustand in_bearbeitung", .status(.inProgress)),
            ("/assign network", .assign("network")),
            ("/zuweisen Anna Schmidt", .assign("Anna Schmidt")),
            ("/priority 2", .priority(.p2)),
            ("/priorität P1", .priority(.p1)),
            ("/impact high", .impact(.high)),
            ("/urgency niedrig", .urgency(.low)),
            ("/kind request", .kind(.serviceRequest)),
            ("/kind incident", .kind(.incident)),
            ("/service email mailbox", .service("email", requestType: "mailbox")),
            ("/service email", .service("email", requestType: nil)),
            ("/link PRB-000007", .link(TicketID(kind: .problem, number: 7))),
            ("/link [prb-7]", .link(TicketID(kind: .problem, number: 7))),
            ("/problem", .openProblem),
            ("/resolve Toner replaced", .resolve("Toner replaced")),
            ("/lösen Toner getauscht", .resolve("Toner getauscht")),
            ("/close", .close(nil)),
            ("/close rolled_back", .close(.rolledBack)),
            ("/schließen erfolgreich", .close(.successful)),
            ("/reopen", .reopen),
            ("/wiedereröffnen", .reopen),
            ("/approve", .approve),
            ("/genehmigen", .approve),
            ("/reject too expensive", .reject(reason: "too expensive")),
            ("/ablehnen zu teuer", .reject(reason: "zu teuer")),
            ("/pending", .pending(reason: nil)),
            ("/pending waiting for vendor", .pending(reason: "waiting for vendor")),
            ("/workaround restart the spooler", .workaround("restart the spooler")),
            ("/send-workaround", .sendWorkaround),
            ("/change", .openChange(nil)),
            ("/change emergency", .openChange(.emergency)),
            ("/STATUS Resolved", .status(.resolved)),
        ])
    func single(line: String, command: AgentCommand) throws {
        let parsed = try AgentCommand.parse(lines: [line, "", "Hello Alice"])
        #expect(parsed.commands == [command])
        #expect(parsed.text == "Hello Alice")
        #expect(!parsed.isInternal)
    }

    @Test("several commands, blank lines, then text that keeps later slashes")
    func block() throws {
        let parsed = try AgentCommand.parse(
            text: "\r\n/assign network\r\n\r\n/priority 1\r\nHi,\r\n/status closed is not a command here\r\n")
        #expect(parsed.commands == [.assign("network"), .priority(.p1)])
        #expect(parsed.text == "Hi,\n/status closed is not a command here\n")
    }

    @Test("/note makes the rest internal and keeps its text")
    func note() throws {
        let parsed = try AgentCommand.parse(lines: ["/notiz called the vendor", "/priority 2", "ticket 123 at vendor"])
        #expect(parsed.isInternal)
        #expect(parsed.commands == [.priority(.p2)])
        #expect(parsed.text == "called the vendor\nticket 123 at vendor")
    }

    @Test(
        "bad lines are reported precisely",
        arguments: [
            ("/frobnicate", CommandLineError.Problem.unknownCommand("/frobnicate")),
            ("/status", .missingArgument(command: "/status", expected: "a state such as in_progress or pending")),
            ("/status sleeping", .invalidArgument(command: "/status", value: "sleeping", expected: "a known state")),
            ("/priority 9", .invalidArgument(command: "/priority", value: "9", expected: "a priority 1-5")),
            ("/impact huge", .invalidArgument(command: "/impact", value: "huge", expected: "high, medium or low")),
            ("/kind problem", .invalidArgument(command: "/kind", value: "problem", expected: "incident or request")),
            (
                "/link nonsense",
                .invalidArgument(command: "/link", value: "nonsense", expected: "a ticket id like INC-000042")
            ),
            ("/reject", .missingArgument(command: "/reject", expected: "a reason")),
            ("/resolve", .missingArgument(command: "/resolve", expected: "a resolution text")),
            ("/reopen now", .unexpectedArgument(command: "/reopen", value: "now")),
            (
                "/close maybe",
                .invalidArgument(command: "/close", value: "maybe", expected: "successful, failed or rolled_back")
            ),
            (
                "/change tiny",
                .invalidArgument(command: "/change", value: "tiny", expected: "standard, normal or emergency")
            ),
        ])
    func errors(line: String, problem: CommandLineError.Problem) {
        #expect(throws: CommandParseError(errors: [CommandLineError(line: 2, text: line, problem: problem)])) {
            try AgentCommand.parse(lines: ["/status in_progress", line, "text"])
        }
    }

    @Test("all bad lines are collected, and the description names them")
    func manyErrors() {
        do {
            _ = try AgentCommand.parse(lines: ["/foo", "/priority 0"])
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.map(\.line) == [1, 2])
            #expect(error.description.contains("line 1 (/foo): unknown command /foo"))
        }
    }

    @Test("a mail without commands is all text")
    func noCommands() throws {
        let parsed = try AgentCommand.parse(text: "Hello\n/status closed")
        #expect(parsed.commands.isEmpty)
        #expect(parsed.text == "Hello\n/status closed")
    }

    @Test("paths and numbers after a slash are text, not commands", arguments: ["/usr/bin is full", "/24 subnet", "/"])
    func notCommands(line: String) throws {
        let parsed = try AgentCommand.parse(lines: [line, "more"])
        #expect(parsed.commands.isEmpty)
        #expect(parsed.text == line + "\nmore")
    }

    @Test("property: command lines are removed and the text below them is kept verbatim")
    func textKept() async {
        let commands = ["/priority 2", "/assign network", "/status pending", "/genehmigen", "/impact low"]
        let words = Gen.letterOrNumber.string(of: 1...12)
        await propertyCheck(count: 200, input: Gen.int(in: 0...4), words.array(of: 1...6)) { count, body in
            let lines = Array(commands.prefix(count)) + [""] + body
            let parsed = try AgentCommand.parse(lines: lines)
            #expect(parsed.commands.count == count)
            #expect(parsed.text == body.joined(separator: "\n"))
        }
    }
}
