import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Limits on the stream connections a listener accepts (TCP and TLS), so that a flood of idle or stalled
/// connections cannot take every file descriptor. Outgoing connections are not limited; they get
/// keep-alives instead (`keepAliveInterval`).
public struct SIPConnectionLimits: Sendable, Hashable {
    /// Accepted connections open at once, over every listener; past it a new connection is closed at once.
    public var maxConnections: Int
    /// Accepted connections open at once from one source IP address.
    public var maxConnectionsPerSource: Int
    /// An accepted connection that sends no complete message (a request, a response or an RFC 5626 CRLF CRLF
    /// keep-alive) for this long is closed (checked in quarters of it, so at most a quarter later); nil never
    /// closes. A trunk that keeps itself alive with OPTIONS or CRLF keep-alives (RFC 5626 §4.4.1: at most
    /// every 120 s) is never cut.
    public var idleTimeout: TimeAmount?
    /// An accepted TLS connection must finish its handshake within this time.
    public var tlsHandshakeTimeout: TimeAmount
    /// Outgoing connections with nothing received for this long (at most a quarter more) send a CRLF CRLF keep-alive
    /// (RFC 5626 §3.5.1), so a peer's idle timeout does not cut a call's connection during a long hold.
    public var keepAliveInterval: TimeAmount?

    public init(maxConnections: Int = Int.max, maxConnectionsPerSource: Int = Int.max, idleTimeout: TimeAmount? = nil,
                tlsHandshakeTimeout: TimeAmount = .seconds(10), keepAliveInterval: TimeAmount? = .seconds(90))
    {
        self.maxConnections = maxConnections
        self.maxConnectionsPerSource = maxConnectionsPerSource
        self.idleTimeout = idleTimeout
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.keepAliveInterval = keepAliveInterval
    }

    /// No limit on accepted connections (a load generator's own listeners).
    public static let unlimited = SIPConnectionLimits()

    /// The open-file limit of this process (RLIMIT_NOFILE, soft), for defaults that must stay below it.
    public static var openFileLimit: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur)
    }
}

/// Why an accepted connection was closed at once.
public enum SIPConnectionRefusal: String, Error, Sendable {
    case total = "connection limit"
    case perSource = "per-source connection limit"
}

/// Counts the accepted connections open, in total and per source address, shared by every listener and
/// loop of a stack. Touched once when a connection opens and once when it closes, never per message.
final class SIPConnectionAdmission: Sendable {
    private struct Counts {
        var total = 0
        var bySource: [SocketAddress.IPAddressKey: Int] = [:]
    }

    let limits: SIPConnectionLimits
    private let counts = NIOLockedValueBox(Counts())

    init(limits: SIPConnectionLimits) { self.limits = limits }

    /// Takes a place for a connection from `source`, or says which limit refuses it.
    func admit(_ source: SocketAddress.IPAddressKey) -> SIPConnectionRefusal? {
        counts.withLockedValue { counts in
            if counts.total >= limits.maxConnections { return .total }
            let fromSource = counts.bySource[source, default: 0]
            if fromSource >= limits.maxConnectionsPerSource { return .perSource }
            counts.total += 1
            counts.bySource[source] = fromSource + 1
            return nil
        }
    }

    /// Gives back the place of a closed connection.
    func release(_ source: SocketAddress.IPAddressKey) {
        counts.withLockedValue { counts in
            counts.total -= 1
            let left = counts.bySource[source, default: 1] - 1
            counts.bySource[source] = left > 0 ? left : nil
        }
    }

    /// Accepted connections open now.
    var open: Int { counts.withLockedValue { $0.total } }
}

extension SocketAddress {
    /// The address without its port, as a dictionary key (per-source limits count by IP address).
    struct IPAddressKey: Hashable, Sendable {
        let text: String
    }

    var ipAddressKey: IPAddressKey { IPAddressKey(text: ipAddress ?? "\(self)") }
}
