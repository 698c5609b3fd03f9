import NIOCore
import SIPAuth
import SIPCore
import SIPTransaction

/// One business-initiated call as the business UAC plays it (spec §2.1): INVITE, answer the 407 once with
/// digest credentials (same Call-ID and From tag, CSeq + 1, new branch), ACK the 2xx, hold, BYE. A struct
/// with no I/O: inputs are responses and time, outputs are actions; the shard executes them.
public struct BusinessCallFlow: Sendable {
    public enum State: Sendable, Hashable { case idle, inviting, connected, terminating, finished }

    public enum Action: Sendable {
        /// Send this INVITE in a new client transaction.
        case sendInvite(SIPRequest)
        /// Send the ACK for the 2xx (no transaction, RFC 3261 §13.2.2.4).
        case sendAck(SIPRequest)
        /// Wake the flow with `hangUp(now:)` after this long.
        case scheduleHangUp(TimeAmount)
        /// Send this BYE in a new client transaction.
        case sendBye(SIPRequest)
        /// Wake the flow with `cancelDue(now:)` after this long.
        case scheduleCancel(TimeAmount)
        /// CANCEL the pending INVITE (RFC 3261 §9.1).
        case sendCancel
        /// Wake the flow with `reinviteDue(now:)` after this long.
        case scheduleReinvite(TimeAmount)
        /// Wake the flow with `ringTimeoutDue(now:)` after this long.
        case scheduleRingTimeout(TimeAmount)
        /// The target failed (transport error, no response, 503): send this INVITE, a new transaction, to
        /// the next target (RFC 3263 §4.3).
        case failover(SIPRequest)
        /// Send this re-INVITE in a new client transaction; its responses go to `reinviteResponse`.
        case sendReinvite(SIPRequest)
        /// The call is over.
        case finished(CallOutcome)
    }

    public struct Identity: Sendable {
        public var businessNumber: String
        public var businessDomain: String
        public var callee: String
        /// Host of the Request-URI and To: Meta's domain.
        public var targetDomain: String
        public var transport: String
        public var contactHost: String
        public var callID: String
        public var fromTag: String
        public var digestUsername: String
        public var password: String
        /// INVITE (a call), or REGISTER (one registration attempt; Meta answers 403).
        public var method: SIPMethod = .invite
        /// The SDP offer of a call with media (else a description-only offer).
        public var sdpOffer: String? = nil
        /// The WhatsApp user ends this call after so many seconds (Meta's BYE): the INVITE asks the mock
        /// with `X-Wasim-Hangup-After`, and the business waits for the BYE instead of sending its own.
        public var userHangsUpAfter: Double? = nil
    }

    /// How long past the user's hang-up time the business still waits for Meta's BYE before it hangs up
    /// itself and counts the call as failed (64 × T1, a transaction's lifetime).
    public static let userHangUpGrace = TimeAmount.seconds(32)

    public private(set) var state: State = .idle
    public private(set) var timing = CallTiming()
    let identity: Identity
    let hold: TimeAmount
    var digest: DigestClient
    var inviteSequence: UInt32 = 1
    var lastInvite: SIPRequest?
    var dialog: SIPDialog?
    var authenticated = false
    var finalInviteStatus: Int?
    var finalInviteReason: String?
    /// Cancel the INVITE this long after it was sent, if it is still unanswered.
    let cancelAfter: TimeAmount?
    var cancelWanted = false
    var provisionalSeen = false
    /// Send a re-INVITE this long after the answer (Meta answers 500: spec §4).
    let reinviteAfter: TimeAmount?
    /// The longest the INVITE may wait for a final response (`call.ring_timeout`): then the business
    /// CANCELs it and the call counts as unanswered, however many 1xx the target sent (a Timer C for a
    /// UAC, RFC 3261 §16.6 step 11). nil: no limit but Timer B.
    let ringTimeout: TimeAmount?
    /// The ring timeout fired: the CANCEL went (or waits for a 1xx), and the call ends as `ring_timeout`.
    var ringTimedOut = false
    /// How long after its CANCEL the business waits for the INVITE's final response before it lets the
    /// call go (64 × T1: the CANCEL's own transaction lifetime, RFC 3261 §9.1).
    public static let cancelGiveUp = TimeAmount.seconds(32)
    /// Targets left to try after the current one fails, and the failovers this call made.
    var failoversLeft: Int
    public private(set) var failovers = 0
    /// Final responses to in-dialog requests other than BYE ("500 Internal Server Error" for a re-INVITE).
    var inDialogResponses: [String] = []

    public init(identity: Identity, hold: TimeAmount, cancelAfter: TimeAmount? = nil, reinviteAfter: TimeAmount? = nil,
                ringTimeout: TimeAmount? = nil, alternates: Int = 0)
    {
        self.failoversLeft = alternates
        self.identity = identity
        self.hold = hold
        self.cancelAfter = cancelAfter
        self.reinviteAfter = reinviteAfter
        self.ringTimeout = ringTimeout
        self.digest = DigestClient(username: identity.digestUsername, password: identity.password)
    }

    public mutating func start(now: NIODeadline) -> [Action] {
        state = .inviting
        timing.inviteSent = now
        let invite = makeInvite()
        lastInvite = invite
        var actions: [Action] = [.sendInvite(invite)]
        if let cancelAfter { actions.append(.scheduleCancel(cancelAfter)) }
        if let ringTimeout, identity.method == .invite { actions.append(.scheduleRingTimeout(ringTimeout)) }
        return actions
    }

    /// The ring timeout is over (or, the second time, the wait for the CANCELled INVITE's final response):
    /// CANCEL the call, which then ends as `ring_timeout`; if the target answers neither the CANCEL nor the
    /// INVITE within 64 × T1, the call ends anyway.
    public mutating func ringTimeoutDue(now: NIODeadline) -> [Action] {
        guard state == .inviting else { return [] }
        if ringTimedOut {
            return finish(status: 408, reason: "ring timeout: no final response within 32 s of the CANCEL", now: now, local: true, end: .ringTimeout)
        }
        ringTimedOut = true
        let alreadyCancelling = cancelWanted && provisionalSeen
        cancelWanted = true
        let cancel: [Action] = provisionalSeen && !alreadyCancelling ? [.sendCancel] : []
        return cancel + [.scheduleRingTimeout(Self.cancelGiveUp)]
    }

    /// The cancel delay is over. RFC 3261 §9.1: a CANCEL is sent only after a provisional response, so it
    /// waits for one when none has arrived yet.
    public mutating func cancelDue(now: NIODeadline) -> [Action] {
        guard state == .inviting else { return [] }
        cancelWanted = true
        return provisionalSeen ? [.sendCancel] : []
    }

    /// The Request-URI Meta expects: `sip:+<E164>@wa.meta.vc;transport=tls` (spec §1); for REGISTER the
    /// domain itself (RFC 3261 §10.2).
    var requestURI: SIPURI {
        SIPURI(user: identity.method == .register ? nil : identity.callee, host: identity.targetDomain,
               parameters: SIPParameters([SIPParameter("transport", identity.transport)]))
    }

    func makeInvite() -> SIPRequest {
        if identity.method == .register { return makeRegister() }
        var headers = SIPHeaders(capacity: 13)
        headers.add(.from, "<sip:\(identity.businessNumber)@\(identity.businessDomain)>;tag=\(identity.fromTag)")
        headers.add(.to, "<sip:\(identity.callee)@\(identity.targetDomain)>")
        headers.add(.callID, identity.callID)
        headers.add(.cseq, "\(inviteSequence) INVITE")
        headers.add(.contact, "<sip:\(identity.businessNumber)@\(identity.contactHost);transport=\(identity.transport)>")
        headers.add(.allow, "INVITE, ACK, BYE, CANCEL, OPTIONS")
        headers.add(.userAgent, "wasim")
        if let after = identity.userHangsUpAfter { headers.add(SIPHeaderName(WasimControlHeader.hangUpAfter), WasimControlHeader.seconds(after)) }
        headers.add(.contentType, "application/sdp")
        return SIPRequest(method: .invite, uri: requestURI, headers: headers, body: ByteBuffer(string: identity.sdpOffer ?? offerSDP()))
    }

    /// RFC 3261 §10.2: To and From are the address of record; Contact and Expires bind it.
    func makeRegister() -> SIPRequest {
        var headers = SIPHeaders()
        let aor = "<sip:\(identity.businessNumber)@\(identity.businessDomain)>"
        headers.add(.from, aor + ";tag=\(identity.fromTag)")
        headers.add(.to, aor)
        headers.add(.callID, identity.callID)
        headers.add(.cseq, "\(inviteSequence) REGISTER")
        headers.add(.contact, "<sip:\(identity.businessNumber)@\(identity.contactHost);transport=\(identity.transport)>")
        headers.add(.expires, "3600")
        headers.add(.userAgent, "wasim")
        return SIPRequest(method: .register, uri: requestURI, headers: headers, body: ByteBuffer())
    }

    func offerSDP() -> String {
        [
            "v=0", "o=- \(identity.fromTag.hashValue & 0xFFFFFF) 1 IN IP4 \(identity.contactHost)", "s=wasim", "t=0 0",
            "m=audio 40000 RTP/SAVP 111 126", "c=IN IP4 \(identity.contactHost)", "a=rtcp-mux",
            "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=20;useinbandfec=1", "a=rtpmap:126 telephone-event/8000",
            "a=ptime:20", "a=sendrecv", "",
        ].joined(separator: "\r\n")
    }

    /// A response to the current INVITE.
    public mutating func inviteResponse(_ response: SIPResponse, now: NIODeadline) -> [Action] {
        guard state == .inviting else {
            // A 2xx retransmission after we ACKed: ACK again (RFC 3261 §13.2.2.4).
            if state == .connected, response.isSuccess, let dialog { return [.sendAck(dialog.makeAck())] }
            return []
        }
        let code = response.statusCode
        if code < 200 {
            if code > 100, timing.firstRinging == nil { timing.firstRinging = now }
            let first = !provisionalSeen
            provisionalSeen = true
            return first && cancelWanted ? [.sendCancel] : []
        }
        if (code == 401 || code == 407), !authenticated, let invite = lastInvite {
            // Answer the challenge once (spec §2.1 step 4): same Call-ID and From tag, CSeq + 1, new branch
            // (the endpoint adds a fresh Via), credentials for the Request-URI.
            timing.challengeReceived = now
            guard let retry = digest.authorizedRetry(of: invite, after: response, uri: requestURI.description, sequence: inviteSequence + 1,
                                                     cnonce: DigestClient.cnonce(tag: identity.fromTag, counter: inviteSequence + 1))
            else { return finish(status: code, reason: response.reasonPhrase, now: now, end: .rejected) }
            authenticated = true
            inviteSequence += 1
            lastInvite = retry
            return [.sendInvite(retry)]
        }
        if response.isSuccess, cancelWanted, let invite = lastInvite, let made = try? SIPDialog(uac: invite, response: response) {
            // The answer crossed our CANCEL (RFC 3261 §9.1): ACK it and hang up at once.
            timing.answered = now
            finalInviteStatus = code
            finalInviteReason = response.reasonPhrase
            dialog = made
            state = .connected
            return [.sendAck(made.makeAck()), .scheduleHangUp(.zero)]
        }
        if response.isSuccess, let invite = lastInvite {
            timing.answered = now
            finalInviteStatus = code
            finalInviteReason = response.reasonPhrase
            guard let made = try? SIPDialog(uac: invite, response: response) else {
                // Not a call: the answer cannot be acknowledged or ended, so it counts as failed.
                return finish(status: code, reason: "2xx without a usable Contact or To tag", now: now, local: true, end: .rejected)
            }
            dialog = made
            state = .connected
            // The dialog has what the rest of the call needs: the INVITE is let go (a held call keeps less).
            lastInvite = nil
            // When the user is to hang up, the business only steps in if Meta's BYE never comes.
            let hangUp = identity.userHangsUpAfter == nil ? hold : hold + Self.userHangUpGrace
            if let reinviteAfter { return [.sendAck(made.makeAck()), .scheduleReinvite(reinviteAfter), .scheduleHangUp(hangUp)] }
            return [.sendAck(made.makeAck()), .scheduleHangUp(hangUp)]
        }
        if code == 503, let retry = failover() { return [.failover(retry)] }
        // A 487 after our own CANCEL is the end we asked for: the ring timeout's, or the scenario's cancel.
        let end: CallEnd = code == 487 && ringTimedOut ? .ringTimeout : code == 487 && cancelWanted ? .cancelled : .rejected
        return finish(status: code, reason: response.reasonPhrase, now: now, end: end)
    }

    /// A REGISTER's final response ends the attempt (after one challenge, above).
    public mutating func registerResponse(_ response: SIPResponse, now: NIODeadline) -> [Action] {
        guard state == .inviting, response.statusCode >= 200 else { return [] }
        if (response.statusCode == 401 || response.statusCode == 407) && !authenticated { return inviteResponse(response, now: now) }
        if response.isSuccess { timing.answered = now }
        return finish(status: response.statusCode, reason: response.reasonPhrase, now: now, end: response.isSuccess ? .connected : .rejected)
    }

    /// Time for the re-INVITE (a session refresh or hold, as an SBC would send): same SDP, new CSeq.
    public mutating func reinviteDue(now: NIODeadline) -> [Action] {
        guard state == .connected, var dialog else { return [] }
        var reinvite = dialog.makeRequest(.invite)
        self.dialog = dialog
        reinvite.headers.add(.contact, "<sip:\(identity.businessNumber)@\(identity.contactHost);transport=\(identity.transport)>")
        reinvite.headers.add(.contentType, "application/sdp")
        reinvite.body = ByteBuffer(string: identity.sdpOffer ?? offerSDP())
        return [.sendReinvite(reinvite)]
    }

    /// The re-INVITE's final response is recorded; a 2xx is ACKed. The call goes on either way.
    public mutating func reinviteResponse(_ response: SIPResponse, sequence: UInt32, now: NIODeadline) -> [Action] {
        guard response.statusCode >= 200 else { return [] }
        inDialogResponses.append("\(response.statusCode) \(response.reasonPhrase)")
        if response.isSuccess, let dialog { return [.sendAck(dialog.makeAck(sequence: sequence))] }
        return []
    }

    /// The hold time is over: the business hangs up.
    public mutating func hangUp(now: NIODeadline) -> [Action] {
        guard state == .connected, var dialog else { return [] }
        state = .terminating
        timing.byeSent = now
        let bye = dialog.makeRequest(.bye)
        self.dialog = dialog
        return [.sendBye(bye)]
    }

    /// Meta's BYE (the user hung up, or Meta's media watchdog fired): the call is over, ended by the far
    /// end; before the answer (a BYE that crossed our CANCEL) it counts as 487.
    public mutating func byeReceived(now: NIODeadline) -> [Action] {
        guard state == .connected || state == .terminating || state == .inviting else { return [] }
        let answered = timing.answered != nil
        state = .finished
        timing.ended = now
        var outcome = CallOutcome(status: answered ? finalInviteStatus ?? 200 : 487, reason: answered ? finalInviteReason ?? "OK" : "Request Terminated",
                                  byeStatus: 200, localFailure: false)
        outcome.end = answered ? .connected : ringTimedOut ? .ringTimeout : .cancelled
        outcome.endedByFarEnd = true
        outcome.inDialogResponses = inDialogResponses
        return [.finished(outcome)]
    }

    public mutating func byeResponse(_ response: SIPResponse, now: NIODeadline) -> [Action] {
        guard state == .terminating, response.statusCode >= 200 else { return [] }
        return finish(status: finalInviteStatus ?? 200, reason: finalInviteReason ?? "OK", now: now, byeStatus: response.statusCode, end: .connected)
    }

    /// Timer B/F or a transport failure.
    public mutating func failed(_ reason: String, timeout: Bool, now: NIODeadline) -> [Action] {
        switch state {
        case .inviting:
            if !provisionalSeen, !cancelWanted, let retry = failover() { return [.failover(retry)] }
            let end: CallEnd = ringTimedOut ? .ringTimeout : timeout ? .timerB : .transport
            return finish(status: timeout ? 408 : 503, reason: reason, now: now, local: true, end: end)
        case .terminating:
            return finish(status: finalInviteStatus ?? 200, reason: finalInviteReason ?? "OK", now: now, byeStatus: timeout ? 408 : 503,
                          byeLocalFailure: timeout ? "timeout" : "transport", end: .connected)
        default:
            return []
        }
    }

    /// The INVITE for the next target, if one is left: the same call (Call-ID, From tag), the next CSeq,
    /// without the failed target's credentials (the next one challenges afresh).
    mutating func failover() -> SIPRequest? {
        guard failoversLeft > 0, identity.method == .invite else { return nil }
        failoversLeft -= 1
        failovers += 1
        authenticated = false
        provisionalSeen = false
        inviteSequence += 1
        digest = DigestClient(username: identity.digestUsername, password: identity.password)
        let invite = makeInvite()
        lastInvite = invite
        return invite
    }

    mutating func finish(status: Int, reason: String, now: NIODeadline, byeStatus: Int? = nil, byeLocalFailure: String? = nil,
                         local: Bool = false, end: CallEnd) -> [Action] {
        state = .finished
        timing.ended = now
        var outcome = CallOutcome(status: status, reason: reason, byeStatus: byeStatus, localFailure: local)
        outcome.byeLocalFailure = byeLocalFailure
        outcome.end = end
        outcome.inDialogResponses = inDialogResponses
        // The user was to hang up, but the business had to (the grace ran out).
        outcome.userHangUpMissing = identity.userHangsUpAfter != nil && timing.byeSent != nil
        return [.finished(outcome)]
    }
}

/// How a call ended.
public struct CallOutcome: Sendable, Hashable {
    /// Final status of the INVITE (after authentication), or 408/503 for a local timeout/transport failure.
    public var status: Int
    public var reason: String
    /// Final status of our BYE, for connected calls.
    public var byeStatus: Int?
    /// Our BYE got no response: "timeout" (Timer F) or "transport" (the connection failed); `byeStatus` is
    /// then 408 or 503, made up locally.
    public var byeLocalFailure: String?
    /// The status was made up locally (Timer B, transport), not received.
    public var localFailure: Bool
    /// Final responses to in-dialog requests other than BYE (a re-INVITE's 500), counted with the rest.
    public var inDialogResponses: [String] = []
    /// The far end (Meta) hung up with its own BYE.
    public var endedByFarEnd = false
    /// The user was to hang up, and no BYE from Meta came within the grace: the business hung up.
    public var userHangUpMissing = false
    /// Why the call ended, from the documented set (calls.csv `end`, summary.json `ends`).
    public var end: CallEnd = .rejected

    public init(status: Int, reason: String, byeStatus: Int? = nil, localFailure: Bool = false) {
        self.status = status
        self.reason = reason
        self.byeStatus = byeStatus
        self.localFailure = localFailure
    }

    public var connected: Bool { (200..<300).contains(status) && !localFailure }
}

/// The instants of one call.
public struct CallTiming: Sendable, Hashable {
    public var inviteSent: NIODeadline?
    public var challengeReceived: NIODeadline?
    public var firstRinging: NIODeadline?
    public var answered: NIODeadline?
    public var byeSent: NIODeadline?
    public var ended: NIODeadline?

    func span(_ from: NIODeadline?, _ to: NIODeadline?) -> TimeAmount? {
        guard let from, let to else { return nil }
        return to - from
    }

    /// INVITE → 200 (including the 407 round trip).
    public var setup: TimeAmount? { span(inviteSent, answered) }
    /// INVITE → first 18x.
    public var postDial: TimeAmount? { span(inviteSent, firstRinging) }
    /// INVITE → 407.
    public var auth: TimeAmount? { span(inviteSent, challengeReceived) }
    /// Answer → hang-up (our BYE sent, or Meta's received).
    public var duration: TimeAmount? { span(answered, byeSent ?? ended) }
}
