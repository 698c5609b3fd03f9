import NIOCore
import SIPAuth
import SIPCore
import SIPTransaction
import SIPTransport
import WasimMedia
import Foundation

/// The business side of a user-initiated call (scenario `direction: uic`): wasim's SBC stand-in answers
/// the INVITEs the mock places as Meta. It optionally challenges them first (407, realm of the business
/// host), rings, answers after a delay with Meta's Record-Route copied into the 200 OK (RFC 3261 §12.1.1,
/// which Meta requires unmodified, spec §3), and answers BYE. One per event loop: the loop's `CallShard`
/// hands it Meta's requests, or, on a loop without a shard, it is the endpoint's handler itself.
final class BusinessUserAgentServer: SIPRequestHandler {
    struct Settings: Sendable {
        /// Challenge each call with 407 before answering, and check the credentials.
        var challenge: Bool
        var realm: String
        var digestUsername: String
        var password: String
        /// Seconds from the INVITE (after authentication) to the 200 OK.
        var answerAfter: Double
        /// Answer an ICE/DTLS offer 488 (an SBC without WebRTC; Meta's fix: switch the number to SDES).
        var rejectDTLS = false
        /// Run media (controlling ICE + DTLS client, or SDES) for Meta's secure offers.
        var dtls: DTLSContext? = nil
        var contactHost: String
        var contactUser: String
        /// The transport the UAS listens on, for its Contact (behind an SBC it is not the transport Meta's
        /// Request-URI names); nil: the Request-URI's.
        var contactTransport: String? = nil
    }

    struct Dialog {
        var toTag: String
        var pending: Scheduled<Void>?
        var transaction: ServerTransactionID?
        var media: MediaSocket?
        /// The dialog once answered, for the business's own BYE.
        var dialog: SIPDialog?
        var flow: SIPFlow?
    }

    let settings: Settings
    let endpoint: SIPEndpoint
    /// The media legs' timers of this loop's calls.
    lazy var mediaScheduler = MediaScheduler(eventLoop: endpoint.eventLoop)
    var digest: DigestServer
    var dialogs: [String: Dialog] = [:]
    var identifiers = FastRandom()
    /// INVITEs answered 200, challenged, and refused (bad credentials).
    var answered = 0, challenged = 0, refused = 0
    /// Calls the business hung up itself.
    var hungUp = 0
    /// SRTP packets from Meta decrypted, over every call; calls whose media ran.
    var mediaPacketsReceived = 0, mediaCalls = 0

    init(settings: Settings, endpoint: SIPEndpoint, secret: [UInt8], shard: Int) {
        self.settings = settings
        self.endpoint = endpoint
        self.digest = DigestServer(policy: DigestServerPolicy(realm: settings.realm), secret: secret, shard: shard)
    }

    func receive(_ request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow) {
        let callID = String(request.callID ?? "")
        let hasToTag = (try? request.to())?.tag != nil
        switch request.method {
        case .invite where !hasToTag:
            receiveInvite(request, callID: callID, transaction: transaction, flow: flow)
        case .invite:
            // No re-INVITE towards Meta's dialogs either: refuse, as Meta would.
            endpoint.respond(SIPResponse(to: request, status: 488), to: transaction)
        case .bye:
            let known = dialogs.removeValue(forKey: callID)
            known?.pending?.cancel()
            if let media = known?.media {
                if let m = media.leg?.metrics { mediaPacketsReceived += m.packetsReceived; mediaCalls += 1 }
                media.close()
            }
            endpoint.respond(SIPResponse(to: request, status: known == nil ? 481 : 200), to: transaction)
        case .options:
            endpoint.respond(SIPResponse(to: request, status: 200, toTag: identifiers.uuid()), to: transaction)
        default:
            var response = SIPResponse(to: request, status: 405, toTag: identifiers.uuid())
            response.headers.add(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS")
            endpoint.respond(response, to: transaction)
        }
    }

    private func receiveInvite(_ request: SIPRequest, callID: String, transaction: ServerTransactionID, flow: SIPFlow) {
        let now = NIODeadline.now().uptimeNanoseconds / 1_000_000_000
        if settings.challenge {
            let header = request.headers[.proxyAuthorization]
            guard let header, let credentials = try? DigestCredentials(parsing: header) else {
                challenged += 1
                var response = SIPResponse(to: request, status: 407, toTag: identifiers.uuid())
                for challenge in digest.challenges(now: now, opaque: FastRandom.hex(identifiers.next(), digits: 8)) {
                    response.headers.add(.proxyAuthenticate, challenge.headerValue)
                }
                endpoint.respond(response, to: transaction)
                return
            }
            let password = credentials.username == settings.digestUsername ? settings.password : nil
            guard digest.verify(credentials, method: .invite, password: password, now: now) == .accepted else {
                refused += 1
                endpoint.respond(SIPResponse(to: request, status: 403, toTag: identifiers.uuid()), to: transaction)
                return
            }
        }
        let offer = request.body.getString(at: request.body.readerIndex, length: request.body.readableBytes) ?? ""
        if settings.rejectDTLS, offer.contains("UDP/TLS/RTP/SAVP") {
            refused += 1
            endpoint.respond(SIPResponse(to: request, status: 488, reason: "Not Acceptable Here", toTag: identifiers.uuid()), to: transaction)
            return
        }
        guard let plan = mediaPlan(offer) else {
            proceed(request, callID: callID, transaction: transaction, flow: flow, media: nil, answerSDP: nil)
            return
        }
        let socket = MediaSocket(leg: nil, eventLoop: endpoint.eventLoop, scheduler: mediaScheduler)
        socket.bind(host: settings.contactHost.split(separator: ":").first.map(String.init) ?? "127.0.0.1")
            .assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
                guard let port = try? result.get() else {
                    proceed(request, callID: callID, transaction: transaction, flow: flow, media: nil, answerSDP: nil)
                    return
                }
                socket.leg = plan.leg(port)
                proceed(request, callID: callID, transaction: transaction, flow: flow, media: socket, answerSDP: plan.answer(port))
            }
    }

    /// What the business answers to Meta's secure offer: controlling ICE and the DTLS client role
    /// (`a=setup:active`, as Meta recommends), or SDES with its own key.
    struct MediaPlan {
        var answer: (Int) -> String
        var leg: (Int) -> MediaLeg
    }

    func mediaPlan(_ offerText: String) -> MediaPlan? {
        guard let context = settings.dtls, let offer = try? SessionDescription(parsing: offerText), let audio = offer.audio else { return nil }
        let host = settings.contactHost.split(separator: ":").first.map(String.init) ?? "127.0.0.1"
        let address = (offer.audioAddress ?? "127.0.0.1").split(separator: ".").compactMap { UInt8($0) }
        guard address.count == 4 else { return nil }
        let remote = (address, UInt16(clamping: audio.candidates.first?.port ?? audio.port))
        func sdp(_ port: Int, _ profile: String, _ extra: [String]) -> String {
            (["v=0", "o=- 1 1 IN IP4 \(host)", "s=wasim business", "t=0 0", "m=audio \(port) \(profile) 111 126", "c=IN IP4 \(host)"] + extra
                + ["a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000", "a=ptime:20", "a=sendrecv", ""]).joined(separator: "\r\n")
        }
        if audio.profile.hasPrefix("UDP/TLS/RTP/SAVP"), let fingerprint = audio.fingerprint, let remoteUfrag = audio.iceUfrag, let remotePwd = audio.icePwd {
            let ufrag = FastRandom.hex(identifiers.next(), digits: 8), pwd = FastRandom.hex(identifiers.next(), digits: 16) + FastRandom.hex(identifiers.next(), digits: 8)
            let seed = identifiers.next()
            return MediaPlan(
                answer: { port in
                    sdp(port, audio.profile, ["a=candidate:1 1 udp 2130706431 \(host) \(port) typ host", "a=ice-ufrag:\(ufrag)", "a=ice-pwd:\(pwd)",
                                             "a=fingerprint:sha-256 \(context.fingerprint)", "a=setup:active"])
                },
                leg: { _ in
                    MediaLeg(side: .business, security: .dtls(context: context, dtlsRole: .client, remoteFingerprint: fingerprint.value),
                             remote: remote, ice: (ufrag, pwd, remoteUfrag, remotePwd), seed: seed)
                })
        }
        if audio.profile == "RTP/SAVP", let crypto = audio.cryptos.first, let profile = SRTPProfile(rawValue: crypto.suite),
           let remoteKey = Data(base64Encoded: crypto.key), remoteKey.count == profile.keyLength + profile.saltLength
        {
            let key = (0..<(profile.keyLength + profile.saltLength)).map { _ in UInt8(truncatingIfNeeded: identifiers.next()) }
            let seed = identifiers.next()
            return MediaPlan(
                answer: { port in sdp(port, "RTP/SAVP", ["a=crypto:\(crypto.tag) \(profile.rawValue) inline:\(Data(key).base64EncodedString())"]) },
                leg: { _ in MediaLeg(side: .business, security: .sdes(profile: profile, local: key, remote: Array(remoteKey)), remote: remote, ice: nil, seed: seed) })
        }
        return nil
    }

    private func proceed(_ request: SIPRequest, callID: String, transaction: ServerTransactionID, flow: SIPFlow, media: MediaSocket?, answerSDP: String?) {
        let toTag = identifiers.uuid()
        endpoint.respond(ringing(request, toTag: toTag), to: transaction)
        dialogs[callID] = Dialog(toTag: toTag, transaction: transaction, media: media, flow: flow)
        let hangUpAfter = request.headers[SIPHeaderName(WasimControlHeader.hangUpAfter)].flatMap(WasimControlHeader.parseSeconds)
        let answer = { [self] in
            guard dialogs[callID] != nil, endpoint.isProceeding(transaction) else { return }
            dialogs[callID]?.pending = nil
            answered += 1
            endpoint.respond(ok(request, toTag: toTag, sdp: answerSDP), to: transaction)
            // The business sends first (Meta waits for its first SRTP packet).
            media?.start()
            if let hangUpAfter {
                // RFC 3261 §12.1.1: the UAS's dialog; its route set is Meta's Record-Route, in order.
                dialogs[callID]?.dialog = try? SIPDialog(uas: request, localTag: toTag)
                dialogs[callID]?.pending = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked()
                    .scheduleTask(in: .nanoseconds(Int64(hangUpAfter * 1e9))) { [self] in hangUp(callID) }
            }
        }
        if settings.answerAfter <= 0 {
            answer()
        } else {
            dialogs[callID]?.pending = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked()
                .scheduleTask(in: .nanoseconds(Int64(settings.answerAfter * 1e9))) { answer() }
        }
    }

    /// The business hangs up (the scenario's hold is over): a BYE along Meta's route set (RFC 3261 §12.2.1.1),
    /// on the connection the call came in on.
    private func hangUp(_ callID: String) {
        guard var entry = dialogs.removeValue(forKey: callID), var dialog = entry.dialog, let flow = entry.flow else { return }
        entry.pending = nil
        let bye = dialog.makeRequest(.bye)
        if let media = entry.media {
            if let m = media.leg?.metrics { mediaPacketsReceived += m.packetsReceived; mediaCalls += 1 }
            media.close()
        }
        hungUp += 1
        endpoint.sendRequest(bye, on: flow) { _ in }
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceive request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow) {
        receive(request, transaction: transaction, flow: flow)
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceiveCancel request: SIPRequest, invite: ServerTransactionID?, flow: SIPFlow) {
        if let invite { cancelled(invite) }
    }

    /// Meta CANCELled (its answer window ran out): 487 for the INVITE.
    func cancelled(_ invite: ServerTransactionID) {
        guard let request = endpoint.request(of: invite), let callID = request.callID.map(String.init),
              let dialog = dialogs.removeValue(forKey: callID) else { return }
        dialog.pending?.cancel()
        dialog.media?.close()
        endpoint.respond(SIPResponse(to: request, status: 487, toTag: dialog.toTag), to: invite)
    }

    private func withRoute(_ response: inout SIPResponse, _ request: SIPRequest) {
        // RFC 3261 §12.1.1: the Record-Route of the request, copied in order, unchanged.
        for rr in request.headers.values(.recordRoute) { response.headers.add(.recordRoute, String(rr)) }
        response.headers.add(.contact, "<sip:\(settings.contactUser)@\(settings.contactHost);transport=\(settings.contactTransport ?? request.uri.transport ?? "tls")>")
    }

    private func ringing(_ request: SIPRequest, toTag: String) -> SIPResponse {
        var response = SIPResponse(to: request, status: 180, toTag: toTag)
        withRoute(&response, request)
        return response
    }

    private func ok(_ request: SIPRequest, toTag: String, sdp: String?) -> SIPResponse {
        var response = SIPResponse(to: request, status: 200, toTag: toTag)
        withRoute(&response, request)
        response.headers.add(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS")
        response.headers.add(.contentType, "application/sdp")
        if let sdp {
            response.body = ByteBuffer(string: sdp)
            return response
        }
        let host = settings.contactHost.split(separator: ":").first.map(String.init) ?? settings.contactHost
        let profile = request.body.readableBytes > 0 && request.body.getString(at: request.body.readerIndex, length: request.body.readableBytes)?.contains("RTP/SAVP ") == true
            ? "RTP/SAVP" : "UDP/TLS/RTP/SAVPF"
        response.body = ByteBuffer(string: [
            "v=0", "o=- 1 1 IN IP4 \(host)", "s=wasim business", "t=0 0", "m=audio 40000 \(profile) 111 126", "c=IN IP4 \(host)",
            "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000", "a=ptime:20",
            "a=setup:active", "a=sendrecv", "",
        ].joined(separator: "\r\n"))
        return response
    }
}
