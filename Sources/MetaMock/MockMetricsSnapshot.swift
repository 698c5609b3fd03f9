/// The mock's state for `/metrics`, gathered from every loop when scraped (each loop counts alone, with no
/// lock on the call path).
public struct MockMetricsSnapshot: Sendable {
    /// Ended calls by direction and status, and by rule.
    public var tally = MockLedgerTally()
    /// Calls in progress per business number (ringing or up), both directions.
    public var activeByBusiness: [String: Int] = [:]
    /// Records in the ledger: ended calls plus those in progress.
    public var ledgerRecords = 0
    /// 407 challenges sent.
    public var challengesSent = 0
    /// What the defences did (connections refused, malformed messages, lockouts).
    public var protection = MockProtectionCounts.none
    /// SIP messages sent and received, and retransmissions, over every listener.
    public var messagesSent = 0
    public var messagesReceived = 0
    public var retransmissionsSent = 0

    public init() {}

    /// Adds another mock's counts (the embedded mocks of successive runs); calls in progress add up.
    public mutating func add(_ o: MockMetricsSnapshot) {
        tally.add(o.tally)
        for (k, v) in o.activeByBusiness { activeByBusiness[k, default: 0] += v }
        ledgerRecords += o.ledgerRecords
        challengesSent += o.challengesSent
        protection.add(o.protection)
        messagesSent += o.messagesSent
        messagesReceived += o.messagesReceived
        retransmissionsSent += o.retransmissionsSent
    }
}
