import Foundation
import Histogram
import SIPTransport

/// `statistics.json`: everything a run's summary is built from, raw (the HDR histograms in
/// `HistogramArchive` form, the counts, the per-second series with each second's histogram, the calls up
/// per tick, the run's facts), so `wasim merge` can combine the shards of a run exactly: counts add up and
/// percentiles come from the merged histograms.
public struct RunArchive: Codable, Sendable {
    public static let fileName = "statistics.json"
    static let currentFormat = "wasim-run-statistics/1"

    public var format = RunArchive.currentFormat
    public var shard: String?
    var histograms: [String: HistogramArchive] = [:]
    var counts: [String: Int] = [:]
    var responses: [String: Int] = [:]
    var ends: [String: Int] = [:]
    var byDirection: [String: RunSummary.DirectionCalls] = [:]
    var clippingBuckets: [String: [Int]] = [:]
    var unmetExamples: [String] = []
    var starts = StartSpan()
    var samples = TickSamples()
    var timeSeries = TimeSeries()
    var facts: Facts

    /// A run's facts besides the shards' statistics (`RunFacts`), as written.
    struct Facts: Codable, Sendable {
        var startedAt: Date
        var endedAt: Date
        var interrupted: Bool
        var target: String
        var transport: String
        var scheduledCalls: Int
        var cpuSeconds: Double
        var retransmissions: Int
        var transportErrors: Int
        var lastTransportError: String?
        var messagesSent: Int
        var messagesReceived: Int
        var udpReceiveDrops: Int
        var embeddedMock: Bool
        var overrides: [String]
        var targets: [String]
        var cores: Int
        var scheduleShare: Double
    }

    /// The integer counts of `ShardStatistics`, by name.
    private static var countKeys: [(String, WritableKeyPath<ShardStatistics, Int>)] { [
        ("attempted", \.attempted), ("connected", \.connected), ("failed", \.failed), ("unexpected", \.unexpected),
        ("failovers", \.failovers), ("teardown_failed", \.teardownFailed), ("drained", \.drained),
        ("expectations_checked", \.expectationsChecked), ("expectations_unmet", \.expectationsUnmet),
        ("backlog_max", \.backlogMax), ("late_starts", \.lateStarts), ("shed", \.shed), ("shed_in_flight", \.shedInFlight),
        ("shed_late", \.shedLate), ("shed_overload", \.shedOverload), ("in_flight_max", \.inFlightMax), ("ticks", \.ticks),
        ("busy_ticks", \.busyTicks), ("max_concurrent", \.maxConcurrent), ("traces_not_written", \.tracesNotWritten),
    ] }

    private static var histogramKeys: [(String, WritableKeyPath<ShardStatistics, Histogram<UInt64>>)] { [
        ("setup", \.setup), ("setup_from_intended", \.setupFromIntended), ("post_dial", \.postDial), ("auth", \.auth),
        ("start_lag", \.startLag), ("media_start", \.mediaStart), ("clipping", \.clipping), ("loop_lag", \.loopLag),
        ("tls_handshake", \.tlsHandshake), ("duration", \.duration),
    ] }

    init(statistics s: ShardStatistics, facts f: RunFacts) {
        shard = f.shard?.description
        for (name, path) in Self.histogramKeys { histograms[name] = HistogramArchive(s[keyPath: path]) }
        for (k, v) in s.mediaStartBySecurity { histograms["media_start." + k] = HistogramArchive(v) }
        for (k, v) in s.clippingBySecurity { histograms["clipping." + k] = HistogramArchive(v) }
        for (name, path) in Self.countKeys { counts[name] = s[keyPath: path] }
        counts["traces_written"] = s.traces.count
        responses = s.responses
        ends = s.ends
        byDirection = s.byDirection
        clippingBuckets = s.clippingBuckets
        unmetExamples = s.unmetExamples
        starts = s.starts
        samples = s.samples
        timeSeries = s.timeSeries
        facts = Facts(startedAt: f.startedAt, endedAt: f.endedAt, interrupted: f.interrupted, target: f.target, transport: f.transport.rawValue,
                      scheduledCalls: f.scheduledCalls, cpuSeconds: f.cpuSeconds, retransmissions: f.retransmissions,
                      transportErrors: f.transportErrors, lastTransportError: f.lastTransportError, messagesSent: f.messagesSent,
                      messagesReceived: f.messagesReceived, udpReceiveDrops: f.udpReceiveDrops, embeddedMock: f.embeddedMock,
                      overrides: f.overrides, targets: f.targets, cores: f.cores, scheduleShare: f.scheduleShare)
    }

    /// The statistics back (traces are files of their own: only their count comes back); nil with the name of
    /// a histogram that does not read back.
    func statistics() throws -> (ShardStatistics, tracesWritten: Int) {
        var s = ShardStatistics()
        for (name, path) in Self.histogramKeys {
            guard let archived = histograms[name] else { continue }
            guard let h = archived.histogram else { throw RunMerge.Failure(description: "histogram '\(name)' does not read back") }
            s[keyPath: path] = h
        }
        for (key, archived) in histograms where key.contains(".") {
            guard let h = archived.histogram else { throw RunMerge.Failure(description: "histogram '\(key)' does not read back") }
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            if parts[0] == "media_start" { s.mediaStartBySecurity[parts[1]] = h } else if parts[0] == "clipping" { s.clippingBySecurity[parts[1]] = h }
        }
        for (name, path) in Self.countKeys { s[keyPath: path] = counts[name] ?? 0 }
        s.responses = responses
        s.ends = ends
        s.byDirection = byDirection
        s.clippingBuckets = clippingBuckets
        s.unmetExamples = unmetExamples
        s.starts = starts
        s.samples = samples
        s.timeSeries = timeSeries
        return (s, counts["traces_written"] ?? 0)
    }

    var runFacts: RunFacts {
        var f = RunFacts(startedAt: facts.startedAt, endedAt: facts.endedAt, interrupted: facts.interrupted, target: facts.target,
                         transport: SIPTransportKind(rawValue: facts.transport) ?? .udp, scheduledCalls: facts.scheduledCalls,
                         cpuSeconds: facts.cpuSeconds, retransmissions: facts.retransmissions, transportErrors: facts.transportErrors,
                         lastTransportError: facts.lastTransportError, messagesSent: facts.messagesSent,
                         messagesReceived: facts.messagesReceived, udpReceiveDrops: facts.udpReceiveDrops, embeddedMock: facts.embeddedMock,
                         overrides: facts.overrides, targets: facts.targets)
        f.cores = facts.cores
        f.scheduleShare = facts.scheduleShare
        f.shard = shard.flatMap(RunShard.init(parsing:))
        return f
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        // A run without calls has no first or last start: infinities, written as strings.
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    func write(to writer: ResultsWriter) throws {
        try writer.write(Self.fileName, Self.encoder().encode(self) + Data("\n".utf8))
    }

    /// Reads a run folder's statistics.json.
    static func read(directory: String) throws -> RunArchive {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunMerge.Failure(description: "\(directory): no \(fileName) (written by wasim runs since shards exist; a killed run has none: rebuild it with wasim report, which cannot be merged)")
        }
        let archive: RunArchive
        do { archive = try decoder().decode(RunArchive.self, from: data) } catch {
            throw RunMerge.Failure(description: "\(path): not a run's statistics: \(error)")
        }
        guard archive.format == currentFormat else {
            throw RunMerge.Failure(description: "\(path): format '\(archive.format)', this wasim reads '\(currentFormat)'")
        }
        return archive
    }
}
