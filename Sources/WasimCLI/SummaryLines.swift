import Foundation
import LoadEngine

/// The lines `wasim scenario`, `wasim report` and `wasim merge` print about a run's summary.
enum SummaryLines {
    /// One line per threshold: ok or FAIL, the expression, what was measured.
    static func thresholds(_ s: RunSummary) -> [String] {
        s.thresholds.map { "threshold \($0.ok ? "ok  " : "FAIL") \($0.expression)   measured \($0.value.map { String(format: "%.3f", $0) } ?? "nothing")" }
    }

    static func setupLatency(_ s: RunSummary) -> String {
        "setup latency ms: p50 \(s.latencyMs.setup.p50)  p90 \(s.latencyMs.setup.p90)  p99 \(s.latencyMs.setup.p99)  max \(s.latencyMs.setup.max)"
    }

    static func responses(_ s: RunSummary) -> String {
        "responses: " + s.responses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}
