/// A token bucket for one business number's call rate (Graph error 138005, "call rate limit per number";
/// Meta publishes no value, so the limit is off unless configured): `rate` calls a second on average, at
/// most one second's worth at once. Time is passed in (seconds on the mock's clock).
public struct CallRateBucket: Sendable {
    private var tokens: Double
    private var last: Double?

    public init(rate: Double) { tokens = max(1, rate) }

    /// Takes a token for a call at `now`; false: over the rate (nothing taken).
    public mutating func take(now: Double, rate: Double) -> Bool {
        let burst = max(1, rate)
        if let last, now > last { tokens = min(burst, tokens + (now - last) * rate) }
        last = max(last ?? now, now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
