/// Counters of one endpoint (one event loop). Plain integers: only that loop touches them.
public struct SIPEndpointStatistics: Sendable, Hashable {
    public var messagesReceived = 0
    public var messagesSent = 0
    public var retransmissionsSent = 0
    /// Malformed messages: dropped on UDP, answered 400 where possible, or the connection closed.
    public var malformedReceived = 0
    public var badRequestsAnswered = 0
    /// Responses and ACKs that matched no transaction or dialog.
    public var strayMessages = 0
    public var transactionTimeouts = 0
    public var transportErrors = 0
    public var keepAlivesAnswered = 0
    /// RFC 5626 CRLF CRLF keep-alives sent on idle outgoing connections.
    public var keepAlivesSent = 0
    /// Accepted connections closed at once by `SIPConnectionLimits` (total, per source).
    public var connectionsRefusedTotal = 0
    public var connectionsRefusedPerSource = 0
    /// Accepted connections closed for sending no complete message within the idle timeout.
    public var idleConnectionsClosed = 0
    /// Accepted TLS connections closed for not finishing the handshake in time.
    public var tlsHandshakeTimeouts = 0
    /// Messages over the maximum size (the connection is closed; a datagram is dropped).
    public var oversizedMessages = 0

    public init() {}

    public mutating func add(_ other: SIPEndpointStatistics) {
        messagesReceived += other.messagesReceived
        messagesSent += other.messagesSent
        retransmissionsSent += other.retransmissionsSent
        malformedReceived += other.malformedReceived
        badRequestsAnswered += other.badRequestsAnswered
        strayMessages += other.strayMessages
        transactionTimeouts += other.transactionTimeouts
        transportErrors += other.transportErrors
        keepAlivesAnswered += other.keepAlivesAnswered
        keepAlivesSent += other.keepAlivesSent
        connectionsRefusedTotal += other.connectionsRefusedTotal
        connectionsRefusedPerSource += other.connectionsRefusedPerSource
        idleConnectionsClosed += other.idleConnectionsClosed
        tlsHandshakeTimeouts += other.tlsHandshakeTimeouts
        oversizedMessages += other.oversizedMessages
    }
}
