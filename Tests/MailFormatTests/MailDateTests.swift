import Foundation
import MailFormat
import Testing

@Suite struct MailDateTests {
    // 2024-11-05 10:00:00 UTC
    static let base: TimeInterval = 1_730_800_800

    @Test(arguments: [
        ("Tue, 05 Nov 2024 10:00:00 +0000", base),
        ("Tue, 5 Nov 2024 11:00:00 +0100", base),
        ("5 Nov 2024 05:00:00 -0500", base),
        ("Tue, 05 Nov 2024 05:00:00 EST", base),
        ("Tue, 05 Nov 2024 02:00:00 PST", base),
        ("Tue, 05 Nov 2024 10:00:00 GMT", base),
        ("Tue, 05 Nov 2024 10:00:00 UT", base),
        ("Tue, 05 Nov 2024 10:00:00 Z", base),
        ("Tue, 05 Nov 2024 10:00:00", base),
        ("Tue, 05 Nov 24 10:00:00 +0000", base),
        ("Tuesday, 05-Nov-2024 10:00:00 +0000", base),
        ("Tue, 05 Nov 2024 12:00:00 +0200 (CEST)", base),
        ("Tue,  5 Nov 2024 10:00 +0000", base),
        ("Tue Nov  5 10:00:00 2024", base),
        ("2024-11-05T10:00:00Z", base),
        ("2024-11-05 11:00:00 +01:00", base),
        ("Tue, 05 Nov 2024 10:00:00.123 +0000", base),
        ("05 Nov 1999 10:00:00 +0000", 941_796_000),
        ("05 Nov 99 10:00:00 +0000", 941_796_000),
        ("Thu, 01 Jan 1970 00:00:00 +0000", 0),
        ("Tue, 005 Nov 2024 02:00:00 -0800 (PST)", base),
    ])
    func parses(_ input: String, _ expected: TimeInterval) {
        #expect(MailDate.parse(input)?.timeIntervalSince1970 == expected)
    }

    @Test(arguments: ["", "garbage", "Tue, 99 Foo 2024", "32 Jan 2024 10:00:00 +0000", "5 Nov 2024 25:61:00"])
    func rejects(_ input: String) {
        #expect(MailDate.parse(input) == nil)
    }

    @Test func formatsAndRoundTrips() {
        let d = Date(timeIntervalSince1970: Self.base)
        #expect(MailDate.format(d) == "Tue, 05 Nov 2024 10:00:00 +0000")
        #expect(MailDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MailDate.format(Date(timeIntervalSince1970: 951_782_400)) == "Tue, 29 Feb 2000 00:00:00 +0000")
        for t in stride(from: -86_400.0 * 400, to: 86_400.0 * 40_000, by: 86_400.0 * 37 + 3_661) {
            let date = Date(timeIntervalSince1970: t)
            #expect(MailDate.parse(MailDate.format(date)) == date)
        }
    }

    @Test func messageDate() {
        #expect(parse("Date: Tue, 05 Nov 2024 10:00:00 +0000\r\n\r\n").date?.timeIntervalSince1970 == Self.base)
        let bad = parse("Date: whenever\r\n\r\n")
        #expect(bad.date == nil)
        #expect(bad.diagnostics.contains { $0.contains("Date") })
    }
}
