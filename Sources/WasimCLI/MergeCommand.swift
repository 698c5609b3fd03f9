import ArgumentParser
import Foundation
import LoadEngine

/// `wasim merge DIR... --out DIR`: one run's results from its shards' (`wasim scenario --shard I/N`).
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the results of a run's shards (wasim scenario --shard I/N) into one: summary.json, calls.csv, timeseries.csv, report.html.",
        discussion: "Counts add up, percentiles come from the shards' merged HDR histograms, and the scenario's thresholds are judged on the merged result. Exit status as for a run: 0 passed, 1 failed, 2 bad input, 3 a shard's generator saturated.")

    @Argument(help: "The shards' results folders (every shard of the split, once).")
    var directories: [String]

    @Option(help: "Folder to write the merged results to (made if missing).")
    var out: String

    func run() async throws {
        let s: RunSummary
        do {
            s = try RunMerge.merge(directories: directories, out: out)
        } catch where error is RunMerge.Failure || error is ScenarioError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print("merged \(directories.count) shards of \(s.scenario)")
        for line in SummaryLines.thresholds(s) { print(line) }
        print("""
            \(SummaryLines.calls(s))
            \(SummaryLines.setupLatency(s))
            \(SummaryLines.responses(s))
            """)
        if s.generator.saturated {
            print("SATURATED: a generator was the bottleneck (\(s.generator.saturationReason ?? "")): exit status 3")
        }
        print("results: \(out)")
        if s.generator.saturated { throw ExitCode(3) }
        if !s.passed { throw ExitCode(1) }
    }
}
