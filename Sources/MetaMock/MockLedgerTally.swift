/// Counts of the calls a ledger has ended: by direction and final status, and by the rule that decided
/// them (the rule names of the mock's log). Added across loops for the mock's metrics.
public struct MockLedgerTally: Sendable, Hashable {
    /// A call's direction and final status (`none` when no final response was sent, as for a call that
    /// could not be placed).
    public struct Outcome: Sendable, Hashable {
        public var direction: String
        public var status: String
    }

    /// A rule's decision: the call's direction, its final status and the rule.
    public struct Decision: Sendable, Hashable {
        public var direction: String
        public var status: String
        public var rule: String
    }

    /// Calls ended, each counted once.
    public private(set) var ended = 0
    public private(set) var byOutcome: [Outcome: Int] = [:]
    public private(set) var byRule: [Decision: Int] = [:]

    public init() {}

    mutating func count(_ record: MockCallRecord) {
        ended += 1
        let status = record.finalStatus.map(String.init) ?? "none"
        byOutcome[Outcome(direction: record.direction.rawValue, status: status), default: 0] += 1
        if let rule = record.rule { byRule[Decision(direction: record.direction.rawValue, status: status, rule: rule), default: 0] += 1 }
    }

    /// Adds another loop's counts.
    public mutating func add(_ other: MockLedgerTally) {
        ended += other.ended
        for (k, v) in other.byOutcome { byOutcome[k, default: 0] += v }
        for (k, v) in other.byRule { byRule[k, default: 0] += v }
    }
}
