public import Foundation

/// RFC 5322 date-time parsing and formatting without Calendar or DateFormatter: mail dates come in many obsolete
/// shapes (two-digit years, named zones, asctime order) and formatters are slow and locale-sensitive.
public enum MailDate {
    /// Parses a Date header value; nil when no day, month, year and time can be found.
    public static func parse(_ s: String) -> Date? {
        var day: Int?
        var month: Int?
        var year: Int?
        var hour = 0
        var minute = 0
        var second = 0
        var sawTime = false
        var offset: Int?  // seconds east of UTC

        // Strip comments, split on blanks and commas.
        var cleaned: [UInt8] = []
        var depth = 0
        for b in s.utf8 {
            if b == UInt8(ascii: "(") {
                depth += 1
                continue
            }
            if b == UInt8(ascii: ")") {
                depth = max(0, depth - 1)
                continue
            }
            if depth > 0 { continue }
            cleaned.append(b == UInt8(ascii: ",") ? 0x20 : b.asciiLower)
        }
        // ISO 8601 fallback: 2024-01-05T10:00:00Z / 2024-01-05 10:00:00
        if cleaned.count >= 10, cleaned[4] == UInt8(ascii: "-"), cleaned[7] == UInt8(ascii: "-"),
            let y = number(cleaned[0..<4]), let m = number(cleaned[5..<7]), let d = number(cleaned[8..<10])
        {
            year = y
            month = m
            day = d
            cleaned = Array(cleaned[10...]).map { $0 == UInt8(ascii: "t") ? 0x20 : $0 }
            if cleaned.last == UInt8(ascii: "z") { cleaned[cleaned.count - 1] = 0x20 }
        }
        let tokens = cleaned.split(whereSeparator: { $0.isBlankOrEOL })
        for token in tokens {
            if token.contains(UInt8(ascii: ":")) && !sawTime {
                let parts = token.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
                guard parts.count >= 2, let h = number(parts[0]), let m = number(parts[1]) else { continue }
                hour = h
                minute = m
                if parts.count >= 3 {
                    var secPart = parts[2]
                    if let dot = secPart.firstIndex(of: UInt8(ascii: ".")) { secPart = secPart[..<dot] }
                    // "10:00:00+0200" glued zone
                    if let sign = secPart.firstIndex(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
                        offset = zoneOffset(secPart[sign...])
                        secPart = secPart[..<sign]
                    }
                    second = number(secPart) ?? 0
                }
                sawTime = true
                continue
            }
            if let first = token.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                if sawTime || offset == nil, let z = zoneOffset(token[...]) {
                    offset = z
                    continue
                }
            }
            if let n = number(token[...]) {
                if token.count == 3, token.first == UInt8(ascii: "0"), day == nil, n >= 1, n <= 31 {
                    day = n  // "029 Apr 2019"
                } else if token.count >= 3 {
                    if year == nil { year = n }
                } else if day == nil && (month == nil || year == nil) {
                    day = n
                } else if year == nil {
                    year = n
                }
                continue
            }
            if token.count >= 3, month == nil, let m = monthNumber(token[...]) {
                month = m
                continue
            }
            if sawTime, offset == nil, let z = namedZone(token[...]) {
                offset = z
                continue
            }
            // "5-Jan-2024" or "05.01.2024"
            let pieces = token.split(whereSeparator: { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
            if pieces.count == 3, day == nil, let d = number(pieces[0]) {
                if let m = monthNumber(pieces[1]) ?? number(pieces[1]), let y = number(pieces[2]) {
                    day = d
                    month = m
                    year = y
                }
            }
        }
        guard var y = year, let m = month, let d = day, (1...12).contains(m), (1...31).contains(d) else { return nil }
        if y < 50 {
            y += 2000
        } else if y < 1000 {
            y += 1900
        }
        guard (0...24).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = daysFromCivil(year: y, month: m, day: d)
        let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - (offset ?? 0)
        return Date(timeIntervalSince1970: TimeInterval(secs))
    }

    /// Formats a date as RFC 5322 `Tue, 05 Nov 2024 10:00:00 +0000` (UTC).
    public static func format(_ date: Date) -> String {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        var days = total / 86_400
        var rem = total % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        let (y, m, d) = civilFromDays(days)
        let weekday = ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(names[weekday]), \(two(d)) \(months[m - 1]) \(y) \(two(rem / 3600)):\(two(rem / 60 % 60)):\(two(rem % 60)) +0000"
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    private static func number(_ s: ArraySlice<UInt8>) -> Int? {
        guard !s.isEmpty, s.count <= 9 else { return nil }
        var n = 0
        for b in s {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }

    private static func monthNumber(_ s: ArraySlice<UInt8>) -> Int? {
        guard s.count >= 3 else { return nil }
        let key = String(decoding: s.prefix(3), as: UTF8.self)
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        if let i = months.firstIndex(of: key) { return i + 1 }
        // a few German/French spellings seen in the wild
        switch key {
        case "mär", "mrz": return 3
        case "mai": return 5
        case "okt": return 10
        case "dez": return 12
        default: return nil
        }
    }

    private static func zoneOffset(_ s: ArraySlice<UInt8>) -> Int? {
        guard let sign = s.first else { return nil }
        var digits = s.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if digits.count <= 2 { digits.append(contentsOf: [0x30, 0x30]) }
        if digits.count == 3 { digits.insert(0x30, at: 0) }
        let v = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let secs = (v / 100) * 3600 + (v % 100) * 60
        guard secs <= 18 * 3600 else { return nil }
        return sign == UInt8(ascii: "-") ? -secs : secs
    }

    private static func namedZone(_ s: ArraySlice<UInt8>) -> Int? {
        switch String(decoding: s, as: UTF8.self) {
        case "ut", "utc", "gmt", "z", "wet": return 0
        case "edt": return -4 * 3600
        case "est", "cdt": return -5 * 3600
        case "cst", "mdt": return -6 * 3600
        case "mst", "pdt": return -7 * 3600
        case "pst": return -8 * 3600
        case "cet", "bst", "met", "wat": return 3600
        case "cest", "eet", "mest": return 2 * 3600
        case "eest", "msk": return 3 * 3600
        case "jst", "kst": return 9 * 3600
        case "ist": return 19_800
        default:
            // military single letters: RFC 5322 says treat as -0000 (unknown)
            if s.count == 1 { return 0 }
            return nil
        }
    }
}
