import CoreMetrics
import Prometheus

/// Publishes cumulative measurements (counts that only grow, HDR histograms) through swift-metrics into a
/// Prometheus registry: each scrape adds to a counter what its source gained since the last one, and to a
/// histogram the values recorded since then (from the HDR buckets' counts, each at its bucket's value), so
/// the measuring side never touches a metric. Used by one publisher at a time (its actor).
public final class PrometheusFeed {
    public let registry: PrometheusCollectorRegistry
    private var factory: PrometheusMetricsFactory

    private struct Key: Hashable {
        var name: String
        var labels: [String]
        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }
    }

    private var counters: [Key: (metric: CoreMetrics.Counter, last: Int64)] = [:]
    private var floatCounters: [Key: (metric: CoreMetrics.FloatingPointCounter, last: Double)] = [:]
    private var gauges: [Key: CoreMetrics.Gauge] = [:]
    private var timers: [Key: (metric: CoreMetrics.Timer, last: HDRHistogram?)] = [:]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// Sets the counter to `total` by adding what it gained since the last call; a total that went down
    /// (its source started again, as a new run's embedded mock does) counts as a reset, from zero.
    public func counter(_ name: String, _ labels: [(String, String)] = [], total: Int) {
        let key = Key(name, labels)
        let entry = counters[key] ?? (CoreMetrics.Counter(label: name, dimensions: labels, factory: factory), 0)
        let t = Int64(total)
        let delta = t >= entry.last ? t - entry.last : t
        if delta > 0 { entry.metric.increment(by: delta) }
        counters[key] = (entry.metric, t)
    }

    /// A counter of seconds (CPU time).
    public func counter(_ name: String, _ labels: [(String, String)] = [], seconds total: Double) {
        let key = Key(name, labels)
        let entry = floatCounters[key] ?? (CoreMetrics.FloatingPointCounter(label: name, dimensions: labels, factory: factory), 0)
        let delta = total >= entry.last ? total - entry.last : total
        if delta > 0 { entry.metric.increment(by: delta) }
        floatCounters[key] = (entry.metric, total)
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = [], value: Double) {
        let key = Key(name, labels)
        let gauge = gauges[key] ?? CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
        gauges[key] = gauge
        gauge.record(value)
    }

    /// Feeds a Prometheus histogram in seconds from an HDR histogram of µs that only grows: each of its
    /// buckets adds the values it gained since the last scrape, at the bucket's middle value.
    public func histogram(_ name: String, _ labels: [(String, String)] = [], buckets: [Duration], micros h: HDRHistogram) {
        let key = Key(name, labels)
        if timers[key] == nil { factory.durationHistogramBuckets[name] = buckets }
        let entry = timers[key] ?? (CoreMetrics.Timer(label: name, dimensions: labels, factory: factory), nil)
        // A histogram with fewer values than the last is a new source: everything in it is new.
        let last = entry.last.flatMap { $0.totalCount <= h.totalCount ? $0 : nil }
        var it = h.recordedValues().makeIterator()
        while let v = it.next() {
            let before = last.map { UInt64($0.countForValue(v.value)) } ?? 0
            let gained = UInt64(v.count) > before ? UInt64(v.count) - before : 0
            guard gained > 0 else { continue }
            let nanoseconds = Int64(clamping: h.medianEquivalentForValue(v.value)) * 1000
            for _ in 0..<gained { entry.metric.recordNanoseconds(nanoseconds) }
        }
        timers[key] = (entry.metric, h)
    }

    /// The exposition text (Prometheus 0.0.4 format).
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// Bucket bounds of wasim's latency histograms.
public enum LatencyBuckets {
    /// Call setup, post-dial, auth and TLS handshakes: 1 ms to 30 s.
    public static let setup: [Duration] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000].map { .milliseconds($0) }
    /// Media start and clipping: the report's clipping buckets (100 ms … 4 s) and finer below.
    public static let media: [Duration] = [1, 20, 50, 100, 250, 500, 1000, 2000, 4000, 8000].map { .milliseconds($0) }
    /// Event-loop lag: 1 ms to 1 s (50 ms is where a run is called saturated).
    public static let loopLag: [Duration] = [1, 5, 10, 25, 50, 100, 250, 500, 1000].map { .milliseconds($0) }
}
