import NIOCore
import SIPCore

/// The INVITE server transaction of RFC 3261 §17.2.1 (Figure 7) with RFC 6026's Accepted state. The UAS
/// core's 2xx retransmission (RFC 3261 §13.3.1.4: T1 doubling to T2 until the ACK or 64*T1) is kept here too,
/// so one machine owns every retransmission of the exchange.
public struct InviteServerTransaction: Sendable {
    public enum State: Sendable, Hashable { case proceeding, completed, confirmed, accepted, terminated }

    public private(set) var state: State
    /// The INVITE; `SIPRequest.released` once the final response is sent (responses are built before).
    public private(set) var request: SIPRequest {
        get { kept ?? .released }
        set { kept = newValue.isReleased ? nil : newValue }
    }
    @OutOfLine private var kept: SIPRequest?
    public let reliable: Bool
    let timers: SIPTimers
    var armed = TimerSet()
    /// The most recent response sent, re-sent when the INVITE is retransmitted.
    public private(set) var lastResponse: SIPResponse? {
        get { keptResponse }
        set { keptResponse = newValue }
    }
    @OutOfLine private var keptResponse: SIPResponse?

    public init(request: SIPRequest, reliable: Bool, timers: SIPTimers = .rfc3261, now: NIODeadline) {
        self.kept = request
        self.reliable = reliable
        self.timers = timers
        self.state = .proceeding
    }

    public var nextDeadline: NIODeadline? { armed.nextDeadline }
    public var isTerminated: Bool { state == .terminated }

    /// The TU sends a response.
    public mutating func respond(_ response: SIPResponse, now: NIODeadline) -> [TransactionAction] {
        guard state == .proceeding else { return [] }
        lastResponse = response
        let code = response.statusCode
        if code < 200 { return [.send(.response(response))] }
        request = .released
        if code < 300 {
            // RFC 6026 §8.5: 2xx → Accepted, Timer L.
            state = .accepted
            armed.arm(.l, now: now, after: timers.timerL)
            if !reliable { armed.arm(.twoXX, now: now, after: timers.t1) }
            return [.send(.response(response))]
        }
        // §17.2.1: 300-699 → Completed; Timer G (unreliable) and Timer H.
        state = .completed
        if !reliable { armed.arm(.g, now: now, after: timers.timerG) }
        armed.arm(.h, now: now, after: timers.timerH)
        return [.send(.response(response))]
    }

    /// A request matched to this transaction: a retransmitted INVITE or an ACK.
    public mutating func receive(_ request: SIPRequest, now: NIODeadline) -> [TransactionAction] {
        if request.method == .ack {
            switch state {
            case .completed:
                // §17.2.1: ACK → Confirmed, Timer I; stop G and H.
                armed.disarm(.g)
                armed.disarm(.h)
                state = .confirmed
                lastResponse = nil
                let i = timers.timerI(reliable: reliable)
                if i == .zero {
                    state = .terminated
                    return [.terminated]
                }
                armed.arm(.i, now: now, after: i)
                return []
            case .accepted:
                // RFC 6026 §8.7: the ACK for a 2xx goes to the TU; 2xx retransmission stops, and the 2xx is
                // no longer needed (a retransmitted INVITE is absorbed in Accepted).
                armed.disarm(.twoXX)
                lastResponse = nil
                return [.deliverAck(request)]
            default:
                return []
            }
        }
        switch state {
        case .proceeding, .completed:
            // §17.2.1: retransmitted INVITE → re-send the last response.
            if let lastResponse { return [.send(.response(lastResponse))] }
            return []
        default:
            return []  // Accepted: absorbed (RFC 6026 §8.5); Confirmed: absorbed.
        }
    }

    public mutating func timeout(now: NIODeadline) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        for timer in armed.popDue(now: now) where state != .terminated {
            switch timer.name {
            case .g where state == .completed:
                if let lastResponse { actions.append(.send(.response(lastResponse))) }
                armed.arm(.g, now: now, after: min(.nanoseconds(timer.interval.nanoseconds * 2), timers.t2))
            case .twoXX where state == .accepted:
                if let lastResponse { actions.append(.send(.response(lastResponse))) }
                armed.arm(.twoXX, now: now, after: min(.nanoseconds(timer.interval.nanoseconds * 2), timers.t2))
            case .h where state == .completed:
                // §17.2.1: no ACK: the transaction times out.
                state = .terminated
                armed.disarmAll()
                actions += [.timeout(.h), .terminated]
            case .i where state == .confirmed, .l where state == .accepted:
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
        guard state != .terminated else { return [] }
        state = .terminated
        armed.disarmAll()
        return [.transportError, .terminated]
    }
}
