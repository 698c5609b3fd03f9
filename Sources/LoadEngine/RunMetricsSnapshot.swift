import Histogram

/// A run's counts and distributions so far, for `/metrics`: what the shards measured (histograms in µs),
/// summed over every run of the process (the levels of `wasim capacity`), and the transport's counts.
/// Every count only grows while the process lives.
public struct RunMetricsSnapshot: Sendable {
    public var started = 0
    public var connected = 0
    public var failed = 0
    public var unexpected = 0
    /// Due calls not started by the generator's protection, per reason (`in_flight`, `late`, `overload`).
    public var notStarted: [String: Int] = [:]
    /// Ended calls per final response (`"200 OK"`, `"403 Forbidden"`, `"0 timeout"`).
    public var responses: [String: Int] = [:]
    /// Calls up now (ringing or connected), summed over the shards.
    public var active = 0
    public var setup = ShardStatistics.makeHistogram()
    public var postDial = ShardStatistics.makeHistogram()
    public var auth = ShardStatistics.makeHistogram()
    public var tlsHandshake = ShardStatistics.makeHistogram()
    public var mediaStart = ShardStatistics.makeHistogram()
    public var clipping = ShardStatistics.makeHistogram()
    public var loopLag = ShardStatistics.makeHistogram()
    /// 100 ms ticks of the loops and those in which a loop's thread was busy (≥ 90 % CPU).
    public var ticks = 0
    public var busyTicks = 0
    public var retransmissions = 0
    public var messagesSent = 0
    public var messagesReceived = 0
    public var transportErrors = 0
    /// Runs ended in this process, and whether one is going now.
    public var runsEnded = 0
    public var running = false

    public init() {}

    /// Adds a shard's (or a finished run's) measurements.
    mutating func add(_ s: ShardStatistics, active: Int) {
        started += s.attempted
        connected += s.connected
        failed += s.failed
        unexpected += s.unexpected
        if s.shedInFlight > 0 { notStarted["in_flight", default: 0] += s.shedInFlight }
        if s.shedLate > 0 { notStarted["late", default: 0] += s.shedLate }
        if s.shedOverload > 0 { notStarted["overload", default: 0] += s.shedOverload }
        for (k, v) in s.responses { responses[k, default: 0] += v }
        self.active += active
        setup.add(s.setup)
        postDial.add(s.postDial)
        auth.add(s.auth)
        tlsHandshake.add(s.tlsHandshake)
        mediaStart.add(s.mediaStart)
        clipping.add(s.clipping)
        loopLag.add(s.loopLag)
        ticks += s.ticks
        busyTicks += s.busyTicks
    }

    mutating func add(transport t: (retransmissions: Int, sent: Int, received: Int, errors: Int)) {
        retransmissions += t.retransmissions
        messagesSent += t.sent
        messagesReceived += t.received
        transportErrors += t.errors
    }

    mutating func add(_ o: RunMetricsSnapshot) {
        started += o.started
        connected += o.connected
        failed += o.failed
        unexpected += o.unexpected
        for (k, v) in o.notStarted { notStarted[k, default: 0] += v }
        for (k, v) in o.responses { responses[k, default: 0] += v }
        active += o.active
        setup.add(o.setup)
        postDial.add(o.postDial)
        auth.add(o.auth)
        tlsHandshake.add(o.tlsHandshake)
        mediaStart.add(o.mediaStart)
        clipping.add(o.clipping)
        loopLag.add(o.loopLag)
        ticks += o.ticks
        busyTicks += o.busyTicks
        retransmissions += o.retransmissions
        messagesSent += o.messagesSent
        messagesReceived += o.messagesReceived
        transportErrors += o.transportErrors
        runsEnded += o.runsEnded
        running = running || o.running
    }

    /// The generator is the bottleneck now, by the run summary's rules (calls shed because it was late or
    /// busy, loop lag p99 over 50 ms, loops busy in a quarter of their ticks).
    public var saturated: Bool {
        let lagP99 = loopLag.totalCount > 0 ? Double(loopLag.valueAtPercentile(99)) / 1000 : 0
        return (notStarted["late"] ?? 0) + (notStarted["overload"] ?? 0) > 0 || lagP99 > 50
            || (ticks > 0 && Double(busyTicks) / Double(ticks) >= 0.25)
    }
}
