import Foundation
import MailFormat

/// `scripts/bench parse`: "ticket extraction" throughput of MailFormat against GMime 3 on the same messages in
/// the same run, because a parser is only "fast" relative to a known-good one on identical input.
///
/// The message set is every regular file under the corpus whose first non-blank line is a header field (or an
/// mbox `From ` line), minus expected-output files (`*.json`, `*.xml`, `*.out`, `*.list`, `*_decoded*`, licences
/// and READMEs) and minus sisimai's `maildir/mac/` copies (bare-CR line ends, which GMime does not split into
/// lines, so the two parsers would not be doing the same work). The same sorted list is handed to the C program.
///
/// Per message and round: parse, decode subject, from, to, date, message-id and references, walk every MIME part
/// (into attached messages) and decode every `text/*` part to a String.
///
/// On the shared corpus that is 1,355 messages, 21.6 MB. Both sides run one warm-up round, then alternating
/// slices; each side is scored by its best slice.
///
/// Options: `--corpus DIR` (default `$TG_CORPUS_DIR` or `../shared/corpus`), `--seconds N` (length of one
/// slice, default 1), `--slices N` (alternating slices per parser, default 5), `--gmime PATH` (the built
/// `bench/parse_gmime`; without it the ratio is `n/a`), `--list FILE` (also write the chosen paths there).
enum ParseBenchmark {
    static func run(_ arguments: [String]) async throws {
        var corpus = ProcessInfo.processInfo.environment["TG_CORPUS_DIR"] ?? ""
        if corpus.isEmpty {
            corpus =
                URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../../shared/corpus").standardizedFileURL.path
        }
        var seconds = 1.0
        var slices = 5
        var gmime: String?
        var listPath: String?
        var i = 0
        while i < arguments.count {
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch arguments[i] {
            case "--corpus": corpus = value
            case "--seconds": seconds = Double(value) ?? seconds
            case "--slices": slices = max(1, Int(value) ?? slices)
            case "--gmime": gmime = value
            case "--list": listPath = value
            default:
                FileHandle.standardError.write(Data("parse: unknown option \(arguments[i])\n".utf8))
                exit(64)
            }
            i += 2
        }

        let files = messageFiles(under: corpus)
        let messages = try files.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }
        let bytes = messages.reduce(0) { $0 + $1.count }
        guard !messages.isEmpty else {
            FileHandle.standardError.write(Data("parse: no messages under \(corpus)\n".utf8))
            exit(66)
        }
        print("corpus: \(messages.count) messages, \(format(Double(bytes) / 1e6)) MB from \(corpus)")

        // The machine is shared (builds, other benchmarks): both parsers run in alternating slices and each is
        // scored by its best slice, which is the figure least disturbed by neighbours.
        var sink = 0
        for m in messages { sink &+= extract(m) }  // warm-up
        var list: String?
        if gmime != nil || listPath != nil {
            let path = listPath ?? NSTemporaryDirectory() + "ticketgate-parse-list-\(getpid()).txt"
            try (files.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            list = path
        }
        defer { if listPath == nil, let list { try? FileManager.default.removeItem(atPath: list) } }
        var ours = 0.0
        var theirs = 0.0
        for slice in 1...slices {
            let clock = ContinuousClock()
            let start = clock.now
            var rounds = 0
            var elapsed = 0.0
            repeat {
                for m in messages { sink &+= extract(m) }
                rounds += 1
                elapsed = duration(clock.now - start)
            } while elapsed < seconds
            let rate = Double(messages.count * rounds) / elapsed
            ours = max(ours, rate)
            var line = "slice \(slice): ticketgate \(format(rate)) msg/s (\(rounds) rounds)"
            if let gmime, let list {
                let rate = try runGMime(gmime, list: list, seconds: seconds)
                theirs = max(theirs, rate)
                line += ", gmime \(format(rate)) msg/s"
            }
            print(line)
        }
        let mb = Double(bytes) / Double(messages.count) / 1e6
        print("ticketgate: \(format(ours)) msg/s, \(format(ours * mb)) MB/s (best slice, checksum \(sink))")
        var ratio = "n/a"
        if theirs > 0 {
            print("gmime: \(format(theirs)) msg/s, \(format(theirs * mb)) MB/s (best slice)")
            ratio = String(format: "%.2f", ours / theirs)
        }
        let oursMB = ours * mb
        print("parse: \(Int(ours.rounded())) msg/s, \(Int(oursMB.rounded())) MB/s, ratio to GMime \(ratio)")
    }

    /// Runs the C program for one slice; returns its messages per second.
    static func runGMime(_ gmime: String, list: String, seconds: Double) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gmime)
        process.arguments = [list, String(seconds)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "gmime <messages> <bytes> <rounds> <seconds> <checksum>"
        let fields = output.split(whereSeparator: \.isWhitespace)
        guard process.terminationStatus == 0, fields.count >= 5, fields[0] == "gmime", let count = Double(fields[1]),
            let rounds = Double(fields[3]), let elapsed = Double(fields[4]), elapsed > 0
        else {
            FileHandle.standardError.write(Data("parse: unexpected output from \(gmime): \(output)\n".utf8))
            exit(70)
        }
        return count * rounds / elapsed
    }

    /// The ticket-extraction workload for one message; returns a checksum so nothing is optimised away.
    static func extract(_ raw: [UInt8]) -> Int {
        let m = MailParser.parse(raw)
        var sink = m.subject.utf8.count &+ m.references.count &+ (m.messageID?.utf8.count ?? 0)
        for a in m.from { sink &+= a.address.utf8.count &+ (a.name?.utf8.count ?? 0) }
        for a in m.to { sink &+= a.address.utf8.count &+ (a.name?.utf8.count ?? 0) }
        if let date = m.date { sink &+= Int(date.timeIntervalSince1970) & 0xFF }
        walk(m.parts, &sink)
        return sink
    }

    private static func walk(_ part: MIMEPart, _ sink: inout Int) {
        if let text = part.decodedText {
            sink &+= text.utf8.count
        } else if let filename = part.filename {
            sink &+= filename.utf8.count
        }
        for child in part.children { walk(child, &sink) }
    }

    /// The benchmark's message set (see the type's documentation), sorted by path.
    static func messageFiles(under root: String) -> [String] {
        let skippedExtensions: Set<String> = ["json", "xml", "out", "list", "md"]
        var out: [String] = []
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = enumerator.nextObject() as? String {
            let path = root + "/" + relative
            let name = (relative as NSString).lastPathComponent
            let ext = (name as NSString).pathExtension.lowercased()
            if relative.contains("/maildir/mac/") || skippedExtensions.contains(ext) || name.contains("_decoded") {
                continue
            }
            if ["LICENSE", "README", "SOURCE_COMMIT", "MISSING", "COPYING"].contains(where: { name.hasPrefix($0) }) {
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let handle = FileHandle(forReadingAtPath: path)
            else { continue }
            let head = [UInt8]((try? handle.read(upToCount: 1024)) ?? Data())
            try? handle.close()
            if startsWithHeader(head) { out.append(path) }
        }
        return out.sorted()
    }

    /// First non-blank line is `From ` or `name:` with a printable field name.
    static func startsWithHeader(_ head: [UInt8]) -> Bool {
        var i = 0
        while i < head.count, [10, 13, 32, 9].contains(head[i]) { i += 1 }
        if head[i...].starts(with: Array("From ".utf8)) { return true }
        let nameStart = i
        while i < head.count, head[i] >= 33, head[i] <= 126, head[i] != UInt8(ascii: ":") { i += 1 }
        guard i > nameStart else { return false }
        while i < head.count, head[i] == 32 || head[i] == 9 { i += 1 }
        return i < head.count && head[i] == UInt8(ascii: ":")
    }

    private static func duration(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private static func format(_ x: Double) -> String {
        x >= 100 ? String(Int(x.rounded())) : String(format: "%.2f", x)
    }
}
