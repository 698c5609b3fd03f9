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
    }
}
