import Foundation
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// `media.ports`: Meta's media legs on fixed ports, as a firewall test needs them: two ports, two calls up
/// on them, a third call on an ephemeral port, and a port given back when its call ends serves the next call.
@Suite("Fixed media ports", .serialized)
struct MediaPortsTests {
    static func answerPort(_ response: SIPResponse) -> Int? {
        let sdp = response.body.getString(at: response.body.readerIndex, length: response.body.readableBytes) ?? ""
        guard let line = sdp.split(separator: "\r\n").first(where: { $0.hasPrefix("m=audio ") }) else { return nil }
        return Int(line.split(separator: " ")[1])
    }

    @Test func legsTakeTheFixedPortsWhileFree() async throws {
        let ports = [try FreePort.udp(), try FreePort.udp()]
        var configuration = try MockConfigLoader.parse("""
            users:
              - range: "+15550200000..+15550200099"
              - range: "+15550200100..+15550200199"
                behaviour: { answer: 1, hang_up_after: 100ms }
            media: { ports: [\(ports[0]), \(ports[1])] }
            """, file: "ports.yaml")
        configuration.media.ipv6Candidate = nil
        let mock = try await MockHarness.start(configuration: configuration)
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc")
        func call(_ user: String) async throws -> SIPResponse {
            let uri = "sip:\(user)@wa.meta.vc;transport=tls"
            var invite = BICRulesOverTLSTests.Lab.invite(to: uri)
            invite.body = ByteBuffer(string: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 111\r\n"
                + "a=rtpmap:111 opus/48000/2\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")
            return try await client.inviteWithDigest(invite, to: destination, username: "33639980001", password: "wasim-default-sip-password")
        }
        // The first call's user hangs up (100 ms); once it has ended its port serves the next call; the
        // others stay up, so the fourth finds every fixed port in use. No step depends on timing.
        let a = try await call("+15550200101")
        let freed = await eventually(timeout: 10) { (try? await mock.server.openCalls())?.isEmpty == true }
        let b = try await call("+15550200002"), c = try await call("+15550200003"), d = try await call("+15550200004")
        await client.stop()
        await mock.stop()

        let got = [a, b, c, d].map(Self.answerPort)
        #expect([a, b, c, d].allSatisfy { $0.statusCode == 200 }, "\([a, b, c, d].map(\.statusCode))")
        #expect(freed, "the first call did not end")
        #expect(got[0] == ports[0] && got[1] == ports[0] && got[2] == ports[1], "\(got) vs \(ports): the freed port serves the next call")
        #expect(got[3] != nil && !ports.contains(got[3]!), "all fixed ports in use: \(got)")
    }
}
