import SIPTransport

/// A run's counts and distributions so far, for `/metrics`: the shards' statistics merged (histograms in
/// µs; the per-second series and traces left out), summed over every run of the process (the levels of
/// `wasim capacity`), with the calls up now and the transport's counts. Every count only grows while the
/// process lives.
public struct RunMetricsSnapshot: Sendable {
    public var statistics = ShardStatistics()
    /// Calls up now (ringing or connected), summed over the shards.
    public var active = 0
    public var retransmissions = 0
    public var messagesSent = 0
    public var messagesReceived = 0
    public var transportErrors = 0
    /// Runs ended in this process, and whether one is going now.
    public var runsEnded = 0
    public var running = false

    public init() {}

    /// Due calls not started by the generator's protection, per reason (`in_flight`, `late`, `overload`).
    public var notStarted: [String: Int] {
        ["in_flight": statistics.shedInFlight, "late": statistics.shedLate, "overload": statistics.shedOverload]
    }

    /// Adds a shard's (or a finished run's) measurements, without what a scrape does not read.
    mutating func add(_ s: ShardStatistics, active: Int) {
        var s = s
        s.traces = []
        s.timeSeries = TimeSeries()
        s.samples = TickSamples()
        statistics.merge(s)
        self.active += active
    }

    mutating func add(transport t: SIPEndpointStatistics) {
        retransmissions += t.retransmissionsSent
        messagesSent += t.messagesSent
        messagesReceived += t.messagesReceived
        transportErrors += t.transportErrors
    }

    /// The generator is the bottleneck now, by the run summary's own rules (`RunSummary.saturationReasons`:
    /// calls shed because it was late or busy, loop lag p99 over 50 ms, the busiest loop busy in a quarter of
    /// its ticks); what only a run's end knows (CPU share, UDP drops) is left out.
    public var saturated: Bool {
        let s = statistics
        var g = RunSummary.Generator(cpuSeconds: 0, retransmissions: retransmissions, transportErrors: transportErrors, lastTransportError: nil)
        g.shedLate = s.shedLate
        g.shedOverload = s.shedOverload
        g.loopBusyShare = s.ticks > 0 ? Double(s.busyTicks) / Double(s.ticks) : 0
        let lagP99 = RunSummary.Percentiles(s.loopLag).p99
        return !RunSummary.saturationReasons(g, lagP99: lagP99, cpuShare: 0, cores: 1, received: messagesReceived, embeddedMock: false).isEmpty
    }
}
