import LoadEngine
import MetaMock

/// `/metrics` of `wasim scenario` and `wasim capacity`: the runs' counts, calls up, latency histograms,
/// media, and the generator's health, read from `LiveRunStatistics` at each scrape; with the embedded mock,
/// its metrics too.
public actor RunMetricsPublisher: MetricsPublisher {
    private let live: LiveRunStatistics
    private let feed = PrometheusFeed()

    public init(live: LiveRunStatistics) {
        self.live = live
    }

    public func exposition() async -> [UInt8] {
        let s = await live.snapshot()
        let st = s.statistics
        feed.counter("wasim_calls_started_total", total: st.attempted)
        feed.counter("wasim_calls_connected_total", total: st.connected)
        feed.counter("wasim_calls_failed_total", total: st.failed)
        feed.counter("wasim_calls_unexpected_total", total: st.unexpected)
        for (reason, n) in s.notStarted { feed.counter("wasim_calls_not_started_total", [("reason", reason)], total: n) }
        // Ended calls by final status: "200 OK" → 200; a call that ended with no response (timeout,
        // transport failure, interrupted) has status "none".
        var byStatus: [String: Int] = [:]
        for (response, n) in st.responses {
            let code = response.prefix { $0 != " " }
            byStatus[code == "0" ? "none" : String(code), default: 0] += n
        }
        for (status, n) in byStatus { feed.counter("wasim_calls_total", [("status", status)], total: n) }
        feed.gauge("wasim_active_calls", value: Double(s.active))
        feed.histogram("wasim_setup_seconds", buckets: LatencyBuckets.setup, micros: st.setup)
        feed.histogram("wasim_post_dial_seconds", buckets: LatencyBuckets.setup, micros: st.postDial)
        feed.histogram("wasim_auth_seconds", buckets: LatencyBuckets.setup, micros: st.auth)
        feed.histogram("wasim_tls_handshake_seconds", buckets: LatencyBuckets.setup, micros: st.tlsHandshake)
        feed.histogram("wasim_media_start_seconds", buckets: LatencyBuckets.media, micros: st.mediaStart)
        feed.histogram("wasim_clipping_seconds", buckets: LatencyBuckets.media, micros: st.clipping)
        feed.histogram("wasim_generator_loop_lag_seconds", buckets: LatencyBuckets.loopLag, micros: st.loopLag)
        feed.counter("wasim_generator_cpu_seconds_total", seconds: ProcessCPU.seconds())
        // The busiest loop's share of busy 100 ms ticks, as summary.json's loop_busy_share.
        feed.gauge("wasim_generator_loop_busy_ratio", value: st.ticks > 0 ? Double(st.busyTicks) / Double(st.ticks) : 0)
        feed.gauge("wasim_generator_saturated", value: s.saturated ? 1 : 0)
        feed.counter("wasim_sip_retransmissions_total", total: s.retransmissions)
        feed.counter("wasim_sip_messages_sent_total", total: s.messagesSent)
        feed.counter("wasim_sip_messages_received_total", total: s.messagesReceived)
        feed.counter("wasim_transport_errors_total", total: s.transportErrors)
        feed.counter("wasim_runs_ended_total", total: s.runsEnded)
        feed.gauge("wasim_run_in_progress", value: s.running ? 1 : 0)
        if let (snapshot, businesses) = await live.embeddedMockSnapshot() {
            MockMetricsPublisher.publish(snapshot, businesses: businesses, into: feed)
        }
        return feed.exposition()
    }
}
