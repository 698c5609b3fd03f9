import Foundation
import LoadEngine
import Testing

/// Every scenario in `Scenarios/` runs against the embedded mock and gets the responses it states
/// (`expect.responses`), or connects every call when it states none. bic-burst, the 2,000-call load run,
/// is left to `scripts/run.sh`.
@Suite("Scenario library", .serialized)
struct ScenarioLibraryTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scenarios")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") && $0 != "bic-burst.yaml" }.sorted()
    }

    @Test(arguments: files)
    func scenarioPasses(_ file: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.load(path: Self.directory.appendingPathComponent(file).path)
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        #expect(result.summary.passed, "\(file): \(result.summary.responses)")
        if !scenario.expectedResponses.isEmpty {
            #expect(result.summary.responses == scenario.expectedResponses)
        }
    }

    /// The headline scenario parses and is what the README promises: at least 2,000 TLS calls in bursts.
    @Test func burstScenarioShape() throws {
        let s = try ScenarioLoader.load(path: Self.directory.appendingPathComponent("bic-burst.yaml").path)
        #expect(s.totalCalls >= 2000 && s.transport == .tls)
        #expect(s.arrivals == .burst(size: 200, every: 1))
    }
}
