import Foundation
import MetaMock
import SIPTransport
import Testing

/// The user-initiated calls Meta does not place (spec §3, §6): a second call of a pair already in a call,
/// a number whose SIP server app is not authorized, and a number whose SIP setting is disabled. No INVITE
/// reaches the business (a SIPp UAS that logs every message it receives), and a refused call leaves the
/// state of the calls that are up untouched.
@Suite("UIC admission: the calls Meta does not place", .serialized)
struct UICAdmissionTests {
    static let business = "+33639980001"
    static let user = "+15550200001"

    /// INVITEs the SIPp UAS received, from its `-trace_msg` log.
    static func invitesReceived(_ work: TemporaryDirectory) -> Int {
        var count = 0
        for file in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where file.hasSuffix("_messages.log") {
            let text = (try? String(contentsOfFile: work.path + "/" + file, encoding: .utf8)) ?? ""
            count += text.split(separator: "\n").filter { $0.hasPrefix("INVITE sip:") }.count
        }
        return count
    }

    /// While a call between the business and a user is up, Meta places no second one for the pair; a refused
    /// call must not end the first in Meta's books (it cleared the pair's active mark, so a third call was
    /// placed while the first was still up). Once the first ends, the pair can be called again.
    @Test(.enabled(if: Peers.available("sipp")))
    func aSecondCallOfAPairInACallIsNotPlaced() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await UICInteropTests.startSIPpUAS("uic-uas", calls: 2, work: work, extra: ["-trace_msg"])
        let mock = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp))
        let server = mock.server
        let first = Task { await server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 3)) }
        let up = await eventually(timeout: 10) { (try? await server.openCalls())?.contains { $0.answeredAt != nil } == true }
        #expect(up, "the first call was not answered")
        let second = await server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 0.2))
        let third = await server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 0.2))
        let firstReport = await first.value
        let fourth = await server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 0.2))
        let ledger = try await server.ledger()
        await mock.stop()
        let output = await UICInteropTests.finish(uas, log: log, work: work)

        #expect(firstReport.outcome.connected && firstReport.outcome.endedBy == "meta", "\(firstReport.outcome)")
        for refused in [second, third] {
            #expect(refused.outcome.notPlaced && !refused.outcome.connected, "\(refused.outcome)")
            #expect(refused.outcome.detail?.contains("already in a call") == true, "\(refused.outcome)")
            #expect(refused.timing.inviteSent == nil)
        }
        #expect(fourth.outcome.connected, "after the first call ended the pair can be called again: \(fourth.outcome)")
        #expect(Self.invitesReceived(work) == 2, "the business received \(Self.invitesReceived(work)) INVITEs")
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
        #expect(ledger.count == 4)
        #expect(ledger.filter { $0.reason == "not placed" && $0.rule?.hasPrefix("duplicate") == true }.count == 2)
    }

    /// Over `limits.call_rate_per_number`, the next user's call is not placed (the first took the only token).
    @Test(.enabled(if: Peers.available("sipp")))
    func overTheCallRateANumberGetsNoInvite() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await UICInteropTests.startSIPpUAS("uic-uas", calls: 1, work: work, extra: ["-trace_msg"])
        let mock = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp) { c in
            c.limits.callRatePerNumber = 0.01
        })
        let placed = await mock.server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 0.2))
        let refused = await mock.server.placeUserCall(UICCallRequest(user: "+15550200002", business: Self.business, hold: 0.2))
        await mock.stop()
        let output = await UICInteropTests.finish(uas, log: log, work: work)
        #expect(placed.outcome.connected, "\(placed.outcome)")
        #expect(refused.outcome.notPlaced && refused.outcome.detail == "call rate: over 0.01/s calls per number", "\(refused.outcome)")
        #expect(Self.invitesReceived(work) == 1)
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
    }

    /// A business whose SIP server app is not authorized on the number, or whose SIP setting is disabled,
    /// gets no UIC over SIP; the same business with both right gets the call.
    @Test(.enabled(if: Peers.available("sipp")), arguments: ["app-not-authorized", "sip-disabled"])
    func aGatedBusinessGetsNoInvite(gate: String) async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await UICInteropTests.startSIPpUAS("uic-uas", calls: 1, work: work, extra: ["-trace_msg"])
        let gated = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp) { c in
            if gate == "sip-disabled" { c.businesses[0].sipEnabled = false } else { c.businesses[0].apps[0].authorized = false }
        })
        let refused = await gated.server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 0.2))
        let refusedLedger = try await gated.server.ledger()
        await gated.stop()
        let open = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp))
        let placed = await open.server.placeUserCall(UICCallRequest(user: Self.user, business: Self.business, hold: 0.2))
        await open.stop()
        let output = await UICInteropTests.finish(uas, log: log, work: work)

        #expect(refused.outcome.notPlaced && refused.timing.inviteSent == nil, "\(refused.outcome)")
        #expect(refused.outcome.detail?.hasPrefix(gate) == true, "\(refused.outcome)")
        #expect(refusedLedger.first?.reason == "not placed" && refusedLedger.first?.rule?.hasPrefix(gate) == true)
        #expect(placed.outcome.connected, "\(placed.outcome)")
        #expect(Self.invitesReceived(work) == 1)
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
    }
}
