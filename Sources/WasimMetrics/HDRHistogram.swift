import Histogram

/// The HDR histogram of wasim's measurements (µs), named apart from Prometheus's `Histogram`.
public typealias HDRHistogram = Histogram<UInt64>
