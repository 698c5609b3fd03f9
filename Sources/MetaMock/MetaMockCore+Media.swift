import Foundation
import NIOCore
import SIPCore
import SIPTransport
import WasimMedia

/// The media of one mock call: the leg's socket and what was negotiated.
struct MockMedia {
    var socket: MediaSocket
    var security: String
}

/// What the business offered, and the leg Meta answers it with (spec §5): ICE-lite + DTLS-SRTP for
/// `UDP/TLS/RTP/SAVPF` with a fingerprint and ICE credentials, SDES for `RTP/SAVP` with `a=crypto`, no media
/// for anything else (lab peers offering plain RTP).
enum MockMediaPlan {
    struct Plan {
        var security: MediaSecurity
        var kind: String
        var ice: (localUfrag: String, localPwd: String, remoteUfrag: String, remotePwd: String)?
        var remote: (address: [UInt8], port: UInt16)
        var answer: (Int) -> String
    }

    static func make(offerText: String, configuration: MockConfiguration, context: DTLSContext, host: String,
                     g711: (payloadType: Int, name: String)? = nil, sessionMillis: UInt64, random: inout FastRandom) -> Plan?
    {
        guard let offer = try? SessionDescription(parsing: offerText), let audio = offer.audio else { return nil }
        let address = (offer.audioAddress ?? "127.0.0.1").split(separator: ".").compactMap { UInt8($0) }
        guard address.count == 4 else { return nil }
        let remote = (address, UInt16(clamping: audio.candidates.first?.port ?? audio.port))
        let opus = g711?.payloadType ?? audio.payloadType("opus/48000") ?? 111
        let dtmf = audio.payloadType("telephone-event/8000") ?? 126
        let session = sessionMillis
        let ssrc = UInt32(truncatingIfNeeded: random.next() | 1)
        let stream = random.uuid()
        func lines(_ port: Int, profile: String, security: [String]) -> String {
            ([
                "v=0", "o=- \(session) 2 IN IP4 \(host)", "s=-", "t=0 0", "a=group:BUNDLE audio",
            ] + (profile == "UDP/TLS/RTP/SAVPF" ? ["a=ice-lite"] : []) + [
                "m=audio \(port) \(profile) \(opus) \(dtmf)", "c=IN IP4 \(host)", "a=rtcp:9 IN IP4 0.0.0.0",
            ] + security + [
                "a=mid:audio", "a=sendrecv", "a=msid:\(stream) WhatsAppTrack1", "a=rtcp-mux",
            ] + (g711.map { ["a=rtpmap:\(opus) \($0.name)"] } ?? [
                "a=rtpmap:\(opus) opus/48000/2",
                "a=fmtp:\(opus) maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1",
            ]) + [
                "a=rtpmap:\(dtmf) telephone-event/8000", "a=maxptime:20", "a=ptime:20", "a=ssrc:\(ssrc) cname:WhatsAppAudioStream1", "",
            ]).joined(separator: "\r\n")
        }
        // DTLS offers: `UDP/TLS/RTP/SAVPF` (WebRTC style, Meta's own) or `UDP/TLS/RTP/SAVP` (RFC 5764), which
        // Meta answers in its own profile.
        if audio.profile.hasPrefix("UDP/TLS/RTP/SAVP"), let fingerprint = audio.fingerprint ?? answerFingerprint(offer), fingerprint.hash == "sha-256",
           let ufrag = audio.iceUfrag ?? sessionValue(offer, "ice-ufrag"), let pwd = audio.icePwd ?? sessionValue(offer, "ice-pwd")
        {
            // The business offers actpass or active: Meta is the DTLS server (passive); an offer of passive
            // makes Meta the client (spec §5.5).
            let metaActive = audio.setup == "passive" || (audio.setup == "actpass" && configuration.media.bicDTLSSetup == "active")
            let localUfrag = ICECredentials.ufrag(&random), localPwd = ICECredentials.pwd(&random)
            let candidate = random.next() % 4_000_000_000
            return Plan(
                security: .dtls(context: context, dtlsRole: metaActive ? .client : .server, remoteFingerprint: fingerprint.value),
                kind: "dtls", ice: (localUfrag, localPwd, ufrag, pwd), remote: remote,
                answer: { port in
                    lines(port, profile: "UDP/TLS/RTP/SAVPF", security: [
                        "a=candidate:\(candidate) 1 udp 2122260223 \(host) \(port) typ host generation 0 network-cost 50",
                        "a=ice-ufrag:\(localUfrag)", "a=ice-pwd:\(localPwd)", "a=fingerprint:sha-256 \(context.fingerprint)",
                        "a=setup:\(metaActive ? "active" : "passive")",
                    ])
                })
        }
        if audio.profile == "RTP/SAVP", let crypto = audio.cryptos.first(where: { SRTPProfile(rawValue: $0.suite) != nil }),
           let profile = SRTPProfile(rawValue: crypto.suite), let remoteKey = Data(base64Encoded: crypto.key),
           remoteKey.count == profile.keyLength + profile.saltLength
        {
            let localKey = (0..<(profile.keyLength + profile.saltLength)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return Plan(
                security: .sdes(profile: profile, local: localKey, remote: Array(remoteKey)), kind: "sdes", ice: nil, remote: remote,
                answer: { port in
                    lines(port, profile: "RTP/SAVP", security: ["a=crypto:\(crypto.tag) \(profile.rawValue) inline:\(Data(localKey).base64EncodedString())"])
                })
        }
        return nil
    }
}

/// A session-level attribute value (`ice-ufrag`, `ice-pwd` may sit there, RFC 8839 §5.4).
private func sessionValue(_ sdp: SessionDescription, _ name: String) -> String? {
    sdp.attributes.first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
}

/// A session-level fingerprint (RFC 8122 allows it there).
private func answerFingerprint(_ sdp: SessionDescription) -> (hash: String, value: String)? {
    guard let v = sdp.attributes.first(where: { $0.hasPrefix("fingerprint:") })?.dropFirst(12) else { return nil }
    let parts = v.split(separator: " ", maxSplits: 1)
    return parts.count == 2 ? (String(parts[0]).lowercased(), String(parts[1])) : nil
}

/// ICE credentials shaped like Meta's (spec §5.2): a 16-character alphanumeric ufrag, a 24-character
/// base64 password.
enum ICECredentials {
    static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func ufrag(_ random: inout FastRandom) -> String {
        String((0..<16).map { _ in alphanumerics[Int(random.next() % UInt64(alphanumerics.count))] })
    }

    static func pwd(_ random: inout FastRandom) -> String {
        Data((0..<16).map { _ in UInt8(truncatingIfNeeded: random.next()) }).base64EncodedString()
    }
}

extension MetaMockCore {
    /// Binds a media socket of Meta's on a free port of `media.ports` (given back when the socket closes), or
    /// an ephemeral port when there is no pool, all its ports are in use, or the port cannot be bound.
    func bindMedia(_ socket: MediaSocket) -> EventLoopFuture<Int> {
        let host = endpoint.advertisedHost
        guard let pool = mediaPorts else { return socket.bind(host: host) }
        let (taken, first) = pool.take()
        guard let port = taken else {
            if first { log("media: every fixed port of media.ports is in use: further legs take ephemeral ports") }
            return socket.bind(host: host)
        }
        return socket.bind(host: host, port: port).map { bound in
            socket.onClose = { pool.release(port) }
            return bound
        }.flatMapError { [self] error in
            pool.release(port)
            log("media: cannot bind fixed port \(port) (\(error)): an ephemeral port instead")
            return socket.bind(host: host)
        }
    }

    /// Starts the media of an answered BIC when the offer asks for secure media; `respond` gets the SDP
    /// answer (with the bound port) or the description-only answer when there is no media to run.
    func prepareMedia(_ request: SIPRequest, callID: String, user: String, respond: @escaping (String) -> Void) {
        let summary = calls[callID]?.offer ?? SDPOfferSummary(request.body)
        let g711 = calls[callID]?.g711
        // Plain RTP offers (lab peers) get the description only; secure ones are parsed in full for the leg.
        guard configuration.media.enabled, summary.asksForSecureMedia, let context = dtlsContext,
              let plan = MockMediaPlan.make(offerText: request.body.getString(at: request.body.readerIndex, length: request.body.readableBytes) ?? "",
                                            configuration: configuration, context: context, host: endpoint.advertisedHost, g711: g711,
                                            sessionMillis: UInt64(clock.wallNow() * 1000), random: &random)
        else {
            respond(MockSessionDescription.answer(to: summary, host: endpoint.advertisedHost, sessionMillis: UInt64(clock.wallNow() * 1000),
                                                 g711: g711, random: &random))
            return
        }
        let impairment = configuration.userGroup(user)?.mediaImpairment ?? configuration.media.impairment
        let leg = MediaLeg(side: .meta, security: plan.security, remote: plan.remote, ice: plan.ice, impairment: impairment,
                           seed: random.next())
        leg.probeSeconds = configuration.media.probeSeconds
        leg.mediaStartTimeout = clock.realSeconds(configuration.mediaStartTimeoutSeconds)
        leg.mediaTimeout = clock.realSeconds(configuration.mediaTimeoutSeconds)
        let socket = MediaSocket(leg: leg, eventLoop: endpoint.eventLoop, scheduler: mediaScheduler)
        socket.onEvent = { [weak self] event in self?.mediaEvent(event, callID: callID) }
        bindMedia(socket).assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
            switch result {
            case .success(let port):
                calls[callID]?.media = MockMedia(socket: socket, security: plan.kind)
                ledger.update(callID) { $0.mediaSecurity = plan.kind }
                respond(plan.answer(port))
                socket.start()
            case .failure:
                respond(MockSessionDescription.answer(to: summary, host: endpoint.advertisedHost, sessionMillis: UInt64(clock.wallNow() * 1000),
                                                 g711: g711, random: &random))
            }
        }
    }

    /// The Meta leg's events: media arriving, and the watchdog (spec §8: 20 s without media at the start,
    /// 30 s mid-call; `timers.media_start_timeout`, `timers.media_timeout`) that ends the call with a BYE carrying the reason seen live.
    func mediaEvent(_ event: MediaLeg.Event, callID: String) {
        switch event {
        case .mediaTimeout(let atStart):
            log("media \(callID): no media from the business for \(Int(atStart ? configuration.mediaStartTimeoutSeconds : configuration.mediaTimeoutSeconds)) s: Meta hangs up")
            metaHangsUp(callID, reason: "SIP;cause=408;text=\"not receiving any media for a long time\"", rule: "media timeout")
        case .failed(let why):
            log("media \(callID): \(why)")
            ledger.update(callID) { $0.mediaProblem = why }
        default:
            break
        }
    }

    /// Copies the leg's measurements into the ledger and closes its socket.
    func closeMedia(_ callID: String) {
        guard let media = calls[callID]?.media else { return }
        guard let m = media.socket.leg?.metrics else { media.socket.close(); calls[callID]?.media = nil; return }
        ledger.update(callID) {
            $0.mediaPacketsReceived = m.packetsReceived
            $0.mediaPacketsSent = m.packetsSent
            $0.mediaStartMs = m.mediaStartSeconds.map { $0 * 1000 }
            $0.clippedMs = m.clippedMilliseconds
        }
        media.socket.close()
        calls[callID]?.media = nil
    }
}
