import Foundation

/// A calendar day in the calendar's own time zone (`2026-12-24`), as holidays are written.
public struct LocalDate: Sendable, Hashable, Comparable, ConfigText {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var description: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static let expectedForm = "a date (YYYY-MM-DD)"
}

/// Business hours within one day, in local wall-clock minutes (`08:00-17:00`; `24:00` ends at midnight).
public struct BusinessHours: Sendable, Hashable, ConfigText {
    public var startMinute: Int
    public var endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// Parses `HH:MM-HH:MM` with the end after the start.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        func minutes(_ s: String) -> Int? {
            let hm = s.split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0...59).contains(m),
                h * 60 + m <= 1440
            else { return nil }
            return h * 60 + m
        }
        guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]), end > start else {
            return nil
        }
        self.init(startMinute: start, endMinute: end)
    }

    public var description: String {
        func hm(_ m: Int) -> String {
            let h = String(m / 60)
            let mm = String(m % 60)
            return (h.count < 2 ? "0" + h : h) + ":" + (mm.count < 2 ? "0" + mm : mm)
        }
        return "\(hm(startMinute))-\(hm(endMinute))"
    }

    public static let expectedForm = "HH:MM-HH:MM"
}

/// Days of the week as written in the config (`monday` … `sunday`).
public enum Weekday: String, Sendable, Codable, CaseIterable {
    case monday, tuesday, wednesday, thursday, friday, saturday, sunday

    /// Foundation's weekday number (Sunday = 1).
    var gregorianNumber: Int { self == .sunday ? 1 : (Weekday.allCases.firstIndex(of: self)! + 2) }
}

/// Why a business calendar cannot be used.
public enum BusinessCalendarError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownTimeZone(String)
    case noBusinessHours(calendar: String)

    public var description: String {
        switch self {
        case .unknownTimeZone(let zone): return "Unknown IANA time zone '\(zone)'."
        case .noBusinessHours(let name): return "Calendar '\(name)' has no business hours on any weekday."
        }
    }
}

/// When the service desk works: weekly hours in an IANA time zone minus holidays. SLA clocks only run inside it.
///
/// YAML (`calendars[]`, see `config/calendars/de-berlin.yaml`):
/// ```yaml
/// - name: de-berlin
///   time_zone: Europe/Berlin
///   hours: { monday: ["08:00-17:00"], tuesday: ["08:00-12:00", "13:00-17:00"], saturday: [] }
///   holidays: ["2026-12-25", "2026-12-26"]
/// ```
/// Weekdays left out have no business hours. Times are wall-clock times, so a 08:00 start stays 08:00 across DST.
public struct BusinessCalendar: Sendable, Equatable, Codable {
    public var name: String
    public var timeZone: TimeZone
    public var hours: [Weekday: [BusinessHours]]
    public var holidays: Set<LocalDate>

    public init(
        name: String, timeZone identifier: String, hours: [Weekday: [BusinessHours]], holidays: Set<LocalDate> = []
    ) throws(BusinessCalendarError) {
        guard let zone = TimeZone(identifier: identifier) else { throw .unknownTimeZone(identifier) }
        guard hours.values.contains(where: { !$0.isEmpty }) else { throw .noBusinessHours(calendar: name) }
        self.name = name
        self.timeZone = zone
        self.hours = hours.mapValues { $0.sorted { $0.startMinute < $1.startMinute } }
        self.holidays = holidays
    }

    /// Monday to Friday with the same hours every day, e.g. `"08:00-17:00"`.
    public static func weekdays(
        _ hours: String, timeZone: String, holidays: Set<LocalDate> = [], name: String = "default"
    ) throws(BusinessCalendarError) -> BusinessCalendar {
        let range = BusinessHours(hours) ?? BusinessHours(startMinute: 480, endMinute: 1020)
        let days: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]
        return try BusinessCalendar(
            name: name, timeZone: timeZone, hours: Dictionary(uniqueKeysWithValues: days.map { ($0, [range]) }),
            holidays: holidays)
    }

    private enum CodingKeys: String, CodingKey {
        case name
        case timeZone = "time_zone"
        case hours
        case holidays
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        let zone = try c.decode(String.self, forKey: .timeZone)
        let raw = try c.decodeIfPresent([String: [BusinessHours]].self, forKey: .hours) ?? [:]
        var hours: [Weekday: [BusinessHours]] = [:]
        for (key, ranges) in raw {
            guard let day = Weekday(rawValue: key.lowercased()) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .hours, in: c, debugDescription: "unknown weekday '\(key)' (monday … sunday)")
            }
            hours[day] = ranges
        }
        let holidays = try c.decodeIfPresent([LocalDate].self, forKey: .holidays) ?? []
        do {
            try self.init(name: name, timeZone: zone, hours: hours, holidays: Set(holidays))
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .hours, in: c, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(timeZone.identifier, forKey: .timeZone)
        try c.encode(Dictionary(uniqueKeysWithValues: hours.map { ($0.key.rawValue, $0.value) }), forKey: .hours)
        try c.encode(holidays.sorted(), forKey: .holidays)
    }
}

/// A configuration value written as one string (`2026-12-24`, `08:00-17:00`, `4h`): parsed by `init?(_:)`, printed by
/// `description`, and refused with the expected form named when it does not parse.
public protocol ConfigText: Codable, CustomStringConvertible {
    init?(_ text: String)
    /// How the value should look, for the error message (`a date (YYYY-MM-DD)`).
    static var expectedForm: String { get }
}

extension ConfigText {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not \(Self.expectedForm)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
