import Foundation
import LoadEngine
import Testing

/// Every scenario in `Scenarios/` runs against the embedded mock and gets the responses it states
/// (`expect.responses`), or connects every call when it states none. bic-burst, the 2,000-call load run,
/// and capacity-ramp, two minutes of load, are left to `scripts/run.sh`; the sbc-kamailio scenarios need
/// Kamailio in the path and run in `KamailioSBCTests`.
@Suite("Scenario library", .serialized)
struct ScenarioLibraryTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scenarios")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") && $0 != "bic-burst.yaml" && $0 != "capacity-ramp.yaml" && !$0.hasPrefix("sbc-kamailio") }.sorted()
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

    /// Clipping as both sides measure it: the business's frames lost before its keys, and Meta's count of
    /// frames that never arrived (the mock's ledger), agree within a frame, per call.
    @Test func clippingAgreesOnBothSides() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.load(path: Self.directory.appendingPathComponent("clipping-dtls-vs-sdes.yaml").path)
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let csv = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.count == 4 && ledger.allSatisfy { $0.mediaPacketsReceived ?? 0 > 0 }, "\(ledger)")
        for row in csv {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let callee = f[2], business = Double(f[13]) ?? -1
            let meta = try #require(ledger.first { $0.to.contains(callee) }?.clippedMs)
            #expect(abs(business - meta) <= 20, "\(callee): business \(business) ms, Meta \(meta) ms")
        }
        let dtls = try #require(result.summary.mediaBySecurity?["dtls"])
        #expect(dtls.clippingMs.count == 2 && dtls.clippingMs.max > 2900 && dtls.clippingMs.p50 > 900)
    }

    /// UIC with media: Meta's leg decrypts the business's SRTP (DTLS after ICE, or SDES) on every call.
    @Test(arguments: ["uic-media.yaml", "uic-media-sdes.yaml"])
    func uicMediaFlows(_ file: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = try ScenarioLoader.load(path: Self.directory.appendingPathComponent(file).path)
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: dir.path, certsDirectory: dir.path)).run()
        let ledger = try #require(try result.mockLedger())
        #expect(ledger.count == 4)
        for call in ledger {
            #expect(call.direction == .uic && (call.mediaPacketsReceived ?? 0) > 20 && (call.mediaPacketsSent ?? 0) > 20, "\(call)")
            #expect(call.mediaSecurity == (file.contains("sdes") ? "sdes" : "dtls") && call.mediaProblem == nil, "\(call)")
        }
        // The runner reports Meta's measurement of the business's audio: media start and clipping per call.
        let security = file.contains("sdes") ? "sdes" : "dtls"
        let media = try #require(result.summary.mediaBySecurity?[security])
        #expect(media.mediaStartMs.count == 4 && media.clippingMs.count == 4, "\(media)")
        #expect(result.summary.latencyMs.mediaStart?.count == 4 && result.summary.clippingMs?.count == 4)
        let rows = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[11] == security })
    }

    /// The capacity ramp (two minutes, ~15,000 calls: for scripts/run.sh, not the test run) parses into
    /// its stages.
    @Test func capacityRampShape() throws {
        let s = try ScenarioLoader.load(path: Self.directory.appendingPathComponent("capacity-ramp.yaml").path)
        #expect(s.arrivals == .ramp(stages: [.init(rate: 100, duration: 30), .init(rate: 100, duration: 30),
                                             .init(rate: 200, duration: 30), .init(rate: 200, duration: 30)]))
        let schedule = ArrivalSchedule(s.arrivals, totalCalls: s.totalCalls, duration: s.duration, seed: s.seed)
        #expect(schedule.count >= 14_900 && schedule.count <= 15_100, "\(schedule.count)")
    }

    /// The headline scenario parses and is what the README promises: at least 2,000 TLS calls in bursts.
    @Test func burstScenarioShape() throws {
        let s = try ScenarioLoader.load(path: Self.directory.appendingPathComponent("bic-burst.yaml").path)
        #expect(s.totalCalls >= 2000 && s.transport == .tls)
        #expect(s.arrivals == .burst(size: 200, every: 1))
        #expect(s.mediaSecurity == "dtls" && s.mediaSample == 0.1 && s.mediaProbeSeconds == 1)
    }
}
