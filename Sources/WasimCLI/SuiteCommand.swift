import ArgumentParser
import Foundation
import LoadEngine
import SIPCore

/// `wasim suite DIR`: run every scenario of a folder, print a table, write JUnit XML.
struct SuiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run every scenario in a folder with its expectations; print a table and write JUnit XML for CI."
    )

    @Argument(help: "Folder of scenario YAML files.")
    var directory: String

    @Option(help: "Folder for run results.")
    var results: String = "Results"

    @Option(help: "JUnit XML file (default: <results>/junit.xml).")
    var junit: String?

    @Option(help: "Send every scenario to this SIP URI instead of its target.")
    var target: String?

    @Option(help: "Folder of the test CA and certificates.")
    var certs: String = "Certs"

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            FileHandle.standardError.write(Data("error: \(directory) is not a folder\n".utf8))
            throw ExitCode(2)
        }
        var targetURI: SIPURI?
        if let target {
            do { targetURI = try SIPURI(target) } catch {
                FileHandle.standardError.write(Data("error: --target '\(target)' is not a SIP URI: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let control = RunControl()
        let signals = onTerminationSignals { control.interrupt(grace: .seconds(5)) }
        defer { signals.forEach { $0.cancel() } }
        let suite = SuiteRunner(directory: directory, options: RunOptions(target: targetURI, resultsRoot: results, certsDirectory: certs, control: control))
        guard !(try suite.files()).isEmpty else {
            FileHandle.standardError.write(Data("error: no scenario (*.yaml) in \(directory)\n".utf8))
            throw ExitCode(2)
        }
        func row(_ cells: [String]) -> String {
            zip(cells, [28, 7, 7, 10, 7, 12]).enumerated().map { i, pair in
                let (text, width) = pair
                let fill = String(repeating: " ", count: max(0, width - text.count))
                return i < 2 ? text + fill : fill + text
            }.joined(separator: " ")
        }
        print(row(["scenario", "result", "calls", "connected", "failed", "p99 setup"]))
        let cases = try await suite.run { c in
            let s = c.summary
            print(row([c.name, c.status.rawValue.uppercased(), s.map { "\($0.calls.attempted)" } ?? "-", s.map { "\($0.calls.connected)" } ?? "-",
                       s.map { "\($0.calls.failed)" } ?? "-", s.map { String(format: "%.1f ms", $0.latencyMs.setup.p99) } ?? "-"]))
            if let message = c.message, c.status != .passed { print("    \(message)") }
        }
        let file = junit ?? (results as NSString).appendingPathComponent("junit.xml")
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Written beside its final name and renamed over it (Foundation's atomic write on Linux leaves a
        // TemporaryDirectory.* folder in /tmp behind on every call).
        let partial = file + ".partial"
        try Data(JUnitReport.xml(cases).utf8).write(to: URL(fileURLWithPath: partial))
        guard rename(partial, file) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let passed = cases.filter { $0.status == .passed }.count
        print("\(passed)/\(cases.count) passed; JUnit: \(file)")
        if passed != cases.count { throw ExitCode(1) }
    }
}
