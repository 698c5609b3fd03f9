import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import WasimCerts
import WasimMedia

/// Two media legs, Meta's and the business's, on real UDP sockets on 127.0.0.1: ICE, DTLS-SRTP or SDES,
/// paced SRTP both ways, and the clipping each side measures.
@Suite("Media calls over loopback", .serialized)
struct MediaCallTests {
    static let metaCert = try! SelfSignedCertificate(commonName: "meta")
    static let bizCert = try! SelfSignedCertificate(commonName: "business")
    static let metaContext = try! DTLSContext(certificatePEM: metaCert.certificatePEM, privateKeyPEM: metaCert.privateKeyPEM)
    static let bizContext = try! DTLSContext(certificatePEM: bizCert.certificatePEM, privateKeyPEM: bizCert.privateKeyPEM)

    /// Runs a call until `done` holds for the two legs' metrics (Meta's, the business's), or 5 s, and returns
    /// both legs' metrics and events.
    static func call(dtls: Bool, metaIsDTLSClient: Bool = false, impairment: MediaLeg.Impairment = .init(),
                     until done: @escaping @Sendable (MediaLeg.Metrics, MediaLeg.Metrics) -> Bool) async throws
        -> (meta: MediaLeg.Metrics, business: MediaLeg.Metrics, events: [String])
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let events = NIOLockedValueBox<[String]>([])
        let sdesKeyA = (0..<30).map { UInt8($0) }, sdesKeyB = (0..<30).map { UInt8(200 - $0) }
        let metaSecurity: MediaSecurity = dtls
            ? .dtls(context: metaContext, dtlsRole: metaIsDTLSClient ? .client : .server, remoteFingerprint: bizContext.fingerprint)
            : .sdes(profile: .aesCM128HmacSHA1_80, local: sdesKeyA, remote: sdesKeyB)
        let bizSecurity: MediaSecurity = dtls
            ? .dtls(context: bizContext, dtlsRole: metaIsDTLSClient ? .server : .client, remoteFingerprint: metaContext.fingerprint)
            : .sdes(profile: .aesCM128HmacSHA1_80, local: sdesKeyB, remote: sdesKeyA)
        let ice = dtls ? (metaUfrag: "RmDDkfzkwbexPfbC", metaPwd: "+219v9nKr3xSQIn8s+Fy8g==", bizUfrag: "bizU", bizPwd: "business-ice-password-123") : nil
        let sockets = try await loop.submit { () -> NIOLoopBound<(MediaSocket, MediaSocket)> in
            let meta = MediaSocket(leg: MediaLeg(side: .meta, security: metaSecurity, remote: ([127, 0, 0, 1], 0),
                                                 ice: ice.map { ($0.metaUfrag, $0.metaPwd, $0.bizUfrag, $0.bizPwd) }, impairment: impairment, seed: 1),
                                   eventLoop: loop)
            let biz = MediaSocket(leg: MediaLeg(side: .business, security: bizSecurity, remote: ([127, 0, 0, 1], 0),
                                                ice: ice.map { ($0.bizUfrag, $0.bizPwd, $0.metaUfrag, $0.metaPwd) }, seed: 2),
                                  eventLoop: loop)
            meta.onEvent = { e in events.withLockedValue { $0.append("meta \(e)") } }
            biz.onEvent = { e in events.withLockedValue { $0.append("business \(e)") } }
            return NIOLoopBound((meta, biz), eventLoop: loop)
        }.get()
        let metaPort = try await loop.flatSubmit { sockets.value.0.bind() }.get()
        let bizPort = try await loop.flatSubmit { sockets.value.1.bind() }.get()
        try await loop.submit {
            let (meta, biz) = sockets.value
            meta.leg!.remote = ([127, 0, 0, 1], UInt16(bizPort))
            biz.leg!.remote = ([127, 0, 0, 1], UInt16(metaPort))
            meta.start()
            biz.start()
        }.get()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let finished = try await loop.submit { done(sockets.value.0.leg!.metrics, sockets.value.1.leg!.metrics) }.get()
            if finished { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let result = try await loop.submit { () -> (MediaLeg.Metrics, MediaLeg.Metrics) in
            let (meta, biz) = sockets.value
            meta.close()
            biz.close()
            return (meta.leg!.metrics, biz.leg!.metrics)
        }.get()
        try await group.shutdownGracefully()
        return (result.0, result.1, events.withLockedValue { $0 })
    }

    @Test func dtlsSRTPWithICEDecryptsBothWays() async throws {
        let r = try await Self.call(dtls: true) { $0.packetsReceived > 10 && $1.packetsReceived > 10 }
        #expect(r.events.contains("meta iceNominated") && r.events.contains("business secured") && r.events.contains("meta secured"), "\(r.events)")
        #expect(r.meta.packetsReceived > 10 && r.business.packetsReceived > 10, "\(r.meta) \(r.business)")
        #expect(r.meta.packetsUndecryptable == 0 && r.business.packetsUndecryptable == 0)
        // Without loss, ICE and the 3-flight handshake take tens of milliseconds (a debug build: up to ~150).
        #expect((r.meta.clippedMilliseconds ?? 999) <= 400, "\(r.meta)")
        #expect(r.business.clippedMilliseconds == 0, "Meta starts sending at its first received packet: \(r.business)")
        #expect(r.business.clientHelloRetransmissions == 0 && r.business.dtlsHandshakeSeconds != nil)
    }

    /// The business answered `a=setup:passive`: Meta's ICE-lite leg becomes the DTLS client once the pair
    /// is nominated, and media still flows both ways.
    @Test func metaAsDTLSClient() async throws {
        let r = try await Self.call(dtls: true, metaIsDTLSClient: true) { $0.packetsReceived > 10 && $1.packetsReceived > 10 }
        #expect(r.events.contains("meta secured") && r.events.contains("business secured"), "\(r.events)")
        #expect(r.meta.packetsReceived > 10 && r.business.packetsReceived > 10, "\(r.meta) \(r.business)")
    }

    @Test func sdesStartsAtOnce() async throws {
        let r = try await Self.call(dtls: false) { $0.packetsReceived > 5 && $1.packetsReceived > 5 }
        #expect(r.meta.clippedMilliseconds == 0 && r.business.clippedMilliseconds == 0, "\(r.meta) \(r.business)")
        #expect(r.meta.packetsReceived > 5 && r.business.packetsReceived > 5)
        #expect((r.meta.mediaStartSeconds ?? 1) < 0.3, "the first packet decrypts: only scheduling delays it")
    }

    /// One ClientHello lost: the business's DTLS stack retries after 1 s, and about a second of its audio
    /// never reaches Meta (spec §5.5).
    @Test func lostClientHelloClipsAboutOneSecond() async throws {
        let r = try await Self.call(dtls: true, impairment: .init(dropClientHellos: 1)) { $0.packetsReceived > 0 && $1.packetsReceived > 0 }
        let clipped = try #require(r.meta.clippedMilliseconds, "\(r.events)")
        #expect(clipped >= 950 && clipped <= 1200, "\(clipped)")
        #expect(r.business.clientHelloRetransmissions == 1 && r.meta.dtlsDropped == 1)
        #expect(r.business.framesLostBeforeKeys >= 45)
    }

    /// Meta's media watchdog with injected time: nothing from the business for 20 s after the answer.
    @Test func metaMediaTimeoutAtStart() {
        let leg = MediaLeg(side: .meta, security: .sdes(profile: .aesCM128HmacSHA1_80, local: [UInt8](repeating: 1, count: 30),
                                                         remote: [UInt8](repeating: 2, count: 30)),
                           remote: ([127, 0, 0, 1], 9), ice: nil)
        _ = leg.start(now: 100)
        _ = leg.takeEvents()
        #expect(leg.nextWake == 120)
        _ = leg.due(now: 119.9)
        #expect(leg.takeEvents().isEmpty)
        _ = leg.due(now: 120)
        #expect(leg.takeEvents() == [.mediaTimeout(atStart: true)])
    }

    /// Mid-call: media flowed, then nothing for 30 s (injected time; the packet is real SRTP).
    @Test func metaMediaTimeoutMidCall() throws {
        let metaKey = [UInt8](repeating: 1, count: 30), bizKey = [UInt8](repeating: 2, count: 30)
        let leg = MediaLeg(side: .meta, security: .sdes(profile: .aesCM128HmacSHA1_80, local: metaKey, remote: bizKey),
                           remote: ([127, 0, 0, 1], 9), ice: nil)
        _ = leg.start(now: 100)
        let sender = try SRTPSession(profile: .aesCM128HmacSHA1_80, keyAndSalt: bizKey, direction: .outbound)
        var packet: [UInt8] = [0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5] + [UInt8](repeating: 0, count: 40)
        try sender.protect(&packet)
        _ = leg.receive(packet, from: [127, 0, 0, 1], port: 4000, now: 105)
        #expect(leg.takeEvents().contains(.firstMediaReceived))
        _ = leg.due(now: 134.9)
        #expect(!leg.takeEvents().contains(.mediaTimeout(atStart: false)))
        _ = leg.due(now: 135)
        #expect(leg.takeEvents() == [.mediaTimeout(atStart: false)])
    }

    /// `drop_dtls_before_nomination`: Meta's ICE-lite leg ignores DTLS until a check nominated a pair.
    @Test func dtlsBeforeNominationIsDropped() throws {
        let leg = MediaLeg(side: .meta, security: .dtls(context: Self.metaContext, dtlsRole: .server, remoteFingerprint: Self.bizContext.fingerprint),
                           remote: ([127, 0, 0, 1], 9), ice: ("meta", "meta-password-0123456789", "biz", "biz-password-0123456789"),
                           impairment: .init(dropDTLSBeforeNomination: true))
        _ = leg.start(now: 0)
        let client = try DTLSSession(context: Self.bizContext, role: .client, expectedFingerprint: Self.metaContext.fingerprint)
        let hello = try #require(client.start().first)
        #expect(leg.receive(hello, from: [127, 0, 0, 1], port: 4000, now: 0.1).isEmpty)
        #expect(leg.metrics.dtlsDropped == 1)
        // After a nominating check, the same ClientHello gets the server's flight.
        var agent = ICEControllingAgent(localUfrag: "biz", localPwd: "biz-password-0123456789", remoteUfrag: "meta",
                                        remotePwd: "meta-password-0123456789", tieBreaker: 3)
        agent.receive(leg.receive(agent.nextCheck()!, from: [127, 0, 0, 1], port: 4000, now: 0.2)[0])
        _ = leg.receive(agent.nextCheck()!, from: [127, 0, 0, 1], port: 4000, now: 0.3)
        #expect(!leg.receive(hello, from: [127, 0, 0, 1], port: 4000, now: 0.4).isEmpty)
    }

    /// A business that claims the controlled role gets 487 Role Conflict from the ICE-lite side.
    @Test func roleConflict() {
        var lite = ICELiteResponder(localUfrag: "meta", localPwd: "meta-password-0123456789")
        var business = ICEControllingAgent(localUfrag: "biz", localPwd: "biz-password-0123456789", remoteUfrag: "meta",
                                           remotePwd: "meta-password-0123456789", tieBreaker: 7, claimControlled: true)
        let check = business.nextCheck()!
        let reply = lite.receive(check, from: [127, 0, 0, 1], port: 5000)
        business.receive(reply.response!)
        #expect(business.state == .failed("487 Role Conflict"))
        var good = ICEControllingAgent(localUfrag: "biz", localPwd: "biz-password-0123456789", remoteUfrag: "meta",
                                       remotePwd: "meta-password-0123456789", tieBreaker: 7)
        good.receive(lite.receive(good.nextCheck()!, from: [127, 0, 0, 1], port: 5000).response!)
        #expect(good.state == .validated)
        let nominate = good.nextCheck()!
        let r = lite.receive(nominate, from: [127, 0, 0, 1], port: 5000)
        #expect(r.nominatedNow)
        good.receive(r.response!)
        #expect(good.state == .nominated)
        var wrong = ICEControllingAgent(localUfrag: "biz", localPwd: "x", remoteUfrag: "meta", remotePwd: "not-the-password", tieBreaker: 1)
        #expect(lite.receive(wrong.nextCheck()!, from: [127, 0, 0, 1], port: 5000).problem != nil)
    }

    @Test func sdpRoundTrip() throws {
        let text = "v=0\r\no=- 1741113186367 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE audio\r\na=ice-lite\r\n"
            + "m=audio 3480 UDP/TLS/RTP/SAVPF 111 126\r\nc=IN IP4 57.144.135.35\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
            + "a=candidate:1775469887 1 udp 2122260223 57.144.135.35 3480 typ host generation 0 network-cost 50\r\n"
            + "a=ice-ufrag:RmDDkfzkwbexPfbC\r\na=ice-pwd:+219v9nKr3xSQIn8s+Fy8g==\r\na=fingerprint:sha-256 75:85:71\r\n"
            + "a=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:126 telephone-event/8000\r\na=ptime:20\r\n"
        let sdp = try SessionDescription(parsing: text)
        let audio = try #require(sdp.audio)
        #expect(sdp.isICELite && audio.profile == "UDP/TLS/RTP/SAVPF" && audio.formats == [111, 126])
        #expect(audio.iceUfrag == "RmDDkfzkwbexPfbC" && audio.icePwd == "+219v9nKr3xSQIn8s+Fy8g==" && audio.setup == "actpass")
        #expect(audio.fingerprint?.hash == "sha-256" && audio.fingerprint?.value == "75:85:71")
        #expect(audio.candidates.first?.address == "57.144.135.35" && audio.candidates.first?.port == 3480)
        #expect(audio.payloadType("opus/48000") == 111 && audio.payloadType("telephone-event") == 126)
        #expect(sdp.audioAddress == "57.144.135.35")
        #expect(try SessionDescription(parsing: sdp.text) == sdp)
        let sdes = try SessionDescription(parsing: "v=0\nm=audio 4000 RTP/SAVP 111\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\n")
        #expect(sdes.audio?.cryptos.first?.suite == "AES_CM_128_HMAC_SHA1_80" && sdes.audio?.cryptos.first?.key == "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
    }

    /// Found by fuzzing (Fuzz/Regressions/sdp): an m-line whose port is a bare "/" crashed the parser with an
    /// index out of range, from any peer's offer. Now it is a bad media line, as is a port out of range.
    @Test func mediaLineWithoutAPortIsAnError() throws {
        for line in ["m=audio / RTP/AVP 0", "m=audio /2 RTP/AVP 0", "m=audio 70000 RTP/AVP 0", "m=audio -1 RTP/AVP 0"] {
            #expect(throws: SessionDescription.ParseError.badMediaLine(String(line.dropFirst(2)))) { try SessionDescription(parsing: "v=0\r\n\(line)\r\n") }
        }
        #expect(try SessionDescription(parsing: "v=0\r\nm=audio 4000/2 RTP/AVP 0\r\n").media.first?.port == 4000)
    }
}
