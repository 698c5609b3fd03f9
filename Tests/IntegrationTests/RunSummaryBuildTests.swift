import Foundation
@testable import LoadEngine
import Testing

/// The verdict and the generator's health, from statistics alone (no run).
struct RunSummaryBuildTests {
    func scenario(_ expect: String = "") throws -> Scenario {
        try ScenarioLoader.parse("""
            name: s
            callees: { list: ["+15550200000", "+15550200001"] }
            load: { rate: 10/s, total_calls: 2 }
            \(expect)
            """, file: "s.yaml")
    }

    func facts(cpu: Double = 0.1) -> RunFacts {
        RunFacts(startedAt: Date(timeIntervalSince1970: 0), endedAt: Date(timeIntervalSince1970: 10), interrupted: false, target: "t",
                 transport: .udp, scheduledCalls: 2, cpuSeconds: cpu, retransmissions: 0, transportErrors: 0, lastTransportError: nil)
    }

    func statistics(failed: Int, unexpected: Int, unmet: Int = 0, lagMicros: UInt64 = 1_000) -> ShardStatistics {
        var s = ShardStatistics()
        s.attempted = 2
        s.connected = 2 - failed
        s.failed = failed
        s.unexpected = unexpected
        s.expectationsChecked = unmet
        s.expectationsUnmet = unmet
        s.responses = ["200 OK": 2 - failed, "403 Forbidden": failed].filter { $0.value > 0 }
        for _ in 0..<100 { _ = s.loopLag.record(lagMicros) }
        return s
    }

    @Test func verdicts() throws {
        let plain = try scenario()
        #expect(RunSummary.build(scenario: plain, statistics: statistics(failed: 0, unexpected: 0), facts: facts()).passed)
        // A failure covered by the callee's expected response passes; an uncovered one does not.
        #expect(RunSummary.build(scenario: plain, statistics: statistics(failed: 1, unexpected: 0), facts: facts()).passed)
        #expect(!RunSummary.build(scenario: plain, statistics: statistics(failed: 1, unexpected: 1), facts: facts()).passed)
        // An unmet callee expectation fails even when the counts match `expect.responses`.
        let counted = try scenario("expect: { responses: { \"200 OK\": 1, \"403 Forbidden\": 1 } }")
        #expect(RunSummary.build(scenario: counted, statistics: statistics(failed: 1, unexpected: 1), facts: facts()).passed)
        let unmet = RunSummary.build(scenario: counted, statistics: statistics(failed: 1, unexpected: 1, unmet: 1), facts: facts())
        #expect(!unmet.passed && unmet.expectations?.unmet == 1)
        // A threshold over the new counters.
        let threshold = try scenario("expect: { thresholds: [\"count(unexpected) == 0\"] }")
        let t = RunSummary.build(scenario: threshold, statistics: statistics(failed: 1, unexpected: 1), facts: facts())
        #expect(!t.passed && t.thresholds.first?.value == 1 && t.thresholds.first?.ok == false)
    }

    @Test func saturation() throws {
        let plain = try scenario()
        let lagging = RunSummary.build(scenario: plain, statistics: statistics(failed: 0, unexpected: 0, lagMicros: 80_000), facts: facts())
        #expect(lagging.generator.saturated && lagging.generator.saturationReason?.contains("lag") == true)
        let busy = RunSummary.build(scenario: plain, statistics: statistics(failed: 0, unexpected: 0), facts: facts(cpu: 10 * Double(ProcessInfo.processInfo.activeProcessorCount)))
        #expect(busy.generator.saturated && busy.generator.saturationReason?.contains("CPU") == true)
        #expect(!RunSummary.build(scenario: plain, statistics: statistics(failed: 0, unexpected: 0), facts: facts()).generator.saturated)
    }

    /// Calls shed at the in-flight cap: against an outside target that is the target answering slowly (not
    /// wasim's limit); with the embedded mock, which answers every INVITE at once, it is wasim's own.
    @Test func shedAtTheCapIsSaturationOnlyWithTheEmbeddedMock() throws {
        let plain = try scenario()
        var shed = statistics(failed: 0, unexpected: 0)
        shed.shedInFlight = 7
        #expect(!RunSummary.build(scenario: plain, statistics: shed, facts: facts()).generator.saturated)
        var embedded = facts()
        embedded.embeddedMock = true
        let g = RunSummary.build(scenario: plain, statistics: shed, facts: embedded).generator
        #expect(g.saturated && g.saturationReason?.contains("7 calls shed") == true && g.saturationReason?.contains("wasim's") == true)
        #expect(!RunSummary.build(scenario: plain, statistics: statistics(failed: 0, unexpected: 0), facts: embedded).generator.saturated)
        // Calls shed because wasim's own loops were busy, or were due too long ago, are wasim's limit anywhere.
        var busy = statistics(failed: 0, unexpected: 0)
        busy.shedOverload = 3
        let b = RunSummary.build(scenario: plain, statistics: busy, facts: facts()).generator
        #expect(b.saturated && b.saturationReason?.contains("3 calls shed because wasim") == true)
    }
}
