import NIOCore
import SIPCore

/// The non-INVITE server transaction of RFC 3261 §17.2.2 (Figure 8).
public struct NonInviteServerTransaction: Sendable {
    public enum State: Sendable, Hashable { case trying, proceeding, completed, terminated }

    public private(set) var state: State
    /// The request; `SIPRequest.released` once the final response is sent (its retransmissions get the
    /// response, which is kept).
    public private(set) var request: SIPRequest {
        get { kept ?? .released }
        set { kept = newValue.isReleased ? nil : newValue }
    }
    @OutOfLine private var kept: SIPRequest?
    public let reliable: Bool
    let timers: SIPTimers
    var armed = TimerSet()
    public private(set) var lastResponse: SIPResponse? {
        get { keptResponse }
        set { keptResponse = newValue }
    }
    @OutOfLine private var keptResponse: SIPResponse?

    public init(request: SIPRequest, reliable: Bool, timers: SIPTimers = .rfc3261, now: NIODeadline) {
        self.kept = request
        self.reliable = reliable
        self.timers = timers
        self.state = .trying
    }

    public var nextDeadline: NIODeadline? { armed.nextDeadline }
    public var isTerminated: Bool { state == .terminated }

    public mutating func respond(_ response: SIPResponse, now: NIODeadline) -> [TransactionAction] {
        guard state == .trying || state == .proceeding else { return [] }
        lastResponse = response
        if response.statusCode < 200 {
            state = .proceeding
            return [.send(.response(response))]
        }
        state = .completed
        self.request = .released
        let j = timers.timerJ(reliable: reliable)
        if j == .zero {
            state = .terminated
            return [.send(.response(response)), .terminated]
        }
        armed.arm(.j, now: now, after: j)
        return [.send(.response(response))]
    }

    /// A retransmission of the request.
    public mutating func receive(_ request: SIPRequest, now: NIODeadline) -> [TransactionAction] {
        switch state {
        case .trying:
            return []  // §17.2.2: absorbed in Trying.
        case .proceeding, .completed:
            if let lastResponse { return [.send(.response(lastResponse))] }
            return []
        case .terminated:
            return []
        }
    }

    public mutating func timeout(now: NIODeadline) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        for timer in armed.popDue(now: now) where timer.name == .j && state == .completed {
            state = .terminated
            actions.append(.terminated)
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
