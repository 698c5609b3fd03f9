import NIOConcurrencyHelpers

/// Meta's fixed media ports (spec §5.2: 3480, 3482, 3484, 3478, 40012, "subject to change") as a pool shared
/// by the loops (`media.ports`): a leg binds a free one and gives it back when it closes. Meta multiplexes
/// every call on its few ports; the mock has a socket per call, so it runs as many calls with fixed ports
/// as there are ports, and further legs take ephemeral ports (counted, and logged the first time), which is
/// what a firewall test with a few calls needs.
public final class MediaPortPool: Sendable {
    private struct State {
        var free: [Int]
        var overflowed = 0
    }

    private let state: NIOLockedValueBox<State>

    public init(ports: [Int]) { state = NIOLockedValueBox(State(free: ports.reversed())) }

    /// A free port, or nil when all are in use (`overflowed` counts those times; `first` says it was the first).
    public func take() -> (port: Int?, firstOverflow: Bool) {
        state.withLockedValue { s in
            if let port = s.free.popLast() { return (port, false) }
            s.overflowed += 1
            return (nil, s.overflowed == 1)
        }
    }

    public func release(_ port: Int) { state.withLockedValue { $0.free.append(port) } }

    /// Legs that found every fixed port in use.
    public var overflowed: Int { state.withLockedValue { $0.overflowed } }
}
