import NIOCore
import SIPTransport

/// The mock's defences against hostile peers, with defaults safe on a public address (scanners find a
/// SIP port within minutes) and loose enough for a load generator on one address.
public struct MockProtection: Sendable, Hashable {
    /// Accepted TCP and TLS connections at once, in total.
    public var maxConnections: Int = MockProtection.defaultMaxConnections
    /// Accepted connections at once from one IP address. A load generator that opens a connection per call
    /// (`connections: per-agent`) from one address needs this above its concurrency.
    public var maxConnectionsPerSource: Int = 1_000
    /// Seconds an accepted connection may go without sending a complete message (a request, a response or
    /// a CRLF CRLF keep-alive) before it is closed; nil: never. 180 s is above RFC 5626's keep-alive
    /// interval for connections (at most 120 s), so a trunk that keeps itself alive is never cut.
    public var idleTimeoutSeconds: Double? = 180
    /// Seconds a TLS client has to finish its handshake.
    public var tlsHandshakeTimeoutSeconds: Double = 10
    /// Largest SIP message accepted, in bytes: a larger one closes its connection (or is dropped on UDP).
    public var maxMessageSize: Int = 65_535
    /// Failed-authentication throttling per source address and per username.
    public var authFailures = DigestThrottlePolicy()

    public init() {}

    /// 10,000, or less when the process may open fewer files (256 kept for listeners, media and files).
    public static var defaultMaxConnections: Int { max(64, min(10_000, SIPConnectionLimits.openFileLimit - 256)) }

    /// The transport's limits for the mock's listeners.
    public var connectionLimits: SIPConnectionLimits {
        SIPConnectionLimits(
            maxConnections: maxConnections, maxConnectionsPerSource: maxConnectionsPerSource,
            idleTimeout: idleTimeoutSeconds.map { .nanoseconds(Int64($0 * 1e9)) },
            tlsHandshakeTimeout: .nanoseconds(Int64(tlsHandshakeTimeoutSeconds * 1e9)))
    }
}
