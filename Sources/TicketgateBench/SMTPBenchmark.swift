/// Placeholder until the SMTP benchmark lands.
enum SMTPBenchmark {
    static func run(_ arguments: [String]) async throws {
        fatalError("the SMTP benchmark is not written yet")
    }
}
