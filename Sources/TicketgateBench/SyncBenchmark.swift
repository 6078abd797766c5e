/// Placeholder until the Sync benchmark lands.
enum SyncBenchmark {
    static func run(_ arguments: [String]) async throws {
        fatalError("the Sync benchmark is not written yet")
    }
}
