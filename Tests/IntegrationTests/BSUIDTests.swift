import Foundation
import MetaGraphAPI
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// Business-scoped user ids on the wire (spec §1–§3 [BSUID]): a BIC to `sip:<BSUID>@wa.meta.vc` connects and
/// its 200 OK carries the BSUID as Contact user with the `x-wa-meta-user-*` headers; a UIC from a user with a
/// username carries the BSUID in From (checked by a SIPp UAS); the permissions API takes `recipient=<BSUID>`.
@Suite("BSUID addressing", .serialized)
struct BSUIDTests {
    static let business = "+33639980001"

    @Test func bicToABSUIDGetsMetasUserHeaders() async throws {
        let mock = try await MockHarness.start()
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let bsuid = try #require(BusinessScopedUserID.make(user: "+15550200077", business: Self.business))
        let uri = "sip:\(bsuid)@wa.meta.vc;transport=tls"
        let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc")
        let ok = try await client.inviteWithDigest(BICRulesOverTLSTests.Lab.invite(to: uri), to: destination,
                                                   username: "33639980001", password: "wasim-default-sip-password")
        let open = try await mock.server.openCalls()
        await client.stop()
        await mock.stop()

        #expect(ok.statusCode == 200, "\(ok.statusCode) \(ok.reasonPhrase)")
        #expect(ok.headers[.contact]?.hasPrefix("<sip:\(bsuid)@") == true, "\(String(describing: ok.headers[.contact]))")
        #expect(ok.headers[SIPHeaderName("x-wa-meta-user-id")] == Substring(bsuid))
        #expect(ok.headers[SIPHeaderName("x-wa-meta-user-country-code")] == "US")
        #expect(ok.headers[SIPHeaderName("x-wa-meta-user-name")] != nil)
        #expect(open.contains { $0.to.contains(bsuid) }, "the ledger keeps the Request-URI as sent")
    }

    @Test(.enabled(if: Peers.available("sipp")))
    func uicFromAUserWithAUsernameCarriesTheBSUID() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (uas, log, port) = try await UICInteropTests.startSIPpUAS("uic-uas-bsuid", calls: 1, work: work)
        let mock = try await MockHarness.start(configuration: UICInteropTests.configuration(port: port, transport: .tcp) { c in
            c.users[0].addressedByBSUID = true
        })
        let report = await mock.server.placeUserCall(UICCallRequest(user: "+15550200005", business: Self.business, hold: 0.3))
        let ledger = try await mock.server.ledger()
        await mock.stop()
        let output = await UICInteropTests.finish(uas, log: log, work: work)
        let bsuid = try #require(BusinessScopedUserID.make(user: "+15550200005", business: Self.business))
        #expect(report.outcome.connected, "\(report.outcome)")
        #expect(uas.terminationStatus == 0, "\(output.suffix(2500))")
        #expect(ledger.first?.from == "sip:\(bsuid)@wa.meta.vc", "\(String(describing: ledger.first?.from))")
    }

    @Test func permissionsByRecipient() async throws {
        let mock = try await MockHarness.start()
        let graph = try await GraphAPIServer.start(mock: mock.server, host: "127.0.0.1", port: 0, tls: false, certsDirectory: mock.certs)
        let api = GraphClient(baseURL: graph.baseURL, caFile: nil)
        let bsuid = try #require(BusinessScopedUserID.make(user: "+15550200001", business: Self.business))
        let other = try #require(BusinessScopedUserID.make(user: "+15550200001", business: "+33639989999"))
        let mine = try await api.get("100000000000001/call_permissions?recipient=\(bsuid)", token: "wasim-token-100000000000099")
        let foreign = try await api.get("100000000000001/call_permissions?recipient=\(other)", token: "wasim-token-100000000000099")
        await graph.stop()
        await mock.stop()
        #expect((mine.json["permission"] as? [String: Any])?["status"] as? String == "permanent", "\(mine)")
        #expect(foreign.code == 100, "\(foreign)")
    }
}
