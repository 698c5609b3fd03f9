import Foundation
import LoadEngine
import Testing

/// A load generator must say when it is the bottleneck, shed what it cannot serve instead of collapsing, and
/// write results in which the summary and the per-call rows agree.
@Suite("Overload and agreement", .serialized)
struct OverloadTests {
    static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scenarios")

    /// calls.csv as rows of named columns.
    static func rows(_ directory: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: directory + "/calls.csv", encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let fields = CSVFields.split(String(line))
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    /// Every count of summary.json is the count of its rows in calls.csv, call by call.
    static func expectAgreement(_ result: RunResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let s = result.summary
        let rows = try rows(result.directory)
        let started = rows.filter { $0["outcome"] != "not_started" }
        #expect(started.count == s.calls.attempted, "rows of started calls", sourceLocation: sourceLocation)
        #expect(rows.filter { $0["outcome"] == "connected" }.count == s.calls.connected, sourceLocation: sourceLocation)
        #expect(rows.filter { $0["outcome"] == "failed" }.count == s.calls.failed, sourceLocation: sourceLocation)
        #expect(rows.filter { $0["outcome"] == "not_started" }.count == s.calls.shed, sourceLocation: sourceLocation)
        var responses: [String: Int] = [:]
        for row in started { responses["\(row["status"]!) \(row["reason"]!)", default: 0] += 1 }
        #expect(responses == s.responses, sourceLocation: sourceLocation)
        // Calls with a failed teardown are connected calls whose row says how the hang-up went wrong.
        let badTeardowns = rows.filter { $0["outcome"] == "connected" && $0["teardown"]?.hasPrefix("bye ") == true && $0["teardown"] != "bye 200"
            && $0["teardown"] != "bye from meta" }
        #expect(badTeardowns.count <= s.calls.teardownFailed, "\(badTeardowns.prefix(3))", sourceLocation: sourceLocation)
        #expect(rows.filter { $0["status"]!.hasPrefix("2") && $0["outcome"] == "failed" && $0["end"] == "connected" }.isEmpty, sourceLocation: sourceLocation)
        #expect(Set(rows.compactMap { Int($0["index"]!) }).count == rows.count, "one row per call", sourceLocation: sourceLocation)
    }

    /// Runs an inline scenario against the embedded mock in a temporary results folder.
    static func run(_ yaml: String, in dir: TemporaryDirectory) async throws -> RunResult {
        let scenario = try ScenarioLoader.parse(yaml, file: "inline.yaml")
        return try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
    }

    @Test func summaryAndCallsAgreeCallByCall() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // Every outcome the mock's users produce, twice over (answer, decline, no answer, unreachable, no
        // permission, Meta's 503, no media, the user hanging up).
        let yaml = """
            name: agreement
            mock: \(Self.scenarios.appendingPathComponent("mocks/users.yaml").path)
            callees:
              list: ["+15550200300", "+15550201000", "+15550201100", "+15550201200", "+15550209000", "+15550201500", "+15550201600", "+15550201400",
                     "+15550200301", "+15550201001", "+15550201101", "+15550201201", "+15550209001", "+15550201501", "+15550201601", "+15550201401"]
            load: { rate: 20/s, total_calls: 16 }
            call: { hold: 1s }
            """
        let result = try await Self.run(yaml, in: dir)
        #expect(result.summary.calls.attempted == 16 && result.summary.calls.failed > 0 && result.summary.calls.connected > 0)
        try Self.expectAgreement(result)
    }

    /// The embedded mock at a rate this machine cannot serve: the run says the generator saturated, sheds the
    /// calls it cannot start in time (counted, with rows), and the calls it did start do not collapse into
    /// retransmission timeouts. The in-flight cap is lowered from its 5,000 so that a debug build on a loaded
    /// CI machine (a quarter of a core, say) can still serve the first surge within Timer B.
    @Test func overloadIsReportedAsSaturationAndShed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let yaml = """
            name: overload
            mock: \(Self.scenarios.appendingPathComponent("mocks/load.yaml").path)
            callees: { range: "+15550200000..+15550299999" }
            transport: { protocol: udp }
            load: { arrivals: constant, rate: 20000/s, total_calls: 20000, max_concurrent: 100000, max_in_flight: 500 }
            call: { hold: 0s }
            """
        let result = try await Self.run(yaml, in: dir)
        let s = result.summary
        #expect(s.generator.saturated, "\(s.generator)")
        #expect(s.generator.saturationReason?.contains("embedded mock") == true)
        #expect(s.calls.shed > 0 && s.calls.attempted + s.calls.dropped == 20_000, "\(s.calls)")
        // Today's collapse failed 45 % of such a run (Timer B); the calls started now get served.
        #expect(Double(s.calls.failed) <= 0.01 * Double(max(1, s.calls.attempted)), "\(s.calls), \(s.responses)")
        #expect(!s.passed)
        try Self.expectAgreement(result)
    }
}

/// Splits one CSV line (RFC 4180 quoting).
enum CSVFields {
    static func split(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field)
        return fields
    }
}
