import Foundation
import Testing

@testable import MailFormat

/// `DeliveryReport` against sisimai's set-of-emails expectations (BSD-2-Clause, read in place): for every bounce in
/// `expected.json` (ARF feedback reports and vacation replies are not bounces and are left out) the report must
/// name as many recipients as sisimai found, with the same DSN status codes where sisimai gives one.
@Suite struct SisimaiBounceTests {
    static var directory: URL { CorpusTests.corpusDirectory.appendingPathComponent("sisimai-set-of-emails") }

    struct Result {
        var total = 0
        var matched = 0
        var failures: [String] = []
    }

    static func evaluate() throws -> Result {
        let json = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        let expected = try JSONSerialization.jsonObject(with: json) as? [String: [[Any]]] ?? [:]
        var result = Result()
        for (path, rows) in expected.sorted(by: { $0.key < $1.key }) {
            let reasons = rows.compactMap { $0.count > 2 ? $0[2] as? String : nil }
            if reasons.contains("feedback") || reasons.contains("vacation") { continue }
            let wanted = rows.compactMap { $0.first as? String }.filter { !$0.isEmpty }.sorted()
            result.total += 1
            let raw = try [UInt8](Data(contentsOf: directory.appendingPathComponent(path)))
            let message = MailParser.parse(raw)
            guard let report = DeliveryReport.parse(message) else {
                result.failures.append("\(path): no report (want \(rows.count) × \(wanted))")
                continue
            }
            let got = report.recipients.compactMap(\.status).sorted()
            let statusesMatch = wanted.isEmpty || Self.same(got, wanted)
            if report.recipients.count == rows.count && statusesMatch {
                result.matched += 1
            } else {
                result.failures.append(
                    "\(path): \(report.recipients.count) × \(got), want \(rows.count) × \(wanted)"
                        + " \(report.recipients.map(\.address).prefix(3))")
            }
        }
        return result
    }

    /// sisimai's `X.0.9nn` codes are its own reason codes, not RFC 3463: any code of the same class matches them.
    static func same(_ got: [String], _ wanted: [String]) -> Bool {
        guard got.count == wanted.count else { return false }
        var pool = got
        for w in wanted.sorted(by: { !isPseudo($0) && isPseudo($1) }) {
            if let i = pool.firstIndex(where: { $0 == w || (isPseudo(w) && $0.first == w.first) }) {
                pool.remove(at: i)
            } else {
                return false
            }
        }
        return true
    }

    static func isPseudo(_ code: String) -> Bool {
        let parts = code.split(separator: ".")
        return parts.count == 3 && parts[1] == "0" && parts[2].count == 3 && parts[2].hasPrefix("9")
    }

    @Test func matchRate() throws {
        let result = try Self.evaluate()
        try #require(result.total > 400, "sisimai expectations missing under \(Self.directory.path)")
        let rate = Double(result.matched) / Double(result.total)
        print("sisimai bounces: \(result.matched)/\(result.total) match (\(String(format: "%.1f", rate * 100))%)")
        if ProcessInfo.processInfo.environment["TG_SHOW_FAILURES"] != nil {
            for failure in result.failures { print("  " + failure) }
        }
        #expect(rate >= 0.90)
    }

    /// sisimai's `maildir/not/` holds mails that are not bounces; a prose-bounce reader must leave them alone.
    @Test func nonBouncesStayQuiet() throws {
        let folder = Self.directory.appendingPathComponent("maildir/not")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        var reported: [String] = []
        for name in names {
            let raw = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            if let report = MailParser.parse(raw).deliveryReport, report.isFromText { reported.append(name) }
        }
        print("sisimai not-bounces: \(reported.count)/\(names.count) read as prose bounces \(reported)")
        #expect(reported.count * 10 <= names.count)
    }

    /// `maildir/dos/` (CRLF) and `maildir/mac/` (bare CR) hold copies of the `bsd/` bounces: line ends must not
    /// change what is read.
    @Test(arguments: ["dos", "mac"])
    func lineEndingCopiesAgree(_ variant: String) throws {
        let bsd = Self.directory.appendingPathComponent("maildir/bsd")
        let other = Self.directory.appendingPathComponent("maildir/\(variant)")
        let names = try FileManager.default.contentsOfDirectory(atPath: other.path).sorted()
        var same = 0
        var compared = 0
        for name in names {
            guard let a = try? [UInt8](Data(contentsOf: bsd.appendingPathComponent(name))) else { continue }
            let b = try [UInt8](Data(contentsOf: other.appendingPathComponent(name)))
            compared += 1
            let ra = MailParser.parse(a).deliveryReport
            let rb = MailParser.parse(b).deliveryReport
            if ra?.recipients.map(\.address) == rb?.recipients.map(\.address)
                && ra?.recipients.map(\.status) == rb?.recipients.map(\.status)
            {
                same += 1
            } else if ProcessInfo.processInfo.environment["TG_SHOW_FAILURES"] != nil {
                print(
                    "  \(variant)/\(name): \(String(describing: rb?.recipients)) vs bsd \(String(describing: ra?.recipients))"
                )
            }
        }
        print("sisimai \(variant)/ vs bsd/: \(same)/\(compared) read alike")
        #expect(compared > 0)
        #expect(same * 100 >= compared * 95)
    }

    @Test func proseBounces() {
        let qmail = parse(
            "From: MAILER-DAEMON@mx.example.test\nTo: sender@example.test\nSubject: failure notice\n\n"
                + "Hi. This is the qmail-send program at mx.example.test.\n"
                + "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
                + "<gone@example.org>:\nRemote host said: 550 5.1.1 <gone@example.org>... User Unknown\n\n"
                + "--- Below this line is a copy of the message.\n\nMessage-ID: <orig@example.test>\n"
                + "To: gone@example.org\n\nhello\n")
        let report = qmail.deliveryReport
        #expect(report?.isFromText == true)
        #expect(report?.recipients.map(\.address) == ["gone@example.org"])
        #expect(report?.recipients.first?.status == "5.1.1")
        #expect(report?.recipients.first?.isPermanentFailure == true)
        #expect(report?.originalMessageID == "orig@example.test")
        #expect(parse("From: a@example.test\nSubject: lunch?\n\nbob@example.org: are you in?\n").deliveryReport == nil)
        // user tickets whose subject sounds like a failure are not bounces
        for subject in ["Access rejected", "Login fehlgeschlagen", "Delivery failed for order 4711", "Mail error"] {
            let m = parse("From: ann@example.test\nSubject: \(subject)\n\nbob@example.org: cannot log in\nThanks\n")
            #expect(m.deliveryReport == nil, "\(subject)")
        }
    }
}
