import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A run killed with SIGKILL keeps what it recorded (calls.csv and timeseries.csv are written as it goes),
/// and `wasim report DIR` rebuilds summary.json and report.html from it; on a finished run the rebuilt
/// summary agrees with the run's own.
@Suite("Crash-safe results and wasim report", .serialized)
struct CrashSafeResultsTests {
    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    static func runFolder(in root: String, prefix: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.first { $0.hasPrefix(prefix + "-") }.map { root + "/" + $0 }
    }

    @Test(.enabled(if: CLITests.available))
    func aKilledRunIsRebuilt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try """
            name: killed
            business: { number: "+33639980001", domain: sip.example.com, password: { from: mock } }
            transport: { protocol: udp }
            callees: { range: "+15550200000..+15550209999" }
            load: { rate: 50/s, total_calls: 3000 }
            call: { hold: 200ms }
            """.write(toFile: dir.path + "/killed.yaml", atomically: false, encoding: .utf8)
        let (process, log) = try ExternalProcess.start(CLITests.binary, ["scenario", dir.path + "/killed.yaml", "--results", dir.path, "--certs", dir.path])
        defer { ExternalProcess.stop(process); try? FileManager.default.removeItem(at: log) }
        func rows() -> [Substring] {
            guard let run = Self.runFolder(in: dir.path, prefix: "killed"),
                  let text = try? String(contentsOfFile: run + "/calls.csv", encoding: .utf8) else { return [] }
            return text.split(separator: "\n").dropFirst().map { $0 }
        }
        let going = await eventually(timeout: 60) {
            rows().count >= 100 && FileManager.default.fileExists(atPath: (Self.runFolder(in: dir.path, prefix: "killed") ?? "") + "/timeseries.csv")
        }
        #expect(going, "\((try? String(contentsOf: log, encoding: .utf8))?.suffix(1000) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        _ = await eventually(timeout: 10) { !process.isRunning }
        let run = try #require(Self.runFolder(in: dir.path, prefix: "killed"))
        #expect(!FileManager.default.fileExists(atPath: run + "/summary.json"))
        let series = try String(contentsOfFile: run + "/timeseries.csv", encoding: .utf8).split(separator: "\n")
        #expect(series.first?.hasPrefix("second,started,answered") == true && series.count >= 2)
        let written = rows().filter { $0.hasSuffix(",connected") || $0.hasSuffix(",rejected") }
        let report = try await ExternalProcess.run(CLITests.binary, ["report", run], timeout: 60)
        #expect(report.output.contains("rebuilt from calls.csv"), "\(report.output.suffix(1500))")
        let summary = try Self.json(run + "/summary.json")
        // Exit status as for a run: 0 when it passed, 1 when not (calls left unfinished by the kill fail it).
        #expect(report.status == (summary["passed"] as? Bool == true ? 0 : 1), "\(report.output.suffix(1500))")
        #expect(summary["rebuilt_from"] as? String == "calls.csv")
        #expect(summary["interrupted"] as? Bool == true)
        let calls = summary["calls"] as? [String: Any] ?? [:]
        // Every whole row is counted; a row cut by the kill may be left out.
        let attempted = calls["attempted"] as? Int ?? -1
        #expect(attempted >= written.count - 1 && attempted <= written.count, "attempted \(attempted), rows \(written.count)")
        #expect((summary["responses"] as? [String: Int])?.values.reduce(0, +) == attempted)
        #expect(calls["dropped"] as? Int == 3000 - attempted)
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(html.contains("How calls ended") && html.contains("Rebuilt from calls.csv"))
    }

    @Test(.enabled(if: CLITests.available))
    func theRebuiltSummaryAgreesWithTheRunsOwn() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = CLITests.root.appendingPathComponent("Scenarios/bic-basic.yaml").path
        let result = try await ExternalProcess.run(CLITests.binary, ["scenario", scenario, "--results", dir.path, "--certs", dir.path, "--set", "call.hold=100ms"], timeout: 60)
        #expect(CLITests.ranThrough(result), "\(result.output.suffix(1000))")
        let run = try #require(Self.runFolder(in: dir.path, prefix: "bic-basic"))
        let original = try Self.json(run + "/summary.json")
        try FileManager.default.moveItem(atPath: run + "/summary.json", toPath: run + "/summary.original.json")
        let report = try await ExternalProcess.run(CLITests.binary, ["report", run], timeout: 60)
        #expect(report.status == 0 || report.status == 1, "\(report.output.suffix(1500))")
        let rebuilt = try Self.json(run + "/summary.json")
        #expect(rebuilt["passed"] as? Bool == original["passed"] as? Bool)
        let a = original["calls"] as? [String: Any] ?? [:], b = rebuilt["calls"] as? [String: Any] ?? [:]
        for key in ["attempted", "connected", "failed", "unexpected", "teardown_failed", "dropped"] {
            #expect(a[key] as? Int == b[key] as? Int, "\(key): \(a[key] ?? "nil") vs \(b[key] ?? "nil")")
        }
        #expect(original["responses"] as? [String: Int] == rebuilt["responses"] as? [String: Int])
        #expect(original["ends"] as? [String: Int] == rebuilt["ends"] as? [String: Int])
        #expect(rebuilt["overrides"] as? [String] == ["--set call.hold=100ms"])
        let setupA = (original["latency_ms"] as? [String: Any])?["setup"] as? [String: Any] ?? [:]
        let setupB = (rebuilt["latency_ms"] as? [String: Any])?["setup"] as? [String: Any] ?? [:]
        for p in ["p50", "p99", "max"] {
            let x = setupA[p] as? Double ?? -1, y = setupB[p] as? Double ?? -2
            #expect(abs(x - y) <= max(0.01, x * 0.01), "setup \(p): \(x) vs \(y)")
        }
    }
}
