import Foundation
import LoadEngine
import MetaMock
import SIPCore
import Testing

/// `wasim scenario` end to end: the embedded mock, a separate mock via `--target`, result files.
@Suite("Scenario runs", .serialized)
struct ScenarioRunTests {
    static func scenario(_ transport: String, calls: Int = 30, target: String? = nil) throws -> Scenario {
        try ScenarioLoader.parse("""
            name: run-\(transport)
            \(target.map { "target: \"\($0)\"" } ?? "target: embedded")
            business: { number: "+33639980001", domain: sip.example.com, password: { from: mock } }
            transport: { protocol: \(transport), server_name: wa.meta.vc }
            callees: { range: "+15550200000..+15550200099" }
            load: { arrivals: burst, burst: { size: 10, every: 200ms }, total_calls: \(calls) }
            call: { hold: 100ms }
            """, file: "inline.yaml")
    }

    @Test(arguments: ["tls", "tcp", "udp"])
    func embeddedMock(_ transport: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let result = try await ScenarioRunner(scenario: try Self.scenario(transport), options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let s = result.summary
        #expect(s.calls.attempted == 30 && s.calls.connected == 30 && s.calls.failed == 0, "\(s.responses)")
        #expect(s.responses == ["200 OK": 30])
        #expect(s.latencyMs.setup.count == 30 && s.latencyMs.setup.p50 > 0)
        #expect(s.latencyMs.auth.count == 30)
        #expect(s.passed)
        #expect(s.schemaVersion == 1 && s.transport == transport)
        // Files.
        for file in ["summary.json", "calls.csv", "mock-ledger.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: result.directory + "/" + file), "\(file)")
        }
        let csv = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 31)
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.count == 30 && ledger.allSatisfy { $0.endedBy == "business" && $0.finalStatus == 200 },
                "\(ledger.count) entries: \(ledger.filter { $0.endedBy != "business" || $0.finalStatus != 200 }.map { "\($0.callID) \($0.finalStatus ?? 0) \($0.reason ?? "") \($0.rule ?? "") ended_by \($0.endedBy ?? "-")" })")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: result.directory + "/summary.json"))) as? [String: Any]
        #expect((json?["latency_ms"] as? [String: Any])?["setup"] != nil)
    }

    /// `--target` sends the same scenario to a separately started mock.
    @Test func externalMockTarget() async throws {
        let mock = try await MockHarness.start()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = RunOptions(resultsRoot: dir.path, certsDirectory: mock.certs)
        options.target = try SIPURI("sip:127.0.0.1:\(mock.tlsPort);transport=tls")
        let result = try await ScenarioRunner(scenario: try Self.scenario("tls", calls: 20), options: options).run()
        let ledger = try await mock.server.ledger()
        await mock.stop()
        #expect(result.summary.calls.connected == 20)
        #expect(ledger.count == 20)
        #expect(try result.mockLedger() == nil)
    }

    /// `hang_up: user` needs nothing of the runner's embedded mock: a separate mock reads the wish from the
    /// INVITE (X-Wasim-Hangup-After) and sends Meta's BYE itself.
    @Test func userHangsUpThroughASeparateMock() async throws {
        let mock = try await MockHarness.start()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = RunOptions(resultsRoot: dir.path, certsDirectory: mock.certs)
        options.target = try SIPURI("sip:127.0.0.1:\(mock.tlsPort);transport=tls")
        let scenario = try ScenarioLoader.parse("""
            name: external-user-hangs-up
            business: { number: "+33639980001", domain: sip.example.com, password: { from: mock } }
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 20/s, total_calls: 4 }
            call: { hold: 300ms, hang_up: user }
            """, file: "inline.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: options).run()
        let ledger = try await mock.server.ledger()
        await mock.stop()
        #expect(result.summary.passed && result.summary.calls.connected == 4)
        #expect(ledger.count == 4 && ledger.allSatisfy { $0.endedBy == "meta" && $0.durationSeconds == 0 }, "\(ledger.map(\.endedBy))")
    }

    /// A target that does not answer: calls fail with a transport error, the run still ends and reports.
    @Test func unreachableTargetFailsCleanly() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let port = try FreePort.tcp()
        var options = RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)
        options.target = try SIPURI("sip:127.0.0.1:\(port);transport=tcp")
        let result = try await ScenarioRunner(scenario: try Self.scenario("tcp", calls: 5), options: options).run()
        #expect(result.summary.calls.failed == 5)
        #expect(result.summary.responses.keys.allSatisfy { $0.hasPrefix("503 ") })
        #expect(!result.summary.passed)
    }
}

/// Scenario files: every mistake names the file, line and YAML path.
@Suite("Scenario validation")
struct ScenarioValidationTests {
    func error(_ yaml: String) -> ScenarioError? {
        do {
            _ = try ScenarioLoader.parse(yaml, file: "bad.yaml")
            return nil
        } catch let e as ScenarioError {
            return e
        } catch {
            return nil
        }
    }

    @Test func misspeltKey() throws {
        let e = try #require(error("""
            name: x
            callees: { list: ["+15550200000"] }
            load:
              total_calls: 5
              rtae: 10/s
            """))
        #expect(e.file == "bad.yaml" && e.line == 5 && e.path == "load.rtae")
        #expect(e.message.contains("did you mean 'rate'"))
        #expect(e.description.hasPrefix("bad.yaml:5:"))
    }

    @Test func wrongType() throws {
        let e = try #require(error("""
            name: x
            callees: { list: ["+15550200000"] }
            load: { total_calls: many }
            """))
        #expect(e.path == "load.total_calls" && e.line == 3)
        #expect(e.message.contains("whole number"))
    }

    @Test func unknownArrivalPattern() throws {
        let e = try #require(error("""
            name: x
            callees: { list: ["+15550200000"] }
            load: { arrivals: tsunami, total_calls: 5 }
            """))
        #expect(e.path == "load.arrivals" && e.message.contains("constant, burst"))
    }

    @Test func badRangeAndMissingKeys() throws {
        let range = try #require(error("""
            name: x
            callees: { range: "+1555..+1554" }
            load: { total_calls: 5 }
            """))
        #expect(range.path == "callees.range")
        let missing = try #require(error("name: x\nload: { total_calls: 5 }\n"))
        #expect(missing.message.contains("callees"))
        let yaml = try #require(error("name: [unclosed\n"))
        #expect(yaml.message.contains("not valid YAML") && yaml.line != nil)
    }

    @Test func durationsAndRates() throws {
        let s = try ScenarioLoader.parse("""
            name: ok
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 120/m, total_calls: 5, max_concurrent: 3 }
            call: { hold: { uniform: [500ms, 2s] } }
            seed: 7
            """, file: "ok.yaml")
        #expect(s.arrivals == .constant(rate: 2))
        #expect(s.hold == .uniform(0.5, 2))
        #expect(s.callees.count == 100 && s.callees.callee(99) == "+15550200099" && s.callees.callee(100) == "+15550200000")
        #expect(s.maxConcurrent == 3 && s.seed == 7 && s.transport == .tls)
    }
}

/// Ctrl-C in the middle of a run: arrivals stop, connected calls get a BYE, and every file is written with
/// `"interrupted": true`; the mock's ledger shows no call left open.
@Suite("Interrupted runs", .serialized)
struct InterruptedRunTests {
    @Test func interruptWritesResultsAndHangsUp() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.parse("""
            name: interrupted
            callees: { range: "+15550200000..+15550200999" }
            load: { rate: 20/s, total_calls: 1000 }
            call: { hold: 60s }
            """, file: "inline.yaml")
        let control = RunControl()
        let options = RunOptions(resultsRoot: dir.path, certsDirectory: dir.path, control: control)
        let run = Task { try await ScenarioRunner(scenario: scenario, options: options).run() }
        // Interrupt once the run is under way (calls up, most not yet started).
        #expect(await eventually(timeout: 20) { await control.callsStarted() >= 20 })
        control.interrupt(grace: .seconds(5))
        let result = try await run.value
        let s = result.summary
        #expect(s.interrupted)
        #expect(s.calls.attempted >= 20 && s.calls.attempted < 1000)
        #expect(s.calls.dropped == 1000 - s.calls.attempted)
        #expect(s.responses["200 OK"] == s.calls.attempted, "\(s.responses)")
        #expect(!s.passed)
        for file in ["summary.json", "calls.csv", "mock-ledger.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: result.directory + "/" + file))
        }
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.count == s.calls.attempted)
        #expect(ledger.allSatisfy { $0.endedAt != nil && $0.endedBy == "business" }, "a call was left open")
    }
}

/// Threshold expressions: parsing, located errors, evaluation on a real run.
@Suite("Thresholds", .serialized)
struct ThresholdTests {
    @Test func parsing() throws {
        let t = try Threshold(parsing: "p99(setup) < 300ms")
        #expect(t.function == .p99 && t.argument == "setup" && t.comparator == .lt && t.value == 300)
        #expect(try Threshold(parsing: "max(post_dial) <= 2s").value == 2000)
        #expect(try Threshold(parsing: "rate(connected) >= 0.99").comparator == .ge)
        #expect(try Threshold(parsing: "count(403) == 0").argument == "403")
        #expect(throws: ThresholdError.self) { try Threshold(parsing: "p99(setup) < 300") }       // no unit
        #expect(throws: ThresholdError.self) { try Threshold(parsing: "p42(setup) < 3ms") }       // function
        #expect(throws: ThresholdError.self) { try Threshold(parsing: "count(banana) == 0") }    // argument
        #expect(throws: ThresholdError.self) { try Threshold(parsing: "p99(setup) ~ 3ms") }       // comparator
    }

    @Test func errorsAreLocatedInTheScenario() throws {
        do {
            _ = try ScenarioLoader.parse("""
                name: t
                callees: { list: ["+15550200000"] }
                load: { total_calls: 1 }
                expect:
                  thresholds:
                    - "p99(setup) < 300ms"
                    - "p99(setupp) < 300ms"
                """, file: "t.yaml")
            Issue.record("accepted a bad threshold")
        } catch let e as ScenarioError {
            #expect(e.path == "expect.thresholds[1]" && e.line == 7 && e.message.contains("setup"), "\(e)")
        }
    }

    @Test func evaluatedOnARun() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.parse("""
            name: thresholds
            callees: { range: "+15550200000..+15550200009" }
            load: { rate: 20/s, total_calls: 10 }
            call: { hold: 50ms }
            expect:
              thresholds:
                - "p99(setup) < 10s"
                - "rate(connected) >= 0.99"
                - "count(403) == 0"
                - "p50(setup) < 1us"
            """, file: "t.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let t = result.summary.thresholds
        #expect(t.map(\.ok) == [true, true, true, false])
        #expect(t[1].value == 1 && t[2].value == 0 && (t[0].value ?? 0) > 0)
        #expect(!result.summary.passed)
    }
}

/// Failed calls leave a readable ladder in `traces/`; passing calls none (unless `all`).
@Suite("Call traces", .serialized)
struct CallTraceTests {
    @Test func failedCallsAreTraced() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.parse("""
            name: traced
            business: { number: "+33639980001", domain: sbc.other-example.net, password: { from: mock } }
            callees: { range: "+15550200000..+15550200001" }
            load: { rate: 20/s, total_calls: 2 }
            """, file: "t.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let traces = try FileManager.default.contentsOfDirectory(atPath: result.directory + "/traces").sorted()
        #expect(traces == ["call-0.txt", "call-1.txt"])
        let text = try String(contentsOfFile: result.directory + "/traces/call-0.txt", encoding: .utf8)
        // The whole ladder: INVITE, 407, ACK, INVITE with credentials, 403 with Meta's reason and Warning.
        for needle in ["──▶ sent to tls 127.0.0.1:", "    Via: SIP/2.0/TLS", "INVITE sip:+15550200000@wa.meta.vc;transport=tls", "◀── received from", "407 Proxy Authentication Required",
                       "Proxy-Authorization: Digest", "403 SIP server sbc.other-example.net from INVITE does not match",
                       "Warning: 399 wa.meta.vc \"SIP server sbc.other-example.net"] {
            #expect(text.contains(needle), "missing \(needle)")
        }
        #expect(result.summary.traces.written == 2)
    }

    @Test func passingCallsAreNotTracedByDefaultButAreWithAll() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.parse("""
            name: clean
            callees: { range: "+15550200010..+15550200012" }
            load: { rate: 20/s, total_calls: 3 }
            call: { hold: 20ms }
            """, file: "t.yaml")
        let quiet = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        #expect(!FileManager.default.fileExists(atPath: quiet.directory + "/traces"))
        var options = RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)
        options.traceMode = .all
        options.traceLimit = 2
        let all = try await ScenarioRunner(scenario: scenario, options: options).run()
        #expect(all.summary.traces.written + all.summary.traces.notWritten == 3)
        #expect(all.summary.traces.written <= 2)
        let text = try String(contentsOfFile: all.directory + "/traces/" + (try FileManager.default.contentsOfDirectory(atPath: all.directory + "/traces")[0]), encoding: .utf8)
        #expect(text.contains("BYE sip:") && text.contains("200 OK"))
    }

    /// report.html is one self-contained page with the verdict, every threshold, the charts and the
    /// responses; timeseries.csv has a row per second.
    @Test func reportAndTimeSeries() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.parse("""
            name: report-check
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 20/s, total_calls: 30 }
            call: { hold: 200ms }
            expect: { thresholds: ["p99(setup) < 5s", "count(403) == 0", "p50(setup) < 0.001ms"] }
            """, file: "inline.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let html = try String(contentsOfFile: result.directory + "/report.html", encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<title>wasim: report-check FAILED</title>"))
        for expression in ["p99(setup) &lt; 5s", "count(403) == 0", "p50(setup) &lt; 0.001ms"] { #expect(html.contains(expression), "\(expression)") }
        #expect(html.components(separatedBy: "<svg").count - 1 == 2)
        #expect(html.contains("200 OK") && html.contains("<td>30</td>"))
        #expect(html.contains("class=\"bad\">FAIL") && html.contains("class=\"ok\">pass"))
        // Offline: nothing is fetched.
        for external in ["<script", "<link", "src=", "http://", "https://", "url("] { #expect(!html.contains(external), "\(external)") }
        let rows = try String(contentsOfFile: result.directory + "/timeseries.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "second,started,answered,succeeded,failed,active_max,setup_p50_ms,setup_p99_ms,loop_lag_max_ms,loop_busy_max,shed")
        let started = rows.dropFirst().map { Int($0.split(separator: ",")[1]) ?? 0 }.reduce(0, +)
        #expect(started == 30 && rows.count >= 3)
        #expect(result.summary.latencyMs.tlsHandshake?.count ?? 0 >= 1)
        #expect(result.summary.generator.loopLagMsP99 > 0, "the lag probe ran")
    }
}
