import Foundation
import LoadEngine
import MetaMock
import SIPTransport
import Testing

/// User-initiated calls: the mock, as Meta, calls a business SIP server that is a real third-party peer
/// (SIPp UAS over TCP, Kamailio over TLS, `openssl s_server`) and the peer checks what Meta sends.
@Suite("UIC: the mock calls the business", .serialized)
struct UICInteropTests {
    static func scenario(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "SIPp")!.path
    }

    /// The default configuration with the business server reached at `port` over `transport`.
    static func configuration(port: Int, transport: SIPTransportKind, _ edit: (inout MockConfiguration) -> Void = { _ in }) -> MockConfiguration {
        var c = MockConfiguration()
        c.businesses[0].connectAddress = "127.0.0.1:\(port)"
        c.businesses[0].transport = transport
        c.uic.answerTimeoutSeconds = 10
        edit(&c)
        return c
    }

    static func plan(count: Int = 2) -> MockUICConfiguration.CallPlan {
        MockUICConfiguration.CallPlan(users: NumberSet(range: "+15550200000..+15550200009")!, business: "+33639980001",
                                      count: count, rate: 10, hold: 0.5...0.5)
    }

    /// A SIPp UAS on a free TCP port, running `file` for `calls` calls.
    static func startSIPpUAS(_ file: String, calls: Int, work: TemporaryDirectory, extra: [String] = []) async throws -> (Process, URL, Int) {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let port = try FreePort.tcp()
        let (process, log) = try ExternalProcess.start(sipp, [
            "-sf", scenario(file), "-t", "t1", "-i", "127.0.0.1", "-p", "\(port)", "-m", "\(calls)",
            "-nostdin", "-timeout", "30", "-trace_err",
        ] + extra, directory: work.url)
        #expect(await eventually(timeout: 20) { tcpPortIsListening(port) }, "SIPp did not listen on \(port)")
        return (process, log, port)
    }

    static func finish(_ process: Process, log: URL, work: TemporaryDirectory) async -> String {
        _ = await eventually(timeout: 10) { !process.isRunning }
        ExternalProcess.stop(process)
        _ = await eventually { !process.isRunning }
        var text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        for file in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where file.hasSuffix("errors.log") {
            text += (try? String(contentsOfFile: work.path + "/" + file, encoding: .utf8)) ?? ""
        }
        return text
    }

    /// SIPp checks every documented header of Meta's INVITE and BYE with regexp actions; with 407 it checks
    /// the Proxy-Authorization fields, with 401 it verifies the digest itself (`verifyauth`).
    @Test(.enabled(if: Peers.available("sipp")), arguments: ["uic-uas", "uic-uas-407", "uic-uas-401"])
    func sippUASOverTCP(file: String) async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await Self.startSIPpUAS(file, calls: 2, work: work)
        let mock = try await MockHarness.start(configuration: Self.configuration(port: port, transport: .tcp))
        let reports = await mock.server.run(Self.plan())
        let ledger = try await mock.server.ledger()
        await mock.stop()
        let output = await Self.finish(uas, log: log, work: work)
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
        #expect(reports.count == 2)
        for report in reports {
            #expect(report.outcome.connected && report.outcome.endedBy == "meta" && report.outcome.byeStatus == 200, "\(report.outcome)")
            #expect(report.callID.hasPrefix("outgoing:wacid."))
            #expect((report.timing.challengeReceived != nil) == (file != "uic-uas"))
        }
        #expect(ledger.count == 2 && ledger.allSatisfy { $0.direction == .uic && $0.finalStatus == 200 && $0.wacid != nil && $0.durationSeconds != nil })
    }

    /// A business 200 OK without Meta's Record-Route: Meta withholds its ACK and answers the business's
    /// later BYE with 404 (SIPp fails the call if an ACK arrives or the BYE gets anything but 404).
    @Test(.enabled(if: Peers.available("sipp")))
    func alteredRecordRouteGetsNoAckAndBye404() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await Self.startSIPpUAS("uic-uas-mangled-rr", calls: 1, work: work)
        let mock = try await MockHarness.start(configuration: Self.configuration(port: port, transport: .tcp))
        let reports = await mock.server.run(Self.plan(count: 1))
        let output = await Self.finish(uas, log: log, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop()
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
        #expect(reports.first?.outcome.ackWithheld == true)
        #expect(ledger.first?.ackWithheld == true && ledger.first?.rule?.contains("Record-Route altered") == true)
    }

    /// `wasim scenario` with `direction: uic` and a target: the embedded mock calls a SIPp UAS (the SBC
    /// stand-in) at the scenario's rate; the summary reports Meta's view of each call.
    @Test(.enabled(if: Peers.available("sipp")))
    func uicScenarioAgainstSIPpTarget() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await Self.startSIPpUAS("uic-uas-407", calls: 4, work: work)
        let scenario = try ScenarioLoader.parse("""
            name: uic-to-sipp
            target: "sip:127.0.0.1:\(port);transport=tcp"
            business: { number: "+33639980001" }
            callees: { range: "+15550200000..+15550200003" }
            load: { rate: 20/s, total_calls: 4 }
            call: { direction: uic, hold: 300ms }
            expect: { responses: { "200 OK": 4 } }
            """, file: "inline.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: work.path, certsDirectory: work.path)).run()
        let output = await Self.finish(uas, log: log, work: work)
        #expect(uas.terminationStatus == 0, "\(output.suffix(2000))")
        #expect(result.summary.passed && result.summary.calls.connected == 4, "\(result.summary.responses)")
        #expect(result.summary.latencyMs.auth.count == 4 && result.summary.latencyMs.setup.count == 4)
        #expect((try result.mockLedger())?.allSatisfy { $0.direction == .uic && $0.endedBy == "meta" } == true)
    }

    /// The checks can fail: with the live header name (`x-wa-meta-country-code`) instead of the documented one,
    /// SIPp's regexp action fails the call.
    @Test(.enabled(if: Peers.available("sipp")))
    func sippChecksBite() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await Self.startSIPpUAS("uic-uas", calls: 1, work: work)
        let mock = try await MockHarness.start(configuration: Self.configuration(port: port, transport: .tcp) {
            $0.headerNames.userCountryCode = "x-wa-meta-country-code"
        })
        _ = await mock.server.run(Self.plan(count: 1))
        await mock.stop()
        let output = await Self.finish(uas, log: log, work: work)
        #expect(uas.terminationStatus != 0)
        #expect(output.contains("x-wa-meta-user-country-code"), "\(output.suffix(1500))")
    }

    /// Over TLS through a real SBC edge: Kamailio (tls module, certificate for sip.example.com) record-routes
    /// the call to a SIPp UAS over TCP. The 200 OK carries Kamailio's Record-Route above Meta's, the ACK and
    /// Meta's BYE follow Kamailio's route.
    @Test(.enabled(if: Peers.available("kamailio") && Peers.available("sipp")))
    func kamailioOverTLS() async throws {
        let kamailio = try #require(Peers.path("kamailio"), "kamailio is not installed")
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, uasPort) = try await Self.startSIPpUAS("uic-uas", calls: 2, work: work)
        let tlsPort = try FreePort.tcp(), tcpPort = try FreePort.tcp()
        let mock = try await MockHarness.start(configuration: Self.configuration(port: tlsPort, transport: .tls))
        let config = KamailioEdge.config(tlsPort: tlsPort, tcpPort: tcpPort, uasPort: uasPort, certs: mock.certs)
        try config.write(toFile: work.path + "/kamailio.cfg", atomically: false, encoding: .utf8)
        let (edge, edgeLog) = try ExternalProcess.start(kamailio, ["-DD", "-E", "-f", work.path + "/kamailio.cfg"], directory: work.url)
        defer { ExternalProcess.stop(edge) }
        #expect(await eventually(timeout: 20) { tcpPortIsListening(tlsPort) }, "kamailio did not listen: \((try? String(contentsOf: edgeLog, encoding: .utf8))?.suffix(1500) ?? "")")
        let reports = await mock.server.run(Self.plan())
        await mock.stop()
        ExternalProcess.stop(edge)
        let output = await Self.finish(uas, log: log, work: work)
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
        for report in reports {
            #expect(report.outcome.connected && report.outcome.byeStatus == 200, "\(report.outcome)")
        }
    }

    /// A business TLS server whose certificate does not cover the configured hostname is refused, with the
    /// reason in the ledger (`openssl s_server` with a certificate for other.example.com).
    @Test(.enabled(if: Peers.available("openssl")))
    func refusesCertificateForAnotherHost() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.tcp()
        let mock = try await MockHarness.start(configuration: Self.configuration(port: port, transport: .tls))
        let other = try TestCertificateAuthorityAccess.issue(host: "other.example.com", in: mock.certs)
        let server = try OpenSSLServer.start(port: port, chain: other.chainFile, key: other.keyFile, extra: [], work: work)
        defer { server.terminate() }
        #expect(await eventually(timeout: 20) { tcpPortIsListening(port) })
        let reports = await mock.server.run(Self.plan(count: 1))
        let ledger = try await mock.server.ledger()
        await mock.stop()
        let outcome = try #require(reports.first?.outcome)
        #expect(!outcome.connected && outcome.localFailure)
        #expect(outcome.detail?.contains("does not cover sip.example.com") == true, "\(outcome)")
        #expect(ledger.first?.rule?.contains("TLS refused") == true && ledger.first?.finalStatus == nil, "\(ledger)")
    }

    /// A business TLS server that asks for a client certificate (`openssl s_server -Verify`) gets one: a random
    /// dynamic host from a CA it does not trust (Meta's 2025 text), or `client.sip.fbclientcerts.com` from the
    /// test CA (the 2026 variant), and then Meta's INVITE.
    @Test(.enabled(if: Peers.available("openssl")), arguments: ["dynamic", "client.sip.fbclientcerts.com"])
    func presentsClientCertificate(variant: String) async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.tcp()
        let mock = try await MockHarness.start(configuration: Self.configuration(port: port, transport: .tls) {
            $0.uic.clientCertificate = variant == "dynamic" ? .dynamicHost : .host(variant)
        })
        let sip = TestCertificateAuthorityAccess.existing(host: "sip.example.com", in: mock.certs)
        let server = try OpenSSLServer.start(port: port, chain: sip.chainFile, key: sip.keyFile,
                                             extra: ["-Verify", "2", "-CAfile", mock.server.caFile], work: work)
        #expect(await eventually(timeout: 20) { tcpPortIsListening(port) })
        let call = Task { await mock.server.run(Self.plan(count: 1)) }
        var output = ""
        _ = await eventually(timeout: 10) {
            output = server.output()
            return output.contains("INVITE sip:+33639980001")
        }
        // The business server goes away: Meta's INVITE fails on the closed connection (no Timer B wait).
        server.terminate()
        _ = await call.value
        await mock.stop()
        let host = try #require(mock.server.clientCertificateHost)
        #expect(output.contains("CN = \(host)"), "\(output.prefix(2000))")
        if variant == "dynamic" {
            #expect(host.hasPrefix("dyn-") && host.hasSuffix(".fbclientcerts.com"))
            #expect(output.contains("verify error"), "the dynamic certificate must not verify: \(output.prefix(1500))")
        } else {
            #expect(host == variant)
            #expect(!output.contains("verify error"), "\(output.prefix(1500))")
        }
        #expect(output.contains("x-wa-meta-wacid:"))
    }
}
