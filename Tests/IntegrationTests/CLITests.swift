import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The `wasim` executable as users run it: exit codes and messages.
@Suite("wasim command line", .serialized)
struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var binary: String { root.appendingPathComponent(".build/debug/wasim").path }
    /// Built by `swift build --build-tests`; required (never skipped) when the peers are.
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) || Peers.required }

    /// Whether a `wasim scenario` run went through: exit 0, or exit 3 with the generator saying it was
    /// saturated (on a loaded machine a debug build's event loops lag, and wasim says so rather than blame
    /// the target). The tests check the calls' counts either way.
    static func ranThrough(_ result: ExternalProcess.Result) -> Bool {
        result.status == 0 || (result.status == 3 && result.output.contains("SATURATED: wasim itself was the bottleneck"))
    }

    @Test(.enabled(if: CLITests.available))
    func brokenScenarioExitsTwoNamingFileLineAndPath() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/broken.yaml"
        try "name: broken\ncallees: { list: [\"+15550200000\"] }\nload:\n  total_calls: 3\n  arivals: burst\n".write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(Self.binary, ["scenario", file, "--results", dir.path, "--certs", dir.path], timeout: 30)
        #expect(result.status == 2)
        #expect(result.output.contains("\(file):5:3: load.arivals: unknown key 'arivals' (did you mean 'arrivals'?)"), "\(result.output)")
    }

    @Test(.enabled(if: CLITests.available))
    func basicScenarioPassesAndWritesResults() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = Self.root.appendingPathComponent("Scenarios/bic-basic.yaml").path
        let result = try await ExternalProcess.run(Self.binary, ["scenario", scenario, "--results", dir.path, "--certs", dir.path], timeout: 60)
        #expect(Self.ranThrough(result), "\(result.output.suffix(1000))")
        #expect(result.output.contains("bic-basic: 20 calls, 20 connected, 0 failed"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("bic-basic-") }
        #expect(runs.count == 1)
        let summary = try Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/\(runs[0])/summary.json"))
        let json = try JSONSerialization.jsonObject(with: summary) as? [String: Any]
        #expect((json?["responses"] as? [String: Int])?["200 OK"] == 20)
    }

    /// A target that refuses every call makes the run fail with exit 1.
    @Test(.enabled(if: CLITests.available))
    func failedCallsExitOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/wrong-domain.yaml"
        try """
            name: wrong-domain
            business: { number: "+33639980001", domain: not-configured.example.net, password: { from: mock } }
            callees: { list: ["+15550200000"] }
            load: { total_calls: 2, rate: 10/s }
            """.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(Self.binary, ["scenario", file, "--results", dir.path, "--certs", dir.path], timeout: 60)
        #expect(result.status == 1)
        #expect(result.output.contains("403 SIP server not-configured.example.net from INVITE does not match any SIP server configured for phone number id 100000000000001 ×2"), "\(result.output.suffix(800))")
    }

    /// A threshold that does not hold makes the run fail with exit 1, and says which one.
    @Test(.enabled(if: CLITests.available))
    func failingThresholdExitsOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/threshold.yaml"
        try """
            name: threshold
            callees: { list: ["+15550200000"] }
            load: { total_calls: 1 }
            call: { hold: 10ms }
            expect: { thresholds: ["p50(setup) < 1us"] }
            """.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(Self.binary, ["scenario", file, "--results", dir.path, "--certs", dir.path], timeout: 60)
        #expect(result.status == 1)
        #expect(result.output.contains("threshold FAIL p50(setup) < 1us"), "\(result.output.suffix(800))")
    }

    /// `wasim suite`: a passing, a failing and a broken scenario give a table, exit 1, and JUnit XML that an
    /// XML parser reads with the right counts and a failure and an error element.
    @Test(.enabled(if: CLITests.available))
    func suiteWritesJUnit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let suite = dir.path + "/suite"
        try FileManager.default.createDirectory(atPath: suite, withIntermediateDirectories: true)
        let base = "callees: { range: \"+15550200000..+15550200009\" }\nload: { rate: 20/s, total_calls: 2 }\ncall: { hold: 100ms }\n"
        try ("name: a-pass\n" + base).write(toFile: suite + "/a-pass.yaml", atomically: false, encoding: .utf8)
        try ("name: b-fail\n" + base + "expect: { thresholds: [\"p99(setup) < 1ms\"] }\n").write(toFile: suite + "/b-fail.yaml", atomically: false, encoding: .utf8)
        try "name: c-broken\ncallees: { list: [\"+15550200000\"] }\nload: { rtae: 2/s, total_calls: 1 }\n".write(toFile: suite + "/c-broken.yaml", atomically: false, encoding: .utf8)
        let junit = dir.path + "/junit.xml"
        let result = try await ExternalProcess.run(Self.binary, ["suite", suite, "--results", dir.path + "/r", "--certs", dir.path, "--junit", junit], timeout: 90)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("a-pass") && result.output.contains("PASSED") && result.output.contains("FAILED") && result.output.contains("ERROR"))
        #expect(result.output.contains("1/3 passed"))
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: junit), options: [])
        let suiteElement = try #require(try document.nodes(forXPath: "/testsuites/testsuite").first as? XMLElement)
        #expect(suiteElement.attribute(forName: "tests")?.stringValue == "3")
        #expect(suiteElement.attribute(forName: "failures")?.stringValue == "1")
        #expect(suiteElement.attribute(forName: "errors")?.stringValue == "1")
        #expect(try document.nodes(forXPath: "//testcase[@name='b-fail']/failure").count == 1)
        let error = try #require(try document.nodes(forXPath: "//testcase[@name='c-broken']/error").first as? XMLElement)
        #expect(error.attribute(forName: "message")?.stringValue?.contains("load.rtae: unknown key 'rtae'") == true)
    }

    /// SIPp habits on the command line: each flag and --set overrides the file, is printed in the run header
    /// and kept in summary.json; a bad override is an exit 2 naming the field and the flag that set it.
    @Test(.enabled(if: CLITests.available))
    func overridesArePrintedKeptAndChecked() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = Self.root.appendingPathComponent("Scenarios/bic-basic.yaml").path
        let result = try await ExternalProcess.run(Self.binary, [
            "scenario", scenario, "--results", dir.path, "--certs", dir.path, "--rate", "40/s", "--calls", "6", "--transport", "udp",
            "--set", "call.hold=100ms", "--set", "callees.range=+15550200100..+15550200105",
        ], timeout: 60)
        #expect(Self.ranThrough(result), "\(result.output.suffix(1000))")
        #expect(result.output.contains("command line: --rate 40/s --calls 6 --transport udp --set call.hold=100ms"), "\(result.output.prefix(400))")
        #expect(result.output.contains("bic-basic: 6 calls, 6 connected"), "\(result.output.suffix(600))")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasPrefix("bic-basic-") })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/\(run)/summary.json"))) as? [String: Any]
        let overrides = json?["overrides"] as? [String]
        #expect(overrides?.prefix(4) == ["--rate 40/s", "--calls 6", "--transport udp", "--set call.hold=100ms"], "\(overrides ?? [])")
        #expect(json?["transport"] as? String == "udp")
        #expect((json?["rate"] as? [String: Any])?["target_cps"] as? Double == 40)

        let bad = try await ExternalProcess.run(Self.binary, ["scenario", scenario, "--results", dir.path, "--certs", dir.path, "--set", "load.max_concurrent=0"], timeout: 30)
        #expect(bad.status == 2)
        #expect(bad.output.contains("load.max_concurrent: 0 is out of range 1...1000000 (from --set load.max_concurrent=0)"), "\(bad.output)")
        let typo = try await ExternalProcess.run(Self.binary, ["scenario", scenario, "--results", dir.path, "--certs", dir.path, "--set", "call.hodl=1s"], timeout: 30)
        #expect(typo.status == 2 && typo.output.contains("unknown key 'hodl' (did you mean 'hold'?)"), "\(typo.output)")
    }

    /// `wasim capacity` against the embedded mock, which shares wasim's process: whatever level stops the
    /// search, the generator saturated first, and it says so (exit 3) instead of blaming a target.
    @Test(.enabled(if: CLITests.available))
    func capacityAgainstTheEmbeddedMockSaysWasimIsTheLimit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/cap.yaml"
        try """
            name: cap
            mock: \(Self.root.appendingPathComponent("Scenarios/mocks/load.yaml").path)
            transport: { protocol: udp }
            callees: { range: "+15550200000..+15550299999" }
            load: { rate: 10/s, total_calls: 10 }
            call: { hold: 200ms }
            capacity: { start: 500/s, factor: 8, max: 4000/s, step_duration: 2s, p99_setup: 10s, max_failures: 50% }
            """.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(Self.binary, ["capacity", file, "--results", dir.path, "--certs", dir.path], timeout: 240)
        #expect(result.status == 3, "\(result.output.suffix(1500))")
        #expect(result.output.contains("limited by wasim, not the target"), "\(result.output.suffix(1500))")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasPrefix("cap-capacity-") })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/\(run)/summary.json"))) as? [String: Any]
        let capacity = try #require(json?["capacity"] as? [String: Any])
        #expect(capacity["limited_by"] as? String == "wasim")
        let steps = try #require(capacity["steps"] as? [[String: Any]])
        #expect((steps.last?["saturated"] as? Bool) == true && (steps.last?["broke"] as? [String])?.first?.hasPrefix("wasim saturated") == true, "\(steps)")
        let report = try String(contentsOfFile: "\(dir.path)/\(run)/report.html", encoding: .utf8)
        #expect(report.contains("LIMITED BY WASIM") && report.contains("<svg"))
        // Every level kept its own results.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/\(run)/steps").count == steps.count)
    }

    /// A port clash names the listener and the port (it was a raw `bind(...)` errno), exit 2.
    @Test(.enabled(if: CLITests.available))
    func mockPortClashNamesThePort() async throws {
        let mock = try await MockHarness.start()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let result = try await ExternalProcess.run(Self.binary, ["mock", "--tls-port", "\(mock.tlsPort)", "--no-udp", "--no-tcp", "--certs", dir.path], timeout: 30)
        await mock.stop()
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output.contains("error: cannot listen for TLS on 127.0.0.1:\(mock.tlsPort): address already in use"), "\(result.output)")
    }
}
