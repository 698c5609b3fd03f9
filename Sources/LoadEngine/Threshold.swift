/// A pass/fail rule over a run's results, written as in k6: `p99(setup) < 300ms`,
/// `rate(connected) >= 0.99`, `count(403) == 0`, `max(post_dial) <= 2s`.
///
///     threshold = function "(" argument ")" comparator number [unit]
///     function  = p50 | p90 | p95 | p99 | p999 | max | count | rate
///     argument  = setup | setup_from_intended | post_dial | auth | start_lag     (percentiles, max: ms)
///               | tls_handshake | media_start | clipping | duration
///               | connected | failed | unexpected | dropped | <status code>     (count, rate)
public struct Threshold: Sendable, Hashable {
    public enum Function: String, Sendable, CaseIterable { case p50, p90, p95, p99, p999, max, count, rate }
    public enum Comparator: String, Sendable, CaseIterable { case lt = "<", le = "<=", gt = ">", ge = ">=", eq = "==", ne = "!=" }

    public var expression: String
    public var function: Function
    public var argument: String
    public var comparator: Comparator
    /// The bound, in milliseconds for latencies.
    public var value: Double

    /// Distributions a percentile can be taken of; `name:security` picks one media security
    /// (`p50(clipping:dtls)`).
    static let latencies = ["setup", "setup_from_intended", "post_dial", "auth", "start_lag", "tls_handshake", "duration", "media_start", "clipping",
                            "media_start:dtls", "media_start:sdes", "clipping:dtls", "clipping:sdes"]

    /// Parses one expression; the error text says what is wrong.
    public init(parsing text: String) throws(ThresholdError) {
        expression = text
        let compact = text.replacingOccurrences(of: " ", with: "")
        guard let open = compact.firstIndex(of: "("), let close = compact.firstIndex(of: ")"), open < close else {
            throw ThresholdError("'\(text)' is not function(argument) comparator value, like p99(setup) < 300ms")
        }
        guard let function = Function(rawValue: String(compact[..<open])) else {
            throw ThresholdError("unknown function '\(compact[..<open])'; use one of \(Function.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.function = function
        argument = String(compact[compact.index(after: open)..<close])
        var rest = compact[compact.index(after: close)...]
        guard let comparator = [Comparator.le, .ge, .eq, .ne, .lt, .gt].first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw ThresholdError("'\(text)' needs a comparator (<, <=, >, >=, ==, !=)")
        }
        self.comparator = comparator
        rest = rest.dropFirst(comparator.rawValue.count)
        switch function {
        case .count, .rate:
            guard ["connected", "failed", "unexpected", "dropped"].contains(argument) || (Int(argument).map { (100...699).contains($0) } ?? false) else {
                throw ThresholdError("\(function.rawValue)() takes connected, failed, unexpected, dropped or a status code, not '\(argument)'")
            }
            guard let v = Double(rest), v >= 0 else { throw ThresholdError("'\(rest)' is not a number") }
            value = v
        default:
            guard Self.latencies.contains(argument) else {
                throw ThresholdError("\(function.rawValue)() takes one of \(Self.latencies.joined(separator: ", ")), not '\(argument)'")
            }
            let units: [(String, Double)] = [("ms", 1), ("us", 0.001), ("s", 1000)]
            guard let (suffix, factor) = units.first(where: { rest.hasSuffix($0.0) }), let v = Double(rest.dropLast(suffix.count)) else {
                throw ThresholdError("'\(rest)' needs a unit: ms, s or us")
            }
            value = v * factor
        }
    }

    /// The measured value in `summary`, or nil when there is nothing to measure (no sample).
    public func measure(_ summary: RunSummary) -> Double? {
        switch function {
        case .count, .rate:
            let count: Int
            switch argument {
            case "connected": count = summary.calls.connected
            case "failed": count = summary.calls.failed
            case "unexpected": count = summary.calls.unexpected
            case "dropped": count = summary.calls.dropped
            default: count = summary.responses.filter { $0.key.hasPrefix(argument + " ") }.values.reduce(0, +)
            }
            if function == .count { return Double(count) }
            return summary.calls.attempted == 0 ? nil : Double(count) / Double(summary.calls.attempted)
        default:
            let latency = summary.latencyMs
            let p: RunSummary.Percentiles?
            switch argument {
            case "setup": p = latency.setup
            case "setup_from_intended": p = latency.setupFromIntended
            case "post_dial": p = latency.postDial
            case "auth": p = latency.auth
            case "tls_handshake": p = latency.tlsHandshake
            case "duration": p = summary.callDurationMs
            case "media_start": p = latency.mediaStart
            case "clipping": p = summary.clippingMs
            case let name where name.contains(":"):
                let parts = name.split(separator: ":")
                let breakdown = summary.mediaBySecurity?[String(parts[1])]
                p = parts[0] == "clipping" ? breakdown?.clippingMs : breakdown?.mediaStartMs
            default: p = latency.startLag
            }
            guard let p, p.count > 0 else { return nil }
            switch function {
            case .p50: return p.p50
            case .p90: return p.p90
            case .p95: return p.p95
            case .p99: return p.p99
            case .p999: return p.p999
            default: return p.max
            }
        }
    }

    /// Whether `measured` satisfies the rule. A latency with no sample fails: nothing was shown.
    public func holds(_ measured: Double?) -> Bool {
        guard let m = measured else { return false }
        switch comparator {
        case .lt: return m < value
        case .le: return m <= value
        case .gt: return m > value
        case .ge: return m >= value
        case .eq: return m == value
        case .ne: return m != value
        }
    }
}

/// A threshold expression that does not parse.
public struct ThresholdError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
