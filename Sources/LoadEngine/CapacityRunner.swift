import Foundation

/// `wasim capacity`: runs the scenario at rising levels of load (the scenario's `capacity:` plan), each a
/// full run with its own results, until a level breaks a rule: p99 setup from the intended start over the
/// bound, failures (not-started calls included) over the share, or wasim itself saturated. The knee is the
/// highest level that met every rule; `limited_by` says whether the target or wasim stopped the search.
public struct CapacityRunner {
    public let scenario: Scenario
    public let options: RunOptions

    public init(scenario: Scenario, options: RunOptions) {
        self.scenario = scenario
        self.options = options
    }

    /// The search's results: its summary and its folder (`<scenario>-capacity-<UTC>/`, each level under
    /// `steps/`).
    public struct Result: Sendable {
        public var summary: CapacitySummary
        public var directory: String
    }

    /// Runs the search. `stepDone` is called after each level with its measurements.
    public func run(stepDone: (@Sendable (CapacitySummary.Step) -> Void)? = nil) async throws -> Result {
        let plan = scenario.capacity
        let startedAt = Date()
        let writer = try ResultsWriter(root: options.resultsRoot, scenario: "\(scenario.name)-capacity", startedAt: startedAt)
        var steps: [CapacitySummary.Step] = []
        var target = "embedded mock"
        var commandLine: [String] = []
        for (index, level) in plan.levels.enumerated() {
            if options.control.isInterrupted { break }
            var stepOptions = options
            stepOptions.resultsRoot = (writer.directory as NSString).appendingPathComponent("steps")
            let runner = ScenarioRunner(scenario: Self.scenario(scenario, level: level, index: index), options: stepOptions)
            commandLine = runner.commandLine
            let result = try await runner.run()
            target = result.summary.target
            let step = Self.measure(result, level: level, plan: plan, relativeTo: writer.directory)
            steps.append(step)
            stepDone?(step)
            // Results are written after every level: an interrupted search keeps what it measured.
            try writer.writeCapacity(Self.summary(scenario: scenario, plan: plan, steps: steps, target: target, startedAt: startedAt,
                                                  interrupted: options.control.isInterrupted, overrides: commandLine))
            if !step.passed || result.summary.interrupted { break }
        }
        let summary = Self.summary(scenario: scenario, plan: plan, steps: steps, target: target, startedAt: startedAt,
                                   interrupted: options.control.isInterrupted, overrides: commandLine)
        try writer.writeCapacity(summary)
        try writer.write("report.html", text: CapacityReport.html(summary))
        return Result(summary: summary, directory: writer.directory)
    }

    /// The scenario as one level runs it: constant arrivals at the level (or a closed model holding the
    /// level's calls up) for the step's duration. The scenario's own response counts and thresholds are
    /// sized for its own run, so the capacity rules judge each level instead.
    static func scenario(_ base: Scenario, level: Double, index: Int) -> Scenario {
        var s = base
        let plan = base.capacity
        let label = plan.mode == .concurrent ? "\(Int(level))-up" : "\(HTMLReport.f(level))cps"
        s.name = "\(base.name)-step\(index + 1)-\(label)"
        s.duration = plan.stepDuration
        switch plan.mode {
        case .callsPerSecond:
            s.arrivals = .constant(rate: level)
            s.totalCalls = max(1, Int((level * plan.stepDuration).rounded(.up)))
            s.maxConcurrent = max(base.maxConcurrent, 1)
        case .concurrent:
            s.arrivals = .closed
            s.maxConcurrent = Int(level)
            s.totalCalls = 10_000_000
        }
        s.expectedResponses = [:]
        s.thresholds = []
        return s
    }

    static func measure(_ result: RunResult, level: Double, plan: CapacityPlan, relativeTo root: String) -> CapacitySummary.Step {
        let s = result.summary
        let notStarted = s.calls.dropped
        let offeredCalls = s.calls.attempted + notStarted
        let failureShare = offeredCalls > 0 ? Double(s.calls.failed + notStarted) / Double(offeredCalls) : 0
        var broke: [String] = []
        if s.generator.saturated { broke.append("wasim saturated (\(s.generator.saturationReason ?? ""))") }
        let p99 = s.latencyMs.setupFromIntended.p99
        if s.latencyMs.setupFromIntended.count == 0 {
            broke.append("no call connected")
        } else if p99 > plan.p99SetupMs {
            broke.append(String(format: "p99 setup %.1f ms > %.0f ms", p99, plan.p99SetupMs))
        }
        if failureShare > plan.maxFailureShare {
            broke.append(String(format: "failures %.2f %% > %.2f %% (%d failed, %d not started of %d)", failureShare * 100, plan.maxFailureShare * 100,
                                s.calls.failed, notStarted, offeredCalls))
        }
        if s.interrupted { broke.append("interrupted") }
        let relative = result.directory.hasPrefix(root + "/") ? String(result.directory.dropFirst(root.count + 1)) : result.directory
        return CapacitySummary.Step(
            offered: level, achievedCPS: s.rate.achievedCPS, attempted: s.calls.attempted, connected: s.calls.connected, failed: s.calls.failed,
            notStarted: notStarted, failureShare: failureShare, setupP50Ms: s.latencyMs.setup.p50, setupP99Ms: s.latencyMs.setup.p99,
            setupFromIntendedP99Ms: p99, maxConcurrent: s.concurrency.max, saturated: s.generator.saturated,
            saturationReason: s.generator.saturationReason, broke: broke, results: relative)
    }

    /// The verdict from the levels run so far: the knee, and who limited it.
    static func summary(scenario: Scenario, plan: CapacityPlan, steps: [CapacitySummary.Step], target: String, startedAt: Date,
                        interrupted: Bool, overrides: [String]) -> CapacitySummary {
        // The search stops at the first level that breaks a rule: the knee is the level before it.
        let passedLevels = steps.firstIndex { !$0.passed } ?? steps.count
        let kneeIndex = passedLevels > 0 ? passedLevels - 1 : nil
        let knee = kneeIndex.map { steps[$0] }
        let failing = steps.first { !$0.passed }
        let limitedBy: String
        let stoppedBy: [String]
        if let failing {
            limitedBy = failing.saturated ? "wasim" : failing.broke == ["interrupted"] ? "interrupted" : "target"
            stoppedBy = failing.broke
        } else {
            limitedBy = interrupted ? "interrupted" : "plan"
            stoppedBy = interrupted ? ["interrupted"] : ["every level up to max passed"]
        }
        let iso = ISO8601DateFormatter()
        let capacity = CapacitySummary.Capacity(
            mode: plan.mode.rawValue,
            maxCPS: knee.map { plan.mode == .callsPerSecond ? $0.offered : $0.achievedCPS } ?? 0,
            maxConcurrent: knee.map { plan.mode == .concurrent ? Int($0.offered) : $0.maxConcurrent } ?? 0,
            limitedBy: limitedBy, stoppedBy: stoppedBy, kneeStep: kneeIndex,
            rules: .init(p99SetupMs: plan.p99SetupMs, maxFailureShare: plan.maxFailureShare, stepDurationSeconds: plan.stepDuration),
            steps: steps)
        return CapacitySummary(scenario: scenario.name, target: target, startedAt: iso.string(from: startedAt), endedAt: iso.string(from: Date()),
                               interrupted: interrupted, overrides: overrides, capacity: capacity)
    }
}

extension ResultsWriter {
    func writeCapacity(_ summary: CapacitySummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write("summary.json", encoder.encode(summary) + Data("\n".utf8))
    }
}
