import WasimYAML

/// How `wasim capacity` raises the load (a scenario's `capacity:` section, or its flags): the levels it
/// offers, how long each lasts, and the rules that end the search. The highest level that met every rule
/// is the knee.
public struct CapacityPlan: Sendable, Hashable {
    /// What a level is: calls started per second (constant arrivals), or calls held up at once (a closed
    /// model: each call that ends starts the next), for held-call capacity.
    public enum Mode: String, Sendable, Hashable { case callsPerSecond = "cps", concurrent }

    public var mode: Mode = .callsPerSecond
    public var start: Double = 10
    /// Added at each level (linear), or nil with `factor`.
    public var step: Double? = nil
    /// Multiplies each level (geometric), when `step` is nil.
    public var factor: Double = 2
    public var max: Double = 10_000
    /// How long each level offers its load, in seconds.
    public var stepDuration: Double = 20
    /// Rules: the p99 of setup latency counted from each call's intended start, in ms, and the share of
    /// calls that failed or were not started.
    public var p99SetupMs: Double = 1_000
    public var maxFailureShare: Double = 0.01

    public init() {}

    /// The levels, from `start` up to `max` (at most 100 of them).
    public var levels: [Double] {
        var out: [Double] = []
        var level = start
        while level <= max * (1 + 1e-9), out.count < 100 {
            out.append(mode == .concurrent ? level.rounded() : level)
            if let step { level += step } else { level *= factor }
        }
        return out
    }

    static let keys = ["mode", "start", "step", "factor", "max", "step_duration", "p99_setup", "max_failures"]

    /// Reads a `capacity:` section; every number has its range checked.
    static func parse(_ v: YAMLValue) throws -> CapacityPlan {
        let m = try v.mapping(allowed: keys)
        var plan = CapacityPlan()
        if let x = m["mode"] { plan.mode = Mode(rawValue: try x.choice(["cps", "concurrent"]))! }
        func level(_ x: YAMLValue) throws -> Double {
            let value: Double
            if plan.mode == .concurrent { value = Double(try x.int(min: 1, max: 1_000_000)) } else {
                value = try x.ratePerSecond()
                guard value <= 1_000_000 else { throw x.error("at most 1000000/s") }
            }
            return value
        }
        if let x = m["start"] { plan.start = try level(x) } else if plan.mode == .concurrent { plan.start = 100 }
        if let x = m["step"] { plan.step = try level(x) }
        if let x = m["factor"] {
            guard m["step"] == nil else { throw x.error("give step (linear) or factor (geometric), not both") }
            plan.factor = try x.double()
            guard plan.factor > 1 && plan.factor <= 100 else { throw x.error("factor is above 1 and at most 100") }
        }
        if let x = m["max"] {
            plan.max = try level(x)
            guard plan.max >= plan.start else { throw x.error("max is at least start (\(plan.start))") }
        } else if plan.mode == .concurrent {
            plan.max = 100_000
        }
        if let x = m["step_duration"] {
            plan.stepDuration = try x.seconds()
            guard plan.stepDuration >= 1 && plan.stepDuration <= 3600 else { throw x.error("step_duration is between 1s and 1h") }
        }
        if let x = m["p99_setup"] {
            plan.p99SetupMs = try x.seconds() * 1000
            guard plan.p99SetupMs >= 1 && plan.p99SetupMs <= 600_000 else { throw x.error("p99_setup is between 1ms and 10m") }
        }
        if let x = m["max_failures"] {
            let text = try x.string().trimmingCharacters(in: .whitespaces)
            guard let value = text.hasSuffix("%") ? Double(text.dropLast()).map({ $0 / 100 }) : Double(text), value >= 0, value <= 1 else {
                throw x.error("max_failures is a share like 1% or 0.01, between 0 and 100 %")
            }
            plan.maxFailureShare = value
        }
        return plan
    }
}
