import Foundation
import NIOCore

/// Time as the mock sees it, the one clock of every mock time: wall-clock seconds for permissions, limits
/// and the ledger, monotonic seconds for nonces (real time even when scaled), and `delay` for what the mock waits for (the user's answer
/// and hang-up, the ring and answer timeouts, the hold of a UIC, the media timeouts). Injectable; `scaled`
/// runs all of it faster for demonstrations (`--time-scale`). SIP's own timers (T1, T2, T4) and RTP pacing
/// are protocol time and are never scaled.
public struct MockClock: Sendable {
    public var wallNow: @Sendable () -> Double
    public var monotonicSeconds: @Sendable () -> UInt64
    /// Mock seconds per real second (1: real time).
    public var scale: Double = 1

    public init(wallNow: @escaping @Sendable () -> Double, monotonicSeconds: @escaping @Sendable () -> UInt64, scale: Double = 1) {
        self.wallNow = wallNow
        self.monotonicSeconds = monotonicSeconds
        self.scale = scale
    }

    /// Real seconds for `seconds` of mock time (media legs count real seconds).
    public func realSeconds(_ seconds: Double) -> Double { seconds / scale }

    /// The real time to wait for `seconds` of mock time.
    public func delay(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64((realSeconds(seconds) * 1e9).rounded())) }

    /// Mock seconds in a real `interval` (a call's duration as Meta reports it).
    public func mockSeconds(_ interval: TimeAmount) -> Double { interval.seconds * scale }

    public static let system = MockClock(
        wallNow: { Date().timeIntervalSince1970 },
        monotonicSeconds: { NIODeadline.now().uptimeNanoseconds / 1_000_000_000 })

    /// The system clock running `factor` times faster from now on (`wasim mock --time-scale`).
    public static func scaled(_ factor: Double) -> MockClock {
        let origin = Date().timeIntervalSince1970
        // Nonces keep real time: a nonce outliving the 407 → INVITE round trip is protocol, not Meta's clock.
        return MockClock(
            wallNow: { origin + (Date().timeIntervalSince1970 - origin) * factor },
            monotonicSeconds: { NIODeadline.now().uptimeNanoseconds / 1_000_000_000 },
            scale: factor)
    }
}
