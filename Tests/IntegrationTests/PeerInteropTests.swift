import Foundation
import LoadEngine
import MetaMock
import NIOCore
import SIPCore
import SIPTransport
import Testing

/// Interop with real third-party peers started by the tests: SIPp (sip-tester), openssl s_client, baresip.
@Suite("Interop with real peers", .serialized)
struct PeerInteropTests {
    static var sippScenarioFile: String {
        Bundle.module.url(forResource: "uac-digest", withExtension: "xml", subdirectory: "SIPp")!.path
    }

    /// SIPp plays the business: INVITE, 407, INVITE with [authentication], 200, ACK, BYE, against `wasim mock`
    /// over UDP and TCP (Debian's SIPp has no TLS). Its exit status is 0 only when every call succeeded.
    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func sippUACWithDigestAgainstMock(transport: String) async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let mock = try await MockHarness.start()
        let work = try TemporaryDirectory()
        let port = transport == "u1" ? mock.udpPort : mock.tcpPort
        // One user per call: Meta refuses a second concurrent call to the same user.
        let callees = "SEQUENTIAL\n" + (0..<10).map { "+1555020\(String(format: "%04d", $0));" }.joined(separator: "\n") + "\n"
        try callees.write(toFile: work.path + "/callees.csv", atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(sipp, [
            "-sf", Self.sippScenarioFile, "-inf", work.path + "/callees.csv", "-key", "fromhost", "sip.example.com",
            "-au", MockConfiguration.defaultBusiness.digestUsername, "-ap", MockConfiguration.defaultBusiness.sipPassword,
            "-t", transport, "-i", "127.0.0.1", "-m", "10", "-r", "20", "-timeout", "30", "-nostdin", "-trace_err",
            "127.0.0.1:\(port)",
        ], directory: work.url, timeout: 45)
        let errors = (try? FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasSuffix("errors.log") }) ?? []
        let errorText = errors.compactMap { try? String(contentsOfFile: work.url.appendingPathComponent($0).path, encoding: .utf8) }.joined()
        let ledger = try await mock.server.ledger()
        let challenges = try await mock.server.challengesSent()
        await mock.stop()
        work.remove()
        #expect(result.status == 0, "sipp exit \(result.status): \(result.output.suffix(2000)) \(errorText.prefix(2000))")
        #expect(ledger.count == 10)
        #expect(ledger.allSatisfy { $0.finalStatus == 200 && $0.endedBy == "business" })
        #expect(challenges == 10)
        #expect(errorText.isEmpty, "\(errorText.prefix(2000))")
    }

    /// wasim as the business UAC places calls to a SIPp UAS (its built-in `uas` scenario) over UDP.
    @Test(.enabled(if: Peers.available("sipp")))
    func wasimUACAgainstSIPpUAS() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let port = try FreePort.udp()
        let work = try TemporaryDirectory()
        let (uas, log) = try ExternalProcess.start(sipp, ["-sn", "uas", "-i", "127.0.0.1", "-p", "\(port)", "-m", "10", "-nostdin", "-timeout", "40"], directory: work.url)
        #expect(await eventually(timeout: 20) { udpPortIsBound(port) }, "SIPp UAS did not bind 127.0.0.1:\(port)")
        let scenario = try ScenarioLoader.parse("""
            name: wasim-to-sipp
            target: "sip:127.0.0.1:\(port);transport=udp"
            business: { number: "+33639980001", domain: sip.example.com, password: unused }
            callees: { list: ["+15550200000"] }
            load: { rate: 20/s, total_calls: 10 }
            call: { hold: 200ms }
            """, file: "wasim-to-sipp.yaml")
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: work.path, certsDirectory: work.path)).run()
        _ = await eventually { !uas.isRunning }
        ExternalProcess.stop(uas)
        let sippOutput = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        work.remove()
        #expect(result.summary.calls.connected == 10, "\(result.summary.responses)")
        #expect(result.summary.responses["200 OK"] == 10)
        #expect(result.summary.latencyMs.postDial.count == 10)  // SIPp's uas sends 180
        #expect(uas.terminationStatus == 0, "\(sippOutput.suffix(1500))")
    }

    /// Meta's own check: `openssl s_client -verify_hostname wa.meta.vc -CAfile ca.pem` prints
    /// `verify return:1` at each depth.
    @Test(.enabled(if: Peers.available("openssl")))
    func opensslVerifiesTheMockCertificate() async throws {
        let openssl = try #require(Peers.path("openssl"))
        let mock = try await MockHarness.start()
        let result = try await ExternalProcess.run(openssl, [
            "s_client", "-verify_hostname", "wa.meta.vc", "-CAfile", mock.server.caFile,
            "-connect", "127.0.0.1:\(mock.tlsPort)", "-servername", "wa.meta.vc",
        ], stdin: "OPTIONS sip:wa.meta.vc SIP/2.0\r\n\r\n", timeout: 20)
        let wrong = try await ExternalProcess.run(openssl, [
            "s_client", "-verify_hostname", "sip.example.com", "-CAfile", mock.server.caFile,
            "-connect", "127.0.0.1:\(mock.tlsPort)", "-verify_return_error",
        ], stdin: "", timeout: 20)
        await mock.stop()
        let lines = result.output.split(separator: "\n")
        #expect(lines.contains("depth=1 O = wasim, CN = wasim test CA"))
        #expect(lines.contains("depth=0 O = wasim, CN = wa.meta.vc"))
        #expect(lines.filter { $0 == "verify return:1" }.count == 2, "\(result.output.prefix(1500))")
        #expect(result.output.contains("Verification: OK"))
        #expect(wrong.output.contains("hostname mismatch"), "\(wrong.output.prefix(800))")
    }

    /// Meta answers a ClientHello offering ALPN `sip` with alert 120 (livekit/sip#685); so does the mock.
    @Test(.enabled(if: Peers.available("openssl")))
    func alpnSipGetsAlert120() async throws {
        let openssl = try #require(Peers.path("openssl"))
        let mock = try await MockHarness.start()
        let sip = try await ExternalProcess.run(openssl, [
            "s_client", "-alpn", "sip", "-servername", "wa.meta.vc", "-CAfile", mock.server.caFile, "-connect", "127.0.0.1:\(mock.tlsPort)",
        ], stdin: "", timeout: 20)
        let other = try await ExternalProcess.run(openssl, [
            "s_client", "-alpn", "h2", "-servername", "wa.meta.vc", "-CAfile", mock.server.caFile, "-connect", "127.0.0.1:\(mock.tlsPort)",
        ], stdin: "", timeout: 20)
        await mock.stop()
        #expect(sip.output.contains("no application protocol") || sip.output.contains("alert number 120"), "\(sip.output.prefix(1200))")
        #expect(sip.output.contains("no peer certificate available"), "\(sip.output.prefix(1200))")
        #expect(other.output.contains("Verification: OK") && other.output.contains("No ALPN negotiated"), "\(other.output.prefix(1200))")
    }

    /// baresip, a real TLS SIP user agent, calls the mock over TLS, answers the 407 with digest
    /// credentials, gets the 200, ACKs, and hangs up with BYE when it exits.
    @Test(.enabled(if: Peers.available("baresip")))
    func baresipCallsTheMockOverTLS() async throws {
        let baresip = try #require(Peers.path("baresip"))
        var configuration = MockConfiguration.default
        configuration.labRouteHost = "127.0.0.1"
        let mock = try await MockHarness.start(configuration: configuration)
        let conf = try TemporaryDirectory()
        try BaresipConfig.write(to: conf, mock: mock, codec: "PCMU", accountParams: "")
        let result = try await ExternalProcess.run(baresip, ["-f", conf.path, "-t", "3", "-e", "/dial sip:+15550200000@wa.meta.vc"], timeout: 30)
        // baresip's BYE may still be on its way when it exits.
        _ = try await eventually(timeout: 3) { try await mock.server.ledger().first?.endedAt != nil }
        let ledger = try await mock.server.ledger()
        let challenges = try await mock.server.challengesSent()
        await mock.stop()
        conf.remove()
        #expect(result.output.contains("Call established"), "\(result.output.suffix(1500))")
        #expect(challenges == 1)
        let call = try #require(ledger.first, "no call reached the mock: \(result.output.suffix(1500))")
        #expect(call.finalStatus == 200 && call.endedBy == "business", "\(call)")
    }
}

/// baresip calls the mock with real media: DTLS-SRTP with ICE (baresip: full ICE, controlling; the mock:
/// ICE-lite), and SDES. The mock's ledger counts the SRTP packets it decrypted from baresip; baresip logs the
/// mock's SRTP arriving ("incoming rtp ... established") without an unprotect failure.
@Suite("baresip media interop", .serialized)
struct BaresipMediaTests {
    static func run(mediaenc: String, extra: String) async throws -> (ledger: [MockCallRecord], output: String) {
        let baresip = try #require(Peers.path("baresip"))
        var configuration = MockConfiguration.default
        configuration.labRouteHost = "127.0.0.1"
        let mock = try await MockHarness.start(configuration: configuration)
        let conf = try TemporaryDirectory()
        defer { conf.remove() }
        try BaresipConfig.write(to: conf, mock: mock, codec: "opus", accountParams: ";mediaenc=\(mediaenc)\(extra)")
        let result = try await ExternalProcess.run(baresip, ["-f", conf.path, "-t", "4", "-e", "/dial sip:+15550200000@wa.meta.vc"], timeout: 30)
        _ = try await eventually(timeout: 5) { try await mock.server.ledger().first?.endedAt != nil }
        let ledger = try await mock.server.ledger()
        await mock.stop()
        return (ledger, result.output)
    }

    @Test(.enabled(if: Peers.available("baresip")))
    func dtlsSRTPWithICE() async throws {
        let (ledger, output) = try await Self.run(mediaenc: "dtls_srtp", extra: ";medianat=ice")
        let call = try #require(ledger.first, "\(output.suffix(2000))")
        #expect(call.mediaSecurity == "dtls" && (call.mediaPacketsReceived ?? 0) > 50, "\(call)\n\(output.suffix(2000))")
        #expect(output.contains("connectivity check is complete"), "\(output.suffix(2000))")
        #expect(output.contains("verified sha-256 fingerprint OK") && output.contains("DTLS-SRTP complete"), "\(output.suffix(2000))")
        #expect(output.contains("incoming rtp for 'audio' established") && !output.contains("unprotect"), "\(output.suffix(2000))")
    }

    @Test(.enabled(if: Peers.available("baresip")))
    func sdes() async throws {
        let (ledger, output) = try await Self.run(mediaenc: "srtp-mand", extra: "")
        let call = try #require(ledger.first, "\(output.suffix(2000))")
        #expect(call.mediaSecurity == "sdes" && (call.mediaPacketsReceived ?? 0) > 50, "\(call)\n\(output.suffix(2000))")
        #expect(output.contains("SRTP is Enabled") && output.contains("incoming rtp for 'audio' established") && !output.contains("unprotect"),
                "\(output.suffix(2000))")
    }
}

/// A baresip configuration folder for calling the mock over TLS as the default business (digest
/// credentials, the mock's CA, outbound proxy = the mock), with an audio codec and media parameters.
enum BaresipConfig {
    static func write(to conf: TemporaryDirectory, mock: MockHarness, codec: String, accountParams: String) throws {
        let sipPort = try FreePort.tcp()
        try """
            sip_listen 127.0.0.1:\(sipPort)
            sip_cafile \(mock.server.caFile)
            sip_trans_def tls
            rtcp_mux yes
            module_path /usr/lib/baresip/modules
            module g711.so
            module opus.so
            module ausine.so
            module aufile.so
            module srtp.so
            module dtls_srtp.so
            module ice.so
            module_app account.so
            module_app menu.so
            audio_player aufile,\(conf.path)/out.wav
            audio_source ausine,440
            audio_alert aufile,\(conf.path)/alert.wav
            """.write(toFile: conf.path + "/config", atomically: false, encoding: .utf8)
        let business = MockConfiguration.defaultBusiness
        try """
            <sip:\(business.number)@sip.example.com;transport=tls>;auth_user=\(business.digestUsername);auth_pass=\(business.sipPassword);outbound="sip:127.0.0.1:\(mock.tlsPort);transport=tls";regint=0;audio_codecs=\(codec)\(accountParams)
            """.write(toFile: conf.path + "/accounts", atomically: false, encoding: .utf8)
    }
}

/// Picks a free port for a peer to listen on: a random port below the kernel's ephemeral range
/// (32768-60999) that binds now. A port the kernel hands out as ephemeral (binding port 0) can be taken by
/// any outgoing connection of the parallel tests before the peer binds it; below the range only another
/// test's pick can, and random picks rarely meet.
enum FreePort {
    static func udp() throws -> Int { try pick(SOCK_DGRAM) }
    static func tcp() throws -> Int { try pick(SOCK_STREAM) }

    private static func pick(_ kind: __socket_type) throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            if bindable(port, kind) { return port }
        }
        throw POSIXError(.EADDRINUSE)
    }

    private static func bindable(_ port: Int, _ kind: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(kind.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}
