import NIOCore
import SIPAuth
import SIPCore
import SIPTransaction

/// One user-initiated call as Meta's endpoint plays it towards the business (spec §3, §10 "UIC generator"):
/// INVITE, answer one 401/407 with the number's SIP password, check that the 200 OK kept Meta's
/// Record-Route entries (ACK is withheld when it did not), ACK, hold, BYE with `x-wa-meta-wacid` and
/// `x-wa-meta-call-duration`. A struct with no I/O: responses and time in, actions out.
public struct UICCallFlow: Sendable {
    public enum State: Sendable, Hashable { case idle, inviting, cancelling, connected, terminating, finished }

    public enum Action: Sendable, Equatable {
        /// Send this INVITE in a new client transaction.
        case sendInvite(SIPRequest)
        /// Send the ACK for the 2xx (RFC 3261 §13.2.2.4).
        case sendAck(SIPRequest)
        /// Wake the flow with `answerTimeout(now:)` after this long.
        case scheduleAnswerTimeout(TimeAmount)
        /// CANCEL the pending INVITE (RFC 3261 §9.1).
        case sendCancel
        /// Wake the flow with `hangUp(now:)` after this long.
        case scheduleHangUp(TimeAmount)
        /// Send this BYE in a new client transaction.
        case sendBye(SIPRequest)
        /// The call is over.
        case finished(UICOutcome)
    }

    /// Who the call is between and how Meta writes it.
    public struct Identity: Sendable {
        /// The WhatsApp user (E.164 with "+").
        public var user: String
        public var business: String
        /// Host and port of the business SIP server as configured (Request-URI and To host).
        public var serverHost: String
        public var serverPort: Int
        /// `tls`, or a lab transport.
        public var transport: String
        /// `request_uri_user_params`, written into the Request-URI user part (spec §3).
        public var userParams: [(String, String)]
        /// Meta's domain (From host).
        public var domain: String
        /// Host (and port) of Meta's Contact.
        public var contactHost: String
        public var callID: String
        public var wacid: String
        public var fromTag: String
        public var firstSequence: UInt32
        /// Meta's Record-Route entries, in the order written in the INVITE.
        public var recordRoutes: [String]
        /// `x-wa-meta-*` headers of the INVITE (name, value).
        public var inviteHeaders: [(String, String)]
        /// `x-wa-meta-*` user headers repeated on the BYE.
        public var userHeaders: [(String, String)]
        public var headerNames: MetaHeaderNames
        public var digestUsername: String
        public var password: String
        public var sdpOffer: String

        public init(user: String, business: String, serverHost: String, serverPort: Int, transport: String,
                    userParams: [(String, String)], domain: String, contactHost: String, callID: String, wacid: String,
                    fromTag: String, firstSequence: UInt32, recordRoutes: [String], inviteHeaders: [(String, String)],
                    userHeaders: [(String, String)], headerNames: MetaHeaderNames, digestUsername: String,
                    password: String, sdpOffer: String)
        {
            self.user = user
            self.business = business
            self.serverHost = serverHost
            self.serverPort = serverPort
            self.transport = transport
            self.userParams = userParams
            self.domain = domain
            self.contactHost = contactHost
            self.callID = callID
            self.wacid = wacid
            self.fromTag = fromTag
            self.firstSequence = firstSequence
            self.recordRoutes = recordRoutes
            self.inviteHeaders = inviteHeaders
            self.userHeaders = userHeaders
            self.headerNames = headerNames
            self.digestUsername = digestUsername
            self.password = password
            self.sdpOffer = sdpOffer
        }
    }

    public private(set) var state: State = .idle
    public private(set) var timing = UICCallTiming()
    public let identity: Identity
    let hold: TimeAmount
    let answerTimeout: TimeAmount
    /// Mock seconds per real second (`--time-scale`): the reported duration is in mock time.
    let timeScale: Double
    var digest: DigestClient
    var sequence: UInt32
    var lastInvite: SIPRequest?
    public private(set) var dialog: SIPDialog?
    var challenged = false
    var answerStatus: Int?
    var answerReason: String?
    var cnonceCounter: UInt32 = 0

    /// `hold` and `answerTimeout` are real time (the mock's clock turned mock seconds into them).
    public init(identity: Identity, hold: TimeAmount, answerTimeout: TimeAmount, timeScale: Double = 1) {
        self.identity = identity
        self.hold = hold
        self.answerTimeout = answerTimeout
        self.timeScale = timeScale
        self.sequence = identity.firstSequence
        self.digest = DigestClient(username: identity.digestUsername, password: identity.password)
    }

    /// The Request-URI: the business number with the user parameters in the user part (RFC 4904 style),
    /// at the configured server, `;transport=tls`.
    public var requestURI: String {
        let params = identity.userParams.map { ";\($0.0)=\($0.1)" }.joined()
        let port = identity.serverPort == 5061 ? "" : ":\(identity.serverPort)"
        return "sip:\(identity.business)\(params)@\(identity.serverHost)\(port);transport=\(identity.transport)"
    }

    /// The digest `uri`: the Request-URI without `;transport=tls` (spec §3).
    public var digestURI: String {
        let suffix = ";transport=\(identity.transport)"
        return requestURI.hasSuffix(suffix) ? String(requestURI.dropLast(suffix.count)) : requestURI
    }

    public mutating func start(now: NIODeadline) -> [Action] {
        state = .inviting
        timing.inviteSent = now
        let invite = makeInvite()
        lastInvite = invite
        return [.sendInvite(invite), .scheduleAnswerTimeout(answerTimeout)]
    }

    func makeInvite() -> SIPRequest {
        var headers = SIPHeaders()
        let userDigits = identity.user.hasPrefix("+") ? String(identity.user.dropFirst()) : identity.user
        headers.add(.from, "\"\(userDigits)\" <sip:\(identity.user)@\(identity.domain)>;tag=\(identity.fromTag)")
        headers.add(.to, "<sip:\(identity.business)@\(identity.serverHost)>")
        headers.add(.contact, "<sip:\(identity.user)@\(identity.contactHost);transport=\(identity.transport);ob>;isfocus")
        headers.add(.callID, identity.callID)
        headers.add(.cseq, "\(sequence) INVITE")
        for rr in identity.recordRoutes { headers.add(.recordRoute, rr) }
        headers.add("X-FB-External-Domain", identity.domain)
        for (name, value) in identity.inviteHeaders { headers.add(SIPHeaderName(name), value) }
        headers.add(.allow, "INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS")
        headers.add(.userAgent, "Facebook SipGateway")
        headers.add(.contentType, "application/sdp")
        let uri = (try? SIPURI(requestURI)) ?? SIPURI(user: identity.business, host: identity.serverHost)
        return SIPRequest(method: .invite, uri: uri, headers: headers, body: ByteBuffer(string: identity.sdpOffer))
    }

    /// A response to the current INVITE.
    public mutating func inviteResponse(_ response: SIPResponse, now: NIODeadline) -> [Action] {
        let code = response.statusCode
        guard state == .inviting || state == .cancelling else {
            // A retransmitted 2xx after our ACK: ACK again (RFC 3261 §13.2.2.4).
            if state == .connected, response.isSuccess, let dialog { return [.sendAck(dialog.makeAck())] }
            return []
        }
        if code < 200 {
            if code > 100, timing.firstRinging == nil { timing.firstRinging = now }
            return []
        }
        if code == 401 || code == 407, state == .inviting {
            // Meta answers one challenge (spec §3): CSeq + 1, same Call-ID and From tag, a new branch.
            guard !challenged, let invite = lastInvite else {
                return finish(UICOutcome(status: code, reason: response.reasonPhrase, detail: "challenged again after credentials: wrong SIP password?"), now: now)
            }
            timing.challengeReceived = now
            cnonceCounter &+= 1
            guard let retry = digest.authorizedRetry(of: invite, after: response, uri: digestURI, sequence: sequence + 1,
                                                     cnonce: DigestClient.cnonce(tag: identity.fromTag, counter: cnonceCounter))
            else { return finish(UICOutcome(status: code, reason: response.reasonPhrase, detail: "no usable digest challenge"), now: now) }
            challenged = true
            sequence += 1
            lastInvite = retry
            return [.sendInvite(retry)]
        }
        guard response.isSuccess, let invite = lastInvite else {
            let cancelled = state == .cancelling && code == 487
            return finish(UICOutcome(status: code, reason: response.reasonPhrase,
                                     detail: cancelled ? "no answer within \(answerTimeout.seconds) s: Meta cancelled" : nil), now: now)
        }
        timing.answered = now
        answerStatus = code
        answerReason = response.reasonPhrase
        // Meta's Record-Route entries must come back unmodified as the last ones (spec §3): otherwise Meta's
        // ACK never arrives.
        let returned = response.headers.values(.recordRoute).flatMap { SIPHeaders.splitList($0) }.map(String.init)
        if !Self.endsWithRoutes(returned, identity.recordRoutes) {
            return finish(UICOutcome(status: code, reason: response.reasonPhrase, connected: false, ackWithheld: true,
                                     detail: "Record-Route altered in the 200 OK (got \(returned.isEmpty ? "none" : returned.joined(separator: ", "))): ACK withheld"),
                          now: now)
        }
        guard var made = try? SIPDialog(uac: invite, response: response) else {
            return finish(UICOutcome(status: code, reason: response.reasonPhrase, connected: false, detail: "2xx without a usable Contact or To tag"), now: now)
        }
        // Meta's own Record-Route entries are Meta's own proxies: its requests pass them internally, so the
        // route set used on the wire starts after them (RFC 3261 §16.12: each proxy pops its own entry).
        made.routeSet.removeFirst(min(identity.recordRoutes.count, made.routeSet.count))
        dialog = made
        let wasCancelling = state == .cancelling
        state = .connected
        // The answer crossed our CANCEL: ACK it and hang up at once.
        return [.sendAck(made.makeAck()), .scheduleHangUp(wasCancelling ? .zero : hold)]
    }

    /// Whether `returned` ends with `sent`, entry by entry, compared as URIs (RFC 3261 §19.1.4).
    static func endsWithRoutes(_ returned: [String], _ sent: [String]) -> Bool {
        guard returned.count >= sent.count else { return false }
        for (got, want) in zip(returned.suffix(sent.count), sent) {
            guard let a = try? SIPAddress(got), let b = try? SIPAddress(want), a.uri.equivalent(to: b.uri) else { return false }
        }
        return true
    }

    /// The answer window is over: CANCEL, and wait for the 487.
    public mutating func answerTimeout(now: NIODeadline) -> [Action] {
        guard state == .inviting else { return [] }
        state = .cancelling
        return [.sendCancel]
    }

    /// The hold time is over: Meta hangs up with a BYE carrying the wacid and the duration (spec §4).
    public mutating func hangUp(now: NIODeadline) -> [Action] {
        guard state == .connected, var dialog else { return [] }
        state = .terminating
        timing.byeSent = now
        var bye = dialog.makeRequest(.bye)
        self.dialog = dialog
        bye.headers.add(SIPHeaderName(identity.headerNames.wacid), identity.wacid)
        bye.headers.add(SIPHeaderName(identity.headerNames.callDuration), String(durationSeconds(now)))
        for (name, value) in identity.userHeaders { bye.headers.add(SIPHeaderName(name), value) }
        bye.headers.add("X-FB-External-Domain", identity.domain)
        bye.headers.add(.allow, "INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS")
        bye.headers.add(.userAgent, "Facebook SipGateway")
        return [.sendBye(bye)]
    }

    /// Whole mock seconds since the answer, rounded (the exact semantics are undocumented, spec §12).
    func durationSeconds(_ now: NIODeadline) -> Int {
        guard let answered = timing.answered else { return 0 }
        return Int(((now - answered).seconds * timeScale).rounded())
    }

    public mutating func byeResponse(_ response: SIPResponse, now: NIODeadline) -> [Action] {
        guard state == .terminating, response.statusCode >= 200 else { return [] }
        return finish(UICOutcome(status: answerStatus ?? 200, reason: answerReason ?? "OK", connected: true, endedBy: "meta",
                                 byeStatus: response.statusCode, durationSeconds: durationSeconds(now)), now: now)
    }

    /// The business hung up (its BYE matched the dialog and was answered 200).
    public mutating func byeReceived(now: NIODeadline) -> [Action] {
        guard state == .connected || state == .terminating else { return [] }
        return finish(UICOutcome(status: answerStatus ?? 200, reason: answerReason ?? "OK", connected: true, endedBy: "business",
                                 durationSeconds: durationSeconds(now)), now: now)
    }

    /// Timer B/F or a transport failure (TLS refused, connection lost).
    public mutating func failed(_ reason: String, timeout: Bool, now: NIODeadline) -> [Action] {
        switch state {
        case .inviting, .cancelling:
            return finish(UICOutcome(status: timeout ? 408 : 503, reason: timeout ? "Request Timeout" : "Service Unavailable",
                                     localFailure: true, detail: reason), now: now)
        case .terminating:
            return finish(UICOutcome(status: answerStatus ?? 200, reason: answerReason ?? "OK", connected: true, endedBy: "meta",
                                     byeStatus: timeout ? 408 : 503, durationSeconds: durationSeconds(now), detail: reason), now: now)
        default:
            return []
        }
    }

    mutating func finish(_ outcome: UICOutcome, now: NIODeadline) -> [Action] {
        state = .finished
        timing.ended = now
        return [.finished(outcome)]
    }
}

/// How a user-initiated call ended, as Meta saw it.
public struct UICOutcome: Sendable, Hashable {
    /// Final status of the INVITE, or 408/503 made up locally (Timer B, TLS refused).
    public var status: Int
    public var reason: String
    public var connected: Bool = false
    /// `meta` (Meta's BYE) or `business` (the business's BYE).
    public var endedBy: String?
    public var byeStatus: Int?
    public var durationSeconds: Int?
    /// The 200 OK altered Meta's Record-Route, so no ACK was sent.
    public var ackWithheld = false
    public var localFailure = false
    /// Meta placed no INVITE (the user sees "call cannot be placed"): `detail` gives the rule.
    public var notPlaced = false
    /// Why, in words (for the ledger and the log).
    public var detail: String?

    public init(status: Int, reason: String, connected: Bool = false, endedBy: String? = nil, byeStatus: Int? = nil,
                durationSeconds: Int? = nil, ackWithheld: Bool = false, localFailure: Bool = false, detail: String? = nil)
    {
        self.status = status
        self.reason = reason
        self.connected = connected
        self.endedBy = endedBy
        self.byeStatus = byeStatus
        self.durationSeconds = durationSeconds
        self.ackWithheld = ackWithheld
        self.localFailure = localFailure
        self.detail = detail
    }
}

/// The instants of one user-initiated call.
public struct UICCallTiming: Sendable, Hashable {
    public var inviteSent: NIODeadline?
    public var challengeReceived: NIODeadline?
    public var firstRinging: NIODeadline?
    public var answered: NIODeadline?
    public var byeSent: NIODeadline?
    public var ended: NIODeadline?

    public init() {}

    /// INVITE → 200, including the challenge round trip.
    public var setup: TimeAmount? { answered.flatMap { a in inviteSent.map { a - $0 } } }
}

extension TimeAmount {
    /// In seconds, as a Double.
    var seconds: Double { Double(nanoseconds) / 1e9 }
}
