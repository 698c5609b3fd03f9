import Foundation
@testable import LoadEngine
import NIOCore
import SIPCore
import SIPTransaction
import SIPTransport
import Testing

/// The generator against broken targets: each run finishes, and each call ends with the right
/// classification. Timers are shortened (T1 50 ms: Timer B and F at 3.2 s) so that no test waits 32 s.
/// Rings forever: `RealSBCTests.ringTimeoutCancelsAndCountsUnanswered`; a BYE refused with 481:
/// `TeardownTests`; a wrong certificate: `TransportFailureTests`.
@Suite("Generator fault tests", .serialized)
struct GeneratorFaultTests {
    static func options(_ work: TemporaryDirectory, target: String) throws -> RunOptions {
        var options = RunOptions(resultsRoot: work.path, certsDirectory: work.path)
        options.target = try SIPURI(target)
        options.timers = SIPTimers(t1: .milliseconds(50), t2: .milliseconds(400), t4: .milliseconds(500))
        return options
    }

    static func rows(_ result: RunResult) throws -> [Substring] {
        try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { $0 }
    }

    /// Nothing listens: over UDP the INVITE goes unanswered until Timer B; over TCP and TLS the connection
    /// is refused at once. Either way the run ends, every call counted failed with its end.
    @Test(arguments: ["udp", "tcp", "tls"])
    func targetDown(transport: String) async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = transport == "udp" ? try FreePort.udp() : try FreePort.tcp()
        let scenario = try RealSBCTests.scenario("down-\(transport)", transport: transport, calls: 3)
        let result = try await ScenarioRunner(scenario: scenario, options: Self.options(work, target: "sip:127.0.0.1:\(port);transport=\(transport)")).run()
        let s = result.summary
        #expect(s.calls.attempted == 3 && s.calls.failed == 3 && s.calls.connected == 0, "\(s.calls)")
        if transport == "udp" {
            #expect(s.ends == ["timer_b": 3], "\(s.ends)")
            #expect(s.responses == ["408 Request Timeout": 3] || s.responses.keys.allSatisfy { $0.hasPrefix("408") }, "\(s.responses)")
        } else {
            #expect(s.ends == ["transport": 3], "\(s.ends)")
            #expect(s.responses == ["503 connection refused (\(transport):127.0.0.1:\(port))": 3], "\(s.responses)")
        }
        #expect(try Self.rows(result).count == 3)
    }

    /// The target answers 200 and then never answers the BYE: the calls are connected, their teardown
    /// timed out (`bye timeout`), and the run fails on `teardown_failed`.
    @Test func answersThenIgnoresBye() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let uas = try await BrokenUAS.start(udp: true, fault: .ignoresBye)
        let scenario = try RealSBCTests.scenario("ignores-bye", transport: "udp", calls: 3)
        let result = try await ScenarioRunner(scenario: scenario, options: Self.options(work, target: "sip:127.0.0.1:\(uas.port);transport=udp")).run()
        await uas.stop()
        let s = result.summary
        #expect(s.calls.connected == 3 && s.calls.failed == 0 && s.calls.teardownFailed == 3, "\(s.calls)")
        #expect(s.ends == ["connected": 3] && !s.passed)
        #expect(uas.byesSeen.value >= 3, "the BYEs never reached the target")
        let rows = try Self.rows(result)
        #expect(rows.count == 3 && rows.allSatisfy { $0.hasSuffix(",connected,bye timeout,connected") }, "\(rows) \(s.responses)")
    }

    /// The target resets the TCP connection once the call is up and stops listening (it crashed): the call
    /// is connected, its BYE cannot be sent (`bye transport`), and the run ends.
    @Test func resetsTheConnectionMidCall() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let uas = try await BrokenUAS.start(udp: false, fault: .resetsAfterAck)
        let scenario = try RealSBCTests.scenario("reset", transport: "tcp", calls: 1)
        let result = try await ScenarioRunner(scenario: scenario, options: Self.options(work, target: "sip:127.0.0.1:\(uas.port);transport=tcp")).run()
        await uas.stop()
        let s = result.summary
        #expect(s.calls.connected == 1 && s.calls.teardownFailed == 1, "\(s.calls)")
        #expect(s.ends == ["connected": 1])
        let rows = try Self.rows(result)
        #expect(rows.count == 1 && rows.allSatisfy { $0.hasSuffix(",connected,bye transport,connected") }, "\(rows) \(s.responses)")
    }

    /// A target that rings forever with the ring timeout off: the drain deadline (`load.drain`) ends the
    /// run, CANCELling the calls still up, and the summary counts them drained.
    @Test(.enabled(if: Peers.available("sipp")))
    func theDrainDeadlineEndsCallsThatNeverEnd() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.udp()
        let (uas, _) = try ExternalProcess.start(sipp, [
            "-sf", RealSBCTests.sippFile("uas-rings-forever"), "-t", "u1", "-i", "127.0.0.1", "-p", "\(port)", "-m", "3", "-nostdin", "-timeout", "40",
        ], directory: work.url)
        defer { ExternalProcess.stop(uas) }
        #expect(await eventually(timeout: 20) { udpPortIsBound(port) }, "SIPp did not bind \(port)")
        var scenario = try RealSBCTests.scenario("drain", transport: "udp", calls: 3, extra: ", ring_timeout: none")
        scenario.drain = 1
        let result = try await ScenarioRunner(scenario: scenario, options: Self.options(work, target: "sip:127.0.0.1:\(port);transport=udp")).run()
        let s = result.summary
        #expect(s.calls.attempted == 3 && s.calls.connected == 0 && s.calls.drained == 3, "\(s.calls) \(s.ends)")
        #expect(s.ends == ["cancelled": 3], "\(s.ends) \(s.responses)")
        #expect(s.responses == ["487 Request Terminated": 3], "\(s.responses)")
    }

    /// 10 % of the datagrams lost each way between the generator and the mock (a relay that drops them; no
    /// netem here): retransmissions carry every call through, and the summary shows them.
    @Test func tenPercentUDPLoss() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let mock = try await MockHarness.start()
        let proxy = try await LossyUDPProxy.start(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: mock.udpPort), lossRate: 0.10, seed: 7)
        var scenario = try ScenarioLoader.parse("""
            name: lossy
            business: { number: "+33639980001", domain: sip.example.com, password: wasim-default-sip-password }
            transport: { protocol: udp }
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 20/s, total_calls: 40 }
            call: { hold: 300ms }
            """, file: "inline.yaml")
        scenario.seed = 1
        let result = try await ScenarioRunner(scenario: scenario, options: Self.options(work, target: "sip:127.0.0.1:\(proxy.port);transport=udp")).run()
        await proxy.stop()
        await mock.stop()
        let s = result.summary
        #expect(s.calls.connected == 40 && s.calls.failed == 0 && s.calls.teardownFailed == 0, "\(s.calls) \(s.responses)")
        #expect(proxy.dropped.value > 0 && proxy.relayed.value > 0)
        #expect(s.generator.retransmissions > 0, "no retransmission after \(proxy.dropped.value) lost datagrams")
    }
}
