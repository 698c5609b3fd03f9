import Foundation
import Logging
import NIOCore
import SIPAuth
import SIPCore
import SIPTransaction
import SIPTransport
import WasimMedia
import WasimResults

/// The mock's transaction user on one event loop: Meta's BIC pipeline, the user's scripted outcome,
/// in-dialog handling and the answers Meta gives to everything else (spec §2–§4, §7). Dialogs, the ledger
/// and the digest replay table belong to its loop alone; per-pair limits live in the shared `MockCallState`.
final class MetaMockCore: SIPRequestHandler {
    /// A call from admission to its end.
    /// A reference: the table holds a pointer per call, and the call costs what it uses.
    final class Call {
        let pair: MockCallState.Pair
        let transaction: ServerTransactionID
        let toTag: String
        let flow: SIPFlow
        var pending: Scheduled<Void>?
        var dialog: SIPDialog?
        var confirmed = false
        /// Request-URI and Route the business's in-dialog requests must carry.
        var expectations: InDialogExpectations?
        let wacid: String
        var answeredAt: NIODeadline?
        var media: MockMedia?
        /// The INVITE's SDP offer, as read by the policy (the answer mirrors it).
        let offer: SDPOfferSummary
        /// The G.711 codec the answer uses for an offer without Opus, when the number's `additional_codecs`
        /// allow one the offer carries.
        var g711: (payloadType: Int, name: String)?

        init(pair: MockCallState.Pair, transaction: ServerTransactionID, toTag: String, flow: SIPFlow, wacid: String, offer: SDPOfferSummary) {
            self.pair = pair
            self.transaction = transaction
            self.toTag = toTag
            self.flow = flow
            self.wacid = wacid
            self.offer = offer
        }
    }

    /// What the user does, drawn from the group's behaviour weights.
    enum UserOutcome: String { case answer, decline, noAnswer = "no_answer", unreachable, unavailable, noMedia = "no_media" }

    let configuration: MockConfiguration
    let policy: BICInvitePolicy
    let shaping: MetaResponseShaping
    let state: MockCallState
    let clock: MockClock
    let startedAt: Double
    /// The mock's log (`wasim.mock`): a line per rule decision, at info.
    let logger: Logger
    var digest: DigestServer
    /// Failed authentications per source and username, shared with the other loops' cores.
    var authThrottle: DigestFailureThrottle?
    var ledger = MockCallLedger()
    /// The ledger file, when the mock writes one: ended calls go to it in batches.
    var ledgerFile: ResultsStream?
    var calls: [String: Call] = [:]
    var challengesSent = 0
    var random: FastRandom
    /// Tags and opaque values: unique, not secret, from a generator seeded once.
    var identifiers = FastRandom()
    /// This core's index among the loops.
    let shard: Int
    /// Every loop's core (set once after start), to reach the owner of a call from another loop.
    var siblings: [NIOLoopBound<MetaMockCore>] = []
    /// User-initiated calls in flight, by Call-ID.
    var uicCalls: [String: UICCallEntry] = [:]
    /// UIC dialogs whose 200 OK altered Meta's Record-Route: their BYE gets 404 (spec §3).
    var brokenUICDialogs: [String: InDialogExpectations] = [:]
    /// `a=fingerprint` of the mock's SDP offers.
    var mediaFingerprint = ""
    /// The DTLS certificate of Meta's media legs.
    var dtlsContext: DTLSContext?
    /// Meta's fixed media ports (`media.ports`), shared by the loops; nil: ephemeral ports.
    var mediaPorts: MediaPortPool?
    /// Bound listener ports, for lab routes in UIC requests.
    var listenPorts: [SIPTransportKind: Int] = [:]

    /// This loop's endpoint (it holds its handler weakly, so this is no cycle).
    let endpoint: SIPEndpoint
    /// The media legs' timers of this loop's calls.
    lazy var mediaScheduler = MediaScheduler(eventLoop: endpoint.eventLoop)

    init(configuration: MockConfiguration, directory: MockBusinessDirectory, secret: [UInt8], shard: Int, state: MockCallState,
         clock: MockClock, startedAt: Double, endpoint: SIPEndpoint, logger: Logger)
    {
        self.endpoint = endpoint
        self.configuration = configuration
        self.policy = BICInvitePolicy(configuration: configuration, directory: directory)
        self.shaping = MetaResponseShaping(configuration: configuration)
        self.state = state
        self.clock = clock
        self.startedAt = startedAt
        self.logger = logger
        self.digest = DigestServer(
            policy: DigestServerPolicy(realm: configuration.domain, algorithms: configuration.digestAlgorithms,
                                       nonceLifetime: configuration.nonceLifetimeSeconds),
            secret: secret, shard: shard)
        self.random = FastRandom(seed: configuration.seed &+ UInt64(shard) &* 0x9E37_79B9_7F4A_7C15)
        self.shard = shard
    }

    /// One line of the mock's log, as it has always read (the rule names are the metrics' labels).
    func log(_ line: String) { logger.info("\(line)") }

    func endpoint(_ endpoint: SIPEndpoint, didReceive request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow) {
        let callID = String(request.callID ?? "")
        let toTag = (try? request.to())?.tag
        switch request.method {
        case .invite where toTag != nil:
            // Re-INVITE: "Re-INVITES are not supported today" (spec §2.2, FAQ).
            endpoint.respond(shaping.response(to: request, status: 500, reason: "Internal Server Error", toTag: nil), to: transaction)
            if configuration.reinviteEndsCall { reinviteFailsCall(callID) }
        case .invite:
            receiveInvite(request, transaction: transaction, flow: flow, endpoint: endpoint)
        case .bye:
            receiveBye(request, callID: callID, toTag: toTag, transaction: transaction, endpoint: endpoint)
        case .register:
            // "A REGISTER to Meta gets 403 Forbidden" (spec §1).
            endpoint.respond(shaping.rejection(to: request, status: 403, reason: "Forbidden", toTag: identifiers.uuid()), to: transaction)
        case .options:
            var response = shaping.response(to: request, status: 200, toTag: identifiers.uuid())
            response.headers.add(.accept, "application/sdp")
            endpoint.respond(response, to: transaction)
        case .notify:
            let known = calls[callID]?.dialog != nil || uicCalls[callID]?.flow.dialog != nil
            endpoint.respond(shaping.response(to: request, status: known ? 200 : 481, toTag: nil), to: transaction)
        default:
            // RFC 3261 §8.2.1: 405 with the Allow list.
            endpoint.respond(shaping.response(to: request, status: 405, toTag: identifiers.uuid()), to: transaction)
        }
    }

    /// A BYE must match a dialog by Call-ID and our tag (RFC 3261 §15.1.2: else 481), and carry the
    /// Request-URI and Route Meta gave it (spec §3: a request routed around Meta's Record-Route gets 404).
    /// A UIC dialog owned by another loop is handed to that loop, and answered here.
    private func receiveBye(_ request: SIPRequest, callID: String, toTag: String?, transaction: ServerTransactionID, endpoint: SIPEndpoint) {
        let (status, reason) = localBye(request, callID: callID, toTag: toTag)
        if status == 481, let owner = state.owner(of: callID), owner != shard, owner < siblings.count {
            askSiblings([owner], request, callID: callID, toTag: toTag, transaction: transaction, endpoint: endpoint)
            return
        }
        if status == 481, siblings.count > 1 {
            // A BIC dialog lives on the loop its INVITE's connection landed on; an SBC may send the BYE on
            // another connection (another worker's), which lands elsewhere. Meta does not care which
            // connection a BYE comes on, so the other loops are asked (only on this miss path).
            askSiblings(siblings.indices.filter { $0 != shard }, request, callID: callID, toTag: toTag, transaction: transaction, endpoint: endpoint)
            return
        }
        endpoint.respond(shaping.response(to: request, status: status, reason: reason, toTag: nil), to: transaction)
    }

    /// Asks the loops in `order`, one after another, to end the BYE's dialog; the first that knows it
    /// answers, else 481.
    private func askSiblings(_ order: [Int], _ request: SIPRequest, callID: String, toTag: String?, transaction: ServerTransactionID,
                             endpoint: SIPEndpoint) {
        let here = NIOLoopBound((self, endpoint), eventLoop: endpoint.eventLoop)
        guard let next = order.first else {
            endpoint.respond(shaping.response(to: request, status: 481, reason: nil, toTag: nil), to: transaction)
            return
        }
        let sibling = siblings[next]
        let rest = Array(order.dropFirst())
        let requestCopy = request
        sibling.eventLoop.execute {
            let answer = sibling.value.localBye(requestCopy, callID: callID, toTag: toTag)
            here.eventLoop.execute {
                let (core, endpoint) = here.value
                if answer.0 == 481, !rest.isEmpty {
                    core.askSiblings(rest, requestCopy, callID: callID, toTag: toTag, transaction: transaction, endpoint: endpoint)
                } else {
                    endpoint.respond(core.shaping.response(to: requestCopy, status: answer.0, reason: answer.1, toTag: nil), to: transaction)
                }
            }
        }
    }

    /// Ends the dialog this BYE belongs to on this loop and returns the status to answer.
    func localBye(_ request: SIPRequest, callID: String, toTag: String?) -> (Int, String?) {
        let strict = configuration.strictInDialogRoute
        if let call = calls[callID], call.dialog != nil, toTag == call.toTag {
            if strict, let expected = call.expectations, !expected.matches(request) {
                log("bye \(callID): 404: Request-URI or Route does not match Meta's Contact and Record-Route")
                return (404, "Not Found")
            }
            end(callID, ending: .connected) { $0.endedBy = "business" }
            return (200, nil)
        }
        if let entry = uicCalls[callID], entry.flow.dialog != nil, toTag == entry.flow.identity.fromTag {
            if strict, let expected = entry.flow.dialogExpectations, !expected.matches(request) {
                log("bye \(callID): 404: Request-URI or Route does not match Meta's Contact and Record-Route")
                return (404, "Not Found")
            }
            uicByeReceived(callID)
            return (200, nil)
        }
        if brokenUICDialogs[callID] != nil {
            log("bye \(callID): 404: the 200 OK of this call altered Meta's Record-Route, so the dialog was never confirmed")
            return (404, "Not Found")
        }
        return (481, nil)
    }

    private func receiveInvite(_ request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow, endpoint: SIPEndpoint) {
        let callID = String(request.callID ?? "")
        let offer = SDPOfferSummary(request.body)
        let decision = policy.evaluate(request, offer: offer, digest: &digest, state: state, monotonic: clock.monotonicSeconds(),
                                       wall: clock.wallNow(), startedAt: startedAt, source: flow.remote.ipAddress, throttle: authThrottle)
        let from = (try? request.from())?.uri.description ?? ""
        switch decision {
        case .challenge(let stale):
            challengesSent += 1
            var response = shaping.response(to: request, status: 407, toTag: identifiers.uuid(), flow: flow)
            let opaque = FastRandom.hex(identifiers.next(), digits: 16)
            for challenge in digest.challenges(now: clock.monotonicSeconds(), opaque: opaque, stale: stale) {
                response.headers.add(.proxyAuthenticate, challenge.headerValue)
            }
            endpoint.respond(response, to: transaction)
        case .reject(let status, let reason, let rule):
            log("rejected \(callID) \(from) → \(request.uri): \(status) \(reason) [\(rule)]")
            ledger.open(MockCallRecord(callID: callID, direction: .bic, from: from, to: request.uri.description,
                                       startedAt: clock.wallNow(), finalStatus: status, reason: reason, rule: rule))
            ledger.close(callID) { $0.endedAt = clock.wallNow() }
            if ledger.unwritten.count >= 64 * 1024 { flushLedger() }
            endpoint.respond(shaping.rejection(to: request, status: status, reason: reason, toTag: identifiers.uuid(), flow: flow), to: transaction)
        case .accept(let business, let user, let pair):
            ledger.open(MockCallRecord(callID: callID, direction: .bic, from: from, to: request.uri.description, startedAt: clock.wallNow()))
            endpoint.respond(shaping.response(to: request, status: 100, toTag: nil, flow: flow), to: transaction)
            let toTag = identifiers.uuid()
            let wacid = Self.wacid(user: pair.user, business: pair.business, random: &identifiers)
            let call = Call(pair: pair, transaction: transaction, toTag: toTag, flow: flow, wacid: wacid, offer: offer)
            if !offer.hasOpus48000, !business.additionalCodecs.isEmpty { call.g711 = offer.g711(allowed: business.additionalCodecs) }
            calls[callID] = call
            ledger.update(callID) { $0.wacid = wacid }
            let outcome = draw(user.behaviour)
            ledger.update(callID) { $0.userOutcome = outcome.rawValue }
            if configuration.sendRinging, outcome != .unreachable, outcome != .unavailable {
                endpoint.respond(shaping.response(to: request, status: 180, toTag: toTag, flow: flow), to: transaction)
            }
            let behaviour = user.behaviour
            let delay: Double
            switch outcome {
            case .answer, .decline:
                delay = behaviour.answerAfter.lowerBound + (behaviour.answerAfter.upperBound - behaviour.answerAfter.lowerBound) * random.nextUnit()
            case .noAnswer: delay = configuration.ringTimeoutSeconds
            case .unreachable, .unavailable: delay = 0
            case .noMedia: delay = configuration.mediaStartTimeoutSeconds
            }
            let act = { [self] in
                calls[callID]?.pending = nil
                switch outcome {
                case .answer: answer(request, callID: callID, endpoint: endpoint)
                case .decline: fail(request, callID: callID, status: 486, reason: configuration.reasonPhrases.userDeclined, ending: .declined, endpoint: endpoint)
                case .noAnswer, .unreachable:
                    fail(request, callID: callID, status: 480, reason: "Temporarily Unavailable", ending: .unanswered, endpoint: endpoint)
                case .unavailable:
                    fail(request, callID: callID, status: 503, reason: "Service Unavailable", ending: .other, endpoint: endpoint)
                case .noMedia:
                    fail(request, callID: callID, status: 408, reason: "RTP Timeout", ending: .other, endpoint: endpoint)
                }
            }
            if delay <= 0 {
                act()
            } else {
                calls[callID]?.pending = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: clock.delay(delay)) { act() }
            }
        }
    }

    private func draw(_ b: MockConfiguration.Behaviour) -> UserOutcome {
        let total = b.answer + b.decline + b.noAnswer + b.unreachable + b.unavailable + b.noMedia
        var x = random.nextUnit() * total
        for (weight, outcome) in [(b.answer, UserOutcome.answer), (b.decline, .decline), (b.noAnswer, .noAnswer),
                                  (b.unavailable, .unavailable), (b.noMedia, .noMedia)] {
            if x < weight { return outcome }
            x -= weight
        }
        return .unreachable
    }

    /// The user answers: 200 OK with Meta's headers and an SDP answer; the dialog is made now (RFC 3261 §12.1.1).
    private func answer(_ request: SIPRequest, callID: String, endpoint: SIPEndpoint) {
        guard calls[callID] != nil, let transaction = calls[callID]?.transaction, endpoint.isProceeding(transaction) else { return }
        // The user's number (the policy decoded a BSUID Request-URI into the pair).
        let user = calls[callID]?.pair.user ?? ""
        prepareMedia(request, callID: callID, user: user) { [self] sdp in
            sendAnswer(request, callID: callID, user: user, sdp: sdp)
        }
    }

    private func sendAnswer(_ request: SIPRequest, callID: String, user: String, sdp: String) {
        guard let call = calls[callID], endpoint.isProceeding(call.transaction) else {
            closeMedia(callID)
            return
        }
        var response = shaping.response(to: request, status: 200, toTag: call.toTag, flow: call.flow)
        let transport = configuration.labRouteHost == nil ? "tls" : call.flow.transport.rawValue
        // The Contact user is the user as addressed: the number, or the BSUID (spec §2.1 [BSUID]), which also
        // brings the x-wa-meta-user-* headers.
        let addressed = request.uri.userNumber.map(String.init) ?? user
        response.headers.add(.contact, "<sip:\(addressed)@\(shaping.contactHost(call.flow));transport=\(transport);ob;X-FB-Sip-Smc-Tier=collaboration.sip_gateway.sip.prod>;isfocus")
        if addressed != user {
            for (name, value) in MetaUserHeaders.values(user: user, business: call.pair.business, names: configuration.headerNames) {
                response.headers.add(SIPHeaderName(name), value)
            }
        }
        response.headers.add(.supported, "timer")
        response.headers.add(.contentType, "application/sdp")
        response.body = ByteBuffer(string: sdp)
        calls[callID]?.dialog = try? SIPDialog(uas: request, localTag: call.toTag)
        calls[callID]?.expectations = InDialogExpectations(contactUser: user, contactHost: shaping.contactHost(call.flow),
                                                           routes: shaping.recordRoutes(call.flow))
        calls[callID]?.answeredAt = endpoint.eventLoop.now
        // wasim's scenario asks for the user to hang up (a control header), else the user's configured behaviour.
        let asked = configuration.wasimHeaders ? request.headers[SIPHeaderName(WasimControlHeader.hangUpAfter)].flatMap(WasimControlHeader.parseSeconds) : nil
        if let hangUp = asked.map({ $0...$0 }) ?? (user.isEmpty ? nil : configuration.userGroup(user)?.behaviour.hangUpAfter) {
            let delay = hangUp.lowerBound + (hangUp.upperBound - hangUp.lowerBound) * random.nextUnit()
            calls[callID]?.pending = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: clock.delay(delay)) { [self] in
                metaHangsUp(callID, reason: nil, rule: nil)
            }
        }
        state.connected(call.pair, now: clock.wallNow(), limit: configuration.limits.connectedBICPer24h)
        ledger.update(callID) {
            $0.answeredAt = clock.wallNow()
            $0.finalStatus = 200
            $0.reason = "OK"
            $0.countedTowardsLimit = true
        }
        endpoint.respond(response, to: call.transaction)
    }

    /// Meta hangs up a connected BIC (the user hung up, or no media came): Meta's BYE, with
    /// `x-wa-meta-wacid`, `x-wa-meta-call-duration` (spec §4) and, for a media timeout, the Reason seen live;
    /// sent on the call's connection to the business Contact.
    func metaHangsUp(_ callID: String, reason: String?, rule: String?) {
        guard let call = calls[callID], var dialog = call.dialog else { return }
        call.pending = nil
        var bye = dialog.makeRequest(.bye)
        call.dialog = dialog
        let duration = call.answeredAt.map { Int(clock.mockSeconds(endpoint.eventLoop.now - $0).rounded()) } ?? 0
        let names = configuration.headerNames
        bye.headers.add(SIPHeaderName(names.wacid), call.wacid)
        bye.headers.add(SIPHeaderName(names.callDuration), String(duration))
        for (name, value) in MetaUserHeaders.values(user: call.pair.user, business: call.pair.business, names: names) { bye.headers.add(SIPHeaderName(name), value) }
        bye.headers.add("X-FB-External-Domain", configuration.domain)
        bye.headers.add(.allow, MetaResponseShaping.allow)
        bye.headers.add(.userAgent, "Facebook SipGateway")
        if let reason { bye.headers.add("Reason", reason) }
        endpoint.sendRequest(bye, on: call.flow) { _ in }
        end(callID, ending: .connected) {
            $0.endedBy = "meta"
            $0.durationSeconds = duration
            if let rule { $0.rule = rule }
        }
    }

    /// With `sip.reinvite_ends_call`, Meta hangs up the business-initiated call a re-INVITE arrived in (on
    /// the call's own connection, so on this loop), T1 after its 500: time for the business to ACK the 500
    /// before the BYE comes (over TCP they would otherwise arrive in one read, before the ACK is sent).
    private func reinviteFailsCall(_ callID: String) {
        guard calls[callID]?.dialog != nil else { return }
        let rule = "re-INVITE: the call fails (sip.reinvite_ends_call)"
        log("bic \(callID): \(rule)")
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: configuration.timers.t1) { [self] in
            metaHangsUp(callID, reason: nil, rule: rule)
        }
    }

    /// The user declined, did not answer or was unreachable.
    private func fail(_ request: SIPRequest, callID: String, status: Int, reason: String, ending: MockCallState.Ending, endpoint: SIPEndpoint) {
        guard let call = calls[callID], endpoint.isProceeding(call.transaction) else { return }
        endpoint.respond(shaping.rejection(to: request, status: status, reason: reason, toTag: call.toTag, flow: call.flow), to: call.transaction)
        end(callID, ending: ending) {
            $0.finalStatus = status
            $0.reason = reason
        }
    }

    /// Closes a call everywhere: shared state (with the streak), ledger, local table.
    private func end(_ callID: String, ending: MockCallState.Ending, _ update: (inout MockCallRecord) -> Void) {
        closeMedia(callID)
        guard let call = calls.removeValue(forKey: callID) else { return }
        call.pending?.cancel()
        if let event = state.ended(call.pair, ending, limits: configuration.limits) {
            switch event {
            case .nudge(let n): log("streak: \(n) unanswered or declined calls from \(call.pair.business) to \(call.pair.user): the user is asked to reconsider")
            case .revoked(let n): log("streak: \(n) unanswered or declined calls from \(call.pair.business) to \(call.pair.user): permission revoked")
            }
        }
        ledger.close(callID) {
            update(&$0)
            $0.endedAt = clock.wallNow()
        }
        if ledger.unwritten.count >= 64 * 1024 { flushLedger() }
    }

    /// Hands the ledger lines of ended calls to the ledger file.
    func flushLedger() {
        guard let ledgerFile, !ledger.unwritten.isEmpty else { return }
        ledgerFile.append(ledger.takeUnwritten())
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceiveAck request: SIPRequest, flow: SIPFlow) {
        guard let callID = request.callID.map(String.init), calls[callID]?.dialog != nil else { return }
        calls[callID]!.confirmed = true
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceiveCancel request: SIPRequest, invite: ServerTransactionID?, flow: SIPFlow) {
        guard let invite, let inviteRequest = endpoint.request(of: invite) else { return }
        let callID = String(inviteRequest.callID ?? "")
        let toTag = calls[callID]?.toTag ?? identifiers.uuid()
        // RFC 3261 §9.2: the INVITE is answered 487 Request Terminated.
        endpoint.respond(shaping.response(to: inviteRequest, status: 487, toTag: toTag, flow: flow), to: invite)
        end(callID, ending: .other) {
            $0.finalStatus = 487
            $0.reason = "Request Terminated"
        }
    }

    /// No ACK for our final response (Timer H): Meta drops the dialog.
    func endpoint(_ endpoint: SIPEndpoint, ackTimeoutFor transaction: ServerTransactionID) {
        guard let (callID, _) = calls.first(where: { $0.value.transaction == transaction }) else { return }
        end(callID, ending: .other) { $0.rule = "no ACK for the final response (Timer H)" }
    }
}
