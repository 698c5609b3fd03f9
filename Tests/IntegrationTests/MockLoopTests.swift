import Foundation
@testable import LoadEngine
import MetaMock
import NIOCore
import SIPCore
import SIPTransport
import Testing

/// The mock keeps each call on the event loop its INVITE arrived on; requests of the call that arrive on
/// another loop (an SBC's second connection, another worker's socket) still find it, as at Meta.
@Suite("Mock across event loops")
struct MockLoopTests {
    /// INVITE (with its 407 answer) to loop 0's UDP socket, the BYE to loop 1's: 200, and the ledger
    /// records the business's hang-up. (It was 481 before: Kamailio with two TCP workers met it.)
    @Test func byeOnAnotherLoopEndsTheCall() async throws {
        var listen = MockListenAddresses.ephemeral()
        listen.udpPortPerLoop = true
        let mock = try await MockHarness.start(listen: listen)
        let client = try await TestClient(tls: nil)
        let ports = mock.bound.udpByLoop.compactMap(\.port)
        try #require(ports.count == 2)
        let first = SIPDestination(transport: .udp, host: "127.0.0.1", port: ports[0])
        let second = SIPDestination(transport: .udp, host: "127.0.0.1", port: ports[1])
        var flow = BusinessCallFlow(identity: .init(
            businessNumber: "+33639980001", businessDomain: "sip.example.com", callee: "+15550200007", targetDomain: "wa.meta.vc",
            transport: "udp", contactHost: "127.0.0.1", callID: "loops-\(UUID().uuidString)", fromTag: "f\(UInt32.random(in: 1...UInt32.max))",
            digestUsername: "33639980001", password: "wasim-default-sip-password"), hold: .seconds(60))
        guard case .sendInvite(let invite)? = flow.start(now: .now()).first else { Issue.record("no INVITE"); return }
        let challenge = try await client.send(invite, to: first).get()
        #expect(challenge.statusCode == 407)
        guard case .sendInvite(let retry)? = flow.inviteResponse(challenge, now: .now()).first else { Issue.record("no retry"); return }
        let answer = try await client.send(retry, to: first).get()
        #expect(answer.statusCode == 200)
        guard case .sendAck(let ack)? = flow.inviteResponse(answer, now: .now()).first else { Issue.record("no ACK"); return }
        client.sendAck(ack, to: first)
        guard case .sendBye(let bye)? = flow.hangUp(now: .now()).first else { Issue.record("no BYE"); return }
        let byeAnswer = try await client.send(bye, to: second).get()
        #expect(byeAnswer.statusCode == 200, "\(byeAnswer.statusCode) \(byeAnswer.reasonPhrase)")
        _ = try await eventually { try await mock.server.ledger().first?.endedAt != nil }
        let ledger = try await mock.server.ledger()
        await client.stop()
        await mock.stop()
        #expect(ledger.first?.endedBy == "business" && ledger.first?.finalStatus == 200, "\(ledger)")
    }
}
