import LoadEngine
import MetaMock

/// The mock's metrics: ended calls by direction and status, decisions by rule (the rule names of its log),
/// calls in progress per business number, the ledger's size, challenges, and what its defences did.
public actor MockMetricsPublisher: MetricsPublisher {
    private let feed = PrometheusFeed()
    private let server: MetaMockServer

    /// For `wasim mock --metrics`.
    public init(server: MetaMockServer) {
        self.server = server
    }

    public func exposition() async -> [UInt8] {
        let snapshot = await server.metricsSnapshot()
        Self.publish(snapshot, businesses: server.configuration.businesses.map(\.number), into: feed)
        feed.counter("wasim_mock_cpu_seconds_total", seconds: ProcessCPU.seconds())
        return feed.exposition()
    }

    /// The mock's metrics into `feed` (also a run's, for its embedded mock).
    static func publish(_ s: MockMetricsSnapshot, businesses: [String], into feed: PrometheusFeed) {
        for (outcome, n) in s.tally.byOutcome {
            feed.counter("wasim_mock_calls_total", [("direction", outcome.direction), ("status", outcome.status)], total: n)
        }
        for (decision, n) in s.tally.byRule {
            feed.counter("wasim_mock_rule_total", [("direction", decision.direction), ("status", decision.status), ("rule", decision.rule)], total: n)
        }
        // Every configured business has a value (0 when idle), and so does any other number seen.
        for number in Set(businesses).union(s.activeByBusiness.keys) {
            feed.gauge("wasim_mock_active_calls", [("business", number)], value: Double(s.activeByBusiness[number] ?? 0))
        }
        feed.gauge("wasim_mock_ledger_records", value: Double(s.ledgerRecords))
        feed.counter("wasim_mock_challenges_total", total: s.challengesSent)
        let p = s.protection
        feed.gauge("wasim_mock_connections_open", value: Double(p.connectionsOpen))
        feed.counter("wasim_mock_connections_refused_total", [("limit", "total")], total: p.refusedTotal)
        feed.counter("wasim_mock_connections_refused_total", [("limit", "per_source")], total: p.refusedPerSource)
        feed.counter("wasim_mock_connections_idle_closed_total", total: p.idleClosed)
        feed.counter("wasim_mock_tls_handshake_timeouts_total", total: p.tlsHandshakeTimeouts)
        feed.counter("wasim_mock_malformed_messages_total", total: p.malformedMessages)
        feed.counter("wasim_mock_oversized_messages_total", total: p.oversizedMessages)
        feed.counter("wasim_mock_auth_lockouts_total", total: p.authLockouts)
        feed.counter("wasim_mock_auth_refused_total", total: p.authRefused)
        feed.counter("wasim_mock_sip_messages_sent_total", total: s.messagesSent)
        feed.counter("wasim_mock_sip_messages_received_total", total: s.messagesReceived)
        feed.counter("wasim_mock_sip_retransmissions_total", total: s.retransmissionsSent)
    }
}
