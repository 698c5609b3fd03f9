import Foundation
import MetaMock
import NIOCore
import SIPCore
import SIPTransport
import Testing

/// The mock's idle timeout against wasim's own connections: an outgoing connection that sends RFC 5626
/// CRLF CRLF keep-alives while quiet outlives the timeout; one that does not is closed by the mock.
@Suite("Connection keep-alive and idle timeout")
struct ConnectionKeepAliveTests {
    @Test(arguments: [SIPTransportKind.tcp, .tls])
    func keepAlivesOutliveTheIdleTimeout(transport: SIPTransportKind) async throws {
        var configuration = MockConfiguration.default
        configuration.protection.idleTimeoutSeconds = 1.5
        let mock = try await MockHarness.start(configuration: configuration)
        let tls = TLSClientSettings(caFile: mock.certs + "/ca.pem")
        let keeping = try await TestClient(tls: tls, connectionLimits: SIPConnectionLimits(keepAliveInterval: .milliseconds(200)))
        let silent = try await TestClient(tls: tls, connectionLimits: SIPConnectionLimits(keepAliveInterval: nil))
        let port = transport == .tls ? mock.tlsPort : mock.tcpPort
        let destination = SIPDestination(transport: transport, host: "127.0.0.1", port: port, serverName: "wa.meta.vc")
        for client in [keeping, silent] {
            let response = try await client.send(Requests.options(transport), to: destination).get()
            #expect(response.statusCode == 200)
        }
        // The silent connection is closed once 1.5 s pass without a message; the other one (a keep-alive every
        // 200 ms) stays.
        let cut = await eventually(timeout: 10) { await mock.server.protectionCounts().idleClosed == 1 }
        #expect(cut)
        // Twice the idle timeout's worth of keep-alives (15 × at least 200 ms) later, the kept one is still up.
        let kept = await eventually(timeout: 30) { ((try? await keeping.stack.statistics().keepAlivesSent) ?? 0) >= 15 }
        #expect(kept, "fewer than 15 keep-alives were sent")
        let counts = await mock.server.protectionCounts()
        #expect(counts.idleClosed == 1, "\(counts)")
        #expect(counts.connectionsOpen == 1, "\(counts)")
        // The kept connection still carries requests.
        #expect(try await keeping.send(Requests.options(transport), to: destination).get().statusCode == 200)
        await keeping.stop()
        await silent.stop()
        await mock.stop()
    }
}
