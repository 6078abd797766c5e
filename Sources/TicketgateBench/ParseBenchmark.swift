/// Placeholder until the Parse benchmark lands.
enum ParseBenchmark {
    static func run(_ arguments: [String]) async throws {
        fatalError("the Parse benchmark is not written yet")
    }
}
