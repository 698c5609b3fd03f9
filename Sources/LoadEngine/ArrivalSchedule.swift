import Foundation
import SIPTransport

/// When each call of a run is meant to start, in seconds from the run start: the open-loop schedule that
/// latency is measured against (coordinated omission stays visible), or none for the closed model, where a
/// call starts when another ends.
public struct ArrivalSchedule: Sendable {
    enum Storage: Sendable {
        case constant(rate: Double)
        case burst(size: Int, every: Double)
        /// Precomputed offsets (Poisson gaps, ramp stages).
        case offsets([Double])
        case closed
    }

    let storage: Storage
    /// Calls in the schedule.
    public let count: Int

    /// - Parameters:
    ///   - duration: no call is scheduled at or after this many seconds.
    public init(_ arrivals: Scenario.Arrivals, totalCalls: Int, duration: Double?, seed: UInt64) {
        switch arrivals {
        case .constant(let rate):
            storage = .constant(rate: rate)
            count = duration.map { min(totalCalls, Int(($0 * rate).rounded(.up))) } ?? totalCalls
        case .burst(let size, let every):
            storage = .burst(size: size, every: every)
            count = duration.map { min(totalCalls, Int(($0 / every).rounded(.up)) * size) } ?? totalCalls
        case .poisson(let rate):
            // Exponential gaps with mean 1/rate (a Poisson process), from the scenario's seed.
            var random = FastRandom(seed: seed ^ 0x5DEE_CE66_D1CE_5EED)
            var t = 0.0
            var offsets: [Double] = []
            offsets.reserveCapacity(totalCalls)
            while offsets.count < totalCalls {
                if let duration, t >= duration { break }
                offsets.append(t)
                t += -Foundation.log(1 - random.nextUnit()) / rate
            }
            storage = .offsets(offsets)
            count = offsets.count
        case .ramp(let stages):
            // k6-style stages: the rate moves linearly from the previous stage's target to this one's over
            // its duration; call i starts when the integral of the rate reaches i.
            var offsets: [Double] = []
            var t = 0.0, rate0 = 0.0, due = 0.0
            let step = 0.001
            outer: for stage in stages {
                var s = 0.0
                while s < stage.duration {
                    let rate = rate0 + (stage.rate - rate0) * (s / stage.duration)
                    due += rate * step
                    while due >= Double(offsets.count) {
                        offsets.append(t + s)
                        if offsets.count >= totalCalls { break outer }
                    }
                    s += step
                }
                t += stage.duration
                rate0 = stage.rate
            }
            storage = .offsets(offsets)
            count = offsets.count
        case .closed:
            storage = .closed
            count = totalCalls
        }
    }

    /// The closed model: no schedule.
    public var isClosed: Bool { if case .closed = storage { return true } else { return false } }

    /// How many calls are due to have started `t` seconds into the run (0 for the closed model).
    public func callsDue(by t: Double) -> Int {
        guard t >= 0 else { return 0 }
        switch storage {
        case .constant(let rate): return min(count, Int((t * rate).rounded(.down)) + 1)
        case .burst(let size, let every): return min(count, (Int((t / every).rounded(.down)) + 1) * size)
        case .offsets(let o):
            // The first offset after t (offsets are ascending).
            var low = 0, high = o.count
            while low < high {
                let mid = (low + high) / 2
                if o[mid] <= t { low = mid + 1 } else { high = mid }
            }
            return low
        case .closed: return 0
        }
    }

    /// Seconds from the run start at which call `index` is meant to start (0 for the closed model).
    public func offset(_ index: Int) -> Double {
        switch storage {
        case .constant(let rate): return Double(index) / rate
        case .burst(let size, let every): return Double(index / size) * every
        case .offsets(let o): return o[index]
        case .closed: return 0
        }
    }
}

