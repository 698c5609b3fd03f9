import Foundation
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// Every BIC rule of Meta's endpoint (spec §2, §10 order) over a real TLS connection with our own UA:
/// INVITE, the 407, the authenticated INVITE, and the exact status line and Warning of each rejection.
@Suite("BIC rules over TLS", .serialized)
struct BICRulesOverTLSTests {
    static let users = """
        businesses:
          - number: "+33639980001"
            phone_number_id: "100000000000001"
            apps: [{ app_id: "100000000000099", sip_password: "pw1" }]
            sip_server: { hostname: sip.example.com }
          - number: "+33639980002"
            phone_number_id: "100000000000002"
            apps: [{ app_id: "200000000000099", authorized: false, sip_password: "pw2" }]
            sip_server: { hostname: sip.example.com }
        users:
          - range: "+15550200000..+15550200099"
          - range: "+15550200100..+15550200199"
            behaviour: { answer: 1, answer_after: 3s }
          - number: "+15550209000"
            permission: none
        limits: { concurrent_per_number: 1 }
        """

    /// One mock and one TLS client for a test.
    struct Lab {
        let mock: MockHarness
        let client: TestClient
        var destination: SIPDestination { SIPDestination(transport: .tls, host: "127.0.0.1", port: mock.tlsPort, serverName: "wa.meta.vc") }

        static func start() async throws -> Lab {
            let mock = try await MockHarness.start(configuration: try MockConfigLoader.parse(BICRulesOverTLSTests.users, file: "rules.yaml"))
            return Lab(mock: mock, client: try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile)))
        }

        func stop() async {
            await client.stop()
            await mock.stop()
        }

        static func invite(to uri: String, from: String = "+33639980001", host: String = "sip.example.com", callID: String = UUID().uuidString) -> SIPRequest {
            var h = SIPHeaders()
            h.add(.from, "<sip:\(from)@\(host)>;tag=\(UInt32.random(in: 1...UInt32.max))")
            h.add(.to, "<\(uri)>")
            h.add(.callID, callID)
            h.add(.cseq, "1 INVITE")
            h.add(.contact, "<sip:\(from)@127.0.0.1;transport=tls>")
            h.add(.contentType, "application/sdp")
            let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
            return SIPRequest(method: .invite, uri: try! SIPURI(uri), headers: h, body: ByteBuffer(string: sdp))
        }

        /// INVITE, then (after the 407) the same INVITE with credentials for `username`/`password`.
        func call(_ uri: String, from: String = "+33639980001", host: String = "sip.example.com", username: String = "33639980001",
                  password: String = "pw1") async throws -> SIPResponse {
            try await client.inviteWithDigest(Self.invite(to: uri, from: from, host: host), to: destination, username: username, password: password)
        }
    }

    static func expectRejection(_ r: SIPResponse, _ status: Int, _ reason: String) {
        #expect(r.statusCode == status && r.reasonPhrase == reason, "\(r.statusCode) \(r.reasonPhrase)")
        if status != 407 { #expect(r.headers[.warning] == "399 wa.meta.vc \"\(reason)\"", "\(String(describing: r.headers[.warning]))") }
    }

    @Test func ipLiteralOrSipsRequestURIIs404() async throws {
        let lab = try await Lab.start()
        let ip = try await lab.client.send(Lab.invite(to: "sip:+15550200000@157.240.19.130;transport=tls"), to: lab.destination).get()
        let sips = try await lab.client.send(Lab.invite(to: "sips:+15550200000@wa.meta.vc"), to: lab.destination).get()
        await lab.stop()
        #expect(ip.statusCode == 404 && sips.statusCode == 404, "\(ip.statusCode) \(sips.statusCode)")
    }

    @Test func unknownBusinessIs400AssetNotFound() async throws {
        let lab = try await Lab.start()
        let r = try await lab.call("sip:+15550200001@wa.meta.vc;transport=tls", from: "+15559999999", username: "15559999999")
        await lab.stop()
        Self.expectRejection(r, 400, "Asset not found, invalid business phone number")
    }

    @Test func domainMismatchIs403NamingThePhoneNumberID() async throws {
        let lab = try await Lab.start()
        let r = try await lab.call("sip:+15550200002@wa.meta.vc;transport=tls", host: "203.0.113.7")
        let sub = try await lab.call("sip:+15550200003@wa.meta.vc;transport=tls", host: "edge.sip.example.com")
        await lab.stop()
        Self.expectRejection(r, 403, "SIP server 203.0.113.7 from INVITE does not match any SIP server configured for phone number id 100000000000001")
        #expect(sub.statusCode == 200)
    }

    @Test func unauthorizedAppIs403() async throws {
        let lab = try await Lab.start()
        let r = try await lab.call("sip:+15550200004@wa.meta.vc;transport=tls", from: "+33639980002", username: "33639980002", password: "pw2")
        await lab.stop()
        Self.expectRejection(r, 403, "The app 200000000000099 configured for SIP server sip.example.com is not authorized for phone number id 100000000000002")
    }

    @Test func wrongPasswordIs403NotANewChallenge() async throws {
        let lab = try await Lab.start()
        let r = try await lab.call("sip:+15550200005@wa.meta.vc;transport=tls", password: "wrong")
        await lab.stop()
        Self.expectRejection(r, 403, "Forbidden")
    }

    @Test func noPermissionIs403() async throws {
        let lab = try await Lab.start()
        let r = try await lab.call("sip:+15550209000@wa.meta.vc;transport=tls")
        await lab.stop()
        Self.expectRejection(r, 403, "No Approved Call Permission Found")
    }

    /// A user who answers after 3 s: while the first call rings, a second to the same user is a duplicate
    /// (403) and one to another user exceeds the per-number concurrency (set to 1 here: 503).
    @Test func duplicateAndConcurrencyWhileRinging() async throws {
        let lab = try await Lab.start()
        let first = Task { try await lab.call("sip:+15550200100@wa.meta.vc;transport=tls") }
        #expect(await eventually { lab.mock.server.state.activeCalls == 1 })
        let duplicate = try await lab.call("sip:+15550200100@wa.meta.vc;transport=tls")
        let other = try await lab.call("sip:+15550200101@wa.meta.vc;transport=tls")
        let answered = try await first.value
        await lab.stop()
        #expect(duplicate.statusCode == 403, "\(duplicate.statusCode) \(duplicate.reasonPhrase)")
        #expect(other.statusCode == 503, "\(other.statusCode) \(other.reasonPhrase)")
        #expect(answered.statusCode == 200)
    }

    @Test func offerWithVideoIs403() async throws {
        let lab = try await Lab.start()
        var invite = Lab.invite(to: "sip:+15550200006@wa.meta.vc;transport=tls")
        invite.body = ByteBuffer(string: "v=0\r\nm=audio 4000 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\nm=video 4002 RTP/SAVP 96\r\n")
        let first = try await lab.client.send(invite, to: lab.destination).get()
        var digest = DigestClient(username: "33639980001", password: "pw1")
        let authorization = digest.authorize(first, method: .invite, uri: invite.uri.description, cnonce: "1")
        let auth = try #require(authorization)
        invite.headers.set(.cseq, "2 INVITE")
        invite.headers.add(auth.header, auth.value)
        let r = try await lab.client.send(invite, to: lab.destination).get()
        let ledger = try await lab.mock.server.ledger()
        await lab.stop()
        Self.expectRejection(r, 403, "Forbidden")
        #expect(ledger.last?.rule == "sdp: video m-lines are not supported")
    }

    @Test func everythingElseMetaAnswers() async throws {
        let lab = try await Lab.start()
        func request(_ method: SIPMethod, toTag: String? = nil) -> SIPRequest {
            var r = Lab.invite(to: "sip:wa.meta.vc;transport=tls")
            r.method = method
            r.headers.set(.cseq, "1 \(method.rawValue)")
            if let toTag { r.headers.set(.to, "<sip:wa.meta.vc>;tag=\(toTag)") }
            return r
        }
        let options = try await lab.client.send(request(.options), to: lab.destination).get()
        let register = try await lab.client.send(request(.register), to: lab.destination).get()
        let info = try await lab.client.send(request(SIPMethod("INFO")), to: lab.destination).get()
        let bye = try await lab.client.send(request(.bye, toTag: "nope"), to: lab.destination).get()
        await lab.stop()
        #expect(options.statusCode == 200 && options.headers[.allow] == "INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS")
        #expect(register.statusCode == 403)
        #expect(info.statusCode == 405 && info.headers[.allow] == "INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS")
        #expect(bye.statusCode == 481)
    }
}
