import Foundation
@testable import LoadEngine
import MetaMock
import SIPCore
import SIPTransport
import Testing
import WasimMetrics

/// `--metrics`: Prometheus text scraped with curl while a run goes and after it, against the run's
/// summary.json; and the mock's metrics against its ledger.
@Suite("Prometheus metrics", .serialized)
struct MetricsTests {
    /// 40 calls to 8 callees of `mocks/users.yaml`, several outcomes (200, 403 for the unprovisioned user, …),
    /// held long enough to be seen up.
    static func scenario() throws -> Scenario {
        try ScenarioLoader.load(path: CLITests.root.appendingPathComponent("Scenarios/bic-callee-expectations.yaml").path,
                                overrides: [ScenarioOverride(path: "load.total_calls", value: "24", flag: "--calls")])
    }

    @Test func scenarioMetricsDuringTheRunAndAgreeingWithTheSummary() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let live = LiveRunStatistics()
        var options = RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)
        options.metrics = live
        let endpoint = try await MetricsEndpoint.start(host: "127.0.0.1", port: 0, publisher: RunMetricsPublisher(live: live))
        let runner = ScenarioRunner(scenario: try Self.scenario(), options: options)
        let run = Task { try await runner.run() }

        // During the run: calls started and up, the embedded mock's calls in progress.
        var during: PrometheusText?
        let seen = try await eventually(timeout: 30) {
            let m = try await PrometheusText.scrape(endpoint.url)
            during = m
            return (m.value("wasim_calls_started_total") ?? 0) > 0 && (m.value("wasim_active_calls") ?? 0) > 0
        }
        #expect(seen, "no call seen up while the run went")
        if let during {
            #expect(during.value("wasim_run_in_progress") == 1)
            #expect(during.types["wasim_setup_seconds"] == "histogram" && during.types["wasim_calls_started_total"] == "counter")
            #expect((during.value("wasim_mock_active_calls", ["business": "+33639980001"]) ?? 0) > 0, "the embedded mock's calls up")
        }

        let result = try await run.value
        let m = try await PrometheusText.scrape(endpoint.url)
        await endpoint.stop()
        let s = result.summary
        #expect(m.value("wasim_run_in_progress") == 0 && m.value("wasim_runs_ended_total") == 1)
        #expect(m.value("wasim_calls_started_total") == Double(s.calls.attempted))
        #expect(m.value("wasim_calls_connected_total") == Double(s.calls.connected))
        #expect(m.value("wasim_calls_failed_total") == Double(s.calls.failed))
        #expect(m.value("wasim_calls_unexpected_total") == Double(s.calls.unexpected))
        #expect(m.value("wasim_active_calls") == 0)
        // Calls by final status, as summary.json's responses add up per status code.
        var byStatus: [String: Double] = [:]
        for (response, n) in s.responses { byStatus[String(response.prefix { $0 != " " }), default: 0] += Double(n) }
        let scraped = Dictionary(m.all("wasim_calls_total").map { ($0.labels["status"] ?? "?", $0.value) }, uniquingKeysWith: +)
        #expect(scraped == byStatus, "metrics \(scraped) summary \(s.responses)")
        #expect(byStatus.count >= 2, "the scenario has several outcomes: \(s.responses)")
        // The setup histogram: one value per answered call, as the summary counts them, buckets cumulative
        // and +Inf equal to the count, the sum within HDR precision of the calls' setups.
        #expect(m.value("wasim_setup_seconds_count") == Double(s.latencyMs.setup.count))
        let buckets = m.all("wasim_setup_seconds_bucket")
        #expect(buckets.count == LatencyBuckets.setup.count + 1)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value }, "buckets are cumulative")
        #expect(m.value("wasim_setup_seconds_bucket", ["le": "+Inf"]) == Double(s.latencyMs.setup.count))
        let rows = try CallsCSVReader.records(String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8), file: "calls.csv")
        let setupSum = rows.compactMap { $0.setupMs }.reduce(0, +) / 1000
        let scrapedSum = try #require(m.value("wasim_setup_seconds_sum"))
        #expect(abs(scrapedSum - setupSum) <= setupSum * 0.002 + 0.001, "sum \(scrapedSum) s against the rows' \(setupSum) s")
        #expect(m.value("wasim_auth_seconds_count") == Double(s.latencyMs.auth.count))
        #expect(m.value("wasim_tls_handshake_seconds_count") == Double(s.latencyMs.tlsHandshake?.count ?? 0))
        #expect((m.value("wasim_generator_loop_lag_seconds_count") ?? 0) > 0)
        #expect((m.value("wasim_generator_cpu_seconds_total") ?? 0) > 0)
        #expect(m.value("wasim_generator_saturated") == (s.generator.saturated ? 1 : 0))
        #expect(m.value("wasim_sip_retransmissions_total") == Double(s.generator.retransmissions))
        // The embedded mock: its ledger's calls by status and rule.
        let ledger = try #require(try result.mockLedger())
        let mockCalls = m.all("wasim_mock_calls_total").reduce(0) { $0 + $1.value }
        #expect(mockCalls == Double(ledger.count), "mock calls \(mockCalls), ledger \(ledger.count)")
        let ruled = ledger.filter { $0.rule != nil }
        #expect(m.all("wasim_mock_rule_total").reduce(0) { $0 + $1.value } == Double(ruled.count))
        for record in ruled.prefix(3) {
            #expect(m.value("wasim_mock_rule_total", ["rule": record.rule!]) != nil, "rule \(record.rule!) is a label")
        }

        // deploy/grafana/wasim.json asks only for metrics that exist: those of this run, its embedded mock,
        // and a standalone mock's.
        let mock = try await MockHarness.start()
        let mockEndpoint = try await MetricsEndpoint.start(host: "127.0.0.1", port: 0, publisher: MockMetricsPublisher(server: mock.server))
        let standalone = try await PrometheusText.scrape(mockEndpoint.url)
        await mockEndpoint.stop()
        await mock.stop()
        let families = Set(m.types.keys).union(standalone.types.keys)
        let dashboard = try String(contentsOf: CLITests.root.appendingPathComponent("deploy/grafana/wasim.json"), encoding: .utf8)
        #expect((try? JSONSerialization.jsonObject(with: Data(dashboard.utf8))) != nil, "the dashboard is JSON")
        let names = Set(dashboard.matches(of: #/wasim_[a-z_]+/#).map { String($0.output) })
        #expect(names.count >= 20, "\(names)")
        for name in names.sorted() {
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
            #expect(families.contains(family), "the dashboard asks for \(name), which nothing exports")
        }
    }

    /// `wasim mock --metrics`: rejections by rule (the log's names), calls in progress per business, the
    /// ledger's size, challenges.
    @Test func mockMetricsFollowItsLedger() async throws {
        let mock = try await MockHarness.start()
        let endpoint = try await MetricsEndpoint.start(host: "127.0.0.1", port: 0, publisher: MockMetricsPublisher(server: mock.server))
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc")
        let idle = try await PrometheusText.scrape(endpoint.url)
        #expect(idle.value("wasim_mock_active_calls", ["business": "+33639980001"]) == 0, "an idle business has its 0")
        let ok = try await client.inviteWithDigest(BICRulesOverTLSTests.Lab.invite(to: "sip:+15550200001@wa.meta.vc;transport=tls"), to: destination,
                                                   username: "33639980001", password: "wasim-default-sip-password")
        let wrong = try await client.inviteWithDigest(BICRulesOverTLSTests.Lab.invite(to: "sip:+15550200002@wa.meta.vc;transport=tls"), to: destination,
                                                      username: "33639980001", password: "not-the-password")
        let m = try await PrometheusText.scrape(endpoint.url)
        let ledger = try await mock.server.ledger()
        await client.stop()
        await endpoint.stop()
        await mock.stop()

        #expect(ok.statusCode == 200 && wrong.statusCode == 403, "\(ok.statusCode) \(wrong.statusCode)")
        #expect(m.value("wasim_mock_active_calls", ["business": "+33639980001"]) == 1, "the connected call is up")
        #expect(m.value("wasim_mock_ledger_records") == Double(ledger.count))
        let rejected = try #require(ledger.first { $0.finalStatus == 403 })
        #expect(m.value("wasim_mock_rule_total", ["direction": "bic", "status": "403", "rule": rejected.rule ?? "?"]) == 1,
                "\(m.all("wasim_mock_rule_total").map { "\($0.labels) \($0.value)" })")
        #expect(m.value("wasim_mock_calls_total", ["direction": "bic", "status": "403"]) == 1)
        #expect(m.value("wasim_mock_challenges_total") == 2)
        #expect(m.types["wasim_mock_rule_total"] == "counter" && m.types["wasim_mock_active_calls"] == "gauge")
    }
}
