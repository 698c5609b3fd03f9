import Foundation
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// One clock for every mock time (`wasim mock --time-scale`): at ×100 the ring timeout, the media start
/// timeout and a UIC's hold pass in a hundredth of their time (30 mock seconds: 0.3 s), and what the mock
/// records and reports (the ledger's times, Meta's `x-wa-meta-call-duration`) is in mock seconds. No bound
/// depends on how fast the machine is: a slow machine only makes the recorded mock times longer, and only
/// lower bounds are checked. What fails without the scale is a deadline far above the scaled waits (the BIC
/// calls must end within 20 s: 0.5 s scaled, 50 s unscaled) and SIPp's 30 s timeout for the UIC's unscaled
/// 60 s hold.
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

    static let scale = 100.0

    /// `body`'s value, or a failure when it has not finished within `seconds` (a deadline, not a measurement).
    static func within<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { try await Task.sleep(for: .seconds(seconds)); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw TestFailure(text: "not finished within \(seconds) s: the mock's waits did not run on its clock")
            }
            return value
        }
    }

    /// A BIC answered by the mock's no-answer and no-media users: 480 after 30 mock seconds of ringing,
    /// 408 after 20 mock seconds without media, each taking a hundredth of that in real time.
    @Test func ringAndMediaTimeoutsRunOnTheMockClock() async throws {
        let mock = try await MockHarness.start(configuration: try MockConfigLoader.parse(Self.yaml, file: "scale.yaml"), clock: .scaled(Self.scale))
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc")
        let statuses = try await Self.within(seconds: 20) {
            var statuses: [Int] = []
            for user in ["+15550200001", "+15550200101"] {
                let uri = "sip:\(user)@wa.meta.vc;transport=tls"
                let invite = BICRulesOverTLSTests.Lab.invite(to: uri, from: "+33639980001")
                statuses.append(try await client.inviteWithDigest(invite, to: destination, username: "33639980001", password: "pw1").statusCode)
            }
            return statuses
        }
        let ledger = try await mock.server.ledger()
        await client.stop()
        await mock.stop()

        #expect(statuses == [480, 408], "\(statuses)")
        let ring = try #require(ledger.first { $0.finalStatus == 480 })
        let media = try #require(ledger.first { $0.finalStatus == 408 })
        let rang = (ring.endedAt ?? 0) - ring.startedAt, waited = (media.endedAt ?? 0) - media.startedAt
        #expect(rang >= 29.5, "the ring lasted \(rang) mock seconds")
        #expect(waited >= 19.5, "the media wait lasted \(waited) mock seconds")
    }

    /// A UIC held 60 mock seconds: Meta's BYE reports about 60, the SBC (SIPp) checks the headers.
    @Test(.enabled(if: Peers.available("sipp")))
    func aUICHoldIsInMockSeconds() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await UICInteropTests.startSIPpUAS("uic-uas", calls: 1, work: work)
        let mock = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp), clock: .scaled(Self.scale))
        let report = await mock.server.placeUserCall(UICCallRequest(user: "+15550200001", business: "+33639980001", hold: 60))
        await mock.stop()
        let output = await UICInteropTests.finish(uas, log: log, work: work)
        #expect(report.outcome.connected && report.outcome.endedBy == "meta", "\(report.outcome)")
        let duration = try #require(report.outcome.durationSeconds)
        #expect(duration >= 60, "reported \(duration) s")
        #expect(uas.terminationStatus == 0, "\(output.suffix(2000))")
    }
}
