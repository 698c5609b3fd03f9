/// A capacity search's `summary.json`: each level offered, what it measured, the rules it broke, and the
/// knee (the highest level that met every rule) with what stopped the search there.
public struct CapacitySummary: Codable, Sendable {
    /// One level of offered load and what the run at that level measured.
    public struct Step: Codable, Sendable {
        /// Calls/s offered (cps mode) or calls held up at once (concurrent mode).
        public var offered: Double
        public var achievedCPS: Double
        public var attempted: Int
        public var connected: Int
        public var failed: Int
        public var notStarted: Int
        /// (failed + not started) / (attempted + not started).
        public var failureShare: Double
        public var setupP50Ms: Double
        public var setupP99Ms: Double
        /// The p99 of setup counted from each call's intended start (the rule's measure).
        public var setupFromIntendedP99Ms: Double
        public var maxConcurrent: Int
        public var saturated: Bool
        public var saturationReason: String?
        /// The rules this level broke (empty: it met them all).
        public var broke: [String]
        /// The level's own results folder (summary.json, calls.csv, report.html).
        public var results: String
        public var passed: Bool { broke.isEmpty }

        enum CodingKeys: String, CodingKey {
            case offered, achievedCPS = "achieved_cps", attempted, connected, failed, notStarted = "not_started"
            case failureShare = "failure_share", setupP50Ms = "setup_p50_ms", setupP99Ms = "setup_p99_ms"
            case setupFromIntendedP99Ms = "setup_from_intended_p99_ms", maxConcurrent = "max_concurrent", saturated
            case saturationReason = "saturation_reason", broke, results
        }
    }

    /// The search's verdict.
    public struct Capacity: Codable, Sendable {
        /// `cps` or `concurrent`.
        public var mode: String
        /// The knee's calls/s: offered (cps mode) or achieved (concurrent mode); 0 when no level passed.
        public var maxCPS: Double
        /// Calls up at once at the knee: the level (concurrent mode) or the peak measured (cps mode).
        public var maxConcurrent: Int
        /// `target` (the target broke a rule first), `wasim` (the generator saturated first: the knee is a
        /// floor of the target's capacity, not its limit), or `plan` (every level passed, up to `max`).
        public var limitedBy: String
        /// What ended the search: the rules the first failing level broke, or that the plan ran out.
        public var stoppedBy: [String]
        /// Index in `steps` of the knee, if any level passed.
        public var kneeStep: Int?
        public var rules: Rules
        public var steps: [Step]

        enum CodingKeys: String, CodingKey {
            case mode, maxCPS = "max_cps", maxConcurrent = "max_concurrent", limitedBy = "limited_by", stoppedBy = "stopped_by"
            case kneeStep = "knee_step", rules, steps
        }
    }

    /// The stop rules in force.
    public struct Rules: Codable, Sendable {
        public var p99SetupMs: Double
        public var maxFailureShare: Double
        public var stepDurationSeconds: Double
        enum CodingKeys: String, CodingKey {
            case p99SetupMs = "p99_setup_ms", maxFailureShare = "max_failure_share", stepDurationSeconds = "step_duration_s"
        }
    }

    public var schemaVersion = 1
    public var scenario: String
    public var target: String
    public var startedAt: String
    public var endedAt: String
    public var interrupted: Bool
    public var overrides: [String]
    public var capacity: Capacity

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", scenario, target, startedAt = "started_at", endedAt = "ended_at", interrupted, overrides, capacity
    }
}
