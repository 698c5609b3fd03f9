import Foundation

/// `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) that opens
/// offline: the verdict and thresholds, calls/s and active calls over time, setup latency percentiles over
/// time, the response breakdown, the clipping distribution of media runs, and the generator's health.
public enum HTMLReport {
    public static func render(summary s: RunSummary, timeSeries: TimeSeries, clipping: [String: [Int]]) -> String {
        var body = ""
        let verdict = s.passed ? "PASSED" : "FAILED"
        body += "<h1>\(e(s.scenario)) <span class=\"badge \(s.passed ? "ok" : "bad")\">\(verdict)</span></h1>\n"
        body += "<p class=\"meta\">\(e(s.target)) · \(e(s.transport.uppercased())) · \(e(s.startedAt)) → \(e(s.endedAt))\(s.interrupted ? " · <b>interrupted</b>" : "")</p>\n"
        body += table(["attempted", "connected", "failed", "unexpected", "not started", "target calls/s", "achieved calls/s", "max concurrent"],
                      [[String(s.calls.attempted), String(s.calls.connected), String(s.calls.failed), String(s.calls.unexpected), String(s.calls.dropped),
                        f(s.rate.targetCPS), f(s.rate.achievedCPS), String(s.concurrency.max)]])
        if let split = s.byDirection {
            body += table(["direction", "attempted", "connected", "failed"], split.sorted { $0.key < $1.key }.map {
                [$0.key.uppercased(), String($0.value.attempted), String($0.value.connected), String($0.value.failed)]
            })
        }
        if let x = s.expectations {
            body += "<h2>Expected responses</h2>\n"
            body += table(["callee expectations", "met", "unmet"], [[String(x.checked), String(x.met), x.unmet > 0 ? "<span class=\"bad\">\(x.unmet)</span>" : "0"]],
                          raw: [false, false, true])
            if !x.unmetExamples.isEmpty { body += "<ul>" + x.unmetExamples.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n" }
        }
        if !s.thresholds.isEmpty {
            body += "<h2>Thresholds</h2>\n"
            body += table(["threshold", "measured", "result"], s.thresholds.map {
                [$0.expression, $0.value.map(f) ?? "nothing", $0.ok ? "<span class=\"ok\">pass</span>" : "<span class=\"bad\">FAIL</span>"]
            }, raw: [false, false, true])
        }
        body += "<h2>Calls over time</h2>\n"
        let seconds = timeSeries.seconds
        body += chart(title: "calls started per second and calls up", series: [
            ("started/s", "#2563eb", seconds.map { Double($0.started) }),
            ("active", "#16a34a", seconds.map { Double($0.activeMax) }),
            ("failed/s", "#dc2626", seconds.map { Double($0.failed) }),
        ], unit: "")
        body += "<h2>Setup latency over time</h2>\n"
        let setupPercentiles = seconds.map { $0.setup.percentilesMs([50, 99]) }
        body += chart(title: "setup latency per second (ms, from each second's HDR histogram)", series: [
            ("p50", "#2563eb", setupPercentiles.map { $0[0] ?? .nan }),
            ("p99", "#9333ea", setupPercentiles.map { $0[1] ?? .nan }),
        ], unit: " ms")
        let l = s.latencyMs
        var latencyRows: [[String]] = []
        func add(_ name: String, _ p: RunSummary.Percentiles?) {
            guard let p, p.count > 0 else { return }
            latencyRows.append([name, String(p.count), f(p.p50), f(p.p90), f(p.p99), f(p.p999), f(p.max)])
        }
        add("setup", l.setup)
        add("setup from intended start", l.setupFromIntended)
        add("post-dial (to first 18x)", l.postDial)
        add("auth (to 407)", l.auth)
        add("TLS connect + handshake", l.tlsHandshake)
        add("media start", l.mediaStart)
        add("clipping", s.clippingMs)
        add("call duration (answer → hang-up)", s.callDurationMs)
        add("start lag (intended → actual)", l.startLag)
        body += table(["latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max"], latencyRows)
        body += "<h2>Responses</h2>\n"
        let total = max(1, s.responses.values.reduce(0, +))
        body += table(["response", "count", ""], s.responses.sorted { $0.value > $1.value }.map {
            [e($0.key), String($0.value), "<div class=\"bar\" style=\"width:\(Int(Double($0.value) / Double(total) * Double(barWidth)))px\"></div>"]
        }, raw: [false, false, true])
        // How each call ended (calls.csv `end`), and the teardowns that went wrong.
        if !s.ends.isEmpty {
            body += "<h2>How calls ended</h2>\n"
            body += table(["end", "count"], s.ends.sorted { $0.value > $1.value }.map { [e($0.key), String($0.value)] })
            let notes = [("teardown failed (BYE refused or unanswered)", s.calls.teardownFailed), ("unanswered (ring timeout)", s.calls.unanswered),
                         ("shed by the generator", s.calls.shed), ("ended at the drain deadline", s.calls.drained)].filter { $0.1 > 0 }
            if !notes.isEmpty { body += table(["of which", "count"], notes.map { [e($0.0), String($0.1)] }) }
        }
        if let rebuilt = s.rebuiltFrom {
            body += "<p class=\"meta\">Rebuilt from \(e(rebuilt)) by <code>wasim report</code>: the generator's CPU, loop lag and retransmissions, and the calls in progress when the process ended, are not known.</p>\n"
        }
        if !clipping.isEmpty {
            body += "<h2>Clipping</h2>\n"
            body += clippingHistogram(clipping)
        }
        let g = s.generator
        body += "<h2>Generator</h2>\n"
        body += table(["CPU s", "loop lag p99 (ms)", "send backlog max", "late starts (> 10 ms)", "retransmissions", "transport errors", "saturated"],
                      [[f(g.cpuSeconds), f(g.loopLagMsP99), String(g.sendBacklogMax), String(g.lateStarts), String(g.retransmissions), String(g.transportErrors),
                        g.saturated ? "<span class=\"bad\">yes: \(e(g.saturationReason ?? ""))</span>" : "no"]], raw: [false, false, false, false, false, false, true])
        if let last = g.lastTransportError { body += "<p class=\"meta\">last transport error: \(e(last))</p>\n" }
        return page(title: "wasim: \(s.scenario) \(verdict)", body: body, footer: "wasim · summary.json schema \(s.schemaVersion)")
    }

    /// The page around a report's body: inline CSS, nothing fetched.
    static func page(title: String, body: String, footer: String) -> String {
        """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
            <style>
            *{box-sizing:border-box}
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:1232px}
            .scroll{max-width:100%;overflow-x:auto}td,th{overflow-wrap:anywhere}td.long{min-width:240px;max-width:520px}
            h1{font-size:22px}h2{font-size:17px;margin-top:28px}
            table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
            td:first-child,th:first-child{text-align:left}th{background:#f4f4f5}
            .badge{font-size:14px;padding:2px 8px;border-radius:4px;color:#fff}.badge.ok{background:#16a34a}.badge.bad{background:#dc2626}
            .ok{color:#16a34a}.bad{color:#dc2626;font-weight:bold}.meta{color:#555}
            .badge.ok,.badge.bad{color:#fff}
            .bar{height:10px;background:#2563eb;max-width:100%}svg{background:#fafafa;border:1px solid #e5e7eb;max-width:100%;height:auto}
            </style></head><body>
            \(body)
            <p class="meta">\(e(footer))</p>
            </body></html>

            """
    }

    static func e(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e12 ? String(Int(v)) : String(format: "%.2f", v) }

    static func table(_ header: [String], _ rows: [[String]], raw: [Bool]? = nil) -> String {
        // Each table scrolls inside the page if it must, so the page itself never gets wider than the window.
        var out = "<div class=\"scroll\"><table><tr>" + header.map { "<th>\(e($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            out += "<tr>" + row.enumerated().map { i, cell in
                // Long text (a saturation reason, a transport error) wraps in its cell instead of widening the table.
                "<td\(cell.count > 60 && !cell.contains("class=\"bar\"") ? " class=\"long\"" : "")>\((raw?[i] ?? false) ? cell : e(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</table></div>\n"
    }

    /// A line chart in inline SVG: x is the second of the run (or the given label per point), one polyline
    /// per series (NaN: no point).
    static func chart(title: String, series: [(String, String, [Double])], unit: String, xLabels: [String]? = nil) -> String {
        let width = 900.0, height = 220.0, left = 70.0, bottom = 24.0, top = 10.0
        let n = series.map { $0.2.count }.max() ?? 0
        let maxY = max(1, series.flatMap { $0.2.filter { !$0.isNaN } }.max() ?? 1)
        guard n > 0 else { return "<p class=\"meta\">(no data)</p>\n" }
        func x(_ i: Int) -> Double { left + (width - left - 10) * (n == 1 ? 0.5 : Double(i) / Double(n - 1)) }
        func y(_ v: Double) -> Double { top + (height - top - bottom) * (1 - v / maxY) }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(e(title))\">\n"
        for k in 0...4 {
            let v = maxY * Double(k) / 4, yy = y(v)
            svg += "<line x1=\"\(left)\" y1=\"\(yy)\" x2=\"\(width - 10)\" y2=\"\(yy)\" stroke=\"#e5e7eb\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(yy + 4)\" font-size=\"11\" text-anchor=\"end\">\(f(v))\(unit)</text>\n"
        }
        if let xLabels {
            for (i, label) in xLabels.enumerated() where i < n {
                svg += "<text x=\"\(String(format: "%.1f", x(i)))\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"middle\">\(e(label))</text>"
            }
            svg += "\n"
        } else {
            svg += "<text x=\"\(left)\" y=\"\(height - 6)\" font-size=\"11\">0 s</text><text x=\"\(width - 10)\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"end\">\(n - 1) s</text>\n"
        }
        for (name, color, values) in series {
            let points = values.enumerated().compactMap { i, v in v.isNaN ? nil : "\(String(format: "%.1f", x(i))),\(String(format: "%.1f", y(v)))" }
            guard !points.isEmpty else { continue }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"><title>\(e(name))</title></polyline>\n"
            // A marker per point, so a series with one point (a short run) still shows.
            for (i, v) in values.enumerated() where !v.isNaN {
                svg += "<circle cx=\"\(String(format: "%.1f", x(i)))\" cy=\"\(String(format: "%.1f", y(v)))\" r=\"2.5\" fill=\"\(color)\"/>"
            }
            svg += "\n"
        }
        svg += "</svg>\n"
        let legend = series.map { "<span style=\"color:\($0.1)\">■</span> \(e($0.0))" }.joined(separator: " &nbsp; ")
        return "<p>\(e(title)): \(legend)</p>\n" + svg
    }

    /// The longest bar of the response and clipping tables, in px: with a column per media security the
    /// clipping table stays well inside a 1280 px window.
    static let barWidth = 160

    /// Calls per clipping bucket (0, <100 ms, <500 ms, <1 s, <2 s, <4 s, ≥4 s) and media security; bars scaled to the largest bucket (at most `barWidth`).
    static func clippingHistogram(_ buckets: [String: [Int]]) -> String {
        let securities = buckets.keys.sorted()
        let largest = max(1, buckets.values.flatMap { $0 }.max() ?? 1)
        var rows: [[String]] = []
        for (i, bound) in ClippingBuckets.bounds.enumerated() {
            var row = [bound.label]
            for sec in securities {
                let count = buckets[sec]?[i] ?? 0
                row.append("\(count) <div class=\"bar\" style=\"display:inline-block;width:\(count * barWidth / largest)px\"></div>")
            }
            rows.append(row)
        }
        return table(["clipped audio at the start"] + securities.map { "calls (\($0))" }, rows, raw: [false] + securities.map { _ in true })
    }
}
