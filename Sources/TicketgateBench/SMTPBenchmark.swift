import Foundation
import MailFormat
import MailTransport

/// `smtp`: 1,000 composed outbox mails sent by `SMTPSender` over one reused connection versus the minimal libcurl C
/// loop (`bench/smtp_loop.c`) sending the same bytes with the same envelope to the same sink; alternating runs,
/// medians compared. Options: `--port N` (required), `--host`, `--count`, `--runs`, `--c-loop PATH`, `--dir DIR`.
enum SMTPBenchmark {
    struct Options {
        var host = "127.0.0.1"
        var port = 0
        var count = 1000
        var runs = 5
        var cLoop: String?
        var directory = FileManager.default.temporaryDirectory.appendingPathComponent("tg-bench-smtp").path
        var sink = "smtp sink"
    }

    struct Mail {
        var bytes: [UInt8]
        var mailFrom: String
        var recipient: String
    }

    static func run(_ arguments: [String]) async throws {
        let options = try parse(arguments)
        let mails = makeMails(count: options.count)
        let manifest = try write(mails, to: options.directory)
        let sizes = mails.map(\.bytes.count).sorted()
        let total = sizes.reduce(0, +)
        print(
            "smtp: \(mails.count) mails, \(total / 1024) KiB, size min \(sizes.first ?? 0) / median "
                + "\(sizes[sizes.count / 2]) / max \(sizes.last ?? 0) bytes; sink \(options.sink) on "
                + "\(options.host):\(options.port)")

        let url = URL(string: "smtp://\(options.host):\(options.port)")!
        let endpoint = SMTPEndpoint(url: url, security: IMAPEndpoint.Security.none, heloName: "localhost")
        var swiftTimes: [Timing] = []
        var cTimes: [Timing] = []
        for round in 1...options.runs {
            // Alternate which side goes first so neither always meets a cold (or a warm) sink.
            let order = round % 2 == 1 ? ["swift", "c"] : ["c", "swift"]
            for side in order {
                if side == "swift" {
                    swiftTimes.append(try await sendWithSwift(mails, endpoint: endpoint))
                } else if let cLoop = options.cLoop {
                    cTimes.append(try runC(cLoop, manifest: manifest, url: "\(url.absoluteString)/localhost"))
                }
            }
            let swiftLine = swiftTimes.last.map { "swift \(format($0.wall)) s (cpu \(format($0.cpu)) s)" } ?? ""
            let cLine = cTimes.last.map { ", c \(format($0.wall)) s (cpu \(format($0.cpu)) s)" } ?? ""
            print("smtp: run \(round): \(swiftLine)\(cLine)")
        }
        let swiftMedian = median(swiftTimes.map(\.wall))
        print(
            "smtp: swift SMTPSender  \(rate(mails.count, swiftMedian)) msg/s (median \(format(swiftMedian)) s, "
                + "cpu median \(format(median(swiftTimes.map(\.cpu)))) s)")
        guard options.cLoop != nil else {
            print("smtp: no --c-loop given, no ratio")
            return
        }
        let cMedian = median(cTimes.map(\.wall))
        print(
            "smtp: libcurl C loop    \(rate(mails.count, cMedian)) msg/s (median \(format(cMedian)) s, "
                + "cpu median \(format(median(cTimes.map(\.cpu)))) s)")
        print("smtp: ratio to libcurl C loop \(String(format: "%.2f", swiftMedian / cMedian))")
    }

    // MARK: the two senders

    /// One timed run: wall seconds and CPU seconds (user + system of this process) while sending.
    struct Timing {
        var wall: Double
        var cpu: Double
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func sendWithSwift(_ mails: [Mail], endpoint: SMTPEndpoint) async throws -> Timing {
        let sender = SMTPSender(endpoint: endpoint)
        let clock = ContinuousClock()
        let cpuStart = cpuSeconds()
        let start = clock.now
        for mail in mails {
            let delivery = try await sender.send(mail.bytes, mailFrom: mail.mailFrom, recipients: [mail.recipient])
            guard delivery.refused.isEmpty else { throw BenchError("refused: \(delivery.refused)") }
        }
        let elapsed = clock.now - start
        let cpu = cpuSeconds() - cpuStart
        await sender.close()
        return Timing(wall: seconds(elapsed), cpu: cpu)
    }

    static func runC(_ path: String, manifest: String, url: String) throws -> Timing {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [manifest, url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "c: <n> messages, cpu <s> s, in <s> s"
        let fields = output.split(whereSeparator: \.isWhitespace)
        guard process.terminationStatus == 0, fields.count >= 8, let cpu = Double(fields[4]),
            let wall = Double(fields[7])
        else { throw BenchError("the C loop failed (status \(process.terminationStatus)): \(output)") }
        return Timing(wall: wall, cpu: cpu)
    }

    // MARK: mails

    /// Realistic outbox mails: agent replies and notifications in English and German, text + HTML alternative,
    /// threading headers, 3–5 KB each; deterministic so every run sends the same bytes.
    static func makeMails(count: Int) -> [Mail] {
        let paragraphs = [
            "Thank you for the details. I have checked the VPN gateway logs for your account and can see that the "
                + "session is dropped after exactly ten minutes of idle time, which matches what you describe.",
            "Please install the updated client (version 5.2) from the self-service portal, restart your laptop, and "
                + "connect once while you are in the office network so the new profile is applied.",
            "Vielen Dank für Ihre Rückmeldung. Wir haben den Drucker im zweiten Obergeschoss geprüft: Die Warteschlange "
                + "hing wegen eines fehlerhaften Auftrags, den wir gelöscht haben. Bitte drucken Sie erneut.",
            "If the problem comes back, please send us the time it happened and a screenshot of the error message; "
                + "that lets us match it against the server logs and saves you a call.",
            "Ihr neues Passwort muss mindestens zwölf Zeichen lang sein und darf keines der letzten fünf Passwörter "
                + "wiederholen. Nach der Änderung kann die Anmeldung am WLAN bis zu 15 Minuten dauern.",
            "We have ordered the replacement docking station; delivery is expected on Thursday. Our technician will "
                + "bring it to your desk and move your monitors over, which takes about twenty minutes.",
            "Zur Einordnung: Die Störung betraf alle Standorte zwischen 08:10 und 08:45 Uhr. Ursache war ein "
                + "abgelaufenes Zertifikat am Proxy, das inzwischen erneuert wurde.",
        ]
        let date = Date(timeIntervalSince1970: 1_740_000_000)
        return (0..<count).map { index in
            let ticket = "INC-\(String(format: "%06d", 1000 + index % 400))"
            let chosen = (0..<(4 + index % 4)).map { paragraphs[(index + $0 * 3) % paragraphs.count] }
            let text =
                "Hello Tom,\n\n" + chosen.joined(separator: "\n\n")
                + "\n\nAnna Weber · IT Service Desk\nTicket \(ticket) · reply to this mail to add to it\n"
                + "[TG:\(ticket):\(String(format: "%08x", index &* 2_654_435_761 & 0xffff_ffff))]\n"
            let html =
                "<!DOCTYPE html>\n<html><body style=\"font-family:Arial,sans-serif;font-size:14px;\">\n"
                + chosen.map { "<p>\($0)</p>" }.joined(separator: "\n")
                + "\n<p style=\"color:#555555;\">Anna Weber · IT Service Desk</p>\n</body></html>\n"
            let parent = "\(ticket).ack.\(index)@example.test"
            let mail = OutgoingMail(
                from: MailAddress(name: "Anna Weber (IT Service Desk)", address: "support@example.test"),
                to: [MailAddress(name: "Tom Berger", address: "user\(index % 50)@example.test")],
                replyTo: [MailAddress(name: "IT Service Desk", address: "support@example.test")],
                subject: "Re: [\(ticket)] VPN drops every 10 minutes – Verbindung bricht ab",
                messageID: "\(ticket).reply.\(index).a1b2c3d4@example.test", inReplyTo: parent,
                references: ["\(ticket).mail.\(index)@example.test", parent],
                date: date.addingTimeInterval(Double(index) * 37),
                extraHeaders: [
                    HeaderField(name: "X-Ticketgate-Ticket", rawValue: ticket),
                    HeaderField(name: "X-Ticketgate-Loop", rawValue: "example.test"),
                ],
                text: text, html: html)
            return Mail(
                bytes: MailComposer.compose(mail), mailFrom: "support@example.test",
                recipient: "user\(index % 50)@example.test")
        }
    }

    /// Writes `NNNN.eml` files and the manifest the C loop reads (`file<TAB>mail-from<TAB>rcpt`).
    static func write(_ mails: [Mail], to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var manifest = ""
        for (index, mail) in mails.enumerated() {
            let path = "\(directory)/\(String(format: "%04d", index)).eml"
            try Data(mail.bytes).write(to: URL(fileURLWithPath: path))
            manifest += "\(path)\t\(mail.mailFrom.isEmpty ? "-" : mail.mailFrom)\t\(mail.recipient)\n"
        }
        let path = "\(directory)/manifest.tsv"
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    // MARK: helpers

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("\(argument) needs a value") }
            switch argument {
            case "--host": options.host = value
            case "--port": options.port = Int(value) ?? 0
            case "--count": options.count = Int(value) ?? options.count
            case "--runs": options.runs = max(1, Int(value) ?? options.runs)
            case "--c-loop": options.cLoop = value
            case "--dir": options.directory = value
            case "--sink": options.sink = value
            default: throw BenchError("unknown option \(argument)")
            }
        }
        guard options.port > 0 else { throw BenchError("--port is required") }
        return options
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    static func rate(_ count: Int, _ seconds: Double) -> String { String(format: "%.0f", Double(count) / seconds) }
}
