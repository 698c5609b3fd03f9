/// The business-initiated calls one business number started over the rolling 24 h (spec §8: 10,000 per
/// number), counted in one-minute buckets: exact to the minute, in constant memory whatever the rate.
/// Time is passed in (seconds on the mock's clock).
struct InitiationWindow: Sendable {
    static let minutes = 1440
    private var buckets = [Int](repeating: 0, count: Self.minutes)
    /// The minute of the latest call counted or checked (nil: none yet).
    private var minute: Int?
    /// Calls in the window ending at `minute`.
    private(set) var total = 0

    /// Lets the buckets older than 24 h before `now` go.
    mutating func advance(to now: Double) {
        let m = Int((now / 60).rounded(.down))
        guard let last = minute else {
            minute = m
            return
        }
        guard m > last else { return }
        for step in 1...min(m - last, Self.minutes) {
            let index = Self.slot(last + step)
            total -= buckets[index]
            buckets[index] = 0
        }
        minute = m
    }

    /// Counts one call at `now` if fewer than `limit` were started in the 24 h before it; false: refused
    /// (and not counted).
    mutating func admit(now: Double, limit: Int) -> Bool {
        advance(to: now)
        guard total < limit, let minute else { return false }
        buckets[Self.slot(minute)] += 1
        total += 1
        return true
    }

    private static func slot(_ minute: Int) -> Int { ((minute % minutes) + minutes) % minutes }
}
