/// What the mock's defences (`MockProtection`) did since it started, summed over its event loops.
public struct MockProtectionCounts: Sendable, Hashable, CustomStringConvertible {
    /// Accepted TCP/TLS connections open now.
    public var connectionsOpen: Int
    /// Connections closed at once by the total limit and by the per-source limit.
    public var refusedTotal: Int
    public var refusedPerSource: Int
    /// Connections closed for sending no complete message within the idle timeout.
    public var idleClosed: Int
    /// TLS connections closed for not finishing the handshake in time.
    public var tlsHandshakeTimeouts: Int
    /// Messages over the size limit, and malformed messages of any kind (those included).
    public var oversizedMessages: Int
    public var malformedMessages: Int
    /// Lockouts started by failed authentications, and attempts refused during one.
    public var authLockouts: Int
    public var authRefused: Int

    /// Nothing refused, closed or locked out, and no connection open.
    public static let none = MockProtectionCounts(connectionsOpen: 0, refusedTotal: 0, refusedPerSource: 0, idleClosed: 0,
                                                  tlsHandshakeTimeouts: 0, oversizedMessages: 0, malformedMessages: 0,
                                                  authLockouts: 0, authRefused: 0)

    /// Adds another mock's counts.
    public mutating func add(_ o: MockProtectionCounts) {
        connectionsOpen += o.connectionsOpen
        refusedTotal += o.refusedTotal
        refusedPerSource += o.refusedPerSource
        idleClosed += o.idleClosed
        tlsHandshakeTimeouts += o.tlsHandshakeTimeouts
        oversizedMessages += o.oversizedMessages
        malformedMessages += o.malformedMessages
        authLockouts += o.authLockouts
        authRefused += o.authRefused
    }

    /// Nothing new was refused, closed or locked out since `earlier` (the connections open may differ).
    public func sameRefusals(as earlier: MockProtectionCounts) -> Bool {
        var now = self
        now.connectionsOpen = earlier.connectionsOpen
        return now == earlier
    }

    public var description: String {
        "\(connectionsOpen) connections open; refused \(refusedTotal) (connection limit), \(refusedPerSource) (per-source limit); "
            + "closed \(idleClosed) idle, \(tlsHandshakeTimeouts) TLS handshake timeouts; \(malformedMessages) malformed messages "
            + "(\(oversizedMessages) oversized); \(authLockouts) auth lockouts, \(authRefused) attempts refused while locked out"
    }
}
