import Foundation
import Histogram
@testable import LoadEngine
import Testing

/// `--shard I/N` and `wasim merge`: a seeded scenario run once and as three shard processes gives the same
/// calls, counts and verdict; percentiles come from the merged HDR histograms.
@Suite("Shards and merge", .serialized)
struct ShardMergeTests {
    /// The numbering of a shard's calls: each callee in one shard, every call of the run in exactly one.
    @Test func shardsPartitionCalleesAndCalls() {
        for (callees, total, n) in [(8, 16, 3), (10, 95, 4), (7, 7, 7), (1000, 2500, 3), (5, 3, 2)] {
            var seen = [Int](repeating: 0, count: total)
            var owner: [Int: Int] = [:]
            for i in 0..<n {
                let numbering = CallNumbering(shard: RunShard(index: i, count: n), callees: callees, total: total)
                var previous = -1
                for m in 0..<numbering.count {
                    let k = numbering.index(m)
                    #expect(k > previous && k < total, "ascending, inside the schedule")
                    previous = k
                    seen[k] += 1
                    let callee = k % callees
                    #expect(owner[callee, default: i] == i, "callee \(callee) in shards \(owner[callee]!) and \(i)")
                    owner[callee] = i
                    #expect(numbering.count(below: k) == m && numbering.count(below: k + 1) == m + 1)
                }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "\(callees) callees, \(total) calls, \(n) shards")
        }
        #expect(RunShard(parsing: "2/3") != nil && RunShard(parsing: "3/3") == nil && RunShard(parsing: "-1/3") == nil && RunShard(parsing: "1") == nil)
    }

    /// Histograms written to statistics.json read back into the same buckets: three shards' values merged
    /// give exactly the percentiles of one histogram of all of them.
    @Test func archivedHistogramsMergeExactly() throws {
        var random = SystemRandomNumberGenerator()
        var whole = ShardStatistics.makeHistogram()
        var merged = ShardStatistics.makeHistogram()
        for _ in 0..<3 {
            var shard = ShardStatistics.makeHistogram()
            for _ in 0..<5000 {
                let v = UInt64.random(in: 200...2_000_000, using: &random)
                _ = shard.record(v)
                _ = whole.record(v)
            }
            let data = try JSONEncoder().encode(HistogramArchive(shard))
            let back = try #require(try JSONDecoder().decode(HistogramArchive.self, from: data).histogram)
            #expect(back.totalCount == shard.totalCount && back.max == shard.max)
            merged.add(back)
        }
        for p in [0.0, 50, 90, 99, 99.9] {
            #expect(merged.valueAtPercentile(p) == whole.valueAtPercentile(p), "p\(p)")
        }
        // The largest value is kept as its bucket: the same within HDR precision.
        #expect(whole.valuesAreEquivalent(merged.valueAtPercentile(100), whole.valueAtPercentile(100)))
        #expect(merged.totalCount == whole.totalCount)
    }

    /// Each second's setup percentiles come from its HDR histogram (2 significant digits: within 1 %), seconds
    /// taken from a shard while the run goes and a setup counted late land in the right second.
    @Test func perSecondPercentilesAndTakenSeconds() {
        var series = TimeSeries()
        let values = (1...1000).map { Double($0) / 10 }   // 0.1 … 100 ms in second 3
        for v in values { series.setup(3, ms: v) }
        let p = series.seconds[3].setup.percentilesMs([50, 99])
        #expect(abs(p[0]! - 50) <= 0.5 && abs(p[1]! - 99) <= 1, "\(p)")
        let taken = series.takeSeconds(before: 4)
        #expect(series.seconds.isEmpty && series.firstSecond == 4 && taken.seconds.count == 4)
        series.setup(2, ms: 7)   // a call answered in second 2 ended now
        series.at(5) { $0.started += 1 }
        var total = TimeSeries()
        total.merge(taken)
        total.merge(series.takeSeconds(before: 5))
        total.merge(series)
        #expect(total.seconds[2].answered == 1 && total.seconds[3].answered == 1000 && total.seconds[5].started == 1)
        #expect(total.csv.split(separator: "\n").count == 7)
    }

    static func runs(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map { directory + "/" + $0 }
    }

    static func summary(_ directory: String) throws -> RunSummary {
        try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/summary.json")))
    }

    @Test(.enabled(if: CLITests.available))
    func threeShardProcessesMergeIntoTheWholeRun() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let scenario = CLITests.root.appendingPathComponent("Scenarios/bic-callee-expectations.yaml").path
        let common = ["--results", "RESULTS", "--certs", dir.path, "--trace", "none"]
        func args(_ results: String, _ extra: [String]) -> [String] { ["scenario", scenario] + common.map { $0 == "RESULTS" ? results : $0 } + extra }
        // The whole run, and its three shards at once (as three pods would).
        async let whole = ExternalProcess.run(CLITests.binary, args(dir.path + "/whole", []), timeout: 120)
        async let s0 = ExternalProcess.run(CLITests.binary, args(dir.path + "/shards", ["--shard", "0/3"]), timeout: 120)
        async let s1 = ExternalProcess.run(CLITests.binary, args(dir.path + "/shards", ["--shard", "1/3"]), timeout: 120)
        async let s2 = ExternalProcess.run(CLITests.binary, args(dir.path + "/shards", ["--shard", "2/3"]), timeout: 120)
        let results = try await [whole, s0, s1, s2]
        // A shard exits 0 when it ran through (its own verdict is not the run's); the whole run may report
        // its generator saturated on a loaded machine (exit 3), as may the merge.
        #expect(CLITests.ranThrough(results[0]), "\(results[0].output.suffix(1500))")
        for r in results.dropFirst() { #expect(r.status == 0, "\(r.output.suffix(1500))") }
        let wholeDir = try #require(try Self.runs(in: dir.path + "/whole").first)
        // In shard order (their folder names differ only by a suffix when they started in the same second).
        let shardDirs = try Self.runs(in: dir.path + "/shards").sorted { try Self.summary($0).shard ?? "" < Self.summary($1).shard ?? "" }
        try #require(shardDirs.count == 3)

        let merged = try await ExternalProcess.run(CLITests.binary, ["merge"] + shardDirs + ["--out", dir.path + "/merged"], timeout: 60)
        #expect(merged.status == 0 || (merged.status == 3 && merged.output.contains("SATURATED: a generator was the bottleneck")), "\(merged.output)")
        let w = try Self.summary(wholeDir), m = try Self.summary(dir.path + "/merged")
        #expect(m.calls.attempted == w.calls.attempted && m.calls.connected == w.calls.connected && m.calls.failed == w.calls.failed)
        #expect(m.calls.unexpected == w.calls.unexpected && m.calls.dropped == 0)
        #expect(m.responses == w.responses, "merged \(m.responses) whole \(w.responses)")
        #expect(m.ends == w.ends)
        #expect(m.expectations?.checked == w.expectations?.checked && m.expectations?.met == w.expectations?.met)
        // The thresholds are judged on the merged run (a shard alone may have no connected call to measure).
        #expect(m.thresholds.map(\.expression) == w.thresholds.map(\.expression))
        #expect(m.thresholds.first { $0.expression == "count(unexpected) == 0" }?.value == Double(m.calls.unexpected))
        #expect(m.thresholds.first { $0.expression == "p99(duration) < 1500ms" }?.value == m.callDurationMs?.p99)
        #expect(m.passed == (m.thresholds.allSatisfy(\.ok) && m.calls.unexpected == 0 && m.expectations?.unmet == 0))
        #expect(m.mergedFrom?.count == 3 && m.shard == nil)
        #expect(abs(m.rate.targetCPS - w.rate.targetCPS) < 1e-9, "the shards' target rates add up to the run's")
        let shardSummaries = try shardDirs.map(Self.summary)
        #expect(shardSummaries.compactMap(\.shard).sorted() == ["0/3", "1/3", "2/3"])

        // The same calls: index, callee and intended start; each callee in one shard only.
        func calls(_ directory: String) throws -> [CallRecord] {
            try CallsCSVReader.records(String(contentsOfFile: directory + "/calls.csv", encoding: .utf8), file: "calls.csv")
        }
        let wholeCalls = try calls(wholeDir), mergedCalls = try calls(dir.path + "/merged")
        func key(_ r: CallRecord) -> String { "\(r.index) \(r.callee) \(r.intendedStartMs) \(r.status)" }
        #expect(Set(wholeCalls.map(key)) == Set(mergedCalls.map(key)) && mergedCalls.count == wholeCalls.count)
        var shardOfCallee: [String: Int] = [:]
        for (i, d) in shardDirs.enumerated() {
            for r in try calls(d) {
                #expect(shardOfCallee[r.callee, default: i] == i, "\(r.callee) called from two shards")
                shardOfCallee[r.callee] = i
            }
        }

        // Percentiles from the merged histograms: those of every shard's calls together, within HDR precision.
        var exact = ShardStatistics.makeHistogram()
        for r in mergedCalls { if let s = r.setupMs { _ = exact.record(UInt64(max(1, (s * 1000).rounded()))) } }
        #expect(m.latencyMs.setup.count == exact.totalCount)
        for (got, p) in [(m.latencyMs.setup.p50, 50.0), (m.latencyMs.setup.p99, 99), (m.latencyMs.setup.max, 100)] {
            let want = Double(exact.valueAtPercentile(p)) / 1000
            #expect(abs(got - want) <= want * 0.001 + 0.002, "p\(p): merged \(got) ms, the calls' \(want) ms")
        }
        for file in ["calls.csv", "timeseries.csv", "report.html", "statistics.json", "run.json", "scenario.yaml"] {
            #expect(FileManager.default.fileExists(atPath: dir.path + "/merged/" + file), "\(file)")
        }
        let series = try String(contentsOfFile: dir.path + "/merged/timeseries.csv", encoding: .utf8).split(separator: "\n")
        let started = series.dropFirst().compactMap { Int($0.split(separator: ",")[1]) }.reduce(0, +)
        #expect(started == m.calls.attempted, "the merged series counts every start")

        // A shard whose process was killed before its summary: rebuilt by `wasim report` from its calls.csv,
        // it merges with the others into the same counts, and the merged summary says what was rebuilt.
        for file in ["summary.json", "statistics.json", "report.html"] { try FileManager.default.removeItem(atPath: shardDirs[1] + "/" + file) }
        let report = try await ExternalProcess.run(CLITests.binary, ["report", shardDirs[1]], timeout: 60)
        #expect(report.status == 0 || report.status == 1, "\(report.output)")
        #expect(try Self.summary(shardDirs[1]).shard == "1/3")
        let again = try await ExternalProcess.run(CLITests.binary, ["merge"] + shardDirs + ["--out", dir.path + "/merged-again"], timeout: 60)
        let r = try Self.summary(dir.path + "/merged-again")
        #expect(again.status != 2, "\(again.output)")
        #expect(r.calls.attempted == w.calls.attempted && r.responses == w.responses && r.calls.connected == w.calls.connected)
        #expect(r.rebuiltFrom == "calls.csv of shard 1/3")

        // A missing shard, a shard given twice, a split larger than the callee list: exit 2, said plainly.
        let missing = try await ExternalProcess.run(CLITests.binary, ["merge", shardDirs[0], shardDirs[1], "--out", dir.path + "/m2"], timeout: 60)
        #expect(missing.status == 2 && missing.output.contains("2/3 missing"), "\(missing.output)")
        let twice = try await ExternalProcess.run(CLITests.binary, ["merge", shardDirs[0], shardDirs[0], shardDirs[1], "--out", dir.path + "/m3"], timeout: 60)
        #expect(twice.status == 2 && twice.output.contains("given twice"), "\(twice.output)")
        let notShard = try await ExternalProcess.run(CLITests.binary, ["merge", wholeDir, "--out", dir.path + "/m4"], timeout: 60)
        #expect(notShard.status == 2 && notShard.output.contains("not a shard"), "\(notShard.output)")
        let tooMany = try await ExternalProcess.run(CLITests.binary, args(dir.path + "/x", ["--shard", "0/9"]), timeout: 60)
        #expect(tooMany.status == 2 && tooMany.output.contains("--shard 0/9"), "\(tooMany.output)")
    }
}
