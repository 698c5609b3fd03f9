import Foundation
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// One clock for every mock time (`wasim mock --time-scale`): at ×100 the ring timeout, the media start
/// timeout and a UIC's hold pass in a hundredth of their time, and what the mock records and reports (the
/// ledger's times, Meta's `x-wa-meta-call-duration`) is in mock seconds. The waits are real event-loop
/// timers, so the upper bounds are half of what the unscaled waits would record (15 s or more of real slack
/// on a loaded machine), and still fail without the scale.
@Suite("Mock time scale", .serialized)
struct MockTimeScaleTests {
    static let yaml = """
        businesses:
          - number: "+33639980001"
            phone_number_id: "100000000000001"
            apps: [{ app_id: "100000000000099", sip_password: "pw1" }]
            sip_server: { hostname: sip.example.com }
        users:
          - range: "+15550200000..+15550200099"
            behaviour: { no_answer: 1 }
          - range: "+15550200100..+15550200199"
            behaviour: { no_media: 1 }
        timers: { ring_timeout: 30s, media_start_timeout: 20s }
        """

    /// A BIC answered by the mock's no-answer and no-media users: 480 after 30 mock seconds of ringing,
    /// 408 after 20 mock seconds without media, each taking a hundredth of that in real time.
    @Test func ringAndMediaTimeoutsRunOnTheMockClock() async throws {
        let mock = try await MockHarness.start(configuration: try MockConfigLoader.parse(Self.yaml, file: "scale.yaml"), clock: .scaled(100))
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc")
        var statuses: [Int] = []
        for user in ["+15550200001", "+15550200101"] {
            let uri = "sip:\(user)@wa.meta.vc;transport=tls"
            let invite = BICRulesOverTLSTests.Lab.invite(to: uri, from: "+33639980001")
            statuses.append(try await client.inviteWithDigest(invite, to: destination, username: "33639980001", password: "pw1").statusCode)
        }
        let ledger = try await mock.server.ledger()
        await client.stop()
        await mock.stop()

        #expect(statuses == [480, 408], "\(statuses)")
        let ring = try #require(ledger.first { $0.finalStatus == 480 })
        let media = try #require(ledger.first { $0.finalStatus == 408 })
        let rang = (ring.endedAt ?? 0) - ring.startedAt, waited = (media.endedAt ?? 0) - media.startedAt
        #expect(rang >= 29.5 && rang < 1_500, "the ring lasted \(rang) mock seconds (unscaled: 3,000)")
        #expect(waited >= 19.5 && waited < 1_000, "the media wait lasted \(waited) mock seconds (unscaled: 2,000)")
    }

    /// A UIC held 60 mock seconds: Meta's BYE reports about 60, the SBC (SIPp) checks the headers.
    @Test(.enabled(if: Peers.available("sipp")))
    func aUICHoldIsInMockSeconds() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await UICInteropTests.startSIPpUAS("uic-uas", calls: 1, work: work)
        let mock = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp), clock: .scaled(100))
        let report = await mock.server.placeUserCall(UICCallRequest(user: "+15550200001", business: "+33639980001", hold: 60))
        await mock.stop()
        let output = await UICInteropTests.finish(uas, log: log, work: work)
        #expect(report.outcome.connected && report.outcome.endedBy == "meta", "\(report.outcome)")
        let duration = try #require(report.outcome.durationSeconds)
        #expect(duration >= 60 && duration < 3_000, "reported \(duration) s (unscaled: 6,000)")
        #expect(uas.terminationStatus == 0, "\(output.suffix(2000))")
    }
}
