import Foundation
import MailFormat
import Testing

/// Walks every file of the shared corpus: parsing must never crash and must finish each message quickly.
@Suite struct CorpusTests {
    static var corpusDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["TG_CORPUS_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/corpus").standardizedFileURL
    }

    static var folders: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path))?.filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(
                atPath: corpusDirectory.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
        }.sorted() ?? []
    }

    @Test func corpusIsPresent() {
        #expect(
            FileManager.default.fileExists(atPath: Self.corpusDirectory.path),
            "corpus missing at \(Self.corpusDirectory.path)")
        #expect(Self.folders.count >= 10)
    }

    @Test(arguments: folders)
    func everyFileParses(_ folder: String) throws {
        let root = Self.corpusDirectory.appendingPathComponent(folder)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        var count = 0
        var slowest: (String, Double) = ("", 0)
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let data = try [UInt8](Data(contentsOf: url))
            let start = ContinuousClock.now
            let m = MailParser.parse(data)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if seconds > slowest.1 { slowest = (url.lastPathComponent, seconds) }
            #expect(m.rawSize == data.count)
            #expect(m.parts.allParts.count <= ParseOptions().maxParts + 1)
            // generous bound: debug builds are ~20x slower than release
            #expect(seconds < 2.0, "\(url.path) took \(seconds)s")
            count += 1
        }
        #expect(count > 0)
        print("corpus \(folder): \(count) files, slowest \(slowest.0) \(String(format: "%.3f", slowest.1))s")
    }
}
