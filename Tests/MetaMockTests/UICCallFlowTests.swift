import NIOCore
import SIPCore
import Testing
@testable import MetaMock

/// Meta's UIC machine with injected time and hand-written business responses.
struct UICCallFlowTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func identity(routes: [String] = ["<sip:wa.meta.vc;transport=tls;lr>", "<sip:onevc-sip-proxy.fbinfra.net:8191;transport=tls;lr>"]) -> UICCallFlow.Identity {
        UICCallFlow.Identity(
            user: "+15550200000", business: "+33639980001", serverHost: "sip.example.com", serverPort: 5061, transport: "tls",
            userParams: [("tgrp", "wacall"), ("trunk-context", "byoc.example.com")], domain: "wa.meta.vc", contactHost: "wa.meta.vc",
            callID: "outgoing:wacid.QUJD", wacid: "QUJD", fromTag: "meta-tag", firstSequence: 2824, recordRoutes: routes,
            inviteHeaders: [("x-wa-meta-wacid", "QUJD")], userHeaders: [("x-wa-meta-user-country-code", "US")],
            headerNames: MetaHeaderNames(), digestUsername: "33639980001", password: "secret", sdpOffer: "v=0\r\n")
    }

    static func flow() -> UICCallFlow {
        UICCallFlow(identity: identity(), hold: .seconds(5), answerTimeout: .seconds(60))
    }

    /// A response from the business to `request`, as SIPResponse(to:) builds it, with extra header lines.
    static func response(to request: SIPRequest, _ status: Int, toTag: String? = "biz", headers: [(SIPHeaderName, String)] = []) -> SIPResponse {
        var r = SIPResponse(to: request, status: status, toTag: toTag)
        for (name, value) in headers { r.headers.add(name, value) }
        return r
    }

    static func invite(_ actions: [UICCallFlow.Action]) -> SIPRequest? {
        for case .sendInvite(let r) in actions { return r }
        return nil
    }

    @Test func inviteIsShapedLikeMetas() throws {
        var flow = Self.flow()
        let invite = try #require(Self.invite(flow.start(now: Self.t0)))
        #expect(invite.uri.description == "sip:+33639980001;tgrp=wacall;trunk-context=byoc.example.com@sip.example.com;transport=tls")
        #expect(invite.callID == "outgoing:wacid.QUJD")
        #expect(invite.headers[.from]?.contains("<sip:+15550200000@wa.meta.vc>;tag=meta-tag") == true)
        #expect(invite.headers[.contact] == "<sip:+15550200000@wa.meta.vc;transport=tls;ob>;isfocus")
        #expect(invite.headers.values(.recordRoute).map(String.init) == Self.identity().recordRoutes)
        #expect(invite.headers[SIPHeaderName("x-wa-meta-wacid")] == "QUJD")
        #expect(invite.headers[.userAgent] == "Facebook SipGateway")
        #expect(flow.digestURI == "sip:+33639980001;tgrp=wacall;trunk-context=byoc.example.com@sip.example.com")
    }

    @Test func answersOneChallengeThenGivesUp() throws {
        var flow = Self.flow()
        let first = try #require(Self.invite(flow.start(now: Self.t0)))
        let challenge = Self.response(to: first, 407, headers: [(.proxyAuthenticate, #"Digest realm="sip.example.com", nonce="n1", qop="auth""#)])
        let second = try #require(Self.invite(flow.inviteResponse(challenge, now: Self.t0 + .milliseconds(20))))
        #expect(try second.cseq().sequence == 2825)
        #expect(second.callID == first.callID)
        let auth = try #require(second.headers[.proxyAuthorization])
        #expect(auth.contains(#"username="33639980001""#) && auth.contains(#"uri="sip:+33639980001;tgrp=wacall;trunk-context=byoc.example.com@sip.example.com""#))
        // A second challenge means the password is wrong: the call ends, no third INVITE.
        let again = flow.inviteResponse(Self.response(to: second, 407, headers: [(.proxyAuthenticate, #"Digest realm="x", nonce="n2""#)]), now: Self.t0 + .milliseconds(40))
        guard case .finished(let outcome)? = again.first else { Issue.record("expected the end: \(again)"); return }
        #expect(outcome.status == 407 && !outcome.connected)
    }

    @Test func acksWhenRecordRouteIsKeptAndHangsUpWithDuration() throws {
        var flow = Self.flow()
        let invite = try #require(Self.invite(flow.start(now: Self.t0)))
        // The SBC's own entry on top, Meta's two unchanged below (parameters reordered: still the same URIs).
        let ok = Self.response(to: invite, 200, headers: [
            (.recordRoute, "<sip:sbc.example.com;lr>"), (.recordRoute, "<sip:wa.meta.vc;lr;transport=tls>"),
            (.recordRoute, "<sip:onevc-sip-proxy.fbinfra.net:8191;transport=tls;lr>"), (.contact, "<sip:+33639980001@10.0.0.1:5061;transport=tls>"),
        ])
        let actions = flow.inviteResponse(ok, now: Self.t0 + .milliseconds(300))
        guard case .sendAck(let ack)? = actions.first, case .scheduleHangUp(let hold)? = actions.last else { Issue.record("\(actions)"); return }
        #expect(hold == .seconds(5))
        // Meta's own proxies are not on the wire route: only the SBC's entry.
        #expect(ack.headers.values(.route).map(String.init) == ["<sip:sbc.example.com;lr>"])
        let bye = flow.hangUp(now: Self.t0 + .milliseconds(300) + .milliseconds(62_600))
        guard case .sendBye(let request)? = bye.first else { Issue.record("\(bye)"); return }
        #expect(request.headers[SIPHeaderName("x-wa-meta-wacid")] == "QUJD")
        #expect(request.headers[SIPHeaderName("x-wa-meta-call-duration")] == "63")
        #expect(request.headers[SIPHeaderName("x-wa-meta-user-country-code")] == "US")
        let end = flow.byeResponse(Self.response(to: request, 200, toTag: nil), now: Self.t0 + .seconds(64))
        guard case .finished(let outcome)? = end.first else { Issue.record("\(end)"); return }
        #expect(outcome.connected && outcome.endedBy == "meta" && outcome.durationSeconds == 64)
    }

    /// Under `--time-scale 60` a call held one real second lasted a mock minute: Meta's BYE says 60.
    @Test func durationIsInMockTime() throws {
        var flow = UICCallFlow(identity: Self.identity(), hold: .seconds(1), answerTimeout: .seconds(1), timeScale: 60)
        let invite = try #require(Self.invite(flow.start(now: Self.t0)))
        let ok = Self.response(to: invite, 200, headers: [
            (.recordRoute, "<sip:wa.meta.vc;lr;transport=tls>"), (.recordRoute, "<sip:onevc-sip-proxy.fbinfra.net:8191;transport=tls;lr>"),
            (.contact, "<sip:+33639980001@10.0.0.1:5061;transport=tls>"),
        ])
        _ = flow.inviteResponse(ok, now: Self.t0)
        guard case .sendBye(let bye)? = flow.hangUp(now: Self.t0 + .seconds(1)).first else { Issue.record("no BYE"); return }
        #expect(bye.headers[SIPHeaderName("x-wa-meta-call-duration")] == "60")
    }

    @Test func withholdsAckWhenRecordRouteIsAltered() throws {
        var flow = Self.flow()
        let invite = try #require(Self.invite(flow.start(now: Self.t0)))
        let ok = Self.response(to: invite, 200, headers: [
            (.recordRoute, "<sip:wa.meta.vc;transport=tls;lr>"), (.contact, "<sip:+33639980001@10.0.0.1:5061;transport=tls>"),
        ])
        let actions = flow.inviteResponse(ok, now: Self.t0 + .milliseconds(300))
        #expect(!actions.contains { if case .sendAck = $0 { return true } else { return false } })
        guard case .finished(let outcome)? = actions.first else { Issue.record("\(actions)"); return }
        #expect(outcome.ackWithheld && !outcome.connected && outcome.detail?.contains("Record-Route altered") == true)
    }

    @Test func cancelsAfterTheAnswerWindow() throws {
        var flow = Self.flow()
        let invite = try #require(Self.invite(flow.start(now: Self.t0)))
        _ = flow.inviteResponse(Self.response(to: invite, 180), now: Self.t0 + .milliseconds(100))
        #expect(flow.answerTimeout(now: Self.t0 + .seconds(60)) == [.sendCancel])
        let end = flow.inviteResponse(Self.response(to: invite, 487), now: Self.t0 + .seconds(60) + .milliseconds(10))
        guard case .finished(let outcome)? = end.first else { Issue.record("\(end)"); return }
        #expect(outcome.status == 487 && outcome.detail?.contains("no answer within 60") == true)
    }

    @Test func businessByeEndsTheCall() throws {
        var flow = Self.flow()
        let invite = try #require(Self.invite(flow.start(now: Self.t0)))
        _ = flow.inviteResponse(Self.response(to: invite, 200, headers: [
            (.recordRoute, "<sip:wa.meta.vc;transport=tls;lr>"), (.recordRoute, "<sip:onevc-sip-proxy.fbinfra.net:8191;transport=tls;lr>"),
            (.contact, "<sip:+33639980001@10.0.0.1:5061;transport=tls>"),
        ]), now: Self.t0 + .seconds(1))
        let end = flow.byeReceived(now: Self.t0 + .seconds(11))
        guard case .finished(let outcome)? = end.first else { Issue.record("\(end)"); return }
        #expect(outcome.endedBy == "business" && outcome.durationSeconds == 10)
    }

    @Test func inDialogExpectationsNeedMetasRoute() throws {
        let expected = InDialogExpectations(contactUser: "+15550200000", contactHost: "wa.meta.vc", routes: Self.identity().recordRoutes)
        func bye(_ routes: [String], uri: String = "sip:+15550200000@wa.meta.vc;transport=tls;ob") throws -> SIPRequest {
            var headers = SIPHeaders()
            for r in routes { headers.add(.route, r) }
            return SIPRequest(method: .bye, uri: try SIPURI(uri), headers: headers, body: ByteBuffer())
        }
        #expect(expected.matches(try bye(Self.identity().recordRoutes)))
        #expect(!expected.matches(try bye([])))
        #expect(!expected.matches(try bye(Self.identity().recordRoutes, uri: "sip:+15550200000@10.1.1.1;transport=tls")))
    }
}
