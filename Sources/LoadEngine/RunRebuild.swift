import Foundation

/// `wasim report DIR`: summary.json and report.html rebuilt from what a run writes as it goes (run.json,
/// the scenario's copy, calls.csv and timeseries.csv), for a run whose process died before writing them.
/// Counts, responses, ends and latency percentiles come from the per-call rows, so they agree with
/// calls.csv by construction; what only the live process knew (its CPU, loop lag, retransmissions, the
/// calls in progress) is missing, and the summary says it was rebuilt.
public enum RunRebuild {
    /// A results folder that cannot be rebuilt, and why.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Rebuilds and writes summary.json and report.html in `directory`; returns the summary.
    public static func rebuild(directory: String) throws -> RunSummary {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        guard let recordData = FileManager.default.contents(atPath: path(RunRecord.fileName)) else {
            throw Failure(description: "\(directory): no \(RunRecord.fileName); is this a wasim run folder (made by wasim 0.2 or later)?")
        }
        let record: RunRecord
        do { record = try JSONDecoder().decode(RunRecord.self, from: recordData) } catch {
            throw Failure(description: "\(path(RunRecord.fileName)): not a run record: \(error)")
        }
        let scenario = try record.loadScenario(directory: directory)
        guard let csv = try? String(contentsOfFile: path("calls.csv"), encoding: .utf8) else {
            throw Failure(description: "\(directory): no calls.csv")
        }
        let records = try CallsCSVReader.records(csv, file: path("calls.csv"))
        var statistics = ShardStatistics(rebuildingFrom: records, scenario: scenario)
        if let series = try? String(contentsOfFile: path("timeseries.csv"), encoding: .utf8) {
            statistics.timeSeries.mergeWritten(series)
        }
        let started = ISO8601DateFormatter().date(from: record.startedAt) ?? Date()
        // The last moment the rows prove: the latest call's end.
        let lastMs = records.map { $0.actualStartMs + ($0.setupMs ?? 0) + ($0.durationMs ?? 0) }.max() ?? 0
        let facts = record.facts(endedAt: started.addingTimeInterval(lastMs / 1000))
        var summary = RunSummary.build(scenario: scenario, statistics: statistics, facts: facts)
        summary.rebuiltFrom = "calls.csv"
        let writer = ResultsWriter(existing: directory)
        try writer.writeSummary(summary)
        // A rebuilt shard can still be merged with the others.
        try RunArchive(statistics: statistics, facts: facts).write(to: writer)
        try writer.write("report.html", text: HTMLReport.render(summary: summary, timeSeries: statistics.timeSeries, clipping: statistics.clippingBuckets))
        return summary
    }
}

extension ShardStatistics {
    /// The statistics a run would have kept, from its calls.csv rows: counts per response and end, the
    /// latency histograms, media, expectations and the per-second series.
    init(rebuildingFrom records: [CallRecord], scenario: Scenario) {
        self.init()
        for record in records {
            if record.outcome == "not_started" {
                shed += 1
                if record.reason.contains("load.max_in_flight") { shedInFlight += 1 }
                else if record.reason.contains("load.shed_late") { shedLate += 1 }
                else { shedOverload += 1 }
                ends[record.end, default: 0] += 1
                timeSeries.at(Int(record.intendedStartMs / 1000)) { $0.shed += 1 }
                continue
            }
            attempted += 1
            let succeeded = record.outcome == "connected"
            var counted = record
            counted.succeeded = succeeded
            _ = countOutcome(record, succeeded: succeeded, teardownFailed: succeeded && RunRebuild.teardownFailed(record.teardown))
            func us(_ ms: Double?) -> UInt64? { ms.map { UInt64(max(1, ($0 * 1000).rounded())) } }
            if let v = us(record.setupMs) { _ = setup.record(v) }
            if let v = us(record.postDialMs) { _ = postDial.record(v) }
            if let v = us(record.authMs) { _ = auth.record(v) }
            if let v = us(record.actualStartMs - record.intendedStartMs) { _ = startLag.record(v) }
            if let setupMs = record.setupMs, (200..<300).contains(record.status) {
                if let v = us(record.actualStartMs + setupMs - record.intendedStartMs) { _ = setupFromIntended.record(v) }
                timeSeries.setup(Int((record.actualStartMs + setupMs) / 1000), ms: setupMs)
            }
            if let duration = record.durationMs, (200..<300).contains(record.status), let v = us(duration) { _ = self.duration.record(v) }
            if !record.mediaSecurity.isEmpty { recordMedia(security: record.mediaSecurity, startMs: record.mediaStartMs, clippedMs: record.clippedMs) }
            timeSeries.at(Int(record.actualStartMs / 1000)) { $0.started += 1 }
            let endMs = record.actualStartMs + (record.setupMs ?? 0) + (record.durationMs ?? 0)
            timeSeries.at(Int(endMs / 1000)) { if succeeded { $0.succeeded += 1 } else { $0.failed += 1 } }
            count(counted)
        }
    }
}

extension RunRebuild {
    /// Whether a connected call's teardown column says it went wrong (a BYE refused, unanswered or not
    /// sent; the far end's BYE missing).
    static func teardownFailed(_ teardown: String) -> Bool {
        guard teardown.hasPrefix("bye ") else { return false }
        return teardown != "bye 200" && !teardown.hasPrefix("bye from")
    }
}
