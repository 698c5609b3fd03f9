import NIOCore

/// Timer values of RFC 3261 §17 and Table 4 (A–K) and RFC 6026 (L, M), computed from T1, T2 and T4, so that
/// a mock and a load generator in one process can each have their own.
public struct SIPTimers: Sendable, Hashable {
    /// RTT estimate (default 500 ms).
    public var t1: TimeAmount
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s).
    public var t2: TimeAmount
    /// Maximum duration a message remains in the network (default 5 s).
    public var t4: TimeAmount

    public init(t1: TimeAmount = .milliseconds(500), t2: TimeAmount = .seconds(4), t4: TimeAmount = .seconds(5)) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }

    public static let rfc3261 = SIPTimers()

    /// 64*T1: Timer B, F, H, J (unreliable), L, M.
    public var sixtyFourT1: TimeAmount { .nanoseconds(t1.nanoseconds * 64) }
    /// Timer A initial: T1 (unreliable transports only).
    public var timerA: TimeAmount { t1 }
    public var timerB: TimeAmount { sixtyFourT1 }
    /// Timer D: > 32 s for unreliable transports, 0 for reliable.
    public func timerD(reliable: Bool) -> TimeAmount { reliable ? .zero : max(.seconds(32), sixtyFourT1) }
    public var timerE: TimeAmount { t1 }
    public var timerF: TimeAmount { sixtyFourT1 }
    public var timerG: TimeAmount { t1 }
    public var timerH: TimeAmount { sixtyFourT1 }
    public func timerI(reliable: Bool) -> TimeAmount { reliable ? .zero : t4 }
    public func timerJ(reliable: Bool) -> TimeAmount { reliable ? .zero : sixtyFourT1 }
    public func timerK(reliable: Bool) -> TimeAmount { reliable ? .zero : t4 }
    /// RFC 6026 Timer L: how long the server INVITE transaction waits in Accepted for retransmitted INVITEs.
    public var timerL: TimeAmount { sixtyFourT1 }
    /// RFC 6026 Timer M: how long the client INVITE transaction waits in Accepted for 2xx retransmissions.
    public var timerM: TimeAmount { sixtyFourT1 }
}

/// The named timers, for traces and tests.
public enum SIPTimerName: String, Sendable, Hashable {
    case a = "A", b = "B", d = "D", e = "E", f = "F", g = "G", h = "H", i = "I", j = "J", k = "K", l = "L", m = "M"
    /// UAS core 2xx retransmission (RFC 3261 §13.3.1.4), kept in the INVITE server machine.
    case twoXX = "2xx"
}

/// One armed timer: its name, when it fires, and for retransmission timers the current interval.
struct ArmedTimer: Sendable, Hashable {
    var name: SIPTimerName
    var deadline: NIODeadline
    var interval: TimeAmount
}

/// A small set of armed timers (a transaction has at most three at once). The owner schedules one
/// wake-up at `nextDeadline` and then calls the machine's `timeout(now:)`, which fires every timer that is
/// due. Kept in a fixed inline storage: arming, disarming and finding the next deadline allocate nothing.
struct TimerSet: Sendable, Hashable {
    private var slots: (ArmedTimer?, ArmedTimer?, ArmedTimer?, ArmedTimer?) = (nil, nil, nil, nil)

    private static let capacity = 4

    private subscript(i: Int) -> ArmedTimer? {
        get {
            switch i {
            case 0: return slots.0
            case 1: return slots.1
            case 2: return slots.2
            default: return slots.3
            }
        }
        set {
            switch i {
            case 0: slots.0 = newValue
            case 1: slots.1 = newValue
            case 2: slots.2 = newValue
            default: slots.3 = newValue
            }
        }
    }

    static func == (a: TimerSet, b: TimerSet) -> Bool { a.timers == b.timers }

    func hash(into hasher: inout Hasher) { hasher.combine(timers) }

    /// The armed timers, earliest first.
    var timers: [ArmedTimer] { (0..<Self.capacity).compactMap { self[$0] }.sorted { $0.deadline < $1.deadline } }

    mutating func arm(_ name: SIPTimerName, now: NIODeadline, after interval: TimeAmount) {
        disarm(name)
        let timer = ArmedTimer(name: name, deadline: now + interval, interval: interval)
        for i in 0..<Self.capacity where self[i] == nil {
            self[i] = timer
            return
        }
        preconditionFailure("more than \(Self.capacity) timers armed")
    }

    mutating func disarm(_ name: SIPTimerName) {
        for i in 0..<Self.capacity where self[i]?.name == name { self[i] = nil }
    }

    mutating func disarmAll() { slots = (nil, nil, nil, nil) }

    func isArmed(_ name: SIPTimerName) -> Bool { (0..<Self.capacity).contains { self[$0]?.name == name } }

    func interval(_ name: SIPTimerName) -> TimeAmount? {
        for i in 0..<Self.capacity { if let t = self[i], t.name == name { return t.interval } }
        return nil
    }

    var nextDeadline: NIODeadline? {
        var next: NIODeadline?
        for i in 0..<Self.capacity {
            if let t = self[i], next.map({ t.deadline < $0 }) ?? true { next = t.deadline }
        }
        return next
    }

    /// Removes and returns the timers due at `now`, earliest first.
    mutating func popDue(now: NIODeadline) -> [ArmedTimer] {
        var due: [ArmedTimer] = []
        for i in 0..<Self.capacity {
            if let t = self[i], t.deadline <= now {
                due.append(t)
                self[i] = nil
            }
        }
        if due.count > 1 { due.sort { $0.deadline < $1.deadline } }
        return due
    }
}
