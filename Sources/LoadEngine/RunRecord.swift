import Foundation
import SIPTransport

/// `run.json`, written when a run starts: what `wasim report DIR` needs, besides calls.csv and the copy of
/// the scenario file (`scenario.yaml`), to rebuild summary.json and report.html after the process died
/// (SIGKILL, the OOM killer, a lost machine).
public struct RunRecord: Codable, Sendable {
    public var scenario: String
    /// The scenario file's copy in the run folder; nil for a scenario with no file (built in code).
    public var scenarioCopy: String?
    /// The scenario file the run was started with (absolute), where the copy's relative paths (`mock:`, a
    /// callee CSV) are read from.
    public var scenarioFile: String?
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
    /// The run's shard (`--shard I/N`) and its share of the schedule's calls; nil and 1 for a whole run.
    public var shard: String?
    public var scheduleShare: Double?

    public struct Override: Codable, Sendable {
        public var path: String
        public var value: String
        public var flag: String
    }

    enum CodingKeys: String, CodingKey {
        case scenario, scenarioCopy = "scenario_copy", scenarioFile = "scenario_file", overrides, commandLine = "command_line", startedAt = "started_at", target, transport
        case scheduledCalls = "scheduled_calls", embeddedMock = "embedded_mock", targets, shard, scheduleShare = "schedule_share"
    }

    static let fileName = "run.json"
    static let scenarioFileName = "scenario.yaml"

    /// Copies the scenario file into the run folder and writes run.json.
    static func write(_ scenario: Scenario, startedAt: Date, target: String, transport: SIPTransportKind, scheduledCalls: Int,
                      embeddedMock: Bool, commandLine: [String], targets: [String], shard: RunShard? = nil, scheduleShare: Double = 1,
                      to writer: ResultsWriter) throws
    {
        var copy: String? = nil
        if let text = try? String(contentsOfFile: scenario.file, encoding: .utf8) {
            try writer.write(scenarioFileName, text: text)
            copy = scenarioFileName
        }
        let record = RunRecord(
            scenario: scenario.name, scenarioCopy: copy,
            scenarioFile: copy == nil ? nil : URL(fileURLWithPath: scenario.file).standardizedFileURL.path,
            overrides: scenario.overrides.map { Override(path: $0.path, value: $0.value, flag: $0.flag) }, commandLine: commandLine,
            startedAt: ISO8601DateFormatter().string(from: startedAt), target: target, transport: transport.rawValue,
            scheduledCalls: scheduledCalls, embeddedMock: embeddedMock, targets: targets, shard: shard?.description,
            scheduleShare: shard == nil ? nil : scheduleShare)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writer.write(fileName, encoder.encode(record) + Data("\n".utf8))
    }

    /// The run's scenario, read from its copy in `directory` as if it were the original file (so its
    /// relative paths resolve where the run found them), with the command line's changes.
    func loadScenario(directory: String) throws -> Scenario {
        guard let copy = scenarioCopy else {
            throw RunRebuild.Failure(description: "\(directory): the run's scenario had no file to copy, so its thresholds cannot be read")
        }
        let copyPath = (directory as NSString).appendingPathComponent(copy)
        guard let text = try? String(contentsOfFile: copyPath, encoding: .utf8) else {
            throw RunRebuild.Failure(description: "\(copyPath): cannot read the scenario's copy")
        }
        let overrides = self.overrides.map { ScenarioOverride(path: $0.path, value: $0.value, flag: $0.flag) }
        return try ScenarioLoader.load(text: text, file: scenarioFile ?? copyPath, overrides: overrides)
    }

    /// The facts of the recorded run for a summary rebuilt after its process died: interrupted, ended at
    /// `endedAt`; what only the live process measured (CPU, retransmissions, transport errors) is unknown
    /// and left at zero.
    func facts(endedAt: Date) -> RunFacts {
        let started = ISO8601DateFormatter().date(from: startedAt) ?? endedAt
        var facts = RunFacts(startedAt: started, endedAt: endedAt, interrupted: true, target: target,
                             transport: SIPTransportKind(rawValue: transport) ?? .udp, scheduledCalls: scheduledCalls, cpuSeconds: 0,
                             retransmissions: 0, transportErrors: 0, lastTransportError: nil, embeddedMock: embeddedMock,
                             overrides: commandLine, targets: targets)
        facts.shard = shard.flatMap(RunShard.init(parsing:))
        facts.scheduleShare = scheduleShare ?? 1
        return facts
    }
}
