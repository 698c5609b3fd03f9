import Foundation
import MetaMock
import Testing

/// Meta's core rules driven by SIPp scenario files (`Tests/IntegrationTests/SIPp/`) against the mock over
/// UDP and TCP (Debian's SIPp has no TLS); outcomes are read from the mock's ledger.
@Suite("Mock rules driven by SIPp", .serialized)
struct SIPpBehaviourTests {
    static func scenario(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "SIPp")!.path
    }

    static let mockConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scenarios/mocks/users.yaml").path

    /// Runs one SIPp scenario for `calls` calls, one at a time, to the given callees.
    static func sipp(_ name: String, callees: [String], fromHost: String = "sip.example.com", transport: String = "u1",
                     mock: MockHarness, work: TemporaryDirectory) async throws -> ExternalProcess.Result
    {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let file = work.path + "/callees-\(UUID().uuidString).csv"
        try ("SEQUENTIAL\n" + callees.map { "\($0);" }.joined(separator: "\n") + "\n").write(toFile: file, atomically: false, encoding: .utf8)
        let port = transport == "u1" ? mock.udpPort : mock.tcpPort
        return try await ExternalProcess.run(sipp, [
            "-sf", scenario(name), "-inf", file, "-key", "fromhost", fromHost,
            "-au", "33639980001", "-ap", "wasim-default-sip-password", "-t", transport, "-i", "127.0.0.1",
            "-m", "\(callees.count)", "-l", "1", "-r", "10", "-timeout", "30", "-nostdin", "127.0.0.1:\(port)",
        ], directory: work.url, timeout: 45)
    }

    static func start() async throws -> (MockHarness, TemporaryDirectory) {
        (try await MockHarness.start(configuration: try MockConfigLoader.load(path: mockConfig)), try TemporaryDirectory())
    }

    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func registerIs403(transport: String) async throws {
        let (mock, work) = try await Self.start()
        let r = try await Self.sipp("register-403", callees: ["+15550200000"], transport: transport, mock: mock, work: work)
        await mock.stop(); work.remove()
        #expect(r.status == 0, "\(r.output.suffix(1500))")
    }

    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func reinviteIs500(transport: String) async throws {
        let (mock, work) = try await Self.start()
        let r = try await Self.sipp("reinvite-500", callees: ["+15550200010"], transport: transport, mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(r.status == 0, "\(r.output.suffix(1500))")
        #expect(ledger.first?.finalStatus == 200 && ledger.first?.endedBy == "business")
    }

    /// `sip.reinvite_ends_call`: the re-INVITE still gets 500, then Meta hangs up (SIPp waits for its BYE).
    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func reinviteEndsTheCallWhenSet(transport: String) async throws {
        var config = try MockConfigLoader.load(path: Self.mockConfig)
        config.reinviteEndsCall = true
        let mock = try await MockHarness.start(configuration: config)
        let work = try TemporaryDirectory()
        let r = try await Self.sipp("reinvite-ends-call", callees: ["+15550200011"], transport: transport, mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(r.status == 0, "\(r.output.suffix(1500))")
        #expect(ledger.first?.finalStatus == 200 && ledger.first?.endedBy == "meta", "\(ledger)")
        #expect(ledger.first?.rule == "re-INVITE: the call fails (sip.reinvite_ends_call)")
    }

    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func cancelGets487(transport: String) async throws {
        let (mock, work) = try await Self.start()
        // Users in +15550201300.. answer after 2 s: time for the CANCEL.
        let r = try await Self.sipp("cancel-487", callees: ["+15550201300"], transport: transport, mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(r.status == 0, "\(r.output.suffix(1500))")
        #expect(ledger.first?.finalStatus == 487 && ledger.first?.reason == "Request Terminated")
    }

    /// The From host must be the configured SIP server or a subdomain of it.
    @Test(.enabled(if: Peers.available("sipp")))
    func domainMismatchAndSubdomain() async throws {
        let (mock, work) = try await Self.start()
        let other = try await Self.sipp("uac-rejected", callees: ["+15550200020"], fromHost: "sbc.other-example.net", mock: mock, work: work)
        let sub = try await Self.sipp("uac-digest", callees: ["+15550200021"], fromHost: "edge1.sip.example.com", mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(other.status == 0 && sub.status == 0, "\(other.output.suffix(800)) \(sub.output.suffix(800))")
        #expect(ledger.map(\.finalStatus) == [403, 200])
        #expect(ledger.first?.reason == "SIP server sbc.other-example.net from INVITE does not match any SIP server configured for phone number id 100000000000001")
    }

    /// Five connected calls to one user, then a sixth (refused with the limit 403), then another user (connects).
    @Test(.enabled(if: Peers.available("sipp")))
    func sixthConnectedCallHitsTheDailyLimit() async throws {
        let (mock, work) = try await Self.start()
        let five = try await Self.sipp("uac-digest", callees: Array(repeating: "+15550200030", count: 5), mock: mock, work: work)
        let sixth = try await Self.sipp("uac-rejected", callees: ["+15550200030"], mock: mock, work: work)
        let other = try await Self.sipp("uac-digest", callees: ["+15550200031"], mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(five.status == 0 && sixth.status == 0 && other.status == 0, "\(five.output.suffix(600)) \(sixth.output.suffix(600))")
        #expect(ledger.map(\.finalStatus) == [200, 200, 200, 200, 200, 403, 200])
        #expect(ledger[5].reason == "Business Initiated Connected Call Per Day Limit Hit")
        #expect(ledger.filter(\.countedTowardsLimit).count == 6)
    }

    /// A BYE that does not follow Meta's Record-Route gets 404 (spec §3); along the route set it gets 200.
    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func byeOffRouteIs404(transport: String) async throws {
        let (mock, work) = try await Self.start()
        let r = try await Self.sipp("bye-off-route", callees: ["+15550200040"], transport: transport, mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(r.status == 0, "\(r.output.suffix(1500))")
        #expect(ledger.first?.finalStatus == 200 && ledger.first?.endedBy == "business")
    }

    /// The user hangs up: Meta's BYE carries x-wa-meta-wacid and x-wa-meta-call-duration (checked by SIPp).
    @Test(.enabled(if: Peers.available("sipp")), arguments: ["u1", "t1"])
    func userHangUpSendsMetaBye(transport: String) async throws {
        let (mock, work) = try await Self.start()
        let r = try await Self.sipp("uac-meta-bye", callees: ["+15550201400"], transport: transport, mock: mock, work: work)
        let ledger = try await mock.server.ledger()
        await mock.stop(); work.remove()
        #expect(r.status == 0, "\(r.output.suffix(1500))")
        let call = try #require(ledger.first)
        #expect(call.endedBy == "meta" && call.durationSeconds == 1 && call.wacid != nil, "\(call)")
    }
}
