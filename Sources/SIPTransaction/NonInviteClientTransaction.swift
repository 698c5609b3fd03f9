import NIOCore
import SIPCore

/// The non-INVITE client transaction of RFC 3261 §17.1.2 (Figure 6).
public struct NonInviteClientTransaction: Sendable {
    public enum State: Sendable, Hashable { case trying, proceeding, completed, terminated }

    public private(set) var state: State
    /// The request; `SIPRequest.released` once the final response arrived (Completed needs nothing of it).
    public private(set) var request: SIPRequest {
        get { kept ?? .released }
        set { kept = newValue.isReleased ? nil : newValue }
    }
    @OutOfLine private var kept: SIPRequest?
    public let reliable: Bool
    let timers: SIPTimers
    var armed = TimerSet()

    /// §17.1.2.2: Timer F (64*T1) always; Timer E (T1) on unreliable transports.
    public init(request: SIPRequest, reliable: Bool, timers: SIPTimers = .rfc3261, now: NIODeadline) {
        self.kept = request
        self.reliable = reliable
        self.timers = timers
        self.state = .trying
        if !reliable { armed.arm(.e, now: now, after: timers.timerE) }
        armed.arm(.f, now: now, after: timers.timerF)
    }

    public var startActions: [TransactionAction] { [.send(.request(request))] }
    public var nextDeadline: NIODeadline? { armed.nextDeadline }
    public var isTerminated: Bool { state == .terminated }

    public mutating func receive(_ response: SIPResponse, now: NIODeadline) -> [TransactionAction] {
        switch state {
        case .trying, .proceeding:
            if response.statusCode < 200 {
                state = .proceeding
                return [.deliverResponse(response)]
            }
            state = .completed
            request = .released
            armed.disarm(.e)
            armed.disarm(.f)
            let k = timers.timerK(reliable: reliable)
            if k == .zero {
                state = .terminated
                return [.deliverResponse(response), .terminated]
            }
            armed.arm(.k, now: now, after: k)
            return [.deliverResponse(response)]
        case .completed, .terminated:
            return []  // retransmissions absorbed
        }
    }

    public mutating func timeout(now: NIODeadline) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        for timer in armed.popDue(now: now) where state != .terminated {
            switch timer.name {
            case .e where state == .trying:
                // §17.1.2.2: retransmit, interval MIN(2*T1·2^n, T2).
                actions.append(.send(.request(request)))
                armed.arm(.e, now: now, after: min(.nanoseconds(timer.interval.nanoseconds * 2), timers.t2))
            case .e where state == .proceeding:
                // In Proceeding the interval is T2.
                actions.append(.send(.request(request)))
                armed.arm(.e, now: now, after: timers.t2)
            case .f:
                state = .terminated
                armed.disarmAll()
                actions += [.timeout(.f), .terminated]
            case .k:
                state = .terminated
                actions.append(.terminated)
            default:
                break
            }
        }
        return actions
    }

    public mutating func transportFailed() -> [TransactionAction] {
        guard state == .trying || state == .proceeding else { return [] }
        state = .terminated
        armed.disarmAll()
        return [.transportError, .terminated]
    }
}
