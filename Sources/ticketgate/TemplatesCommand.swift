import ArgumentParser
import Foundation
import Gateway

/// `ticketgate templates …`: lets an admin verify shipped templates and their own overrides before mail goes out.
struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Work with the mail templates.", subcommands: [Check.self])

    /// Parses and renders every template in every locale; one `file:line:column: message` line per problem.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Parse every template, render each with sample data in every locale, and report problems.",
            discussion:
                "Exits with status 1 when a problem is found; prints one `file:line:column: message` per problem.")

        @Option(name: .long, help: "Path of the YAML configuration file.")
        var config: String = "config/ticketgate.yaml"

        @Option(name: .long, help: "Overrides folder to check (default: the configuration's template_overrides).")
        var overrides: String?

        func run() async throws {
            let configuration: Configuration
            do {
                configuration = try Configuration.load(path: config)
            } catch {
                FileHandle.standardError.write(Data("ticketgate: \(error)\n".utf8))
                throw ExitCode(78)
            }
            let overrides = self.overrides ?? configuration.templateOverrides
            let problems = TemplateChecker.check(
                directory: configuration.templates, overrides: overrides,
                defaultLocale: configuration.instance.language ?? "en")
            for problem in problems { print(problem) }
            if !problems.isEmpty {
                FileHandle.standardError.write(Data("templates: \(problems.count) problem(s)\n".utf8))
                throw ExitCode(1)
            }
            print("templates: ok (\(configuration.templates)\(overrides.map { " + \($0)" } ?? ""))")
        }
    }
}
