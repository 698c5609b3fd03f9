import Foundation
import NIOCore
import SIPTransport

/// What the runner knows of a run besides the shards' statistics.
struct RunFacts {
    var startedAt: Date
    var endedAt: Date
    var interrupted: Bool
    var target: String
    var transport: SIPTransportKind
    /// Calls in the arrival schedule.
    var scheduledCalls: Int
    var cpuSeconds: Double
    var retransmissions: Int
    var transportErrors: Int
    var lastTransportError: String?
    /// Messages wasim sent and received (every endpoint of the run, the embedded mock's included).
    var messagesSent = 0
    var messagesReceived = 0
    /// Datagrams dropped on wasim's own UDP sockets during the run.
    var udpReceiveDrops = 0
    /// The embedded mock ran in this process (its overload is wasim's, never the target's).
    var embeddedMock = false
    /// The command line's changes to the scenario (flag and value, in order).
    var overrides: [String] = []
    /// The BIC targets in failover order.
    var targets: [String] = []
    /// CPU cores the run had (summed over the machines of a merged run).
    var cores = System.coreCount
    /// This process's share of the schedule's calls (1 without `--shard`), and its shard.
    var scheduleShare = 1.0
    var shard: RunShard?
}

extension RunSummary {
    /// summary.json from the merged statistics: counts, percentiles, the generator's health (saturated when
    /// its loops lag or its CPU runs out), media, the callees' expectations, and the verdict (the stated
    /// responses, or every call as expected; every callee expectation; every threshold).
    static func build(scenario: Scenario, statistics: ShardStatistics, facts: RunFacts) -> RunSummary {
        let elapsed = max(facts.endedAt.timeIntervalSince(facts.startedAt), 0.001)
        var targetRate: Double
        switch scenario.arrivals {
        case .constant(let rate), .poisson(let rate): targetRate = rate
        case .burst(let size, let every): targetRate = every > 0 ? Double(size) / every : Double(size)
        case .ramp(let stages):
            // The schedule's average rate: its calls over its span.
            let span = stages.map(\.duration).reduce(0, +)
            targetRate = span > 0 ? Double(facts.scheduledCalls) / span : 0
        case .closed: targetRate = 0
        }
        if case .ramp = scenario.arrivals {} else { targetRate *= facts.scheduleShare }
        let iso = ISO8601DateFormatter()
        var summary = RunSummary(
            scenario: scenario.name, startedAt: iso.string(from: facts.startedAt), endedAt: iso.string(from: facts.endedAt),
            interrupted: facts.interrupted, target: facts.target, transport: facts.transport.rawValue,
            calls: .init(attempted: statistics.attempted, connected: statistics.connected, failed: statistics.failed,
                         dropped: scenario.arrivals == .closed && scenario.duration != nil ? 0 : facts.scheduledCalls - statistics.attempted),
            responses: statistics.responses,
            latencyMs: .init(setup: .init(statistics.setup), setupFromIntended: .init(statistics.setupFromIntended),
                             postDial: .init(statistics.postDial), auth: .init(statistics.auth), startLag: .init(statistics.startLag),
                             mediaStart: scenario.bicMedia || scenario.uicMedia ? .init(statistics.mediaStart) : nil),
            rate: .init(targetCPS: targetRate, achievedCPS: startRate(statistics.starts, target: targetRate, elapsed: elapsed)),
            // Calls up at once: the peak of the shards' counts taken at the same tick, or the busiest shard's
            // own exact peak if higher (a sum of the shards' peaks would overstate it).
            concurrency: .init(max: max(statistics.maxConcurrent, statistics.samples.activePeak)),
            generator: .init(cpuSeconds: facts.cpuSeconds, retransmissions: facts.retransmissions,
                             transportErrors: facts.transportErrors, lastTransportError: facts.lastTransportError),
            traces: .init(written: statistics.traces.count, notWritten: statistics.tracesNotWritten),
            passed: false)
        summary.calls.unexpected = statistics.unexpected
        summary.shard = facts.shard?.description
        summary.calls.shed = statistics.shed
        summary.localHost = scenario.localHost
        summary.overrides = facts.overrides
        summary.targets = facts.targets
        summary.failovers = statistics.failovers
        summary.ends = statistics.ends
        summary.calls.unanswered = statistics.ends[CallEnd.ringTimeout.rawValue] ?? 0
        summary.calls.teardownFailed = statistics.teardownFailed
        summary.calls.drained = statistics.drained
        summary.generator.sendBacklogMax = max(statistics.backlogMax, statistics.samples.backlogPeak)
        summary.generator.lateStarts = statistics.lateStarts
        summary.generator.loopBusyShare = statistics.ticks > 0 ? Double(statistics.busyTicks) / Double(statistics.ticks) : 0
        summary.generator.udpReceiveDrops = facts.udpReceiveDrops
        summary.generator.retransmissionRate = facts.messagesSent > 0 ? Double(facts.retransmissions) / Double(facts.messagesSent) : 0
        summary.generator.inFlightMax = statistics.inFlightMax
        summary.generator.inFlightCap = scenario.maxInFlight
        summary.generator.shedInFlight = statistics.shedInFlight
        summary.generator.shedLate = statistics.shedLate
        summary.generator.shedOverload = statistics.shedOverload
        if statistics.duration.totalCount > 0 { summary.callDurationMs = .init(statistics.duration) }
        if statistics.expectationsChecked > 0 {
            summary.expectations = .init(checked: statistics.expectationsChecked, met: statistics.expectationsChecked - statistics.expectationsUnmet,
                                         unmet: statistics.expectationsUnmet, unmetExamples: statistics.unmetExamples)
        }
        if scenario.direction == .mix {
            summary.byDirection = ["bic": statistics.byDirection["bic"] ?? .init(), "uic": statistics.byDirection["uic"] ?? .init()]
        }
        if facts.transport == .tls, statistics.tlsHandshake.totalCount > 0 { summary.latencyMs.tlsHandshake = .init(statistics.tlsHandshake) }
        let lagP99 = RunSummary.Percentiles(statistics.loopLag).p99
        summary.generator.loopLagMsP99 = lagP99
        let cpuShare = summary.generator.cpuSeconds / elapsed / Double(max(1, facts.cores))
        let reasons = saturationReasons(summary.generator, lagP99: lagP99, cpuShare: cpuShare, cores: facts.cores, received: facts.messagesReceived,
                                        embeddedMock: facts.embeddedMock)
        if !reasons.isEmpty {
            summary.generator.saturated = true
            var text = reasons.joined(separator: "; ")
            if summary.generator.retransmissionRate > 0.01 {
                text += String(format: "; %.1f %% of its messages were retransmissions", summary.generator.retransmissionRate * 100)
            }
            if facts.embeddedMock { text += "; the embedded mock shares this process, so its failures are wasim's, not a target's" }
            summary.generator.saturationReason = text
        }
        if scenario.bicMedia || scenario.uicMedia {
            summary.clippingMs = .init(statistics.clipping)
            var breakdown: [String: RunSummary.MediaBreakdown] = [:]
            for key in Set(statistics.mediaStartBySecurity.keys).union(statistics.clippingBySecurity.keys) {
                breakdown[key] = .init(mediaStartMs: .init(statistics.mediaStartBySecurity[key] ?? ShardStatistics.makeHistogram()),
                                       clippingMs: .init(statistics.clippingBySecurity[key] ?? ShardStatistics.makeHistogram()))
            }
            summary.mediaBySecurity = breakdown
        }
        // Passing: the stated responses when there are some, else every call ended as expected (connected, or
        // the callee's expected response); every callee expectation; and every threshold.
        let complete = statistics.attempted == facts.scheduledCalls || (scenario.arrivals == .closed && scenario.duration != nil)
        var passed = scenario.expectedResponses.isEmpty
            ? statistics.unexpected == 0 && complete
            : statistics.responses == scenario.expectedResponses
        passed = passed && statistics.expectationsUnmet == 0
        for (i, threshold) in scenario.thresholds.enumerated() {
            let value = threshold.measure(summary)
            let ok = threshold.holds(value)
            passed = passed && ok
            summary.thresholds.append(.init(name: "threshold \(i + 1)", expression: threshold.expression, value: value, ok: ok))
        }
        summary.passed = passed
        return summary
    }

    /// Why the generator was the bottleneck, if it was. A loop that cannot serve a 100 ms tick within 50 ms
    /// cannot time a 20 ms media frame or a T1 retransmission honestly (a burst of hundreds of calls costs
    /// a loop some tens of ms by itself); a loop busy in a quarter of its ticks is working through queues
    /// faster than it can; datagrams dropped on its own sockets were lost by wasim. With the embedded mock,
    /// which answers every INVITE at once (a challenge, or 100 Trying), calls shed at the in-flight cap mean
    /// the process fell behind even when no loop looked busy (a debug build on a slow machine showed
    /// 19,333 calls shed with loops busy in 5 % of ticks): that is wasim's limit, not a target's.
    static func saturationReasons(_ g: RunSummary.Generator, lagP99: Double, cpuShare: Double, cores: Int, received: Int,
                                  embeddedMock: Bool) -> [String] {
        var reasons: [String] = []
        if g.shedOverload + g.shedLate > 0 {
            reasons.append("\(g.shedOverload + g.shedLate) calls shed because wasim could not start them on time (busy loops or late)")
        }
        if embeddedMock, g.shedInFlight > 0 {
            reasons.append("\(g.shedInFlight) calls shed with \(g.inFlightCap) waiting for the embedded mock's first response")
        }
        if lagP99 > 50 { reasons.append(String(format: "event-loop lag p99 %.1f ms (> 50 ms)", lagP99)) }
        if cpuShare > 0.9 { reasons.append(String(format: "CPU %.0f %% of %d cores (> 90 %%)", cpuShare * 100, cores)) }
        if g.loopBusyShare >= 0.25 {
            reasons.append(String(format: "an event loop was busy (≥ 90 %% CPU) in %.0f %% of its 100 ms ticks", g.loopBusyShare * 100))
        }
        if g.udpReceiveDrops > max(10, received / 1000) {
            reasons.append("its UDP sockets dropped \(g.udpReceiveDrops) datagrams (receive queue full)")
        }
        return reasons
    }

    /// Calls started per second, as the schedule would count them: the target rate scaled by how the actual
    /// starts spread against the intended ones (first to last), so bursts and the hold of the last calls do
    /// not skew it. Without a target rate (closed model): calls over the run.
    static func startRate(_ starts: StartSpan, target: Double, elapsed: Double) -> Double {
        let (a0, a1, i0, i1) = (starts.actualFirst, starts.actualLast, starts.intendedFirst, starts.intendedLast)
        guard starts.count > 1, a1 > a0 else { return Double(starts.count) / elapsed }
        if target > 0, i1 > i0 { return target * (i1 - i0) / (a1 - a0) }
        return Double(starts.count - 1) / ((a1 - a0) / 1000)
    }
}
