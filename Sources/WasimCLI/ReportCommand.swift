import ArgumentParser
import Foundation
import LoadEngine

/// `wasim report DIR`: rebuilds summary.json and report.html of a run whose process died (SIGKILL, the OOM
/// killer) from the files it wrote as it went.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild summary.json and report.html of a run from its calls.csv (for a run that was killed).")

    @Argument(help: "The run's results folder (Results/<scenario>-<time>).")
    var directory: String

    func run() async throws {
        let s: RunSummary
        do {
            s = try RunRebuild.rebuild(directory: directory)
        } catch where error is RunRebuild.Failure || error is ScenarioError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print("rebuilt from calls.csv (the process's CPU, loop lag and retransmissions, and the calls still in progress when it ended, are not known)")
        for line in SummaryLines.thresholds(s) { print(line) }
        print("""
            \(s.scenario): \(s.calls.attempted) calls, \(s.calls.connected) connected, \(s.calls.failed) failed (\(s.calls.unexpected) unexpected), \(s.calls.dropped) not finished or not started
            \(SummaryLines.setupLatency(s))
            \(SummaryLines.responses(s))
            wrote \(directory)/summary.json and report.html
            """)
        if !s.passed { throw ExitCode(1) }
    }
}
