import Foundation
import NIOCore
import SIPTransport
import WasimMedia

/// The business's media for one BIC (scenario `media:`): a UDP socket bound before the INVITE so the offer
/// carries its port, an offer shaped as an SBC facing Meta sends it (ICE + DTLS-SRTP with `a=setup:actpass`,
/// or SDES with an `a=crypto` line), and, once Meta answers, a controlling `MediaLeg` that runs ICE, DTLS
/// and paced SRTP and measures media start and clipping. Lives on the call's event loop.
final class BusinessMedia {
    let security: String
    let socket: MediaSocket
    let host: String
    let context: DTLSContext
    let probeSeconds: Double?
    var dtlsRetransmit: Double = 1
    let ufrag: String
    let pwd: String
    let sdesKey: [UInt8]
    var port = 0
    var started = false

    init(security: String, host: String, context: DTLSContext, probeSeconds: Double?, eventLoop: any EventLoop,
         scheduler: MediaScheduler?, random: inout FastRandom)
    {
        self.security = security
        self.host = host
        self.context = context
        self.probeSeconds = probeSeconds
        socket = MediaSocket(leg: nil, eventLoop: eventLoop, scheduler: scheduler)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        ufrag = String((0..<8).map { _ in alphabet[Int(random.next() % 36)] })
        pwd = String((0..<24).map { _ in alphabet[Int(random.next() % 36)] })
        sdesKey = (0..<30).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    func bind() -> EventLoopFuture<Int> {
        socket.bind(host: host).assumeIsolatedUnsafeUnchecked().map { [self] port in
            self.port = port
            return port
        }.nonisolated()
    }

    /// The SDP offer (Opus 111, telephone-event 126, 20 ms, rtcp-mux, one SSRC).
    var offer: String {
        var lines = ["v=0", "o=- \(UInt64(Date().timeIntervalSince1970)) 1 IN IP4 \(host)", "s=wasim", "t=0 0"]
        if security == "dtls" {
            lines += ["m=audio \(port) UDP/TLS/RTP/SAVPF 111 126", "c=IN IP4 \(host)",
                      "a=candidate:1 1 udp 2130706431 \(host) \(port) typ host",
                      "a=ice-ufrag:\(ufrag)", "a=ice-pwd:\(pwd)", "a=fingerprint:sha-256 \(context.fingerprint)", "a=setup:actpass"]
        } else {
            lines += ["m=audio \(port) RTP/SAVP 111 126", "c=IN IP4 \(host)",
                      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Data(sdesKey).base64EncodedString())"]
        }
        lines += ["a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=20;useinbandfec=1",
                  "a=rtpmap:126 telephone-event/8000", "a=ptime:20", "a=sendrecv", ""]
        return lines.joined(separator: "\r\n")
    }

    /// Meta answered: build the leg from its SDP and start it. Returns a problem in words, or nil.
    func answered(_ sdpText: String) -> String? {
        guard !started else { return nil }
        started = true
        guard let answer = try? SessionDescription(parsing: sdpText), let audio = answer.audio else { return "no SDP answer" }
        let address = (answer.audioAddress ?? "127.0.0.1").split(separator: ".").compactMap { UInt8($0) }
        guard address.count == 4 else { return "answer address is not IPv4" }
        let remote = (address, UInt16(clamping: audio.candidates.first?.port ?? audio.port))
        let leg: MediaLeg
        if security == "dtls" {
            guard let fingerprint = audio.fingerprint, let remoteUfrag = audio.iceUfrag, let remotePwd = audio.icePwd else {
                return "answer without ICE credentials or fingerprint"
            }
            // Meta answering passive makes the business the DTLS client (what Meta recommends, spec §5.5).
            let role: DTLSSession.Role = audio.setup == "active" ? .server : .client
            leg = MediaLeg(side: .business, security: .dtls(context: context, dtlsRole: role, remoteFingerprint: fingerprint.value),
                           remote: remote, ice: (ufrag, pwd, remoteUfrag, remotePwd), seed: UInt64(port))
        } else {
            guard let crypto = audio.cryptos.first, let profile = SRTPProfile(rawValue: crypto.suite),
                  let key = Data(base64Encoded: crypto.key), key.count == profile.keyLength + profile.saltLength
            else { return "answer without a usable a=crypto line" }
            leg = MediaLeg(side: .business, security: .sdes(profile: profile, local: sdesKey, remote: Array(key)), remote: remote,
                           ice: nil, seed: UInt64(port))
        }
        leg.probeSeconds = probeSeconds
        leg.dtlsInitialRetransmit = dtlsRetransmit
        socket.leg = leg
        socket.start()
        return nil
    }

    var metrics: MediaLeg.Metrics? { socket.leg?.metrics }

    func close() { socket.close() }
}
