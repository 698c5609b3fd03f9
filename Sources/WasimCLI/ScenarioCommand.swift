import ArgumentParser
import Foundation
import LoadEngine
import NIOCore
import SIPCore
import WasimMetrics

/// `wasim scenario FILE.yaml`: run a scenario and write Results/.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Run a YAML scenario against the embedded mock or a SIP target, and write Results/<scenario>-<UTC>/."
    )

    @Argument(help: "Path to the scenario YAML.")
    var file: String

    @OptionGroup var where_: TargetFlags

    @Option(help: "Write a message ladder per call to Results/<run>/traces/: failed (default), all, none.")
    var trace: String = "failed"

    @Option(help: "Calls per second (constant arrivals, or the Poisson mean), over load.rate, as SIPp's -r.")
    var rate: String?

    @Option(help: "Calls to start in all, over load.total_calls (SIPp's -m).")
    var calls: Int?

    @Option(help: "Most calls up at once, over load.max_concurrent (SIPp's -l).")
    var concurrency: Int?

    @Option(help: "Stop starting calls after this long (e.g. 60s, 5m), over load.duration.")
    var duration: String?

    @Option(help: "Run only shard I of N (I from 0, as Kubernetes' JOB_COMPLETION_INDEX): the calls to every Nth callee, each at its time in the whole run; merge the N results with 'wasim merge'.")
    var shard: String?

    @OptionGroup var metrics: MetricsFlags

    @OptionGroup var logging: LoggingOptions


    func validate() throws {
        guard TraceMode(rawValue: trace) != nil else { throw ValidationError("'--trace' is failed, all or none") }
        if let shard, RunShard(parsing: shard) == nil {
            throw ValidationError("'--shard' is I/N with 0 ≤ I < N, e.g. 0/3 (got '\(shard)')")
        }
    }

    /// The SIPp-style flags and every `--set`, as overrides of the file's fields (flags first, then the
    /// `--set`s in order, so a `--set` has the last word).
    func overrides() throws -> [ScenarioOverride] {
        var list: [ScenarioOverride] = []
        if let rate { list += ScenarioOverride.rate(rate, file: file) }
        if let calls { list.append(ScenarioOverride(path: "load.total_calls", value: "\(calls)", flag: "--calls")) }
        if let concurrency { list.append(ScenarioOverride(path: "load.max_concurrent", value: "\(concurrency)", flag: "--concurrency")) }
        if let duration { list.append(ScenarioOverride(path: "load.duration", value: duration, flag: "--duration")) }
        return list + (try where_.overrides())
    }

    func run() async throws {
        logging.bootstrap()
        let scenario = try where_.load(file, overrides: try overrides())
        let control = RunControl()
        var options = try where_.options(control: control)
        options.traceMode = TraceMode(rawValue: trace) ?? .failed
        options.shard = shard.flatMap(RunShard.init(parsing:))
        let live = LiveRunStatistics()
        if metrics.address != nil { options.metrics = live }
        let endpoint = try await metrics.start(RunMetricsPublisher(live: live))
        // Ctrl-C (or SIGTERM): stop arrivals, end calls in flight, still write every result file.
        let signals = onTerminationSignals {
            FileHandle.standardError.write(Data("interrupted: ending calls in flight (5 s grace), then writing results\n".utf8))
            control.interrupt(grace: .seconds(5))
        }
        defer { signals.forEach { $0.cancel() } }
        let result: RunResult
        do {
            let runner = ScenarioRunner(scenario: scenario, options: options)
            print("wasim scenario \(scenario.name) (\(file))" + (options.shard.map { " shard \($0)" } ?? "") + (runner.commandLine.isEmpty ? "" : "; command line: " + runner.commandLine.joined(separator: " "))
                  + "; sending from \(runner.scenario.localHost)")
            result = try await runner.run()
            if isatty(STDOUT_FILENO) == 1 { print("") }
        } catch let error as ScenarioError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            await endpoint?.stop()
            throw ExitCode(2)
        }
        await metrics.finish(endpoint)
        let s = result.summary
        if s.interrupted { print("run interrupted: \(s.calls.dropped) calls not started") }
        if s.calls.drained > 0 { print("drain deadline (load.drain) reached: \(s.calls.drained) calls still up were ended") }
        if !scenario.expectedResponses.isEmpty {
            let met = s.responses == scenario.expectedResponses
            print("expected responses: \(met ? "met" : "NOT met, expected \(scenario.expectedResponses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))")")
        }
        if let x = s.expectations {
            print("callee expectations: \(x.met)/\(x.checked) met" + (x.unmet > 0 ? "; NOT met: " + x.unmetExamples.joined(separator: "; ") : ""))
        }
        for line in SummaryLines.thresholds(s) { print(line) }
        print("""
            \(SummaryLines.calls(s))\(s.calls.shed > 0 ? " (\(s.calls.shed) shed by the generator)" : "")\(s.byDirection.map { d in " (" + d.sorted { $0.key < $1.key }.map { "\($0.key.uppercased()) \($0.value.connected)/\($0.value.attempted)" }.joined(separator: ", ") + " connected)" } ?? "")
            \(SummaryLines.setupLatency(s))
            \(SummaryLines.responses(s))
            """)
        for (security, m) in (s.mediaBySecurity ?? [:]).sorted(by: { $0.key < $1.key }) {
            print("media \(security): start ms p50 \(m.mediaStartMs.p50) max \(m.mediaStartMs.max); clipped ms p50 \(m.clippingMs.p50) max \(m.clippingMs.max) (\(m.clippingMs.count) calls)")
        }
        let g = s.generator
        print(String(format: "generator: %.2f s CPU, loop lag p99 %.2f ms, busiest loop busy in %.0f %% of ticks, send backlog max %d, %d late starts, %d in flight at most",
                     g.cpuSeconds, g.loopLagMsP99, g.loopBusyShare * 100, g.sendBacklogMax, g.lateStarts, g.inFlightMax)
              + (g.udpReceiveDrops > 0 ? ", \(g.udpReceiveDrops) UDP datagrams dropped on its sockets" : "")
              + (g.retransmissions > 0 ? String(format: ", %d retransmissions (%.1f %%)", g.retransmissions, g.retransmissionRate * 100) : ""))
        if g.saturated {
            print("SATURATED: wasim itself was the bottleneck (\(g.saturationReason ?? "")): these latencies and failures measure wasim, not the target; exit status 3")
        }
        print("results: \(result.directory)")
        if let shard = options.shard {
            // A shard's own verdict is not the run's: thresholds and expectations are judged on the merged
            // result (wasim merge), so a shard that ran through exits 0 and its pod is not retried.
            print("shard \(shard): the verdict is the merged run's (wasim merge of all \(shard.count) shards)")
            return
        }
        // 0 passed; 1 failed (an expectation or threshold not met); 2 bad input; 3 the generator saturated,
        // so the run is no verdict on the target, whether or not it passed.
        if g.saturated { throw ExitCode(3) }
        if !s.passed { throw ExitCode(1) }
    }
}
