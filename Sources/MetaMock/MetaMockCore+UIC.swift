import Foundation
import NIOCore
import SIPCore
import SIPTransaction
import SIPTransport
import WasimMedia

/// A user-initiated call to place: who calls which business, for how long.
public struct UICCallRequest: Sendable {
    public var user: String
    public var business: String
    /// Seconds the user stays in the call before Meta hangs up.
    public var hold: Double
    public var ctaPayload: String?
    public var deeplinkPayload: String?
    /// The business is to hang up this many seconds after answering (`X-Wasim-Hangup-After` on the INVITE,
    /// for wasim's own business side only); Meta then waits `hold` for the business's BYE.
    public var businessHangsUpAfter: Double?
    /// Keep the call's SIP messages (as Meta sent and received them) for the report: the scenario runner
    /// writes them as the call's trace.
    public var recordMessages = false

    public init(user: String, business: String, hold: Double, ctaPayload: String? = nil, deeplinkPayload: String? = nil) {
        self.user = user
        self.business = business
        self.hold = hold
        self.ctaPayload = ctaPayload
        self.deeplinkPayload = deeplinkPayload
    }
}

/// The end of a user-initiated call: its outcome and instants (monotonic), for the load engine.
public struct UICCallReport: Sendable {
    public var callID: String
    public var outcome: UICOutcome
    public var timing: UICCallTiming
    /// The call's messages, when the request asked for them (at most `UICCallEntry.maxMessages`).
    public var messages: [TracedSIPMessage] = []
    /// Meta's view of the call's media, when it ran.
    public var media: UICMediaReport?
}

/// Media of a user-initiated call as Meta's leg measured it.
public struct UICMediaReport: Sendable {
    /// `dtls` or `sdes`.
    public var security: String
    /// Answer → the business's first SRTP packet decrypted, ms.
    public var mediaStartMs: Double?
    /// Business audio Meta never received at the start (the frames before the first one it decrypted), ms.
    public var clippedMs: Double?
    public var packetsReceived: Int
}

/// One SIP message of a traced call, with the instant it was sent or received.
public struct TracedSIPMessage: Sendable {
    public var at: NIODeadline
    public var event: SIPTraceEvent
}

/// One user-initiated call in flight on a loop.
struct UICCallEntry {
    var flow: UICCallFlow
    var inviteBranch: String?
    var pending: [Scheduled<Void>] = []
    var pair: MockCallState.Pair
    let completion: (UICCallReport) -> Void
    /// Meta's media leg: its socket bound before the INVITE (the offer carries the port), the leg made
    /// from the business's answer.
    var media: MediaSocket?
    var offer: MockSessionDescription.UICOffer?
    var mediaSecurity: String?
    /// Messages kept for a traced call (nil: not traced).
    var messages: [TracedSIPMessage]?
    /// A retransmission storm must not grow a trace without bound.
    static let maxMessages = 64
}

extension MetaMockCore {
    /// Places a user-initiated call towards the business's configured SIP server (spec §3). Runs on the
    /// endpoint's loop; `completion` runs there once the call is over (or refused before any INVITE).
    func placeUserCall(_ request: UICCallRequest, completion: @escaping (UICCallReport) -> Void) {
        guard let business = policy.directory.business(number: request.business) else {
            completion(UICCallReport(callID: "", outcome: UICOutcome(status: 404, reason: "Not Found", localFailure: true,
                                                                     detail: "\(request.business) is not a configured business"),
                                     timing: UICCallTiming()))
            return
        }
        let pair = MockCallState.Pair(business: business.number, user: request.user)
        let wacid = Self.wacid(user: request.user, business: business.number, random: &identifiers)
        let callID = "outgoing:wacid." + wacid
        // Users who have usernames are addressed by their BSUID in From and Contact (spec §3 [BSUID]).
        let fromUser = configuration.userGroup(request.user)?.addressedByBSUID == true
            ? BusinessScopedUserID.make(user: request.user, business: business.number) ?? request.user : request.user
        let from = "sip:\(fromUser)@\(configuration.domain)"
        let to = "sip:\(business.number)@\(business.sipServerHostname)"
        if let rule = uicRefusal(business, pair: pair) {
            log("uic \(callID): not placed: \(rule)")
            ledger.open(MockCallRecord(callID: callID, direction: .uic, from: from, to: to, startedAt: clock.wallNow(),
                                       reason: "not placed", rule: rule, wacid: wacid))
            ledger.close(callID) { $0.endedAt = clock.wallNow() }
            var outcome = UICOutcome(status: 503, reason: "Service Unavailable", localFailure: true, detail: rule)
            outcome.notPlaced = true
            completion(UICCallReport(callID: callID, outcome: outcome, timing: UICCallTiming()))
            return
        }
        // Meta's media leg needs its port in the offer: bind first (no media: the offer is description only).
        guard configuration.media.enabled, dtlsContext != nil else {
            continueUserCall(request, business: business, pair: pair, wacid: wacid, callID: callID, from: from, fromUser: fromUser, media: nil,
                             completion: completion)
            return
        }
        let socket = MediaSocket(leg: nil, eventLoop: endpoint.eventLoop, scheduler: mediaScheduler)
        bindMedia(socket).assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
            continueUserCall(request, business: business, pair: pair, wacid: wacid, callID: callID, from: from, fromUser: fromUser,
                             media: (try? result.get()).map { (socket, $0) }, completion: completion)
        }
    }

    /// Why Meta places no INVITE for a user's call, checked in this order, or nil when the call is admitted
    /// (and marked active for its pair, until `finishUIC`): the number's SIP setting disabled (calls go to
    /// the Graph API instead, spec §6), its SIP server app not authorized on the number, the number over its
    /// call rate (`limits.call_rate_per_number`), the pair already in
    /// a call, the number at its concurrency limit (spec §3: the user sees "call cannot be placed"). A
    /// refused call never ends a call in `state`: only an admitted one does.
    private func uicRefusal(_ business: MockConfiguration.Business, pair: MockCallState.Pair) -> String? {
        if !business.callingEnabled {
            return "calling-disabled: calling.status is DISABLED for phone number id \(business.phoneNumberID)"
        }
        if !business.sipEnabled {
            return "sip-disabled: calling.sip.status is DISABLED for phone number id \(business.phoneNumberID)"
        }
        if business.servers.isEmpty {
            return "no-sip-server: no SIP server is configured for phone number id \(business.phoneNumberID)"
        }
        if business.sipServerApp?.authorized != true {
            return "app-not-authorized: the app \(business.sipServerAppID) is not authorized for phone number id \(business.phoneNumberID)"
        }
        switch state.admitUIC(pair, now: clock.wallNow(), limits: configuration.limits) {
        case .admitted:
            return nil
        case .callRate:
            return "call rate: over \(BICInvitePolicy.rate(configuration.limits.callRatePerNumber ?? 0)) calls per number"
        case .duplicate:
            return "duplicate: \(pair.user) is already in a call with \(pair.business)"
        case .concurrency:
            return "concurrency: \(configuration.limits.concurrentPerNumber) calls already up for \(business.number)"
        case .revoked, .dailyLimit, .attemptLimit, .ineligible:
            // BIC rules; `admitUIC` does not apply them.
            return nil
        }
    }

    private func continueUserCall(_ request: UICCallRequest, business: MockConfiguration.Business, pair: MockCallState.Pair, wacid: String,
                                  callID: String, from: String, fromUser: String, media: (MediaSocket, Int)?,
                                  completion: @escaping (UICCallReport) -> Void)
    {
        let now = endpoint.eventLoop.now
        let offer = MockSessionDescription.offer(host: endpoint.advertisedHost, port: media?.1 ?? 3480, keyExchange: business.srtpKeyExchange,
                                                 sessionMillis: UInt64(clock.wallNow() * 1000), fingerprint: mediaFingerprint,
                                                 ipv6Candidate: configuration.media.ipv6Candidate, random: &random)
        let transport = business.transport
        let contactHost = configuration.labRouteHost.map { "\($0):\(localPort(transport))" } ?? configuration.domain
        let recordRoutes = uicRecordRoutes(transport: transport)
        var headers: [(String, String)] = [(configuration.headerNames.wacid, wacid)]
        if let cta = request.ctaPayload { headers.append((configuration.headerNames.ctaPayload, cta)) }
        if let deeplink = request.deeplinkPayload { headers.append((configuration.headerNames.deeplinkPayload, deeplink)) }
        if let after = request.businessHangsUpAfter { headers.append((WasimControlHeader.hangUpAfter, WasimControlHeader.seconds(after))) }
        let userHeaders = MetaUserHeaders.values(user: request.user, business: business.number, names: configuration.headerNames)
        headers += userHeaders
        if let name = configuration.headerNames.phoneNumberID { headers.append((name, business.phoneNumberID)) }
        let identity = UICCallFlow.Identity(
            user: fromUser, business: business.number, serverHost: business.sipServerHostname,
            serverPort: business.sipServerPort, transport: transport.rawValue,
            userParams: business.requestURIUserParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            domain: configuration.domain, contactHost: contactHost, callID: callID, wacid: wacid,
            fromTag: identifiers.uuid(), firstSequence: UInt32(1000 + random.next() % 30000), recordRoutes: recordRoutes,
            inviteHeaders: headers, userHeaders: userHeaders, headerNames: configuration.headerNames,
            digestUsername: business.digestUsername, password: business.sipPassword,
            sdpOffer: offer.sdp)
        let flow = UICCallFlow(identity: identity, hold: clock.delay(request.hold),
                               answerTimeout: clock.delay(configuration.uic.answerTimeoutSeconds), timeScale: clock.scale)
        ledger.open(MockCallRecord(callID: callID, direction: .uic, from: from, to: flow.requestURI, startedAt: clock.wallNow(), wacid: wacid))
        uicCalls[callID] = UICCallEntry(flow: flow, pair: pair, completion: completion, media: media?.0, offer: offer,
                                        messages: request.recordMessages ? [] : nil)
        if request.recordMessages, endpoint.tracer == nil {
            endpoint.tracer = { [unowned self] event in
                guard let id = event.message.headers[.callID], uicCalls[String(id)]?.messages != nil,
                      uicCalls[String(id)]!.messages!.count < UICCallEntry.maxMessages else { return }
                uicCalls[String(id)]!.messages!.append(TracedSIPMessage(at: .now(), event: event))
            }
        }
        state.setOwner(of: callID, shard: shard)
        var machine = flow
        let actions = machine.start(now: now)
        uicCalls[callID]!.flow = machine
        performUIC(actions, callID: callID)
    }

    /// Where the business's SIP server is reached: the lab `connect_to` address, else its hostname.
    func uicDestination(_ business: MockConfiguration.Business) -> SIPDestination {
        var host = business.sipServerHostname, port = business.sipServerPort
        if let connect = business.connectAddress, let colon = connect.lastIndex(of: ":"), let p = Int(connect[connect.index(after: colon)...]) {
            host = String(connect[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            port = p
        }
        return SIPDestination(transport: business.transport, host: host, port: port, serverName: business.sipServerHostname)
    }

    func localPort(_ transport: SIPTransportKind) -> Int {
        listenPorts[transport] ?? transport.defaultPort
    }

    /// Meta's Record-Route for UIC (spec §3: `wa.meta.vc` first, then the proxy), or the lab route.
    func uicRecordRoutes(transport: SIPTransportKind) -> [String] {
        if let host = configuration.labRouteHost {
            return ["<sip:\(host):\(localPort(transport));transport=\(transport.rawValue);lr>"]
        }
        return configuration.recordRoutes.reversed()
    }

    func performUIC(_ actions: [UICCallFlow.Action], callID: String) {
        for action in actions {
            guard let entry = uicCalls[callID] else { return }
            switch action {
            case .sendInvite(let invite):
                let business = policy.directory.business(number: entry.flow.identity.business)!
                endpoint.sendRequest(invite, to: uicDestination(business), started: { [self] branch in
                    uicCalls[callID]?.inviteBranch = branch
                }) { [self] event in
                    uicTransactionEvent(event, callID: callID, isBye: false)
                }
            case .sendAck(let ack):
                if let flow = sipFlowOfLastInvite(entry) { endpoint.sendAck(ack, on: flow) }
            case .scheduleAnswerTimeout(let delay):
                schedule(delay, callID: callID) { flow, now in flow.answerTimeout(now: now) }
            case .scheduleHangUp(let delay):
                ledger.update(callID) {
                    $0.answeredAt = clock.wallNow()
                    $0.finalStatus = 200
                    $0.reason = "OK"
                }
                state.connectedUIC(entry.pair)
                schedule(delay, callID: callID) { flow, now in flow.hangUp(now: now) }
            case .sendCancel:
                if let branch = entry.inviteBranch { endpoint.cancelInvite(branch: branch) }
            case .sendBye(let bye):
                guard let flow = sipFlowOfLastInvite(entry) else { continue }
                endpoint.sendRequest(bye, on: flow) { [self] event in
                    uicTransactionEvent(event, callID: callID, isBye: true)
                }
            case .finished(let outcome):
                finishUIC(callID, outcome: outcome)
            }
        }
    }

    /// The connection the INVITE went out on: in-dialog requests reuse it (Meta sets `;alias`).
    private func sipFlowOfLastInvite(_ entry: UICCallEntry) -> SIPFlow? {
        let business = policy.directory.business(number: entry.flow.identity.business)!
        var found: SIPFlow?
        endpoint.flow(for: uicDestination(business)) { flow, _ in found = flow }
        return found
    }

    private func schedule(_ delay: TimeAmount, callID: String,
                          _ step: @escaping (inout UICCallFlow, NIODeadline) -> [UICCallFlow.Action])
    {
        let task = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [self] in
            guard uicCalls[callID] != nil else { return }
            let actions = step(&uicCalls[callID]!.flow, endpoint.eventLoop.now)
            performUIC(actions, callID: callID)
        }
        uicCalls[callID]?.pending.append(task)
    }

    private func uicTransactionEvent(_ event: ClientTransactionEvent, callID: String, isBye: Bool) {
        guard uicCalls[callID] != nil else { return }
        let now = endpoint.eventLoop.now
        let actions: [UICCallFlow.Action]
        switch event {
        case .response(let response):
            if !isBye, response.isSuccess { startUICMedia(callID, answer: response) }
            actions = isBye ? uicCalls[callID]!.flow.byeResponse(response, now: now) : uicCalls[callID]!.flow.inviteResponse(response, now: now)
        case .timeout:
            actions = uicCalls[callID]!.flow.failed(isBye ? "no response to BYE" : "no response to INVITE (Timer B)", timeout: true, now: now)
        case .transportError(let text):
            actions = uicCalls[callID]!.flow.failed(Self.describeTransportFailure(text, entry: uicCalls[callID]!), timeout: false, now: now)
        }
        performUIC(actions, callID: callID)
    }

    /// A connection failure in words: a refused certificate names the hostname Meta checked (spec §9: "UIC
    /// never arrives … certificate invalid or hostname mismatch").
    static func describeTransportFailure(_ text: String, entry: UICCallEntry) -> String {
        let host = entry.flow.identity.serverHost
        if text.contains("Hostname") || text.contains("hostname") || text.contains("certificate is not for") {
            return "TLS refused: the certificate of the business server does not cover \(host) (\(text))"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate") {
            return "TLS refused: the certificate of the business server for \(host) did not verify (\(text))"
        }
        return "cannot reach the business server for \(host): \(text)"
    }

    /// The business hung up: a BYE in a UIC dialog.
    func uicByeReceived(_ callID: String) {
        guard uicCalls[callID] != nil else { return }
        let actions = uicCalls[callID]!.flow.byeReceived(now: endpoint.eventLoop.now)
        performUIC(actions, callID: callID)
    }

    /// The business answered: Meta's leg (ICE-lite; DTLS server when the business answered `active`, the
    /// client for `passive`; or SDES) starts, and waits for the business's first SRTP packet.
    private func startUICMedia(_ callID: String, answer: SIPResponse) {
        guard let entry = uicCalls[callID], let socket = entry.media, socket.leg == nil, let context = dtlsContext, let offer = entry.offer,
              let sdp = try? SessionDescription(parsing: answer.body.getString(at: answer.body.readerIndex, length: answer.body.readableBytes) ?? ""),
              let audio = sdp.audio
        else { return }
        let address = (sdp.audioAddress ?? "127.0.0.1").split(separator: ".").compactMap { UInt8($0) }
        guard address.count == 4 else { return }
        let remote = (address, UInt16(clamping: audio.candidates.first?.port ?? audio.port))
        let leg: MediaLeg
        if let ufrag = offer.ufrag, let pwd = offer.pwd {
            guard let remoteUfrag = audio.iceUfrag, let remotePwd = audio.icePwd, let fingerprint = audio.fingerprint else {
                ledger.update(callID) { $0.mediaProblem = "answer without ICE credentials or fingerprint" }
                return
            }
            leg = MediaLeg(side: .meta, security: .dtls(context: context, dtlsRole: audio.setup == "passive" ? .client : .server,
                                                         remoteFingerprint: fingerprint.value),
                           remote: remote, ice: (ufrag, pwd, remoteUfrag, remotePwd), impairment: configuration.media.impairment, seed: random.next())
            uicCalls[callID]?.mediaSecurity = "dtls"
        } else if let key = offer.sdesKey, let crypto = audio.cryptos.first, let profile = SRTPProfile(rawValue: crypto.suite),
                  let remoteKey = Data(base64Encoded: crypto.key), remoteKey.count == profile.keyLength + profile.saltLength
        {
            leg = MediaLeg(side: .meta, security: .sdes(profile: profile, local: key, remote: Array(remoteKey)), remote: remote, ice: nil, seed: random.next())
            uicCalls[callID]?.mediaSecurity = "sdes"
        } else {
            ledger.update(callID) { $0.mediaProblem = "answer without usable media" }
            return
        }
        leg.probeSeconds = configuration.media.probeSeconds
        leg.mediaStartTimeout = clock.realSeconds(configuration.mediaStartTimeoutSeconds)
        leg.mediaTimeout = clock.realSeconds(configuration.mediaTimeoutSeconds)
        socket.leg = leg
        socket.onEvent = { [weak self] event in
            if case .failed(let why) = event { self?.ledger.update(callID) { $0.mediaProblem = why } }
        }
        socket.start()
    }

    private func finishUIC(_ callID: String, outcome: UICOutcome) {
        guard let entry = uicCalls.removeValue(forKey: callID) else { return }
        var mediaReport: UICMediaReport? = nil
        if let socket = entry.media {
            if let m = socket.leg?.metrics {
                mediaReport = UICMediaReport(security: entry.mediaSecurity ?? "", mediaStartMs: m.mediaStartSeconds.map { $0 * 1000 },
                                             clippedMs: m.clippedMilliseconds, packetsReceived: m.packetsReceived)
                ledger.update(callID) {
                    $0.mediaSecurity = entry.mediaSecurity
                    $0.mediaPacketsReceived = m.packetsReceived
                    $0.mediaPacketsSent = m.packetsSent
                    $0.mediaStartMs = m.mediaStartSeconds.map { $0 * 1000 }
                    $0.clippedMs = m.clippedMilliseconds
                }
            }
            socket.close()
        }
        state.setOwner(of: callID, shard: nil)
        for task in entry.pending { task.cancel() }
        if outcome.ackWithheld, let expected = entry.flow.dialogExpectations {
            // The business will retransmit its 200 and later send a BYE that Meta answers 404 (spec §3).
            brokenUICDialogs[callID] = expected
            endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: configuration.timers.timerH) { [self] in
                brokenUICDialogs[callID] = nil
            }
        }
        _ = state.ended(entry.pair, outcome.connected ? .connected : .other, limits: configuration.limits)
        if let detail = outcome.detail, !outcome.connected { log("uic \(callID): \(outcome.status) \(outcome.reason): \(detail)") }
        ledger.close(callID) {
            $0.finalStatus = outcome.localFailure ? nil : outcome.status
            $0.reason = outcome.localFailure ? nil : outcome.reason
            $0.rule = outcome.detail
            $0.endedBy = outcome.endedBy
            $0.durationSeconds = outcome.durationSeconds
            $0.ackWithheld = outcome.ackWithheld ? true : nil
            $0.endedAt = clock.wallNow()
            if outcome.ackWithheld { $0.answeredAt = nil }
        }
        entry.completion(UICCallReport(callID: callID, outcome: outcome, timing: entry.flow.timing, messages: entry.messages ?? [], media: mediaReport))
    }

    /// A wacid shaped like Meta's (spec §3 sample): the compact binary record of the user number, a 128-bit
    /// call id in hex and the business number, base64-encoded.
    static func wacid(user: String, business: String, random: inout FastRandom) -> String {
        func digits(_ s: String) -> [UInt8] { Array(s.utf8.lazy.filter { $0 >= 0x30 && $0 <= 0x39 }.prefix(255)) }
        let u = digits(user), b = digits(business)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(u.count + b.count + 48)
        bytes += [0x1C, 0x18, UInt8(u.count)]
        bytes += u
        bytes += [0x15, 0x02, 0x00, 0x12, 0x18, 0x20]
        // A 32-character uppercase hex id.
        for value in [random.next(), random.next()] {
            for shift in stride(from: 60, through: 0, by: -4) {
                let nibble = UInt8((value >> UInt64(shift)) & 0xF)
                bytes.append(nibble < 10 ? 0x30 + nibble : 0x41 + nibble - 10)
            }
        }
        bytes += [0x1C, 0x18, UInt8(b.count)]
        bytes += b
        bytes += [0x15, 0x02, 0x00, 0x00]
        return Data(bytes).base64EncodedString()
    }
}

extension UICCallFlow {
    /// What a BYE from the business must carry in this dialog, for the 404 check.
    var dialogExpectations: InDialogExpectations? {
        InDialogExpectations(contactUser: identity.user, contactHost: identity.contactHost, routes: identity.recordRoutes)
    }
}

/// The Request-URI and Route set Meta gave a dialog; an in-dialog request that does not carry them was
/// routed wrongly and gets 404 (spec §3 "Record-Route handling").
struct InDialogExpectations {
    var contactUser: String
    var contactHost: String
    /// Meta's Record-Route entries as sent.
    var routes: [String]

    func matches(_ request: SIPRequest) -> Bool {
        guard request.uri.userNumber.map(String.init) == contactUser else { return false }
        let host = contactHost.split(separator: ":").first.map(String.init) ?? contactHost
        guard request.uri.host.lowercased() == host.lowercased() else { return false }
        // Every Meta entry must still be in the Route set (business-side entries before it are fine).
        let sent = routes.compactMap { try? SIPAddress($0) }
        let got = request.headers.values(.route).flatMap { SIPHeaders.splitList($0) }.compactMap { try? SIPAddress(parsing: $0) }
        return sent.allSatisfy { want in got.contains { $0.uri.equivalent(to: want.uri) } }
    }
}
