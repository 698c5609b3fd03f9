import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import Testing

/// Credentials bound to the From number, a wrong response using its nonce up, and failed-authentication
/// lockouts per source and per username, with injected time.
@Suite("Auth protection")
struct AuthProtectionTests {
    /// Two businesses, each with its own app and password.
    static let configuration: MockConfiguration = {
        var c = MockConfiguration.default
        c.businesses.append(MockConfiguration.Business(
            number: "+33639980002", phoneNumberID: "100000000000002",
            apps: [.init(appID: "100000000000098", sipPassword: "password-of-b")], sipServerHostname: "sip.example.com"))
        return c
    }()

    struct Rig {
        let policy = BICInvitePolicy(configuration: AuthProtectionTests.configuration)
        var digest = DigestServer(policy: DigestServerPolicy(realm: "wa.meta.vc"), secret: [1, 2, 3])
        let state = MockCallState()
        var throttle: DigestFailureThrottle? = nil
        var now: Double = 1_000
        var callee = 0

        /// A challenge as the mock would send it.
        mutating func challenge() -> DigestChallenge { digest.challenges(now: UInt64(now), opaque: "00")[0] }

        /// An INVITE from `number`'s From, answered with `username`/`password` against `challenge`.
        mutating func invite(from number: String, username: String, password: String, challenge given: DigestChallenge? = nil,
                             source: String = "192.0.2.1") -> BICDecision
        {
            callee += 1
            let to = "+1555020\(String(format: "%04d", callee))"
            var request = SIPRequest(method: .invite, uri: try! SIPURI("sip:\(to)@wa.meta.vc;transport=tls"),
                                     body: ByteBuffer(string: "v=0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 AB\r\n"))
            request.headers.add(.from, "<sip:\(number)@sip.example.com>;tag=1")
            request.headers.add(.to, "<sip:\(to)@wa.meta.vc>")
            request.headers.add(.callID, "c\(callee)")
            request.headers.add(.cseq, "2 INVITE")
            let c = given ?? challenge()
            var client = DigestClient(username: username, password: password)
            request.headers.add(.proxyAuthorization, client.answer(c, method: .invite, uri: request.uri.description, cnonce: "x\(callee)").headerValue)
            return policy.evaluate(request, digest: &digest, state: state, monotonic: UInt64(now), wall: now, startedAt: 0,
                                   source: source, throttle: throttle)
        }
    }

    func rule(_ d: BICDecision) -> String? { if case .reject(403, "Forbidden", let rule) = d { return rule } else { return nil } }
    func accepted(_ d: BICDecision) -> Bool { if case .accept = d { return true } else { return false } }

    /// The probe: business A's username and password authenticated a call from B's number.
    @Test func anotherBusinessesCredentialsDoNotAuthenticate() {
        var rig = Rig()
        #expect(accepted(rig.invite(from: "+33639980002", username: "33639980002", password: "password-of-b")))
        let crossed = rig.invite(from: "+33639980002", username: "33639980001", password: "wasim-default-sip-password")
        #expect(rule(crossed)?.contains("username '33639980001' is not +33639980002's") == true)
        // B's username with A's password, and A's number with B's credentials, fail too.
        #expect(rule(rig.invite(from: "+33639980002", username: "33639980002", password: "wasim-default-sip-password")) != nil)
        #expect(rule(rig.invite(from: "+33639980001", username: "33639980002", password: "password-of-b")) != nil)
        #expect(accepted(rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password")))
    }

    /// One challenge served unlimited guesses: now a wrong response uses its nonce up, and the right
    /// password on the same nonce is refused.
    @Test func aWrongResponseUsesTheNonceUp() {
        var rig = Rig()
        let challenge = rig.challenge()
        let wrong = rig.invite(from: "+33639980001", username: "33639980001", password: "guess-1", challenge: challenge)
        #expect(rule(wrong)?.contains("does not match") == true)
        let right = rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password", challenge: challenge)
        #expect(rule(right)?.contains("used up") == true)
        // A fresh challenge works.
        #expect(accepted(rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password")))
    }

    /// After `failures` failures in the window, the source and the username are locked out, whatever the
    /// password; the lockout ends after `lockout` seconds.
    @Test func failuresLockTheSourceAndTheUsernameOut() {
        var rig = Rig()
        rig.throttle = DigestFailureThrottle(policy: DigestThrottlePolicy(failures: 3, window: 60, lockout: 300))
        for i in 1...2 {
            #expect(rule(rig.invite(from: "+33639980001", username: "33639980001", password: "guess-\(i)"))?.contains("does not match") == true)
        }
        let third = rig.invite(from: "+33639980001", username: "33639980001", password: "guess-3")
        #expect(rule(third)?.contains("source 192.0.2.1 and username 33639980001 now locked out") == true)
        // The right password, from the same source: refused.
        rig.now += 1
        let locked = rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password")
        #expect(rule(locked)?.hasPrefix("auth-throttle: source 192.0.2.1") == true)
        // From elsewhere, the username is locked too; another business from elsewhere is not.
        let elsewhere = rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password", source: "198.51.100.7")
        #expect(rule(elsewhere)?.hasPrefix("auth-throttle: username 33639980001") == true)
        #expect(accepted(rig.invite(from: "+33639980002", username: "33639980002", password: "password-of-b", source: "198.51.100.7")))
        #expect(rig.throttle!.counts.lockouts == 2)
        #expect(rig.throttle!.counts.refused == 2)
        // After the lockout, the right password works again.
        rig.now += 300
        #expect(accepted(rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password")))
    }

    /// Failures spread wider than the window never add up to a lockout; a success clears the count.
    @Test func failuresOutsideTheWindowAndAfterASuccessDoNotAddUp() {
        var rig = Rig()
        rig.throttle = DigestFailureThrottle(policy: DigestThrottlePolicy(failures: 3, window: 60, lockout: 300))
        for i in 1...6 {
            #expect(rule(rig.invite(from: "+33639980001", username: "33639980001", password: "typo-\(i)"))?.contains("does not match") == true)
            rig.now += 40
            if i % 2 == 0 {
                #expect(accepted(rig.invite(from: "+33639980001", username: "33639980001", password: "wasim-default-sip-password")))
            }
        }
        #expect(rig.throttle!.counts.lockouts == 0)
        let off = DigestFailureThrottle(policy: DigestThrottlePolicy(failures: 0))
        for _ in 0..<50 { off.recordFailure(source: "192.0.2.9", username: "u", now: 0) }
        #expect(off.lockedOut(source: "192.0.2.9", username: "u", now: 0) == nil)
        #expect(off.trackedKeys == 0)
    }

    /// A guesser rotating usernames leaves a bounded table: entries past their window are pruned.
    @Test func theFailureTableIsPruned() {
        let throttle = DigestFailureThrottle(policy: DigestThrottlePolicy(failures: 5, window: 60, lockout: 60))
        for i in 0..<1_000 { throttle.recordFailure(source: nil, username: "user\(i)", now: 100 + Double(i) * 0.01) }
        #expect(throttle.trackedKeys == 1_000)
        throttle.recordFailure(source: nil, username: "late", now: 500)
        #expect(throttle.trackedKeys == 1)
    }
}
