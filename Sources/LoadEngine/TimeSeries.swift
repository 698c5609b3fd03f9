/// Per-second counts of a run, per shard, merged into `timeSeries.csv` and the report: calls started,
/// answered, ended well or badly, the most calls up at once, setup latency percentiles (from each second's
/// HDR histogram), and the worst event-loop lag of the second. While a run goes, the seconds that are over
/// are taken from the shards every second (`takeSeconds(before:)`), so a shard holds only the last few. A
/// call's setup is counted when the call ends, in the second it was answered: when that second was taken
/// already, it waits in `late` for the next take.
public struct TimeSeries: Sendable, Codable {
    public struct Second: Sendable, Codable {
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
        /// Setup latencies of the calls answered this second.
        public var setup = SecondLatencyHistogram()

        enum CodingKeys: String, CodingKey {
            case started, answered, succeeded, failed, activeMax = "active_max", loopLagMaxMs = "loop_lag_max_ms"
            case loopBusyMax = "loop_busy_max", shed, setup
        }

        public var setupCount: Int { setup.totalCount }

        /// The setup latency (ms) below which `percent` % of the second's answered calls fall.
        public func setupPercentile(_ percent: Double) -> Double? { setup.percentilesMs([percent])[0] }

        mutating func add(_ o: Second) {
            started += o.started
            answered += o.answered
            succeeded += o.succeeded
            failed += o.failed
            activeMax += o.activeMax
            loopLagMaxMs = max(loopLagMaxMs, o.loopLagMaxMs)
            loopBusyMax = max(loopBusyMax, o.loopBusyMax)
            shed += o.shed
            setup.add(o.setup)
        }
    }

    /// The seconds from `firstSecond` on (those before were taken).
    public private(set) var seconds: [Second] = []
    public private(set) var firstSecond = 0
    /// Counts for seconds before `firstSecond` (taken already), until the next take.
    private(set) var late: [Int: Second] = [:]

    enum CodingKeys: String, CodingKey { case seconds, firstSecond = "first_second", late }

    public init() {}

    /// Seconds of the run covered (taken ones included).
    public var count: Int { firstSecond + seconds.count }

    mutating func at(_ second: Int, _ body: (inout Second) -> Void) {
        guard second >= 0, second < 86_400 else { return }
        guard second >= firstSecond else { body(&late[second, default: Second()]); return }
        while seconds.count <= second - firstSecond { seconds.append(Second()) }
        body(&seconds[second - firstSecond])
    }

    mutating func setup(_ second: Int, ms: Double) {
        at(second) { $0.answered += 1; $0.setup.record(micros: UInt64(max(1, (ms * 1000).rounded()))) }
    }

    /// Removes and returns the seconds before `second` (those that are over).
    mutating func takeSeconds(before second: Int) -> TimeSeries {
        var taken = TimeSeries()
        taken.firstSecond = firstSecond
        taken.late = late
        late = [:]
        let n = min(max(0, second - firstSecond), seconds.count)
        guard n > 0 else { return taken }
        taken.seconds = Array(seconds[..<n])
        seconds.removeFirst(n)
        firstSecond += n
        return taken
    }

    /// Adds another shard's seconds (counts add up; active calls add up as the shards' calls are disjoint).
    public mutating func merge(_ other: TimeSeries) {
        if other.firstSecond < firstSecond, !other.seconds.isEmpty {
            // Reopen the earlier seconds (merging the pieces of one run's series).
            seconds = [Second](repeating: Second(), count: firstSecond - other.firstSecond) + seconds
            firstSecond = other.firstSecond
        }
        for (i, s) in other.seconds.enumerated() { at(other.firstSecond + i) { $0.add(s) } }
        for (second, s) in other.late { at(second) { $0.add(s) } }
    }

    /// The seconds before `firstSecond` this series has counts for (to know which written lines changed).
    var lateSeconds: [Int] { late.keys.sorted() }

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

    /// One line of `timeseries.csv`.
    static func row(_ index: Int, _ s: Second) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "" }
        let p = s.setup.percentilesMs([50, 99])
        return "\(index),\(s.started),\(s.answered),\(s.succeeded),\(s.failed),\(s.activeMax),\(f(p[0])),\(f(p[1])),\(String(format: "%.2f", s.loopLagMaxMs)),\(String(format: "%.2f", s.loopBusyMax)),\(s.shed)\n"
    }

    /// The lines of the seconds held (without the header).
    var rows: String {
        var out = ""
        for (i, s) in seconds.enumerated() { out += Self.row(firstSecond + i, s) }
        return out
    }

    /// `timeseries.csv`.
    public var csv: String { Self.csvHeader + "\n" + rows }
}
