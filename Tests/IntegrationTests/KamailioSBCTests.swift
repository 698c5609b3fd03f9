import Foundation
import LoadEngine
import MetaMock
import SIPCore
import Testing
import WasimCerts

/// Kamailio as the business SBC in both directions, with the configurations users deploy
/// (`deploy/kamailio/`) and the scenario files they run (`Scenarios/sbc-kamailio-*.yaml`), on free ports
/// given to Kamailio with `-A` and to the scenarios as `--set` overrides.
@Suite("Kamailio as the business SBC", .serialized)
struct KamailioSBCTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Kamailio with one of the deploy configurations and `-A` defines; stopped by the caller.
    static func startKamailio(_ config: String, defines: [String], tlsConfig: String, work: TemporaryDirectory,
                              ready: [(udp: Bool, port: Int)], shmMB: Int = 64) async throws -> (Process, URL) {
        let kamailio = try #require(Peers.path("kamailio"), "kamailio is not installed")
        let arguments = ["-m", "\(shmMB)", "-DD", "-E", "-f", path("deploy/kamailio/\(config)"), "-A", "TLS_CONFIG=\"\(tlsConfig)\""] + defines.flatMap { ["-A", $0] }
        let (process, log) = try ExternalProcess.start(kamailio, arguments, directory: work.url)
        // Kamailio starts in well under a second alone; in the full parallel suite (floods and fuzz replays on
        // the same two cores) it was once not listening after 10 s, so readiness gets 30 s. A port taken
        // meanwhile or an exit shows in the message.
        for socket in ready {
            let up = await eventually(timeout: 30) { socket.udp ? udpPortIsBound(socket.port) : tcpPortIsListening(socket.port) }
            if !up {
                let state = process.isRunning ? "still running" : "exited with \(process.terminationStatus)"
                ExternalProcess.stop(process)
                Issue.record("kamailio (\(config)) did not listen on \(socket.udp ? "udp" : "tcp") \(socket.port) within 30 s (\(state)): \((try? String(contentsOf: log, encoding: .utf8))?.suffix(3000) ?? "")")
            }
        }
        return (process, log)
    }

    /// Kamailio with bic.cfg between the phones (UDP, the returned port) and the mock (TLS).
    static func startBICEdge(mock: MockHarness, work: TemporaryDirectory, extra: [String] = [], shmMB: Int = 64) async throws -> (Process, URL, Int) {
        let udp = try FreePort.udp(), tls = try FreePort.tcp()
        let (edge, log) = try await startKamailio("bic.cfg", defines: [
            "BUSINESS_LISTEN=udp:127.0.0.1:\(udp)", "META_LISTEN=tls:127.0.0.1:\(tls)",
            "META_TARGET=\"sip:127.0.0.1:\(mock.tlsPort);transport=tls\"",
        ] + extra, tlsConfig: try tlsConfig(certs: mock.certs, work: work), work: work, ready: [(true, udp), (false, tls)], shmMB: shmMB)
        return (edge, log, udp)
    }

    /// The lab's TLS domains for Kamailio, from `deploy/kamailio/tls.cfg.in`, with the mock's certificates.
    static func tlsConfig(certs: String, work: TemporaryDirectory) throws -> String {
        let text = try String(contentsOfFile: path("deploy/kamailio/tls.cfg.in"), encoding: .utf8).replacingOccurrences(of: "@CERTS@", with: certs)
        let file = work.path + "/tls.cfg"
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        return file
    }

    /// The lab's Meta: Scenarios/mocks/load.yaml (as sbc-lab.sh runs it), with its route naming 127.0.0.1.
    static func startMock() async throws -> MockHarness {
        var configuration = try MockConfigLoader.load(path: path("Scenarios/mocks/load.yaml"))
        configuration.labRouteHost = "127.0.0.1"
        return try await MockHarness.start(configuration: configuration)
    }

    /// Runs a scenario file with overrides, as `wasim scenario FILE --set ...` does. The files' latency
    /// thresholds are for users' runs on a quiet machine; here, beside the rest of the suite, they are
    /// dropped (no test asserts a wall-clock bound): the counts and responses are the test.
    static func run(_ file: String, _ sets: [String], certs: String, work: TemporaryDirectory) async throws -> RunResult {
        let scenario = try ScenarioLoader.load(path: path("Scenarios/\(file)"),
                                               overrides: try (sets + ["expect.thresholds=[]"]).map(ScenarioOverride.init(parsing:)))
        return try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: work.path, certsDirectory: certs)).run()
    }

    /// BIC: phones → Kamailio over UDP → the mock over TLS. Kamailio answers Meta's 407 (the phones see none),
    /// rewrites From to the business's SIP domain (the mock's ledger shows it), and the CSeq it raised for
    /// the authenticated INVITE is kept in step for the ACK and BYE (every call ends with BYE 200).
    @Test(.enabled(if: Peers.available("kamailio")))
    func bicThroughKamailio() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let mock = try await Self.startMock()
        let (edge, log, udp) = try await Self.startBICEdge(mock: mock, work: work)
        defer { ExternalProcess.stop(edge) }
        let result = try await Self.run("sbc-kamailio-bic.yaml", ["target=sip:127.0.0.1:\(udp);transport=udp"], certs: mock.certs, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop()
        let s = result.summary
        let kamailioLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(s.passed && s.calls.connected == 100 && s.responses == ["200 OK": 100],
                "\(s.calls) \(s.responses) \(s.thresholds.map { "\($0.expression) \($0.value ?? -1)" }) \(kamailioLog.suffix(1500))")
        #expect(s.latencyMs.auth.count == 0, "the phones were challenged: Kamailio did not answer Meta's 407")
        let rows = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.count == 100 && rows.allSatisfy { $0.contains(",bye 200,connected") }, "\(rows.prefix(3))")
        #expect(ledger.count == 100 && ledger.allSatisfy { $0.from.contains("@sip.example.com") && $0.finalStatus == 200 },
                "\(ledger.prefix(2).map { "\($0.from) \($0.finalStatus ?? 0) \($0.rule ?? "")" })")
    }

    /// The misconfigured SBC: Kamailio rewrites From to a domain that is not the number's SIP server; Meta's
    /// 403 and its text reach the phone.
    @Test(.enabled(if: Peers.available("kamailio")))
    func wrongDomainReachesThePhone() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let mock = try await Self.startMock()
        let (edge, _, udp) = try await Self.startBICEdge(mock: mock, work: work, extra: ["SIP_DOMAIN=\"sbc.wrong-example.net\""])
        defer { ExternalProcess.stop(edge) }
        let result = try await Self.run("sbc-kamailio-bic-wrong-domain.yaml", ["target=sip:127.0.0.1:\(udp);transport=udp"], certs: mock.certs, work: work)
        await mock.stop()
        let s = result.summary
        #expect(s.passed, "\(s.responses)")
        #expect(s.ends == ["rejected": 5])
        #expect(s.responses.keys.allSatisfy { $0.hasPrefix("403 SIP server sbc.wrong-example.net from INVITE does not match") }, "\(s.responses)")
    }

    /// UIC: the embedded mock, as Meta, calls Kamailio over TLS; Kamailio challenges it (Meta answers with
    /// the number's password) and forwards over UDP to wasim's business UAS behind it.
    @Test(.enabled(if: Peers.available("kamailio")))
    func uicThroughKamailio() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        // The CA and Kamailio's certificate for sip.example.com: the folder the run's embedded mock trusts.
        let certs = work.path + "/certs"
        _ = try TestCertificateAuthority(directory: certs).ensure()
        let tls = try FreePort.tcp(), udp = try FreePort.udp(), uas = try FreePort.udp()
        let (edge, log) = try await Self.startKamailio("uic.cfg", defines: [
            "META_LISTEN=tls:127.0.0.1:\(tls)", "BUSINESS_LISTEN=udp:127.0.0.1:\(udp)",
            "BUSINESS_UAS=\"sip:127.0.0.1:\(uas);transport=udp\"",
        ], tlsConfig: try Self.tlsConfig(certs: certs, work: work), work: work, ready: [(false, tls), (true, udp)])
        defer { ExternalProcess.stop(edge) }
        let result = try await Self.run("sbc-kamailio-uic.yaml", [
            "target=sip:127.0.0.1:\(tls);transport=tls", "call.business_uas=sip:127.0.0.1:\(uas);transport=udp",
        ], certs: certs, work: work)
        let s = result.summary
        let kamailioLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(s.passed && s.calls.connected == 20, "\(s.responses) \(kamailioLog.suffix(1500))")
        // Meta met Kamailio's 407 on every call and answered it.
        #expect(s.latencyMs.auth.count == 20)
        #expect(s.ends == ["connected": 20])
    }

    /// `wasim capacity` against Kamailio (UDP in, TLS to the mock): it finds a knee and names what stopped
    /// it. Kamailio gets 16 MB of shared memory, which runs out within the plan, so the search always
    /// ends at a rule: the target's (failures, latency), or wasim's saturation when this machine is busier.
    @Test(.enabled(if: Peers.available("kamailio")))
    func capacityFindsAKnee() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let mock = try await Self.startMock()
        let (edge, _, udp) = try await Self.startBICEdge(mock: mock, work: work, shmMB: 16)
        defer { ExternalProcess.stop(edge) }
        let scenario = try ScenarioLoader.load(path: Self.path("Scenarios/sbc-kamailio-bic.yaml"), overrides: try [
            "target=sip:127.0.0.1:\(udp);transport=udp", "capacity.start=25/s", "capacity.factor=4", "capacity.max=1600/s",
            "capacity.step_duration=2s", "capacity.p99_setup=2s",
        ].map(ScenarioOverride.init(parsing:)))
        let result = try await CapacityRunner(scenario: scenario, options: RunOptions(resultsRoot: work.path, certsDirectory: mock.certs)).run()
        await mock.stop()
        let c = result.summary.capacity
        #expect(c.kneeStep != nil && c.maxCPS >= 25, "\(c.steps.map { "\($0.offered): \($0.broke)" })")
        #expect(c.limitedBy == "target" || c.limitedBy == "wasim", "\(c.limitedBy) \(c.stoppedBy)")
        #expect(!c.stoppedBy.isEmpty && c.steps.last?.passed == false, "\(c.steps.map { "\($0.offered): \($0.broke)" })")
        if c.limitedBy == "target" { #expect(c.steps.last?.saturated == false) }
        #expect(FileManager.default.fileExists(atPath: result.directory + "/report.html"))
        #expect(result.summary.target.contains("127.0.0.1:\(udp)"))
    }
}
