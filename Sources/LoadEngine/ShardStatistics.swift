import Histogram
import NIOCore

/// One finished call, for calls.csv.
public struct CallRecord: Sendable, Hashable {
    public var index: Int
    public var callID: String
    public var callee: String
    /// Offsets from the run start, in milliseconds.
    public var intendedStartMs: Double
    public var actualStartMs: Double
    public var status: Int
    public var reason: String
    public var setupMs: Double?
    public var postDialMs: Double?
    public var authMs: Double?
    public var hangup: String
    /// `dtls`, `sdes`, or empty without media.
    public var mediaSecurity: String = ""
    /// Answer → first packet from Meta decrypted.
    public var mediaStartMs: Double?
    /// Business audio lost at the start: frames produced before SRTP keys existed × ptime.
    public var clippedMs: Double?
    public var clientHelloRetransmissions: Int?
    /// DTLS handshake (first flight → keys) and ICE (answer → nomination), in ms.
    public var dtlsHandshakeMs: Double?
    public var iceMs: Double?
    /// `bic` or `uic`.
    public var direction = "bic"
    /// Connected and ended well (counted in `calls.connected`).
    public var succeeded = false
    /// `connected`, `failed` (both counted in `calls`), or `not_started` (shed by the generator).
    public var outcome = ""
    /// Why the call ended (`CallEnd`'s names).
    public var end = ""
    /// How a connected call was torn down: `bye 200` (our BYE and its answer; `bye timeout` when it got none,
    /// `bye transport` when its connection failed),
    /// `bye from meta` (the far end's BYE), empty for calls that never connected.
    public var teardown = ""
    /// Answer → hang-up, for connected calls.
    public var durationMs: Double?
    /// The response expected from this callee (`expect.callees`, the CSV), and whether the call ended so.
    public var expected: String = ""
    public var expectationMet: Bool?
}

/// The measurements of one event loop's calls: histograms in microseconds, counts per response.
/// Merged across loops at the end (no shared state while running).
public struct ShardStatistics: Sendable {
    public var setup = ShardStatistics.makeHistogram()
    public var setupFromIntended = ShardStatistics.makeHistogram()
    public var postDial = ShardStatistics.makeHistogram()
    public var auth = ShardStatistics.makeHistogram()
    public var startLag = ShardStatistics.makeHistogram()
    public var mediaStart = ShardStatistics.makeHistogram()
    public var clipping = ShardStatistics.makeHistogram()
    /// Per media security (`dtls`, `sdes`): media start and clipping, in µs.
    public var mediaStartBySecurity: [String: Histogram<UInt64>] = [:]
    public var clippingBySecurity: [String: Histogram<UInt64>] = [:]
    public var responses: [String: Int] = [:]
    /// Calls per `CallEnd` name.
    public var ends: [String: Int] = [:]
    /// INVITEs sent to the next target after the current one failed.
    public var failovers = 0
    /// Connected calls whose hang-up went wrong (BYE timed out or refused, the far end's BYE missing).
    public var teardownFailed = 0
    /// Calls still up at the drain deadline (`load.drain`).
    public var drained = 0
    /// Event-loop lag of the shard's loop (a 100 ms tick's lateness), in µs.
    public var loopLag = ShardStatistics.makeHistogram()
    /// TLS connect + handshake of the shard's connections, in µs.
    public var tlsHandshake = ShardStatistics.makeHistogram()
    /// Answer → hang-up of connected calls, in µs.
    public var duration = ShardStatistics.makeHistogram()
    /// Calls whose end was not what the scenario expects: a failure no expectation covers, or a response
    /// other than the callee's expected one.
    public var unexpected = 0
    /// Calls to callees with an expected response, those that ended otherwise, and the first of those.
    public var expectationsChecked = 0
    public var expectationsUnmet = 0
    public var unmetExamples: [String] = []
    /// Calls due to start whose start the loop had not reached, sampled every 100 ms (the send backlog).
    public var backlogMax = 0
    /// Calls that started more than 10 ms after their intended start.
    public var lateStarts = 0
    /// Due calls not started by the generator's own protection, and why.
    public var shed = 0
    public var shedInFlight = 0
    public var shedLate = 0
    public var shedOverload = 0
    /// The most calls waiting for a first response to their INVITE at once (summed over the shards).
    public var inFlightMax = 0
    /// 100 ms ticks of this loop, and those in which its thread used at least `busyTick` of the time.
    public var ticks = 0
    public var busyTicks = 0
    /// A tick is busy from this share of CPU on.
    static let busyTick = 0.9
    public var timeSeries = TimeSeries()
    public var attempted = 0
    public var connected = 0
    public var failed = 0
    /// One shard's peak of calls up (exact, between ticks too); after a merge, the largest shard's.
    public var maxConcurrent = 0
    /// Calls up and due-but-unstarted per 100 ms tick; merged tick by tick, so their peaks are simultaneous.
    public var samples = TickSamples()
    /// When the calls were meant to start and did, as spans (the start rate is computed from them).
    public var starts = StartSpan()
    /// Calls of each direction (`bic`, `uic`).
    public var byDirection: [String: RunSummary.DirectionCalls] = [:]
    /// Calls per clipping bucket (`ClippingBuckets`), per media security.
    public var clippingBuckets: [String: [Int]] = [:]
    /// Rendered ladders of traced calls (file name stem, text).
    public var traces: [(name: String, text: String)] = []
    public var tracesNotWritten = 0

    public init() {}

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    static func micros(_ t: TimeAmount) -> UInt64 { UInt64(max(0, t.nanoseconds / 1000)) }

    mutating func record(_ t: TimeAmount?, in histogram: WritableKeyPath<ShardStatistics, Histogram<UInt64>>) {
        guard let t else { return }
        _ = self[keyPath: histogram].record(Self.micros(t))
    }

    /// Counts one ended call's outcome from its record (`expected` and `expectationMet` already set when
    /// the callee had an expectation): its response, connected or failed, a teardown that went wrong, the
    /// expectation; returns whether the call ended as the scenario expects. The live run and
    /// `wasim report` (rebuilding from calls.csv) both count through here.
    mutating func countOutcome(_ record: CallRecord, succeeded: Bool, teardownFailed: Bool, extraResponses: [String] = []) -> Bool {
        responses["\(record.status) \(record.reason)", default: 0] += 1
        for extra in extraResponses { responses[extra, default: 0] += 1 }
        if succeeded { connected += 1 } else { failed += 1 }
        // A connected call whose hang-up went wrong (BYE timed out or refused, the far end's BYE missing)
        // stays connected, and is counted apart: it did not end as expected.
        if teardownFailed { self.teardownFailed += 1 }
        var asExpected = succeeded && !teardownFailed
        if let met = record.expectationMet {
            expectationsChecked += 1
            // A 2xx that was expected still has to end well (its BYE answered).
            asExpected = met && ((succeeded && !teardownFailed) || !(200..<300).contains(record.status))
            if !met {
                expectationsUnmet += 1
                if unmetExamples.count < 10 {
                    unmetExamples.append("call \(record.index) \(record.callee): expected \(record.expected), got \(record.status) \(record.reason)")
                }
            }
        }
        if !asExpected { unexpected += 1 }
        return asExpected
    }

    /// Counts one ended call's record: its start times, its direction, its clipping bucket.
    mutating func count(_ record: CallRecord) {
        starts.add(intendedMs: record.intendedStartMs, actualMs: record.actualStartMs)
        if !record.end.isEmpty { ends[record.end, default: 0] += 1 }
        if record.succeeded { byDirection[record.direction, default: .init()].connected += 1 } else { byDirection[record.direction, default: .init()].failed += 1 }
        byDirection[record.direction, default: .init()].attempted += 1
        if let clipped = record.clippedMs {
            clippingBuckets[record.mediaSecurity, default: [Int](repeating: 0, count: ClippingBuckets.bounds.count)][ClippingBuckets.index(clipped)] += 1
        }
    }

    /// Records one call's media measurements (milliseconds) overall and per security.
    mutating func recordMedia(security: String, startMs: Double?, clippedMs: Double?) {
        if let startMs {
            _ = mediaStart.record(UInt64(max(0, startMs * 1000)))
            _ = mediaStartBySecurity[security, default: Self.makeHistogram()].record(UInt64(max(0, startMs * 1000)))
        }
        if let clippedMs {
            // Zero clipping is a value too: recorded as 1 µs, the histogram's floor.
            let us = UInt64(max(1, clippedMs * 1000))
            _ = clipping.record(us)
            _ = clippingBySecurity[security, default: Self.makeHistogram()].record(us)
        }
    }

    public mutating func merge(_ other: ShardStatistics) {
        setup.add(other.setup)
        setupFromIntended.add(other.setupFromIntended)
        postDial.add(other.postDial)
        auth.add(other.auth)
        startLag.add(other.startLag)
        mediaStart.add(other.mediaStart)
        loopLag.add(other.loopLag)
        tlsHandshake.add(other.tlsHandshake)
        duration.add(other.duration)
        unexpected += other.unexpected
        expectationsChecked += other.expectationsChecked
        expectationsUnmet += other.expectationsUnmet
        unmetExamples += other.unmetExamples.prefix(max(0, 10 - unmetExamples.count))
        backlogMax = max(backlogMax, other.backlogMax)
        samples.merge(other.samples)
        lateStarts += other.lateStarts
        shed += other.shed
        shedInFlight += other.shedInFlight
        shedLate += other.shedLate
        shedOverload += other.shedOverload
        inFlightMax += other.inFlightMax
        // The busiest loop counts: a loop that is the bottleneck is not relieved by an idle one.
        if other.ticks > 0, ticks == 0 || Double(other.busyTicks) / Double(other.ticks) > Double(busyTicks) / Double(ticks) {
            ticks = other.ticks
            busyTicks = other.busyTicks
        }
        timeSeries.merge(other.timeSeries)
        clipping.add(other.clipping)
        for (k, v) in other.mediaStartBySecurity { mediaStartBySecurity[k, default: Self.makeHistogram()].add(v) }
        for (k, v) in other.clippingBySecurity { clippingBySecurity[k, default: Self.makeHistogram()].add(v) }
        for (k, v) in other.responses { responses[k, default: 0] += v }
        for (k, v) in other.ends { ends[k, default: 0] += v }
        failovers += other.failovers
        teardownFailed += other.teardownFailed
        drained += other.drained
        attempted += other.attempted
        connected += other.connected
        failed += other.failed
        maxConcurrent = max(maxConcurrent, other.maxConcurrent)
        starts.merge(other.starts)
        for (k, v) in other.byDirection {
            byDirection[k, default: .init()].attempted += v.attempted
            byDirection[k, default: .init()].connected += v.connected
            byDirection[k, default: .init()].failed += v.failed
        }
        for (k, v) in other.clippingBuckets {
            var mine = clippingBuckets[k] ?? [Int](repeating: 0, count: v.count)
            for i in v.indices { mine[i] += v[i] }
            clippingBuckets[k] = mine
        }
        traces += other.traces
        tracesNotWritten += other.tracesNotWritten
    }
}

/// The first and last intended and actual starts of a run's calls, in ms from the run start.
public struct StartSpan: Sendable, Hashable, Codable {
    public var count = 0
    public var intendedFirst = Double.infinity
    public var intendedLast = -Double.infinity
    public var actualFirst = Double.infinity
    public var actualLast = -Double.infinity

    public init() {}

    mutating func add(intendedMs: Double, actualMs: Double) {
        count += 1
        intendedFirst = min(intendedFirst, intendedMs)
        intendedLast = max(intendedLast, intendedMs)
        actualFirst = min(actualFirst, actualMs)
        actualLast = max(actualLast, actualMs)
    }

    mutating func merge(_ o: StartSpan) {
        count += o.count
        intendedFirst = min(intendedFirst, o.intendedFirst)
        intendedLast = max(intendedLast, o.intendedLast)
        actualFirst = min(actualFirst, o.actualFirst)
        actualLast = max(actualLast, o.actualLast)
    }
}

/// The clipping distribution's buckets in the report: exactly 0, then up to each bound.
public enum ClippingBuckets {
    public static let bounds: [(label: String, upTo: Double)] = [
        ("0 ms", 0.5), ("< 100 ms", 100), ("< 500 ms", 500), ("< 1 s", 1000), ("< 2 s", 2000), ("< 4 s", 4000), ("≥ 4 s", .infinity),
    ]

    static func index(_ ms: Double) -> Int { bounds.firstIndex { ms <= $0.upTo } ?? bounds.count - 1 }
}
