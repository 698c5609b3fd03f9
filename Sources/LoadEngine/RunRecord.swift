import Foundation
import SIPTransport

/// `run.json`, written when a run starts: what `wasim report DIR` needs, besides calls.csv and the copy of
/// the scenario file (`scenario.yaml`), to rebuild summary.json and report.html after the process died
/// (SIGKILL, the OOM killer, a lost machine).
public struct RunRecord: Codable, Sendable {
    public var scenario: String
    /// The scenario file's copy in the run folder; nil for a scenario with no file (built in code).
    public var scenarioCopy: String?
    /// The command line's overrides, as `PATH=VALUE`, with the flag that gave each.
    public var overrides: [Override]
    /// The command line's changes as the run printed them (`--rate 200/s`, `--set call.hold=5s`, `--target ...`).
    public var commandLine: [String]
    public var startedAt: String
    public var target: String
    public var transport: String
    public var scheduledCalls: Int
    public var embeddedMock: Bool
    public var targets: [String]

    public struct Override: Codable, Sendable {
        public var path: String
        public var value: String
        public var flag: String
    }

    enum CodingKeys: String, CodingKey {
        case scenario, scenarioCopy = "scenario_copy", overrides, commandLine = "command_line", startedAt = "started_at", target, transport
        case scheduledCalls = "scheduled_calls", embeddedMock = "embedded_mock", targets
    }

    static let fileName = "run.json"
    static let scenarioFileName = "scenario.yaml"

    /// Writes run.json and copies the scenario file into the run folder.
    static func write(_ scenario: Scenario, facts: RunFacts, to writer: ResultsWriter) throws {
        var copy: String? = nil
        if let text = try? String(contentsOfFile: scenario.file, encoding: .utf8) {
            try writer.write(scenarioFileName, text: text)
            copy = scenarioFileName
        }
        let record = RunRecord(
            scenario: scenario.name, scenarioCopy: copy,
            overrides: scenario.overrides.map { Override(path: $0.path, value: $0.value, flag: $0.flag) }, commandLine: facts.overrides,
            startedAt: ISO8601DateFormatter().string(from: facts.startedAt), target: facts.target,
            transport: facts.transport.rawValue, scheduledCalls: facts.scheduledCalls, embeddedMock: facts.embeddedMock,
            targets: facts.targets)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writer.write(fileName, encoder.encode(record) + Data("\n".utf8))
    }
}
