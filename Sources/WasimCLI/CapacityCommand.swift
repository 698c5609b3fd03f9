import ArgumentParser
import Foundation
import LoadEngine
import WasimMetrics

/// `wasim capacity FILE.yaml`: raise the load in levels until the target (or wasim) breaks a rule, and
/// report the knee.
struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find the knee: run a scenario at rising levels of load until p99 setup, failures or wasim's own saturation stop it.",
        discussion: """
            Each level is a full run of the scenario at constant arrivals (or, with --mode concurrent, a closed model \
            holding that many calls up), with its own results under Results/<scenario>-capacity-<UTC>/steps/. The plan comes \
            from the scenario's `capacity:` section; these flags override it. Exit status: 0 knee found (the target, or the \
            plan's max, limited it); 1 no level met the rules; 2 bad input; 3 wasim saturated first (the knee is a floor).
            """
    )

    @Argument(help: "Path to the scenario YAML.")
    var file: String

    @OptionGroup var where_: TargetFlags

    @OptionGroup var metrics: MetricsFlags

    @OptionGroup var logging: LoggingOptions

    @Option(help: "cps (calls per second) or concurrent (calls held up at once), over capacity.mode.")
    var mode: String?

    @Option(help: "First level (e.g. 50/s, or 100 calls up), over capacity.start.")
    var start: String?

    @Option(help: "Add this at each level (linear), over capacity.step.")
    var step: String?

    @Option(help: "Multiply each level by this (geometric, the default ×2), over capacity.factor.")
    var factor: String?

    @Option(help: "Highest level to try, over capacity.max.")
    var max: String?

    @Option(name: .customLong("step-duration"), help: "How long each level lasts (e.g. 20s), over capacity.step_duration.")
    var stepDuration: String?

    @Option(name: .customLong("p99-setup"), help: "Stop when p99 setup from the intended start exceeds this (e.g. 500ms), over capacity.p99_setup.")
    var p99Setup: String?

    @Option(name: .customLong("max-failures"), help: "Stop when failed and unstarted calls exceed this share (e.g. 1%), over capacity.max_failures.")
    var maxFailures: String?

    func overrides() throws -> [ScenarioOverride] {
        var list: [ScenarioOverride] = []
        for (flag, path, value) in [("--mode", "mode", mode), ("--start", "start", start), ("--step", "step", step), ("--factor", "factor", factor),
                                    ("--max", "max", max), ("--step-duration", "step_duration", stepDuration),
                                    ("--p99-setup", "p99_setup", p99Setup), ("--max-failures", "max_failures", maxFailures)] {
            if let value { list.append(ScenarioOverride(path: "capacity.\(path)", value: value, flag: flag)) }
        }
        return list + (try where_.overrides())
    }

    func run() async throws {
        logging.bootstrap()
        let scenario = try where_.load(file, overrides: try overrides())
        let control = RunControl()
        var options = try where_.options(control: control)
        options.traceMode = .none
        // Every level's run counts into the same metrics (the counters keep growing across levels).
        let live = LiveRunStatistics()
        if metrics.address != nil { options.metrics = live }
        let endpoint = try await metrics.start(RunMetricsPublisher(live: live))
        let plan = scenario.capacity
        let unit = plan.mode == .concurrent ? "calls up" : "calls/s"
        print("wasim capacity \(scenario.name) (\(file)): levels \(plan.levels.map { String(format: "%g", $0) }.joined(separator: ", ")) \(unit), \(String(format: "%g", plan.stepDuration)) s each; "
              + String(format: "stop at p99 setup > %g ms, failures > %g %%, or wasim saturated", plan.p99SetupMs, plan.maxFailureShare * 100))
        let signals = onTerminationSignals {
            FileHandle.standardError.write(Data("interrupted: ending this level's calls (5 s grace), then writing results\n".utf8))
            control.interrupt(grace: .seconds(5))
        }
        defer { signals.forEach { $0.cancel() } }
        let tty = isatty(STDOUT_FILENO) == 1
        let result: CapacityRunner.Result
        do {
            result = try await CapacityRunner(scenario: scenario, options: options).run { step in
                if tty { print("") }
                print(String(format: "level %g %@: %d connected, %d failed, %d not started, p99 setup from intended %.1f ms%@",
                             step.offered, unit, step.connected, step.failed, step.notStarted, step.setupFromIntendedP99Ms,
                             step.passed ? "" : "  → STOP: " + step.broke.joined(separator: "; ")))
            }
        } catch let error as ScenarioError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            await endpoint?.stop()
            throw ExitCode(2)
        }
        await metrics.finish(endpoint)
        let s = result.summary
        print("")
        print(CapacityReport.table(s))
        print(CapacityReport.verdict(s))
        print("results: \(result.directory)")
        if s.capacity.limitedBy == "wasim" { throw ExitCode(3) }
        if s.capacity.kneeStep == nil { throw ExitCode(1) }
    }
}
