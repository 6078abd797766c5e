import Foundation

extension BusinessCalendar {
    /// The gregorian calendar in this calendar's time zone.
    var gregorian: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The local day a moment falls on.
    public func localDate(of date: Date) -> LocalDate {
        let c = gregorian.dateComponents([.year, .month, .day], from: date)
        return LocalDate(year: c.year!, month: c.month!, day: c.day!)
    }

    /// Whether a moment lies inside business hours (window starts included, ends excluded).
    public func isBusinessTime(_ date: Date) -> Bool {
        windows(on: localDate(of: date), calendar: gregorian).contains { $0.start <= date && date < $0.end }
    }

    /// The moment `minutes` business minutes after `date`. A result at the very end of a window stays there rather
    /// than jumping to the next window's start. Zero or negative minutes return `date` unchanged.
    public func add(minutes: Int, to date: Date) -> Date {
        add(seconds: TimeInterval(minutes) * 60, to: date)
    }

    /// The moment `seconds` of business time after `date`.
    public func add(seconds: TimeInterval, to date: Date) -> Date {
        guard seconds > 0 else { return date }
        if isAroundTheClock { return date.addingTimeInterval(seconds) }
        let calendar = gregorian
        var remaining = seconds
        var day = localDate(of: date)
        for _ in 0..<Self.searchLimitDays {
            for window in windows(on: day, calendar: calendar) where window.end > date {
                let from = max(window.start, date)
                let available = window.end.timeIntervalSince(from)
                if remaining <= available { return from.addingTimeInterval(remaining) }
                remaining -= available
            }
            day = next(day, calendar: calendar)
        }
        return .distantFuture
    }

    /// Whole business minutes between two moments (0 when `end` is not after `start`).
    public func businessMinutes(from start: Date, to end: Date) -> Int {
        Int((businessSeconds(from: start, to: end) / 60 + 1e-6).rounded(.down))
    }

    /// Business time between two moments, in seconds (0 when `end` is not after `start`).
    public func businessSeconds(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        if isAroundTheClock { return end.timeIntervalSince(start) }
        let calendar = gregorian
        var total: TimeInterval = 0
        var day = localDate(of: start)
        let last = localDate(of: end)
        var guardDays = 0
        while day <= last && guardDays < Self.searchLimitDays * 10 {
            for window in windows(on: day, calendar: calendar) {
                let from = max(window.start, start)
                let to = min(window.end, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            day = next(day, calendar: calendar)
            guardDays += 1
        }
        return total
    }

    /// Every minute of every day counts: arithmetic is plain time arithmetic (DST does not matter then).
    var isAroundTheClock: Bool {
        holidays.isEmpty
            && Weekday.allCases.allSatisfy { hours[$0] == [BusinessHours(startMinute: 0, endMinute: 1440)] }
    }

    /// How far `add` looks ahead before giving up (ten years without a business minute).
    static var searchLimitDays: Int { 3660 }

    /// The business windows of one local day as absolute intervals; empty on holidays and days off.
    func windows(on day: LocalDate, calendar: Calendar) -> [DateInterval] {
        guard !holidays.contains(day) else { return [] }
        guard let midnight = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)),
            let weekdayNumber = calendar.dateComponents([.weekday], from: midnight).weekday,
            let weekday = Weekday.allCases.first(where: { $0.gregorianNumber == weekdayNumber }),
            let ranges = hours[weekday]
        else { return [] }
        return ranges.compactMap { range in
            guard let start = moment(day, minute: range.startMinute, calendar: calendar),
                let end = moment(day, minute: range.endMinute, calendar: calendar), end > start
            else { return nil }
            return DateInterval(start: start, end: end)
        }
    }

    private func moment(_ day: LocalDate, minute: Int, calendar: Calendar) -> Date? {
        if minute >= 1440 {
            let nextDay = next(day, calendar: calendar)
            return calendar.date(from: DateComponents(year: nextDay.year, month: nextDay.month, day: nextDay.day))
        }
        return calendar.date(
            from: DateComponents(year: day.year, month: day.month, day: day.day, hour: minute / 60, minute: minute % 60)
        )
    }

    private func next(_ day: LocalDate, calendar: Calendar) -> LocalDate {
        let noon = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12))!
        let c = calendar.dateComponents(
            [.year, .month, .day], from: calendar.date(byAdding: .day, value: 1, to: noon)!)
        return LocalDate(year: c.year!, month: c.month!, day: c.day!)
    }
}
