import Foundation
import LoadEngine

/// The lines `wasim scenario`, `wasim report` and `wasim merge` print about a run's summary.
enum SummaryLines {
    /// One line per threshold: ok or FAIL, the expression, what was measured.
    static func thresholds(_ s: RunSummary) -> [String] {
        s.thresholds.map { "threshold \($0.ok ? "ok  " : "FAIL") \($0.expression)   measured \($0.value.map { String(format: "%.3f", $0) } ?? "nothing")" }
    }

    /// `name: N calls, N connected, N failed (N unexpected), N not started`.
    static func calls(_ s: RunSummary) -> String {
        "\(s.scenario): \(s.calls.attempted) calls, \(s.calls.connected) connected, \(s.calls.failed) failed (\(s.calls.unexpected) unexpected), \(s.calls.dropped) not started"
    }

    static func setupLatency(_ s: RunSummary) -> String {
        "setup latency ms: p50 \(s.latencyMs.setup.p50)  p90 \(s.latencyMs.setup.p90)  p99 \(s.latencyMs.setup.p99)  max \(s.latencyMs.setup.max)"
    }

    static func responses(_ s: RunSummary) -> String {
        "responses: " + s.responses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}
