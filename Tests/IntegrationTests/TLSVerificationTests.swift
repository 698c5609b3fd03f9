import Foundation
import NIOCore
import SIPCore
import SIPTransport
import Testing
import WasimCerts

/// Real TLS (swift-nio-ssl) between our client and the mock, with real X.509 chains from `wasim certs`.
@Suite("TLS loopback and hostname verification")
struct TLSVerificationTests {
    @Test func verifiedHostnameSucceeds() async throws {
        let mock = try await MockHarness.start()
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let result = try await client.send(Requests.options(.tls),
                                           to: SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc"))
        await client.stop()
        await mock.stop()
        let response = try result.get()
        #expect(response.statusCode == 200)
        #expect(response.headers["X-FB-External-Domain"] == "wa.meta.vc")
    }

    @Test func wrongHostnameFails() async throws {
        let mock = try await MockHarness.start()
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let result = try await client.send(Requests.options(.tls),
                                           to: SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "sip.not-meta.example"))
        await client.stop()
        await mock.stop()
        guard case .failure(let failure) = result else { Issue.record("connected despite a name mismatch"); return }
        #expect(failure.text.lowercased().contains("hostname") || failure.text.contains("certificate") || failure.text.contains("handshake"),
                "\(failure.text)")
    }

    @Test func untrustedCAFails() async throws {
        let mock = try await MockHarness.start()
        let other = try TemporaryDirectory()
        try TestCertificateAuthority(directory: other.path).ensure(hosts: ["wa.meta.vc"])
        let client = try await TestClient(tls: TLSClientSettings(caFile: TestCertificateAuthority(directory: other.path).caFile))
        let result = try await client.send(Requests.options(.tls),
                                           to: SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc"))
        await client.stop()
        await mock.stop()
        other.remove()
        guard case .failure = result else { Issue.record("trusted a chain from another CA"); return }
    }

    /// Our own client offering ALPN `sip` is refused, as a real SBC would be by Meta.
    @Test func alpnSipIsRefused() async throws {
        let mock = try await MockHarness.start()
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile, alpn: ["sip"]))
        let result = try await client.send(Requests.options(.tls),
                                           to: SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc"))
        await client.stop()
        await mock.stop()
        guard case .failure(let failure) = result else { Issue.record("ALPN sip was accepted"); return }
        #expect(failure.text.contains("NO_APPLICATION_PROTOCOL") || failure.text.lowercased().contains("application"), "\(failure.text)")
    }

    /// The generated chain: leaf for the host with SANs, signed by the CA, CA marked as a CA.
    @Test func certificateFilesAreMade() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let authority = TestCertificateAuthority(directory: dir.path)
        let issued = try authority.ensure()
        #expect(Set(issued.keys) == ["wa.meta.vc", "sip.example.com"])
        let chain = try String(contentsOfFile: issued["wa.meta.vc"]!.chainFile, encoding: .utf8)
        #expect(chain.components(separatedBy: "BEGIN CERTIFICATE").count == 3)
        let attributes = try FileManager.default.attributesOfItem(atPath: issued["wa.meta.vc"]!.keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A second call keeps the CA (an SBC that trusts it keeps working).
        let before = try String(contentsOfFile: authority.caFile, encoding: .utf8)
        try authority.ensure()
        #expect(try String(contentsOfFile: authority.caFile, encoding: .utf8) == before)
    }
}
