import Foundation
import LoadEngine
import Testing

/// The open-loop schedules (constant, burst, Poisson, ramp) as arithmetic, and the closed model in a run.
struct ArrivalScheduleTests {
    @Test func constantAndBurst() {
        let c = ArrivalSchedule(.constant(rate: 200), totalCalls: 1000, duration: 2, seed: 1)
        #expect(c.count == 400 && c.offset(0) == 0 && abs(c.offset(399) - 1.995) < 1e-9)
        let b = ArrivalSchedule(.burst(size: 10, every: 0.5), totalCalls: 35, duration: nil, seed: 1)
        #expect(b.count == 35 && b.offset(9) == 0 && b.offset(10) == 0.5 && b.offset(34) == 1.5)
    }

    /// Exponential gaps: the mean gap is 1/rate and their spread is that of an exponential (sd = mean).
    @Test func poissonHasExponentialGaps() {
        let s = ArrivalSchedule(.poisson(rate: 100), totalCalls: 20_000, duration: nil, seed: 7)
        let gaps = (1..<s.count).map { s.offset($0) - s.offset($0 - 1) }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let sd = (gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)).squareRoot()
        #expect(abs(mean - 0.01) < 0.0005 && abs(sd - 0.01) < 0.001, "mean \(mean) sd \(sd)")
        #expect(ArrivalSchedule(.poisson(rate: 100), totalCalls: 20_000, duration: nil, seed: 7).offset(500) == s.offset(500))
        let bounded = ArrivalSchedule(.poisson(rate: 100), totalCalls: 100_000, duration: 10, seed: 7)
        #expect(bounded.count > 900 && bounded.count < 1100 && bounded.offset(bounded.count - 1) < 10)
    }

    /// A ramp 0 → 40/s over 1 s then 40/s for 1 s: 20 + 40 calls, a quarter of the first stage's in its first half.
    @Test func rampFollowsTheStages() {
        let s = ArrivalSchedule(.ramp(stages: [.init(rate: 40, duration: 1), .init(rate: 40, duration: 1)]), totalCalls: 1000, duration: nil, seed: 1)
        #expect(s.count == 60 || s.count == 61, "\(s.count)")
        let firstHalf = (0..<s.count).filter { s.offset($0) < 0.5 }.count
        #expect(firstHalf >= 4 && firstHalf <= 6, "\(firstHalf)")
        #expect((0..<s.count).allSatisfy { $0 == 0 || s.offset($0) >= s.offset($0 - 1) })
    }

    @Test func closedModelKeepsTheConcurrency() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.parse("""
            name: closed
            callees: { range: "+15550200000..+15550200999" }
            load: { arrivals: closed, max_concurrent: 10, total_calls: 40 }
            call: { hold: 200ms }
            """, file: "closed.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        #expect(result.summary.calls.attempted == 40 && result.summary.calls.connected == 40)
        #expect(result.summary.concurrency.max == 10)
        #expect(result.summary.passed)
    }

    @Test func badLoadModelsAreNamed() throws {
        func error(_ load: String) -> String? {
            do {
                _ = try ScenarioLoader.parse("name: x\ncallees: { range: \"+15550200000..+15550200009\" }\nload: \(load)\n", file: "x.yaml")
                return nil
            } catch let e as ScenarioError { return "\(e.path): \(e.message)" } catch { return "\(error)" }
        }
        #expect(error("{ arrivals: closed, total_calls: 5 }")?.contains("set max_concurrent") == true)
        #expect(error("{ arrivals: poisson, rate: 5/s, stages: [], total_calls: 5 }")?.hasPrefix("load.stages") == true)
        #expect(error("{ rate: 5/s }")?.contains("total_calls, duration") == true)
        #expect(error("{ arrivals: ramp, stages: [{ rate: 5/s }] }")?.contains("rate and duration") == true)
    }
}
