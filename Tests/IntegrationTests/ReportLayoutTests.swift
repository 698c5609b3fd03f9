import Foundation
@testable import LoadEngine
import Testing

/// report.html in a real browser (headless Chromium) in a 1280 px window: the page is no wider than the
/// window with the widest content wasim writes (three media securities' clipping bars, long responses, a
/// long saturation reason, a two-hour series): nothing sticks out of the page's column, no table needs its
/// scroll bar, and the document is no wider than the window. The page has no script: a copy gets one that
/// writes these measures where `--dump-dom` shows them.
@Suite("Report layout")
struct ReportLayoutTests {
    static func widestReport() throws -> String {
        let scenario = try ScenarioLoader.parse("""
            name: wide
            callees: { range: "+15550200000..+15550209999" }
            load: { rate: 1000/s, total_calls: 200000 }
            expect:
              thresholds: ["p99(setup) < 200ms", "rate(failed) < 0.01", "count(unexpected) == 0", "p99(clipping) < 500ms"]
            """, file: "wide.yaml")
        var s = ShardStatistics()
        s.attempted = 200_000
        s.connected = 150_000
        s.failed = 50_000
        s.unexpected = 50_000
        for (i, reason) in ["Forbidden", "SIP server sbc-with-a-very-long-name.example.net from INVITE does not match any SIP server configured for phone number id 100000000000001",
                            "Service Unavailable", "No Approved Call Permission Found", "Temporarily Unavailable", "Request Timeout"].enumerated() {
            s.responses["\(403 + i) \(reason)"] = 10_000 + i * 1234
        }
        s.responses["200 OK"] = 150_000
        for security in ["dtls", "sdes", "dtls-ice-lite"] {
            s.clippingBuckets[security] = [120_000, 15_000, 9_000, 4_000, 1_500, 400, 99]
            for v in stride(from: 1_000, to: 4_000_000, by: 997) {
                _ = s.clippingBySecurity[security, default: ShardStatistics.makeHistogram()].record(UInt64(v))
                _ = s.mediaStartBySecurity[security, default: ShardStatistics.makeHistogram()].record(UInt64(v / 2))
            }
        }
        for v in stride(from: 100, to: 9_000_000, by: 311) { _ = s.setup.record(UInt64(v)) }
        for second in 0..<7200 {
            s.timeSeries.at(second) { $0.started = 1000; $0.activeMax = 99_999; $0.failed = 250 }
            s.timeSeries.setup(second, ms: Double(second % 900) + 0.5)
        }
        s.shedOverload = 12_345
        for _ in 0..<1000 { _ = s.loopLag.record(250_000) }
        let facts = RunFacts(startedAt: Date(timeIntervalSince1970: 0), endedAt: Date(timeIntervalSince1970: 7200), interrupted: false,
                             target: "sip:sbc-with-a-very-long-name.example.net:5061;transport=tls", transport: .tls, scheduledCalls: 200_000,
                             cpuSeconds: 14_000, retransmissions: 123_456, transportErrors: 77,
                             lastTransportError: String(repeating: "connection reset by peer while writing a very long message; ", count: 4))
        let summary = RunSummary.build(scenario: scenario, statistics: s, facts: facts)
        #expect(summary.generator.saturated)
        return HTMLReport.render(summary: summary, timeSeries: s.timeSeries, clipping: s.clippingBuckets)
    }

    struct Layout {
        /// The document's width, how far the furthest element reaches past the body's right edge, and the
        /// tables that must scroll.
        var pageWidth: Int
        var overflow: Int
        var scrolling: Int
    }

    /// The layout in Chromium with a 1280 × 900 window.
    static func layout(_ html: String) async throws -> Layout {
        let chromium = try #require(Peers.path("chromium"), "chromium is not installed")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/report.html"
        let probe = """
            <script>
            var body = document.body.getBoundingClientRect().right, worst = 0, scrolling = 0;
            document.querySelectorAll('body *').forEach(function (e) {
              if (e.classList.contains('scroll') && e.scrollWidth > e.clientWidth + 1) scrolling++;
              var clip = e.parentElement && e.parentElement.closest('.scroll');
              if (!clip) worst = Math.max(worst, e.getBoundingClientRect().right);
            });
            document.body.setAttribute('data-layout', [document.documentElement.scrollWidth, Math.round(worst - body), scrolling].join(' '));
            </script></body>
            """
        try html.replacingOccurrences(of: "</body>", with: probe).write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(dir.path)/profile",
            "--window-size=1280,900", "--dump-dom", "file://\(file)",
        ], timeout: 120)
        let match = try #require(result.output.firstMatch(of: #/data-layout="(\d+) (-?\d+) (\d+)"/#), "no layout in Chromium's output: \(result.output.suffix(800))")
        return Layout(pageWidth: Int(match.output.1)!, overflow: Int(match.output.2)!, scrolling: Int(match.output.3)!)
    }

    @Test(.enabled(if: Peers.available("chromium")))
    func widestReportFitsA1280PixelWindow() async throws {
        let html = try Self.widestReport()
        let layout = try await Self.layout(html)
        #expect(layout.pageWidth <= 1280 && layout.overflow <= 0 && layout.scrolling == 0, "\(layout)")
        // The measures see an overflow when there is one.
        let wide = try await Self.layout(html.replacingOccurrences(of: "</h1>", with: "</h1><div style=\"width:1900px;height:4px\"></div>"))
        #expect(wide.pageWidth > 1280 && wide.overflow > 0, "\(wide)")
    }
}
