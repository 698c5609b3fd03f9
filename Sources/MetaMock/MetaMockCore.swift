import Foundation
import NIOCore
import SIPAuth
import SIPCore
import SIPTransaction
import SIPTransport

/// The mock's transaction user on one event loop: Meta's BIC pipeline, in-dialog handling and the
/// answers Meta gives to everything else (spec §2–§4). Its state (dialogs, ledger, digest replay table)
/// belongs to its loop alone.
final class MetaMockCore: SIPRequestHandler {
    struct Dialog {
        var dialog: SIPDialog
        var flow: SIPFlow
        var confirmed = false
    }

    let configuration: MockConfiguration
    let policy: BICInvitePolicy
    let shaping: MetaResponseShaping
    var digest: DigestServer
    var ledger = MockCallLedger()
    var dialogs: [String: Dialog] = [:]
    /// INVITE transactions waiting for the user to answer, by Call-ID.
    var ringing: [String: (transaction: ServerTransactionID, toTag: String, scheduled: Scheduled<Void>?)] = [:]
    var challengesSent = 0
    let clock: MockClock

    init(configuration: MockConfiguration, secret: [UInt8], shard: Int, clock: MockClock) {
        self.configuration = configuration
        self.policy = BICInvitePolicy(configuration: configuration)
        self.shaping = MetaResponseShaping(configuration: configuration)
        self.digest = DigestServer(
            policy: DigestServerPolicy(realm: configuration.domain, algorithms: configuration.digestAlgorithms,
                                       nonceLifetime: configuration.nonceLifetimeSeconds),
            secret: secret, shard: shard)
        self.clock = clock
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceive request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow) {
        let callID = String(request.callID ?? "")
        let toTag = (try? request.to())?.tag
        switch request.method {
        case .invite where toTag != nil:
            // Re-INVITE: "Re-INVITES are not supported today" (spec §2.2, FAQ).
            endpoint.respond(shaping.response(to: request, status: 500, reason: "Internal Server Error", toTag: nil), to: transaction)
        case .invite:
            receiveInvite(request, transaction: transaction, flow: flow, endpoint: endpoint)
        case .bye:
            guard dialogs[callID] != nil, toTag == dialogs[callID]?.dialog.id.localTag else {
                endpoint.respond(shaping.response(to: request, status: 481, toTag: nil), to: transaction)
                return
            }
            dialogs[callID] = nil
            ledger.close(callID) {
                $0.endedAt = clock.wallNow()
                $0.endedBy = "business"
            }
            endpoint.respond(shaping.response(to: request, status: 200, toTag: nil), to: transaction)
        case .register:
            // "A REGISTER to Meta gets 403 Forbidden" (spec §1).
            endpoint.respond(shaping.rejection(to: request, status: 403, reason: "Forbidden", toTag: MetaResponseShaping.uuidTag()), to: transaction)
        case .options:
            var response = shaping.response(to: request, status: 200, toTag: MetaResponseShaping.uuidTag())
            response.headers.add(.accept, "application/sdp")
            endpoint.respond(response, to: transaction)
        case .notify:
            let known = dialogs[callID] != nil
            endpoint.respond(shaping.response(to: request, status: known ? 200 : 481, toTag: nil), to: transaction)
        default:
            // RFC 3261 §8.2.1: 405 with the Allow list.
            endpoint.respond(shaping.response(to: request, status: 405, toTag: MetaResponseShaping.uuidTag()), to: transaction)
        }
    }

    private func receiveInvite(_ request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow, endpoint: SIPEndpoint) {
        let callID = String(request.callID ?? "")
        switch policy.evaluate(request, digest: &digest, now: clock.monotonicSeconds()) {
        case .challenge(let stale):
            challengesSent += 1
            var response = shaping.response(to: request, status: 407, toTag: MetaResponseShaping.uuidTag(), flow: flow)
            let opaque = String(format: "%016llx", UInt64.random(in: 0...UInt64.max))
            for challenge in digest.challenges(now: clock.monotonicSeconds(), opaque: opaque, stale: stale) {
                response.headers.add(.proxyAuthenticate, challenge.headerValue)
            }
            endpoint.respond(response, to: transaction)
        case .reject(let status, let reason, let rule):
            let from = (try? request.from())?.uri.description ?? ""
            ledger.open(MockCallRecord(callID: callID, direction: .bic, from: from, to: request.uri.description,
                                       startedAt: clock.wallNow(), finalStatus: status, reason: reason, rule: rule))
            ledger.close(callID) { $0.endedAt = clock.wallNow() }
            endpoint.respond(shaping.rejection(to: request, status: status, reason: reason, toTag: MetaResponseShaping.uuidTag(), flow: flow), to: transaction)
        case .accept:
            let from = (try? request.from())?.uri.description ?? ""
            ledger.open(MockCallRecord(callID: callID, direction: .bic, from: from, to: request.uri.description, startedAt: clock.wallNow()))
            endpoint.respond(shaping.response(to: request, status: 100, toTag: nil, flow: flow), to: transaction)
            let toTag = MetaResponseShaping.uuidTag()
            if configuration.sendRinging {
                endpoint.respond(shaping.response(to: request, status: 180, toTag: toTag, flow: flow), to: transaction)
            }
            let delay = configuration.answerDelayMilliseconds
            if delay <= 0 {
                answer(request, transaction: transaction, toTag: toTag, flow: flow, endpoint: endpoint)
            } else {
                let scheduled = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .milliseconds(Int64(delay))) { [self] in
                    guard ringing[callID] != nil else { return }
                    ringing[callID] = nil
                    answer(request, transaction: transaction, toTag: toTag, flow: flow, endpoint: endpoint)
                }
                ringing[callID] = (transaction, toTag, scheduled)
            }
        }
    }

    /// The user answers: 200 OK with Meta's headers and an SDP answer; the dialog is made now (RFC 3261 §12.1.1).
    private func answer(_ request: SIPRequest, transaction: ServerTransactionID, toTag: String, flow: SIPFlow, endpoint: SIPEndpoint) {
        guard endpoint.isProceeding(transaction) else { return }
        let callID = String(request.callID ?? "")
        var response = shaping.response(to: request, status: 200, toTag: toTag, flow: flow)
        let user = request.uri.userNumber.map(String.init) ?? ""
        let transport = configuration.labRouteHost == nil ? "tls" : flow.transport.rawValue
        response.headers.add(.contact, "<sip:\(user)@\(shaping.contactHost(flow));transport=\(transport);ob;X-FB-Sip-Smc-Tier=collaboration.sip_gateway.sip.prod>;isfocus")
        response.headers.add(.supported, "timer")
        response.headers.add(.contentType, "application/sdp")
        response.body = ByteBuffer(string: MockSessionDescription.answer(to: request.body, host: endpoint.advertisedHost))
        if let dialog = try? SIPDialog(uas: request, localTag: toTag) {
            dialogs[callID] = Dialog(dialog: dialog, flow: flow)
        }
        ledger.update(callID) {
            $0.answeredAt = clock.wallNow()
            $0.finalStatus = 200
            $0.reason = "OK"
        }
        endpoint.respond(response, to: transaction)
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceiveAck request: SIPRequest, flow: SIPFlow) {
        guard let callID = request.callID.map(String.init), dialogs[callID] != nil else { return }
        dialogs[callID]!.confirmed = true
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceiveCancel request: SIPRequest, invite: ServerTransactionID?, flow: SIPFlow) {
        guard let invite, let inviteRequest = endpoint.request(of: invite) else { return }
        let callID = String(inviteRequest.callID ?? "")
        let pending = ringing.removeValue(forKey: callID)
        pending?.scheduled?.cancel()
        // RFC 3261 §9.2: the INVITE is answered 487 Request Terminated.
        endpoint.respond(shaping.response(to: inviteRequest, status: 487, toTag: pending?.toTag ?? MetaResponseShaping.uuidTag(), flow: flow), to: invite)
        ledger.close(callID) {
            $0.finalStatus = 487
            $0.reason = "Request Terminated"
            $0.endedAt = clock.wallNow()
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, ackTimeoutFor transaction: ServerTransactionID) {}
}

/// Time as the mock sees it: wall-clock seconds for the ledger, monotonic seconds for nonces. Injectable.
public struct MockClock: Sendable {
    public var wallNow: @Sendable () -> Double
    public var monotonicSeconds: @Sendable () -> UInt64

    public init(wallNow: @escaping @Sendable () -> Double, monotonicSeconds: @escaping @Sendable () -> UInt64) {
        self.wallNow = wallNow
        self.monotonicSeconds = monotonicSeconds
    }

    public static let system = MockClock(
        wallNow: { Date().timeIntervalSince1970 },
        monotonicSeconds: { NIODeadline.now().uptimeNanoseconds / 1_000_000_000 })
}
