import NIOCore
import SIPCore

/// The INVITE client transaction of RFC 3261 §17.1.1 (Figure 5) as amended by RFC 6026 (Accepted state,
/// Timer M). A struct with no I/O: inputs are responses, time and transport errors; outputs are actions.
public struct InviteClientTransaction: Sendable {
    public enum State: Sendable, Hashable { case calling, proceeding, completed, accepted, terminated }

    public private(set) var state: State
    /// The INVITE; `SIPRequest.released` once a final response arrived (only the ACK is kept then).
    public private(set) var request: SIPRequest {
        get { kept ?? .released }
        set { kept = newValue.isReleased ? nil : newValue }
    }
    @OutOfLine private var kept: SIPRequest?
    public let reliable: Bool
    let timers: SIPTimers
    var armed = TimerSet()
    /// The ACK sent for a non-2xx final response, re-sent on each retransmission of that response.
    @OutOfLine var ack: SIPRequest?

    /// Creates the transaction and returns the actions to start it (send the INVITE).
    /// RFC 3261 §17.1.1.2: Timer A (T1) only on unreliable transports; Timer B (64*T1) always.
    public init(request: SIPRequest, reliable: Bool, timers: SIPTimers = .rfc3261, now: NIODeadline) {
        self.kept = request
        self.reliable = reliable
        self.timers = timers
        self.state = .calling
        if !reliable { armed.arm(.a, now: now, after: timers.timerA) }
        armed.arm(.b, now: now, after: timers.timerB)
    }

    public var startActions: [TransactionAction] { [.send(.request(request))] }
    public var nextDeadline: NIODeadline? { armed.nextDeadline }
    public var isTerminated: Bool { state == .terminated }

    public mutating func receive(_ response: SIPResponse, now: NIODeadline) -> [TransactionAction] {
        let code = response.statusCode
        switch state {
        case .calling, .proceeding:
            if code < 200 {
                // §17.1.1.2: a provisional response stops retransmissions (Timer A) and moves to Proceeding.
                armed.disarm(.a)
                state = .proceeding
                return [.deliverResponse(response)]
            }
            armed.disarm(.a)
            armed.disarm(.b)
            if code < 300 {
                // RFC 6026 §8.4: 2xx moves to Accepted; Timer M absorbs 2xx retransmissions, which go to the TU.
                state = .accepted
                armed.arm(.m, now: now, after: timers.timerM)
                request = .released
                return [.deliverResponse(response)]
            }
            // §17.1.1.3: 300-699 → Completed, send ACK, Timer D.
            state = .completed
            let ack = makeAck(for: response)
            self.ack = ack
            request = .released
            armed.arm(.d, now: now, after: timers.timerD(reliable: reliable))
            var actions: [TransactionAction] = [.send(.request(ack)), .deliverResponse(response)]
            if reliable {
                state = .terminated
                armed.disarmAll()
                actions.append(.terminated)
            }
            return actions
        case .completed:
            // Retransmitted final response: re-send the ACK, do not pass it up.
            if code >= 300, let ack { return [.send(.request(ack))] }
            return []
        case .accepted:
            return code >= 200 && code < 300 ? [.deliverResponse(response)] : []
        case .terminated:
            return []
        }
    }

    public mutating func timeout(now: NIODeadline) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        for timer in armed.popDue(now: now) where state != .terminated {
            switch timer.name {
            case .a where state == .calling:
                // §17.1.1.2: retransmit and double Timer A.
                actions.append(.send(.request(request)))
                armed.arm(.a, now: now, after: .nanoseconds(timer.interval.nanoseconds * 2))
            case .b where state == .calling:
                state = .terminated
                request = .released
                armed.disarmAll()
                actions += [.timeout(.b), .terminated]
            case .d where state == .completed, .m where state == .accepted:
                state = .terminated
                armed.disarmAll()
                actions.append(.terminated)
            default:
                break
            }
        }
        return actions
    }

    public mutating func transportFailed() -> [TransactionAction] {
        guard state == .calling || state == .proceeding else { return [] }
        state = .terminated
        request = .released
        armed.disarmAll()
        return [.transportError, .terminated]
    }

    /// RFC 3261 §9.1: the CANCEL for this INVITE: same Request-URI, Call-ID, From, To, CSeq number and Route,
    /// and a single Via equal to the INVITE's top Via (same branch), so the server matches it to the INVITE.
    /// Only meaningful once a provisional response arrived (§9.1: a UAC SHOULD NOT cancel before that).
    public func makeCancel() -> SIPRequest { derivedRequest(.cancel, to: request.headers[.to]) }

    /// §17.1.1.3: the ACK for a non-2xx response: Request-URI, Call-ID, From, CSeq number and Route of the
    /// INVITE, To of the response, one Via equal to the INVITE's top Via.
    func makeAck(for response: SIPResponse) -> SIPRequest { derivedRequest(.ack, to: response.headers[.to]) }

    /// ACK and CANCEL share their shape: the INVITE's top Via only, its Max-Forwards, From, Call-ID and
    /// Route, the given To, and the INVITE's CSeq number with their own method.
    private func derivedRequest(_ method: SIPMethod, to: Substring?) -> SIPRequest {
        var headers = SIPHeaders()
        if let via = request.headers[.via] {
            headers.add(.via, via.utf8.contains(UInt8(ascii: ",")) ? SIPHeaders.splitList(via)[0] : via)
        }
        for field in request.headers {
            switch field.name {
            case .maxForwards, .from, .callID, .route: headers.add(field.name, field.value)
            default: break
            }
        }
        if let to { headers.add(.to, to) }
        let sequence = (try? request.cseq().sequence) ?? 1
        headers.add(.cseq, "\(sequence) \(method.rawValue)")
        return SIPRequest(method: method, uri: request.uri, headers: headers)
    }
}
