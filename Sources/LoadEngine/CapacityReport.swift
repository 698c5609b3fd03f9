import Foundation

/// How a capacity search is shown: `report.html` (setup latency and failures against offered load, the
/// levels' table, links to each level's own report) and the terminal table `wasim capacity` prints.
public enum CapacityReport {
    static func unit(_ c: CapacitySummary.Capacity) -> String { c.mode == "concurrent" ? "calls up" : "calls/s" }

    static func level(_ step: CapacitySummary.Step, _ c: CapacitySummary.Capacity) -> String {
        c.mode == "concurrent" ? "\(Int(step.offered))" : "\(HTMLReport.f(step.offered))/s"
    }

    /// The verdict in one sentence.
    public static func verdict(_ s: CapacitySummary) -> String {
        let c = s.capacity
        let knee = c.kneeStep.map { "knee at \(level(c.steps[$0], c)) \(c.mode == "concurrent" ? "calls up" : "") (max_cps \(HTMLReport.f(c.maxCPS)), max_concurrent \(c.maxConcurrent))".replacingOccurrences(of: "  (", with: " (") }
            ?? "no level met the rules"
        switch c.limitedBy {
        case "wasim":
            return "\(knee); limited by wasim, not the target: the generator saturated first, so the target's capacity is at least this, not at most. Stopped by: \(c.stoppedBy.joined(separator: "; "))"
        case "target":
            return "\(knee); limited by the target: \(c.stoppedBy.joined(separator: "; "))"
        case "plan":
            return "\(knee); every level up to the plan's max passed: raise capacity.max to find the limit"
        default:
            return "\(knee); the search was interrupted"
        }
    }

    /// The levels as a fixed-width table for the terminal.
    public static func table(_ s: CapacitySummary) -> String {
        let c = s.capacity
        let widths = [12, 11, 10, 8, 11, 11, 13, 8]
        func row(_ cells: [String], _ last: String) -> String {
            zip(cells, widths).enumerated().map { i, pair in
                let (cell, width) = pair
                let pad = String(repeating: " ", count: Swift.max(0, width - cell.count))
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: " ") + "  " + last
        }
        var lines = [row(["offered", "achieved/s", "connected", "failed", "not started", "p50 setup", "p99 intended", "up max"], "verdict")]
        for (i, step) in c.steps.enumerated() {
            let verdict = step.passed ? (i == c.kneeStep ? "ok  <- knee" : "ok") : "STOP: " + step.broke.joined(separator: "; ")
            lines.append(row([level(step, c), String(format: "%.1f", step.achievedCPS), String(step.connected), String(step.failed), String(step.notStarted),
                              String(format: "%.1f ms", step.setupP50Ms), String(format: "%.1f ms", step.setupFromIntendedP99Ms), String(step.maxConcurrent)],
                             verdict))
        }
        return lines.joined(separator: "\n")
    }

    public static func html(_ s: CapacitySummary) -> String {
        let c = s.capacity
        let e = HTMLReport.e
        let ok = c.kneeStep != nil && c.limitedBy != "wasim"
        var body = "<h1>\(e(s.scenario)): capacity <span class=\"badge \(ok ? "ok" : "bad")\">\(e(c.limitedBy == "wasim" ? "LIMITED BY WASIM" : c.kneeStep == nil ? "NO KNEE" : "KNEE FOUND"))</span></h1>\n"
        body += "<p class=\"meta\">\(e(s.target)) · \(e(s.startedAt)) → \(e(s.endedAt))\(s.overrides.isEmpty ? "" : " · " + e(s.overrides.joined(separator: " ")))</p>\n"
        body += "<p><b>\(e(verdict(s)))</b></p>\n"
        body += HTMLReport.table(["rule", "bound"], [
            ["p99 setup from intended start", "\(HTMLReport.f(c.rules.p99SetupMs)) ms"],
            ["failures and calls not started", String(format: "%.2f %%", c.rules.maxFailureShare * 100)],
            ["wasim not saturated", "always"],
            ["each level lasts", "\(HTMLReport.f(c.rules.stepDurationSeconds)) s"],
        ])
        let labels = c.steps.map { level($0, c) }
        body += "<h2>Setup latency against offered load</h2>\n"
        body += HTMLReport.chart(title: "setup latency (ms) per level of \(unit(c))", series: [
            ("p50", "#2563eb", c.steps.map(\.setupP50Ms)),
            ("p99", "#9333ea", c.steps.map(\.setupP99Ms)),
            ("p99 from intended start (the rule)", "#ea580c", c.steps.map(\.setupFromIntendedP99Ms)),
            ("bound", "#dc2626", c.steps.map { _ in c.rules.p99SetupMs }),
        ], unit: " ms", xLabels: labels)
        body += "<h2>Failures against offered load</h2>\n"
        body += HTMLReport.chart(title: "failed or not started (%) per level of \(unit(c))", series: [
            ("failures %", "#dc2626", c.steps.map { $0.failureShare * 100 }),
            ("bound", "#6b7280", c.steps.map { _ in c.rules.maxFailureShare * 100 }),
        ], unit: " %", xLabels: labels)
        body += "<h2>Levels</h2>\n"
        body += HTMLReport.table(["offered", "achieved calls/s", "connected", "failed", "not started", "p50 setup ms", "p99 setup ms", "p99 from intended ms",
                                  "calls up max", "verdict", "results"], c.steps.enumerated().map { i, step in
            [e(level(step, c)), HTMLReport.f(step.achievedCPS), String(step.connected), String(step.failed), String(step.notStarted),
             HTMLReport.f(step.setupP50Ms), HTMLReport.f(step.setupP99Ms), HTMLReport.f(step.setupFromIntendedP99Ms), String(step.maxConcurrent),
             step.passed ? "<span class=\"ok\">ok\(i == c.kneeStep ? " (knee)" : "")</span>" : "<span class=\"bad\">\(e(step.broke.joined(separator: "; ")))</span>",
             "<a href=\"\(e(step.results))/report.html\">report</a>"]
        }, raw: [true, false, false, false, false, false, false, false, false, true, true])
        return HTMLReport.page(title: "wasim capacity: \(s.scenario)", body: body, footer: "wasim · capacity summary.json schema \(s.schemaVersion)")
    }
}
