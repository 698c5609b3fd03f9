import NIOCore
import SIPAuth
import SIPCore
import Testing

/// Digest computation against the published vectors, and the client/server exchange.
@Suite("Digest authentication")
struct DigestVectorTests {
    /// RFC 2617 §3.5: "Mufasa" / "Circle Of Life", qop=auth.
    @Test func rfc2617Mufasa() {
        let response = DigestComputation.response(
            algorithm: .md5, username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life",
            method: "GET", uri: "/dir/index.html", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            nc: "00000001", cnonce: "0a4f113b", qop: "auth")
        #expect(response == "6629fae49393a05397450978507c4ef1")
    }

    /// RFC 7616 §3.9.1, MD5.
    @Test func rfc7616MD5() {
        let response = DigestComputation.response(
            algorithm: .md5, username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life",
            method: "GET", uri: "/dir/index.html", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            nc: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop: "auth")
        #expect(response == "8ca523f5e9506fed4657c9700eebdbec")
    }

    /// RFC 7616 §3.9.1, SHA-256.
    @Test func rfc7616SHA256() {
        let response = DigestComputation.response(
            algorithm: .sha256, username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life",
            method: "GET", uri: "/dir/index.html", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            nc: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop: "auth")
        #expect(response == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    }

    /// Meta's 407 sample parses, and the client picks SHA-256 over MD5 when both are offered (RFC 8760).
    @Test func picksStrongestChallenge() throws {
        var response = SIPResponse(statusCode: 407)
        response.headers.add(.proxyAuthenticate, "Digest realm=\"wa.meta.vc\",nonce=\"419ac2415577f8e1\",opaque=\"440badfc05072367\",algorithm=MD5,qop=\"auth\"")
        response.headers.add(.proxyAuthenticate, "Digest realm=\"wa.meta.vc\",nonce=\"419ac2415577f8e1\",opaque=\"440badfc05072367\",algorithm=SHA-256,qop=\"auth\"")
        let all = DigestChallenge.all(in: response)
        #expect(all.map(\.challenge.algorithm) == [.sha256, .md5])
        #expect(all.allSatisfy { $0.proxy })
        var client = DigestClient(username: "33639980001", password: "pw")
        let answered = client.authorize(response, method: .invite, uri: "sip:+15550200000@wa.meta.vc;transport=tls", cnonce: "abc")
        let auth = try #require(answered)
        #expect(auth.header == .proxyAuthorization)
        let credentials = try DigestCredentials(parsing: Substring(auth.value))
        #expect(credentials.algorithm == .sha256 && credentials.nc == "00000001" && credentials.opaque == "440badfc05072367")
        #expect(credentials.username == "33639980001" && credentials.realm == "wa.meta.vc")
    }

    /// The server verifies what the client computes, rejects a wrong password and replayed nc, and reports
    /// an expired nonce as stale; time is injected.
    @Test func serverVerification() throws {
        var server = DigestServer(policy: DigestServerPolicy(realm: "wa.meta.vc", algorithms: [.sha256, .md5], nonceLifetime: 300),
                                  secret: Array("test-secret".utf8))
        let challenges = server.challenges(now: 1000, opaque: "0123456789abcdef")
        #expect(challenges.count == 2 && challenges[0].nonce.count == 16)
        #expect(challenges[0].nonce.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        var client = DigestClient(username: "33639980001", password: "secret")
        let good = client.answer(challenges[1], method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "c1")
        #expect(server.verify(good, method: .invite, password: "secret", now: 1010) == .accepted)
        // Same nc again: replay.
        if case .rejected = server.verify(good, method: .invite, password: "secret", now: 1011) {} else { Issue.record("replay accepted") }
        // Next nc is fine.
        let next = client.answer(challenges[1], method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "c2")
        #expect(next.nc == "00000002")
        #expect(server.verify(next, method: .invite, password: "secret", now: 1012) == .accepted)
        // Wrong password.
        var wrong = DigestClient(username: "33639980001", password: "nope")
        let bad = wrong.answer(challenges[0], method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "c3")
        #expect(server.verify(bad, method: .invite, password: "secret", now: 1013) == .rejected("digest response does not match"))
        // The wrong response used that nonce up: the right one is refused on it.
        let after = client.answer(challenges[0], method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "c5")
        #expect(server.verify(after, method: .invite, password: "secret", now: 1014) == .rejected("nonce was used up by a wrong response"))
        // Expired nonce: stale.
        let second = server.challenges(now: 1000, opaque: "0123456789abcdef")
        var lateClient = DigestClient(username: "33639980001", password: "secret")
        let late = lateClient.answer(second[0], method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "c4")
        #expect(server.verify(late, method: .invite, password: "secret", now: 1000 + 301) == .stale)
        // A nonce we never issued.
        var forged = good
        forged.nonce = "003e80000700cdef"
        if case .rejected = server.verify(forged, method: .invite, password: "secret", now: 1014) {} else { Issue.record("forged nonce accepted") }
    }

    /// Replay state is pruned in place every 10 s: nonces past their lifetime are forgotten, a live nonce's
    /// highest nc is kept (its replay is still refused after the prune).
    @Test func replayStateKeepsOnlyLiveNonces() {
        var server = DigestServer(policy: DigestServerPolicy(realm: "wa.meta.vc", nonceLifetime: 300), secret: [7, 7, 7])
        var early: [DigestCredentials] = []
        for i in 0..<50 {
            let challenge = server.challenges(now: 1000, opaque: "o")[0]
            var client = DigestClient(username: "u", password: "p")
            early.append(client.answer(challenge, method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "e\(i)"))
            #expect(server.verify(early[i], method: .invite, password: "p", now: 1000) == .accepted)
        }
        let challenge = server.challenges(now: 1200, opaque: "o")[0]
        var client = DigestClient(username: "u", password: "p")
        let live = client.answer(challenge, method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "l")
        #expect(server.verify(live, method: .invite, password: "p", now: 1200) == .accepted)
        #expect(server.trackedNonceCount == 51)
        // 1,305 s: the early nonces are 305 s old, past the 300 s lifetime; the next accepted answer prunes.
        let fresh = client.answer(challenge, method: .invite, uri: "sip:+1@wa.meta.vc", cnonce: "l2")
        #expect(server.verify(fresh, method: .invite, password: "p", now: 1305) == .accepted)
        #expect(server.trackedNonceCount == 1)
        if case .rejected = server.verify(fresh, method: .invite, password: "p", now: 1306) {} else { Issue.record("replay accepted after prune") }
        #expect(server.verify(early[0], method: .invite, password: "p", now: 1306) == .stale)
    }

    /// Nonces issued in the same second by one shard, or by two shards, never repeat.
    @Test func noncesAreUniqueWithinASecond() {
        var a = DigestServer(policy: DigestServerPolicy(realm: "r"), secret: [1, 2, 3], shard: 0)
        var b = DigestServer(policy: DigestServerPolicy(realm: "r"), secret: [1, 2, 3], shard: 1)
        var seen = Set<String>()
        for _ in 0..<5000 {
            seen.insert(a.challenges(now: 42, opaque: "o")[0].nonce)
            seen.insert(b.challenges(now: 42, opaque: "o")[0].nonce)
        }
        #expect(seen.count == 10_000)
    }

    @Test func credentialsRoundTrip() throws {
        let text = "Digest username=\"17125550259\", realm=\"wa.meta.vc\", nonce=\"2a487cb01d4ed43b\", uri=\"sip:+12195550714@wa.meta.vc;transport=tls\", response=\"0b7b6a1d5ac8e2f8a4d5d5f2b4d2c0c9\", algorithm=MD5, cnonce=\"5a8f\", opaque=\"725a06fb2cd89a32\", qop=auth, nc=00000002"
        let c = try DigestCredentials(parsing: Substring(text))
        #expect(c.nc == "00000002" && c.uri == "sip:+12195550714@wa.meta.vc;transport=tls" && c.qop == "auth")
        let again = try DigestCredentials(parsing: Substring(c.headerValue))
        #expect(again == c)
    }
}
