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

    /// Two loops that peak at different moments: calls up at once is the peak of their simultaneous
    /// counts (600), not the sum of their peaks (1,000), and never less than one loop's own peak.
    @Test func concurrencyIsSimultaneousNotASumOfPeaks() throws {
        var a = ShardStatistics(), b = ShardStatistics()
        for (tick, n) in [100, 500, 100, 100].enumerated() { a.samples.record(tick: tick, active: n, backlog: 0) }
        for (tick, n) in [100, 100, 100, 500].enumerated() { b.samples.record(tick: tick, active: n, backlog: tick == 1 ? 40 : 0) }
        a.maxConcurrent = 500
        b.maxConcurrent = 500
        var merged = ShardStatistics()
        merged.merge(a)
        merged.merge(b)
        let summary = RunSummary.build(scenario: try scenario(), statistics: merged, facts: facts())
        #expect(summary.concurrency.max == 600)
        #expect(summary.generator.sendBacklogMax == 40)
        // A tick the loop missed repeats its values; a loop that ended early adds nothing after.
        var late = TickSamples()
        late.record(tick: 0, active: 10, backlog: 0)
        late.record(tick: 3, active: 7, backlog: 0)
        #expect(late.active == [10, 7, 7, 7])
    }
}
