import Histogram

/// One second's setup latencies as an HDR histogram (two significant digits, µs) kept sparse: only the
/// buckets the second's calls fell in, as (bucket value, count). A second of 1,000 calls costs a few
/// hundred entries instead of the dense counts array, so an hour of seconds stays small; percentiles are
/// read from the HDR histogram rebuilt from the entries, and seconds merge exactly, bucket by bucket.
public struct SecondLatencyHistogram: Sendable, Hashable, Codable {
    /// Counts by the lowest value of their HDR bucket, in µs.
    private(set) var counts: [UInt64: UInt32] = [:]

    public init() {}

    /// The configuration every second's histogram has (so their buckets line up).
    static func makeHistogram() -> Histogram<UInt32> {
        Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
    }

    /// Only for bucket arithmetic (`lowestEquivalentForValue`): never recorded into.
    private static let layout = makeHistogram()

    public var totalCount: Int { counts.values.reduce(0) { $0 + Int($1) } }
    public var isEmpty: Bool { counts.isEmpty }

    mutating func record(micros: UInt64) {
        let v = min(max(1, micros), 3_600_000_000)
        counts[Self.layout.lowestEquivalentForValue(v), default: 0] &+= 1
    }

    mutating func add(_ other: SecondLatencyHistogram) {
        for (k, v) in other.counts { counts[k, default: 0] &+= v }
    }

    /// The HDR histogram these buckets came from.
    var histogram: Histogram<UInt32> {
        var h = Self.makeHistogram()
        for (value, count) in counts { _ = h.record(value, count: count) }
        return h
    }

    /// The latency (ms) below which `percent` % of the second's calls fall, for each percent asked.
    func percentilesMs(_ percents: [Double]) -> [Double?] {
        guard !counts.isEmpty else { return percents.map { _ in nil } }
        let h = histogram
        return percents.map { Double(h.valueAtPercentile($0)) / 1000 }
    }

    // Encoded as [[value, count], ...] in value order (small and stable).
    public init(from decoder: any Decoder) throws {
        let pairs = try [[UInt64]](from: decoder)
        for pair in pairs where pair.count == 2 { counts[pair[0], default: 0] &+= UInt32(clamping: pair[1]) }
    }

    public func encode(to encoder: any Encoder) throws {
        try counts.sorted { $0.key < $1.key }.map { [$0.key, UInt64($0.value)] }.encode(to: encoder)
    }
}
