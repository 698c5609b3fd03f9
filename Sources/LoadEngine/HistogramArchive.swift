import Histogram

/// An HDR histogram written exactly and compactly: its configuration and the (value, count) of every
/// bucket it has counts in. Read back into a histogram of the same configuration, each value lands in the
/// bucket it came from, so merged shards give the percentiles one process would have.
public struct HistogramArchive: Codable, Sendable, Hashable {
    public var lowestDiscernibleValue: UInt64
    public var highestTrackableValue: UInt64
    public var significantDigits: Int
    public var totalCount: UInt64
    /// [value, count] pairs, in value order.
    public var values: [[UInt64]]

    enum CodingKeys: String, CodingKey {
        case lowestDiscernibleValue = "lowest_discernible_value", highestTrackableValue = "highest_trackable_value"
        case significantDigits = "significant_digits", totalCount = "total_count", values
    }

    public init(_ h: Histogram<UInt64>) {
        lowestDiscernibleValue = h.lowestDiscernibleValue
        highestTrackableValue = h.highestTrackableValue
        significantDigits = Int(h.numberOfSignificantValueDigits.rawValue)
        totalCount = h.totalCount
        var pairs: [[UInt64]] = []
        var it = h.recordedValues().makeIterator()
        while let v = it.next() { pairs.append([v.value, UInt64(v.count)]) }
        values = pairs
    }

    /// The histogram back; nil when its configuration is not one wasim writes or the counts do not add up.
    public var histogram: Histogram<UInt64>? {
        guard let digits = SignificantDigits(rawValue: Int8(clamping: significantDigits)), lowestDiscernibleValue >= 1,
              highestTrackableValue >= 2 * lowestDiscernibleValue else { return nil }
        var h = Histogram<UInt64>(lowestDiscernibleValue: lowestDiscernibleValue, highestTrackableValue: highestTrackableValue,
                                  numberOfSignificantValueDigits: digits)
        for pair in values {
            guard pair.count == 2, pair[0] <= highestTrackableValue, h.record(pair[0], count: pair[1]) else { return nil }
        }
        return h.totalCount == totalCount ? h : nil
    }
}
