import Foundation
import Testing

/// The `wasim` binary as users run it: `curl HOST:PORT/metrics` during `wasim scenario --metrics` and
/// against `wasim mock --metrics`; logs in JSON with `--log-format json`, and filtered by `--log-level`.
@Suite("Metrics and logs from the command line", .serialized)
struct MetricsCLITests {
    @Test(.enabled(if: CLITests.available))
    func curlDuringAScenario() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let port = try FreePort.tcp()
        let scenario = CLITests.root.appendingPathComponent("Scenarios/bic-callee-expectations.yaml").path
        let (process, log) = try ExternalProcess.start(CLITests.binary, [
            "scenario", scenario, "--results", dir.path, "--certs", dir.path, "--metrics", "127.0.0.1:\(port)", "--metrics-linger", "15",
        ])
        defer { ExternalProcess.stop(process) }
        let url = "http://127.0.0.1:\(port)/metrics"
        var during: PrometheusText?
        let seen = await eventually(timeout: 60) {
            guard tcpPortIsListening(port), let m = try? await PrometheusText.scrape(url) else { return false }
            during = m
            return (m.value("wasim_active_calls") ?? 0) > 0
        }
        #expect(seen, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        #expect(during?.value("wasim_run_in_progress") == 1)
        // After the run, while it lingers: the final counts.
        let ended = await eventually(timeout: 60) { (try? await PrometheusText.scrape(url))?.value("wasim_runs_ended_total") == 1 }
        #expect(ended)
        let final = try await PrometheusText.scrape(url)
        _ = await eventually(timeout: 60) { !process.isRunning }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(output.contains("metrics: \(url)"), "\(output.suffix(800))")
        #expect(final.value("wasim_calls_started_total") == 16, "\(output.suffix(800))")
        #expect(output.contains("bic-callee-expectations: 16 calls"))
        #expect(process.terminationStatus == 0)
    }

    @Test(.enabled(if: CLITests.available))
    func curlAgainstARunningMockAndItsJSONLog() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let metrics = try FreePort.tcp(), tls = try FreePort.tcp(), udp = try FreePort.udp()
        let (process, log) = try ExternalProcess.start(CLITests.binary, [
            "mock", "--certs", dir.path, "--tls-port", "\(tls)", "--udp-port", "\(udp)", "--no-tcp",
            "--metrics", "127.0.0.1:\(metrics)", "--log-format", "json",
        ])
        defer { ExternalProcess.stop(process) }
        let up = await eventually(timeout: 60) { tcpPortIsListening(metrics) && tcpPortIsListening(tls) }
        try #require(up, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        // A call the mock refuses before any challenge: SIPp's built-in UAC puts an IP address in its
        // Request-URI (Meta's 404).
        let sipp = try #require(Peers.path("sipp"), "sipp is not installed")
        _ = try await ExternalProcess.run(sipp, ["-sn", "uac", "-i", "127.0.0.1", "-m", "1", "-timeout", "10", "-nostdin", "127.0.0.1:\(udp)"],
                                          directory: dir.url, timeout: 30)
        let refused = await eventually(timeout: 20) {
            ((try? await PrometheusText.scrape("http://127.0.0.1:\(metrics)/metrics"))?.all("wasim_mock_rule_total").count ?? 0) > 0
        }
        #expect(refused)
        let m = try await PrometheusText.scrape("http://127.0.0.1:\(metrics)/metrics")
        #expect(m.value("wasim_mock_active_calls", ["business": "+33639980001"]) != nil)
        #expect((m.value("wasim_mock_cpu_seconds_total") ?? 0) > 0)
        let rule = try #require(m.all("wasim_mock_rule_total").first)
        // The same rule, in the mock's JSON log line for that call.
        let lines = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let rejected = objects.first { ($0["message"] as? String)?.hasPrefix("rejected ") == true }
        #expect(rejected?["level"] as? String == "info" && rejected?["logger"] as? String == "wasim.mock", "\(lines.prefix(20))")
        #expect((rejected?["message"] as? String)?.contains("[\(rule.labels["rule"] ?? "?")]") == true, "\(String(describing: rejected))")
        #expect(rejected?["time"] is String)

        // --log-level warning: the same refusal is counted, and its info line is not written.
        let metrics2 = try FreePort.tcp(), tls2 = try FreePort.tcp(), udp2 = try FreePort.udp()
        let (quiet, quietLog) = try ExternalProcess.start(CLITests.binary, [
            "mock", "--certs", dir.path, "--tls-port", "\(tls2)", "--udp-port", "\(udp2)", "--no-tcp",
            "--metrics", "127.0.0.1:\(metrics2)", "--log-level", "warning",
        ])
        defer { ExternalProcess.stop(quiet) }
        try #require(await eventually(timeout: 60) { tcpPortIsListening(metrics2) && udpPortIsBound(udp2) })
        _ = try await ExternalProcess.run(sipp, ["-sn", "uac", "-i", "127.0.0.1", "-m", "1", "-timeout", "10", "-nostdin", "127.0.0.1:\(udp2)"],
                                          directory: dir.url, timeout: 30)
        let counted = await eventually(timeout: 20) {
            ((try? await PrometheusText.scrape("http://127.0.0.1:\(metrics2)/metrics"))?.all("wasim_mock_rule_total").count ?? 0) > 0
        }
        #expect(counted)
        let quietText = (try? String(contentsOf: quietLog, encoding: .utf8)) ?? ""
        #expect(!quietText.contains("info: rejected"), "\(quietText.suffix(800))")

        // A second mock on the same metrics port: exit 2, naming the listener.
        let clash = try await ExternalProcess.run(CLITests.binary, [
            "mock", "--certs", dir.path, "--tls-port", "0", "--no-udp", "--no-tcp", "--metrics", "127.0.0.1:\(metrics)",
        ], timeout: 60)
        #expect(clash.status == 2 && clash.output.contains("cannot listen for metrics (HTTP) on 127.0.0.1:\(metrics): address already in use"),
                "\(clash.status) \(clash.output)")
    }

    @Test(.enabled(if: CLITests.available))
    func badLoggingMetricsAndShardFlagsAreRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/wrong-domain.yaml"
        try """
            name: wrong-domain
            business: { number: "+33639980001", domain: not-configured.example.net, password: { from: mock } }
            callees: { list: ["+15550200000"] }
            load: { total_calls: 1, rate: 10/s }
            """.write(toFile: file, atomically: false, encoding: .utf8)
        let bad = try await ExternalProcess.run(CLITests.binary, ["scenario", file, "--log-level", "loud"], timeout: 30)
        #expect(bad.status == 64 && bad.output.contains("'--log-level' is one of"), "\(bad.output)")
        let badFormat = try await ExternalProcess.run(CLITests.binary, ["mock", "--log-format", "xml"], timeout: 30)
        #expect(badFormat.status == 64 && badFormat.output.contains("'--log-format' is text or json"), "\(badFormat.output)")
        let badMetrics = try await ExternalProcess.run(CLITests.binary, ["scenario", file, "--metrics", "9464"], timeout: 30)
        #expect(badMetrics.status == 64 && badMetrics.output.contains("'--metrics' is HOST:PORT"), "\(badMetrics.output)")
        let badShard = try await ExternalProcess.run(CLITests.binary, ["scenario", file, "--shard", "3/3"], timeout: 30)
        #expect(badShard.status == 64 && badShard.output.contains("'--shard' is I/N"), "\(badShard.output)")
    }
}
