import NIOCore
import MetaMock
import SIPAuth
import SIPCore
import Testing
import WasimYAML

/// Meta's BIC rules, each on its own, with injected time: a 24 h window and a 7-day permission are tested in
/// microseconds.
@Suite("BIC policy")
struct BICPolicyTests {
    /// A policy, its digest server and shared state, and a client that answers challenges.
    struct Rig {
        var configuration: MockConfiguration
        var policy: BICInvitePolicy
        var digest: DigestServer
        var state = MockCallState()
        var now: Double = 1_000_000
        var started: Double = 1_000_000

        init(_ configuration: MockConfiguration = .default) {
            self.configuration = configuration
            policy = BICInvitePolicy(configuration: configuration)
            digest = DigestServer(policy: DigestServerPolicy(realm: "wa.meta.vc", algorithms: configuration.digestAlgorithms),
                                  secret: [7, 7, 7])
        }

        /// An authenticated INVITE from `fromHost` to `callee`, answered as a real UAC would.
        static let offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fingerprint:sha-256 AB:CD\r\n"

        mutating func invite(to callee: String = "+15550200000", fromHost: String = "sip.example.com",
                             number: String = "+33639980001", password: String? = nil, sdp: String = Rig.offer) -> BICDecision
        {
            var request = SIPRequest(method: .invite, uri: try! SIPURI("sip:\(callee)@wa.meta.vc;transport=tls"), body: ByteBuffer(string: sdp))
            request.headers.add(.from, "<sip:\(number)@\(fromHost)>;tag=1")
            request.headers.add(.to, "<sip:\(callee)@wa.meta.vc>")
            request.headers.add(.callID, "c\(Int(now))")
            request.headers.add(.cseq, "2 INVITE")
            let challenge = digest.challenges(now: UInt64(now), opaque: "0011223344556677")[0]
            var client = DigestClient(username: String(number.dropFirst()), password: password ?? configuration.businesses[0].sipPassword)
            let credentials = client.answer(challenge, method: .invite, uri: request.uri.description, cnonce: "abc")
            request.headers.add(.proxyAuthorization, credentials.headerValue)
            return policy.evaluate(request, digest: &digest, state: state, monotonic: UInt64(now), wall: now, startedAt: started)
        }

        var pair: MockCallState.Pair { MockCallState.Pair(business: "+33639980001", user: "+15550200000") }
    }

    func isAccept(_ d: BICDecision) -> Bool { if case .accept = d { return true } else { return false } }

    func rejection(_ d: BICDecision) -> (Int, String)? {
        if case .reject(let status, let reason, _) = d { return (status, reason) } else { return nil }
    }

    @Test func noCredentialsIsChallenged() {
        let rig = Rig()
        var digest = rig.digest
        var request = SIPRequest(method: .invite, uri: try! SIPURI("sip:+15550200000@wa.meta.vc"))
        request.headers.add(.from, "<sip:+33639980001@sip.example.com>;tag=1")
        #expect(rig.policy.evaluate(request, digest: &digest, state: rig.state, monotonic: 0, wall: 0, startedAt: 0) == .challenge(stale: false))
    }

    @Test(arguments: ["sip:+15550200000@157.240.19.130", "sips:+15550200000@wa.meta.vc"])
    func ipLiteralOrSipsIs404(_ uri: String) {
        let rig = Rig()
        var digest = rig.digest
        let request = SIPRequest(method: .invite, uri: try! SIPURI(uri))
        #expect(rejection(rig.policy.evaluate(request, digest: &digest, state: rig.state, monotonic: 0, wall: 0, startedAt: 0))?.0 == 404)
    }

    @Test func unknownBusinessNumberIs400() {
        var rig = Rig()
        #expect(rejection(rig.invite(number: "+15559999999"))! == (400, "Asset not found, invalid business phone number"))
    }

    /// Meta's SIP page: a subdomain of the configured domain is valid; another domain is not.
    @Test func fromDomainMatching() {
        var rig = Rig()
        #expect(isAccept(rig.invite(fromHost: "edge1.sip.example.com")))
        rig.state.ended(rig.pair, .other, limits: rig.configuration.limits)
        let r = rejection(rig.invite(fromHost: "example.com"))
        #expect(r?.0 == 403)
        #expect(r?.1 == "SIP server example.com from INVITE does not match any SIP server configured for phone number id 100000000000001")
        #expect(rejection(rig.invite(fromHost: "127.0.0.1"))?.1.hasPrefix("SIP server 127.0.0.1 from INVITE") == true)
        // The other reading (troubleshooting page), as a setting.
        var other = MockConfiguration.default
        other.domainMatch = .configuredIsSubdomain
        var rig2 = Rig(other)
        #expect(isAccept(rig2.invite(fromHost: "example.com")))
        rig2.state.ended(rig2.pair, .other, limits: other.limits)
        #expect(rejection(rig2.invite(fromHost: "edge1.sip.example.com"))?.0 == 403)
    }

    @Test func unauthorizedAppIs403() {
        var config = MockConfiguration.default
        config.businesses[0].apps[0].authorized = false
        var rig = Rig(config)
        #expect(rejection(rig.invite())! == (403, "The app 100000000000099 configured for SIP server sip.example.com is not authorized for phone number id 100000000000001"))
    }

    /// With the number's SIP setting disabled (the servers kept), Meta routes no SIP call for it: the From
    /// host matches no enabled SIP server, the same 403 as a wrong domain.
    @Test func sipDisabledIs403() {
        var config = MockConfiguration.default
        config.businesses[0].sipEnabled = false
        var rig = Rig(config)
        let decision = rig.invite()
        #expect(rejection(decision)! == (403, "SIP server sip.example.com from INVITE does not match any SIP server configured for phone number id 100000000000001"))
        if case .reject(_, _, let rule) = decision { #expect(rule.hasPrefix("sip-disabled")) }
        #expect(!isAccept(decision) && rig.state.activeCalls == 0)
    }

    @Test func wrongPasswordIs403NotAChallenge() {
        var rig = Rig()
        let r = rig.invite(password: "wrong")
        #expect(rejection(r)! == (403, "Forbidden"))
    }

    @Test func duplicateCallIs403() {
        var rig = Rig()
        #expect(isAccept(rig.invite()))
        rig.now += 1
        #expect(rejection(rig.invite())?.0 == 403)
        #expect(isAccept(rig.invite(to: "+15550200001")))
    }

    @Test func noPermissionAndTemporaryExpiry() {
        var config = MockConfiguration.default
        config.users = [
            .init(numbers: NumberSet(list: ["+15550200000"]), permission: .none),
            .init(numbers: NumberSet(list: ["+15550200001"]), permission: .temporary(expiresAfter: 7 * 86400)),
        ]
        var rig = Rig(config)
        #expect(rejection(rig.invite(to: "+15550200000"))! == (403, "No Approved Call Permission Found"))
        #expect(rejection(rig.invite(to: "+15550209999"))! == (403, "No Approved Call Permission Found"))  // not a known user
        #expect(isAccept(rig.invite(to: "+15550200001")))
        rig.state.ended(MockCallState.Pair(business: "+33639980001", user: "+15550200001"), .other, limits: config.limits)
        rig.now = rig.started + 7 * 86400  // a week later
        #expect(rejection(rig.invite(to: "+15550200001"))! == (403, "No Approved Call Permission Found"))
    }

    /// The 6th connected call to one user within 24 h gets the limit 403, another user still connects, and
    /// 24 h after the first call the window has room again.
    @Test func connectedCallLimitPerPairRolling24h() {
        var rig = Rig()
        let t0 = rig.now
        for i in 0..<5 {
            rig.now = t0 + Double(i) * 3600
            #expect(isAccept(rig.invite()))
            rig.state.connected(rig.pair, now: rig.now)
            rig.state.ended(rig.pair, .connected, limits: rig.configuration.limits)
        }
        rig.now = t0 + 5 * 3600
        #expect(rejection(rig.invite())! == (403, "Business Initiated Connected Call Per Day Limit Hit"))
        #expect(isAccept(rig.invite(to: "+15550200001")))
        // Unanswered calls do not count: only connected ones.
        rig.now = t0 + 86400  // the first call has left the window
        #expect(isAccept(rig.invite()))
        rig.state.ended(rig.pair, .unanswered, limits: rig.configuration.limits)
        rig.now = t0 + 86400 + 1
        #expect(isAccept(rig.invite()))
    }

    /// The default configuration and a second business, +33639980002 (password p2), for per-number limits.
    static var twoBusinesses: MockConfiguration {
        var config = MockConfiguration.default
        config.businesses.append(MockConfiguration.Business(
            number: "+33639980002", phoneNumberID: "2", apps: [MockConfiguration.App(appID: "a2", sipPassword: "p2")],
            sipServerHostname: "sip.example.com"))
        return config
    }

    /// Every authenticated INVITE of a number counts towards its 24 h initiations, whatever became of it (here
    /// a duplicate and a call to a user without permission count too); past the limit, 403 for any user,
    /// and another number is not affected. A call leaves the window 24 h after its minute.
    @Test func bicAttemptsPerNumberRolling24h() {
        var config = Self.twoBusinesses
        config.limits.bicAttemptsPer24h = 3
        var rig = Rig(config)
        let t0 = rig.now
        #expect(isAccept(rig.invite(to: "+15550200000")))
        rig.now = t0 + 60
        #expect(rejection(rig.invite(to: "+15550200000"))?.0 == 403)  // duplicate: counted all the same
        rig.now = t0 + 120
        #expect(rejection(rig.invite(to: "+19990000000"))! == (403, "No Approved Call Permission Found"))
        rig.now = t0 + 180
        let refused = rig.invite(to: "+15550200001")
        #expect(rejection(refused)! == (403, "Forbidden"))
        if case .reject(_, _, let rule) = refused { #expect(rule == "limit: 3 BIC attempts per number in 24 h") }
        #expect(isAccept(rig.invite(to: "+15550200001", number: "+33639980002", password: "p2")))
        rig.now = t0 + 86_400 - 60  // still inside the first call's 24 h
        #expect(rejection(rig.invite(to: "+15550200002"))! == (403, "Forbidden"))
        rig.now = t0 + 86_400 + 10  // the first call's minute has left the window (the second's has not): room for one
        #expect(isAccept(rig.invite(to: "+15550200002")))
        #expect(rejection(rig.invite(to: "+15550200003"))! == (403, "Forbidden"))
    }

    /// `limits.call_rate_per_number`: a second's worth of calls at once, then the rate; over it the
    /// concurrency status with the rule; the number's rate only (another number is not affected).
    @Test func callRatePerNumber() {
        var config = Self.twoBusinesses
        config.limits.callRatePerNumber = 2
        var rig = Rig(config)
        #expect(isAccept(rig.invite(to: "+15550200000")))
        #expect(isAccept(rig.invite(to: "+15550200001")))
        let over = rig.invite(to: "+15550200002")
        #expect(rejection(over)! == (503, "Service Unavailable"))
        if case .reject(_, _, let rule) = over { #expect(rule == "call rate: over 2/s calls per number") }
        #expect(isAccept(rig.invite(to: "+15550200002", number: "+33639980002", password: "p2")))
        rig.now += 0.5  // one token back
        #expect(isAccept(rig.invite(to: "+15550200003")))
        #expect(rejection(rig.invite(to: "+15550200004"))?.0 == 503)
        rig.now += 10  // the bucket refills to its burst, not beyond
        #expect(isAccept(rig.invite(to: "+15550200005")) && isAccept(rig.invite(to: "+15550200006")))
        #expect(rejection(rig.invite(to: "+15550200007"))?.0 == 503)
        #expect(MockConfiguration.default.limits.callRatePerNumber == nil)
    }

    /// The 24 h window in constant memory: 10,000 (the default) in a day, a day later 10,000 again.
    @Test func initiationWindowHoldsADay() {
        let state = MockCallState()
        let limits = MockConfiguration.default.limits
        #expect(limits.bicAttemptsPer24h == 10_000)
        // Ineligible attempts (to users without permission): counted, never marked active.
        func initiated(at seconds: Double) -> Bool {
            state.admit(MockCallState.Pair(business: "+33639980001", user: "+19990000000"), now: 1_000_000 + seconds, limits: limits,
                        eligible: false) != .attemptLimit
        }
        var accepted = 0
        for i in 0..<10_500 where initiated(at: Double(i) * 8) { accepted += 1 }
        #expect(accepted == 10_000)  // 10,500 calls over 23.3 h
        // Exact to the minute: a call leaves the window in the minute 24 h after its own.
        #expect(!initiated(at: 86_400 - 120))
        #expect(initiated(at: 86_400 + 60))
        #expect(initiated(at: 10 * 86_400))  // long idle
    }

    /// 2 unanswered or declined calls → nudge; 4 → permission revoked; a connected call resets the streak.
    @Test func unansweredStreak() {
        var rig = Rig()
        let limits = rig.configuration.limits
        #expect(isAccept(rig.invite()))
        #expect(rig.state.ended(rig.pair, .unanswered, limits: limits) == nil)
        #expect(isAccept(rig.invite()))
        #expect(rig.state.ended(rig.pair, .declined, limits: limits) == .nudge(count: 2))
        #expect(isAccept(rig.invite()))
        rig.state.connected(rig.pair, now: rig.now)  // resets
        rig.state.ended(rig.pair, .connected, limits: limits)
        for i in 1...3 {
            #expect(isAccept(rig.invite()))
            let event = rig.state.ended(rig.pair, .unanswered, limits: limits)
            #expect(event == (i == 2 ? .nudge(count: 2) : nil))
        }
        #expect(isAccept(rig.invite()))
        #expect(rig.state.ended(rig.pair, .unanswered, limits: limits) == .revoked(count: 4))
        #expect(rejection(rig.invite())! == (403, "No Approved Call Permission Found"))
    }

    @Test func concurrencyPerNumber() {
        var config = MockConfiguration.default
        config.limits.concurrentPerNumber = 2
        var rig = Rig(config)
        #expect(isAccept(rig.invite(to: "+15550200000")))
        #expect(isAccept(rig.invite(to: "+15550200001")))
        #expect(rejection(rig.invite(to: "+15550200002"))?.0 == 503)
    }

    /// Step 10: the SDP offer. `basic` wants one audio m-line; `strict` also Opus and the DTLS or SDES profile.
    @Test func sdpOfferIsChecked() {
        var rig = Rig()
        #expect(rejection(rig.invite(sdp: ""))?.0 == 403)
        #expect(rejection(rig.invite(sdp: Rig.offer + "m=video 4002 RTP/AVP 96\r\n"))?.0 == 403)
        #expect(isAccept(rig.invite(sdp: "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")))
        var config = MockConfiguration.default
        config.sdpCheck = .strict
        var strict = Rig(config)
        #expect(rejection(strict.invite(to: "+15550200001", sdp: "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"))?.0 == 403)
        #expect(isAccept(strict.invite(to: "+15550200002")))
        #expect(MetaSDPCheck.strict.problem(in: ByteBuffer(string: "m=audio 1 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"), keyExchange: "DTLS") == "No fingerprint found in SDP")
        #expect(MetaSDPCheck.strict.problem(in: ByteBuffer(string: "m=audio 1 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"), keyExchange: "SDES") == nil)
    }

    /// The policy reads the businesses' live settings: a second app's server is matched with its own
    /// password and authorization, a deleted server's password stops working, and a number whose calling is
    /// DISABLED matches no server.
    @Test func liveSettingsApplyToTheNextInvite() {
        var config = MockConfiguration.default
        config.businesses[0].apps.append(MockConfiguration.App(appID: "2", authorized: true, sipPassword: "second-pw"))
        var rig = Rig(config)
        let directory = rig.policy.directory
        _ = directory.update(phoneNumberID: "100000000000001") { b in
            b.servers.append(MockConfiguration.SIPServer(appID: "2", hostname: "sbc.other.example"))
        }
        #expect(isAccept(rig.invite(to: "+15550200001", fromHost: "edge.sbc.other.example", password: "second-pw")))
        #expect(rejection(rig.invite(to: "+15550200002", fromHost: "edge.sbc.other.example"))?.0 == 403, "the first app's password is not the second's")
        #expect(isAccept(rig.invite(to: "+15550200003")), "the first server still works with its own password")
        _ = directory.update(phoneNumberID: "100000000000001") { b in
            b.servers.removeAll { $0.appID == "2" }
            b.apps[1].sipPassword = ""
        }
        #expect(rejection(rig.invite(to: "+15550200004", fromHost: "sbc.other.example", password: "second-pw"))?.0 == 403)
        _ = directory.update(phoneNumberID: "100000000000001") { b in b.apps[0].authorized = false }
        #expect(rejection(rig.invite(to: "+15550200005"))?.1.hasPrefix("The app 100000000000099 configured for SIP server sip.example.com is not authorized") == true)
        _ = directory.update(phoneNumberID: "100000000000001") { b in
            b.apps[0].authorized = true
            b.callingEnabled = false
        }
        guard case .reject(403, _, let rule) = rig.invite(to: "+15550200006") else { Issue.record("not refused"); return }
        #expect(rule.hasPrefix("sip-disabled: calling.status is DISABLED"), "\(rule)")
    }

    /// `additional_codecs` lets an offer without Opus through the strict check.
    @Test func additionalCodecsPassTheStrictCheck() {
        var config = MockConfiguration.default
        config.sdpCheck = .strict
        var rig = Rig(config)
        let pcmu = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 0 8\r\na=fingerprint:sha-256 AB:CD\r\n"
        guard case .reject(403, _, let rule) = rig.invite(to: "+15550200001", sdp: pcmu) else { Issue.record("accepted"); return }
        #expect(rule == "sdp: Opus 48000/2 is not offered", "\(rule)")
        _ = rig.policy.directory.update(phoneNumberID: "100000000000001") { $0.additionalCodecs = ["PCMA"] }
        #expect(isAccept(rig.invite(to: "+15550200002", sdp: pcmu)))
    }

    /// No BIC from business numbers in the countries Meta lists (US, CA, EG, VN, NG): 403 after the digest;
    /// a Caribbean NANP number (Jamaica) is not the US; an empty list lifts the block.
    @Test func bicCountryBlock() {
        func business(_ number: String) -> MockConfiguration.Business {
            MockConfiguration.Business(number: number, phoneNumberID: "id\(number)",
                                       apps: [.init(appID: "1", sipPassword: "pw")], sipServerHostname: "sip.example.com")
        }
        var config = MockConfiguration.default
        config.businesses = ["+12125550100", "+14165550100", "+201005550100", "+18765550100", "+33639980001"].map(business)
        var rig = Rig(config)
        var outcomes: [String: String] = [:]
        for number in ["+12125550100", "+14165550100", "+201005550100", "+18765550100", "+33639980001"] {
            switch rig.invite(to: "+15550200001", number: number, password: "pw") {
            case .accept: outcomes[number] = "accepted"
            case .reject(let status, _, let rule): outcomes[number] = "\(status) \(rule)"
            case .challenge: outcomes[number] = "challenged"
            }
            rig.state.ended(MockCallState.Pair(business: number, user: "+15550200001"), .connected, limits: config.limits)
        }
        #expect(outcomes["+12125550100"] == "403 country: business-initiated calls are not available for business numbers in US (Graph error 138013)")
        #expect(outcomes["+14165550100"]?.hasPrefix("403 country:") == true && outcomes["+14165550100"]?.contains(" CA ") == true, "\(outcomes)")
        #expect(outcomes["+201005550100"]?.contains(" EG ") == true, "\(outcomes)")
        #expect(outcomes["+18765550100"] == "accepted" && outcomes["+33639980001"] == "accepted", "\(outcomes)")
        config.limits.bicBlockedCountries = []
        var open = Rig(config)
        #expect(isAccept(open.invite(to: "+15550200002", number: "+12125550100", password: "pw")))
        #expect(E164Country.of("+14165550100") == "CA" && E164Country.of("+17875550100") == "PR" && E164Country.of("+84912345678") == "VN"
                && E164Country.of("+2348031234567") == "NG" && E164Country.of("+999") == "ZZ")
    }

    /// `sip.wording: sip-page` words the 400 and 404 as Meta's SIP page does; a single phrase can be set.
    @Test func wordingFollowsTheChosenPage() throws {
        let troubleshooting = Rig()
        var digest = troubleshooting.digest
        var ip = SIPRequest(method: .invite, uri: try SIPURI("sip:+15550200000@157.240.19.130"))
        ip.headers.add(.from, "<sip:+33639980001@sip.example.com>;tag=1")
        #expect(rejection(troubleshooting.policy.evaluate(ip, digest: &digest, state: troubleshooting.state, monotonic: 0, wall: 0, startedAt: 0))?.1 == "Not found")
        var config = try MockConfigLoader.parse("sip: { wording: sip-page, reason_phrases: { no_permission: No approved call permission from the recipient } }", file: "w.yaml")
        var page = Rig(config)
        #expect(rejection(page.policy.evaluate(ip, digest: &digest, state: page.state, monotonic: 0, wall: 0, startedAt: 0))?.1
                == "SIP INVITEs using IP in request URI are not allowed")
        #expect(rejection(page.invite(number: "+33639989999"))?.1 == "Asset not found")
        #expect(rejection(page.invite(to: "+19999999999"))?.1 == "No approved call permission from the recipient")
        #expect(config.reasonPhrases.userDeclined == "Busy Here")
        config.reasonPhrases = MetaReasonPhrases()
        #expect(config.reasonPhrases.userDeclined == "User declined the call")
        #expect(throws: ConfigFileError.self) { try MockConfigLoader.parse("sip: { reason_phrases: { user_declined: \"a\\r\\nb\" } }", file: "w.yaml") }
        // Nothing from the file reaches a SIP message with a line break in it.
        for yaml in ["sip: { record_routes: [\"<sip:a;lr>\\r\\nX-Injected: 1\"] }", "domain: \"wa.meta.vc\\nX: 1\"",
                     "sip: { lab_route_host: \"h\\r\\n\" }"] {
            #expect(throws: ConfigFileError.self, "\(yaml)") { try MockConfigLoader.parse(yaml, file: "w.yaml") }
        }
    }

    /// A BIC may address the user by the BSUID this business sees (`sip:US.…@wa.meta.vc`): the rules apply to
    /// the number behind it; another business's BSUID for the same user is a user Meta does not know.
    @Test func bsuidRequestURI() {
        var rig = Rig()
        let mine = BusinessScopedUserID.make(user: "+15550200042", business: "+33639980001")!
        let theirs = BusinessScopedUserID.make(user: "+15550200043", business: "+33639989999")!
        guard case .accept(_, _, let pair) = rig.invite(to: mine) else { Issue.record("not accepted"); return }
        #expect(pair.user == "+15550200042")
        #expect(rejection(rig.invite(to: theirs))?.1 == "No Approved Call Permission Found")
    }
}
