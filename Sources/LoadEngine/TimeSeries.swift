/// Per-second counts of a run, per shard, merged at the end into `timeseries.csv` and the report: calls
/// started, answered, ended well or badly, the most calls up at once, setup latency percentiles (from
/// compact log buckets: each bound 25 % above the last, so a percentile is within 25 %), and the worst
/// event-loop lag of the second.
public struct TimeSeries: Sendable {
    public struct Second: Sendable {
        public var started = 0
        public var answered = 0
        public var succeeded = 0
        public var failed = 0
        public var activeMax = 0
        public var loopLagMaxMs = 0.0
        /// The busiest loop's share of CPU in its busiest tick of the second (0–1).
        public var loopBusyMax = 0.0
        /// Due calls not started (shed) this second.
        public var shed = 0
        var setupBuckets = [UInt32](repeating: 0, count: LatencyBuckets.count)

        public var setupCount: Int { setupBuckets.reduce(0) { $0 + Int($1) } }

        /// The setup latency (ms) below which `percent` % of the second's answered calls fall.
        public func setupPercentile(_ percent: Double) -> Double? {
            let total = setupCount
            guard total > 0 else { return nil }
            let rank = Int((Double(total) * percent / 100).rounded(.up))
            var seen = 0
            for (i, n) in setupBuckets.enumerated() {
                seen += Int(n)
                if seen >= rank { return LatencyBuckets.upperBound(i) }
            }
            return LatencyBuckets.upperBound(LatencyBuckets.count - 1)
        }

        mutating func add(_ o: Second) {
            started += o.started
            answered += o.answered
            succeeded += o.succeeded
            failed += o.failed
            activeMax += o.activeMax
            loopLagMaxMs = max(loopLagMaxMs, o.loopLagMaxMs)
            loopBusyMax = max(loopBusyMax, o.loopBusyMax)
            shed += o.shed
            for i in setupBuckets.indices { setupBuckets[i] += o.setupBuckets[i] }
        }
    }

    public private(set) var seconds: [Second] = []

    public init() {}

    mutating func at(_ second: Int, _ body: (inout Second) -> Void) {
        guard second >= 0, second < 86_400 else { return }
        while seconds.count <= second { seconds.append(Second()) }
        body(&seconds[second])
    }

    mutating func setup(_ second: Int, ms: Double) {
        at(second) { $0.answered += 1; $0.setupBuckets[LatencyBuckets.index(ms)] += 1 }
    }

    /// Adds another shard's seconds (counts add up; active calls add up as the shards' calls are disjoint).
    public mutating func merge(_ other: TimeSeries) {
        for (i, s) in other.seconds.enumerated() { at(i) { $0.add(s) } }
    }

    /// The first line of `timeseries.csv`.
    static let csvHeader = "second,started,answered,succeeded,failed,active_max,setup_p50_ms,setup_p99_ms,loop_lag_max_ms,loop_busy_max,shed"

    /// Takes what only the live run knew per second (calls up, loop lag and busy share) from a written
    /// timeseries.csv, its columns found by the names of its header (`wasim report`).
    mutating func mergeWritten(_ csv: String) {
        let lines = csv.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",").map(String.init),
              let second = header.firstIndex(of: "second"), let active = header.firstIndex(of: "active_max"),
              let lag = header.firstIndex(of: "loop_lag_max_ms"), let busy = header.firstIndex(of: "loop_busy_max")
        else { return }
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == header.count, let index = Int(f[second]) else { continue }
            at(index) { s in
                s.activeMax = max(s.activeMax, Int(f[active]) ?? 0)
                s.loopLagMaxMs = max(s.loopLagMaxMs, Double(f[lag]) ?? 0)
                s.loopBusyMax = max(s.loopBusyMax, Double(f[busy]) ?? 0)
            }
        }
    }

    /// `timeseries.csv`.
    public var csv: String {
        var out = Self.csvHeader + "\n"
        func f(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "" }
        for (i, s) in seconds.enumerated() {
            out += "\(i),\(s.started),\(s.answered),\(s.succeeded),\(s.failed),\(s.activeMax),\(f(s.setupPercentile(50))),\(f(s.setupPercentile(99))),\(String(format: "%.2f", s.loopLagMaxMs)),\(String(format: "%.2f", s.loopBusyMax)),\(s.shed)\n"
        }
        return out
    }
}

/// Log-spaced latency buckets from 1 ms, each upper bound 1.25× the previous (about 60 s at the last).
enum LatencyBuckets {
    static let count = 50

    static func upperBound(_ i: Int) -> Double { pow125(i) }

    static func index(_ ms: Double) -> Int {
        var i = 0
        var bound = 1.0
        while ms > bound && i < count - 1 {
            bound *= 1.25
            i += 1
        }
        return i
    }

    static func pow125(_ i: Int) -> Double {
        var v = 1.0
        for _ in 0..<i { v *= 1.25 }
        return v
    }
}
