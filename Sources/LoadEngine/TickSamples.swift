/// A shard's calls up and calls due but not started, sampled at each 100 ms tick of the run (index: ticks
/// since the run start). Merged across shards by adding tick by tick, so the peak of the merged series is
/// a peak the run really had at one moment; adding each shard's own peak would overstate it whenever the
/// shards peak at different times.
public struct TickSamples: Sendable, Codable {
    public private(set) var active: [Int32] = []
    public private(set) var backlog: [Int32] = []

    public init() {}

    /// Records the tick's values; ticks the loop missed (it was late) take the same values.
    mutating func record(tick: Int, active: Int, backlog: Int) {
        guard tick >= 0, tick < 36_000 * 24 else { return }
        let a = Int32(clamping: active), b = Int32(clamping: backlog)
        while self.active.count < tick { self.active.append(a); self.backlog.append(b) }
        if self.active.count == tick {
            self.active.append(a)
            self.backlog.append(b)
        } else {
            self.active[tick] = max(self.active[tick], a)
            self.backlog[tick] = max(self.backlog[tick], b)
        }
    }

    /// Adds another shard's samples tick by tick.
    mutating func merge(_ other: TickSamples) {
        if other.active.count > active.count {
            active += repeatElement(0, count: other.active.count - active.count)
            backlog += repeatElement(0, count: other.backlog.count - backlog.count)
        }
        for i in other.active.indices {
            active[i] += other.active[i]
            backlog[i] += other.backlog[i]
        }
    }

    /// The most calls up at one tick, across the shards merged.
    public var activePeak: Int { Int(active.max() ?? 0) }
    /// The most calls due and not yet started at one tick.
    public var backlogPeak: Int { Int(backlog.max() ?? 0) }
}
