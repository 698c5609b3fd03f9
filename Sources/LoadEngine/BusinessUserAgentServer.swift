import NIOCore
import SIPAuth
import SIPCore
import SIPTransaction
import SIPTransport

/// The business side of a user-initiated call (scenario `direction: uic`): wasim's SBC stand-in answers
/// the INVITEs the mock places as Meta. It optionally challenges them first (407, realm of the business
/// host), rings, answers after a delay with Meta's Record-Route copied into the 200 OK (RFC 3261 §12.1.1,
/// which Meta requires unmodified, spec §3), and answers BYE. One per event loop.
final class BusinessUserAgentServer {
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
        var contactHost: String
        var contactUser: String
    }

    struct Dialog {
        var toTag: String
        var pending: Scheduled<Void>?
        var transaction: ServerTransactionID?
    }

    let settings: Settings
    let endpoint: SIPEndpoint
    var digest: DigestServer
    var dialogs: [String: Dialog] = [:]
    var identifiers = FastRandom()
    /// INVITEs answered 200, challenged, and refused (bad credentials).
    var answered = 0, challenged = 0, refused = 0

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
            receiveInvite(request, callID: callID, transaction: transaction)
        case .invite:
            // No re-INVITE towards Meta's dialogs either: refuse, as Meta would.
            endpoint.respond(SIPResponse(to: request, status: 488), to: transaction)
        case .bye:
            let known = dialogs.removeValue(forKey: callID)
            known?.pending?.cancel()
            endpoint.respond(SIPResponse(to: request, status: known == nil ? 481 : 200), to: transaction)
        case .options:
            endpoint.respond(SIPResponse(to: request, status: 200, toTag: identifiers.uuid()), to: transaction)
        default:
            var response = SIPResponse(to: request, status: 405, toTag: identifiers.uuid())
            response.headers.add(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS")
            endpoint.respond(response, to: transaction)
        }
    }

    private func receiveInvite(_ request: SIPRequest, callID: String, transaction: ServerTransactionID) {
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
        let toTag = identifiers.uuid()
        endpoint.respond(ringing(request, toTag: toTag), to: transaction)
        dialogs[callID] = Dialog(toTag: toTag, transaction: transaction)
        let answer = { [self] in
            guard dialogs[callID] != nil, endpoint.isProceeding(transaction) else { return }
            dialogs[callID]?.pending = nil
            answered += 1
            endpoint.respond(ok(request, toTag: toTag), to: transaction)
        }
        if settings.answerAfter <= 0 {
            answer()
        } else {
            dialogs[callID]?.pending = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked()
                .scheduleTask(in: .nanoseconds(Int64(settings.answerAfter * 1e9))) { answer() }
        }
    }

    /// Meta CANCELled (its answer window ran out): 487 for the INVITE.
    func cancelled(_ invite: ServerTransactionID) {
        guard let request = endpoint.request(of: invite), let callID = request.callID.map(String.init),
              let dialog = dialogs.removeValue(forKey: callID) else { return }
        dialog.pending?.cancel()
        endpoint.respond(SIPResponse(to: request, status: 487, toTag: dialog.toTag), to: invite)
    }

    private func withRoute(_ response: inout SIPResponse, _ request: SIPRequest) {
        // RFC 3261 §12.1.1: the Record-Route of the request, copied in order, unchanged.
        for rr in request.headers.values(.recordRoute) { response.headers.add(.recordRoute, String(rr)) }
        response.headers.add(.contact, "<sip:\(settings.contactUser)@\(settings.contactHost);transport=\(request.uri.transport ?? "tls")>")
    }

    private func ringing(_ request: SIPRequest, toTag: String) -> SIPResponse {
        var response = SIPResponse(to: request, status: 180, toTag: toTag)
        withRoute(&response, request)
        return response
    }

    private func ok(_ request: SIPRequest, toTag: String) -> SIPResponse {
        var response = SIPResponse(to: request, status: 200, toTag: toTag)
        withRoute(&response, request)
        response.headers.add(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS")
        response.headers.add(.contentType, "application/sdp")
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
