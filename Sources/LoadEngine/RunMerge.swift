import Foundation

/// `wasim merge DIR... --out DIR`: one run's results from the results of its shards (`--shard I/N`, each
/// on its own machine or pod). Counts add up; latency percentiles come from the shards' HDR histograms
/// merged bucket by bucket (statistics.json), as one process would have measured them; the scenario's
/// thresholds and expectations are judged on the merged result; calls.csv is every shard's rows. Each
/// shard's seconds are counted from its own start, so the per-second series line up as well as the shards'
/// starts did.
public enum RunMerge {
    /// Shards that cannot be merged, and why.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Merges the shard folders into `out` (made if missing) and returns the merged summary.
    public static func merge(directories: [String], out: String) throws -> RunSummary {
        guard !directories.isEmpty else { throw Failure(description: "no shard folders given") }
        var archives: [(directory: String, archive: RunArchive, record: RunRecord, shard: RunShard)] = []
        for directory in directories {
            let archive = try RunArchive.read(directory: directory)
            let record = try readRecord(directory)
            guard let text = archive.shard, let shard = RunShard(parsing: text) else {
                throw Failure(description: "\(directory): not a shard (run without --shard I/N): merging it would count its calls twice")
            }
            archives.append((directory, archive, record, shard))
        }
        let first = archives[0]
        for a in archives.dropFirst() {
            guard a.record.scenario == first.record.scenario else {
                throw Failure(description: "\(a.directory) ran scenario '\(a.record.scenario)', \(first.directory) ran '\(first.record.scenario)'")
            }
            guard a.shard.count == first.shard.count else {
                throw Failure(description: "\(a.directory) is shard \(a.shard), \(first.directory) is shard \(first.shard): not the same split")
            }
            guard a.record.overrides.map({ "\($0.path)=\($0.value)" }) == first.record.overrides.map({ "\($0.path)=\($0.value)" }) else {
                throw Failure(description: "\(a.directory) and \(first.directory) ran with different command-line changes: \(a.record.commandLine) against \(first.record.commandLine)")
            }
        }
        let indices = archives.map(\.shard.index)
        if let twice = Dictionary(grouping: indices, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw Failure(description: "shard \(twice)/\(first.shard.count) is given twice")
        }
        let missing = (0..<first.shard.count).filter { !indices.contains($0) }
        guard missing.isEmpty else {
            throw Failure(description: "shard\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", ")) missing: the merged run would not be the whole run")
        }

        // The scenario as the shards ran it (its copy and the command line's changes), for the verdict.
        let scenario: Scenario
        do { scenario = try first.record.loadScenario(directory: first.directory) } catch let error as RunRebuild.Failure {
            throw Failure(description: error.description)
        }

        var statistics = ShardStatistics()
        var traces = 0
        var facts = first.archive.runFacts
        facts.shard = nil
        var saturatedShards: [String] = []
        var rebuiltShards: [String] = []
        for (i, a) in archives.enumerated() {
            let (s, written) = try a.archive.statistics()
            statistics.merge(s)
            traces += written
            if let summary = try? readSummary(a.directory) {
                if summary.generator.saturated { saturatedShards.append("shard \(a.shard): \(summary.generator.saturationReason ?? "saturated")") }
                if summary.rebuiltFrom != nil { rebuiltShards.append("\(a.shard)") }
            }
            guard i > 0 else { continue }
            let f = a.archive.runFacts
            facts.startedAt = min(facts.startedAt, f.startedAt)
            facts.endedAt = max(facts.endedAt, f.endedAt)
            facts.interrupted = facts.interrupted || f.interrupted
            facts.scheduledCalls += f.scheduledCalls
            facts.cpuSeconds += f.cpuSeconds
            facts.retransmissions += f.retransmissions
            facts.transportErrors += f.transportErrors
            facts.lastTransportError = f.lastTransportError ?? facts.lastTransportError
            facts.messagesSent += f.messagesSent
            facts.messagesReceived += f.messagesReceived
            facts.udpReceiveDrops += f.udpReceiveDrops
            facts.embeddedMock = facts.embeddedMock || f.embeddedMock
            facts.cores += f.cores
            facts.scheduleShare += f.scheduleShare
        }
        var summary = RunSummary.build(scenario: scenario, statistics: statistics, facts: facts)
        summary.traces.written = traces
        summary.mergedFrom = archives.sorted { $0.shard.index < $1.shard.index }.map(\.directory)
        // A shard rebuilt by `wasim report` brings only what its calls.csv says (no CPU, loop lag, retransmissions).
        if !rebuiltShards.isEmpty { summary.rebuiltFrom = "calls.csv of shard" + (rebuiltShards.count > 1 ? "s " : " ") + rebuiltShards.joined(separator: ", ") }
        if !saturatedShards.isEmpty {
            summary.generator.saturated = true
            summary.generator.saturationReason = ([summary.generator.saturationReason].compactMap { $0 } + saturatedShards).joined(separator: "; ")
        }

        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let writer = ResultsWriter(existing: out)
        try writer.writeSummary(summary)
        try RunArchive(statistics: statistics, facts: facts).write(to: writer)
        try writer.write("timeseries.csv", text: statistics.timeSeries.csv)
        try writer.write("report.html", text: HTMLReport.render(summary: summary, timeSeries: statistics.timeSeries, clipping: statistics.clippingBuckets))
        try writer.write(RunRecord.scenarioFileName, Data(contentsOf: URL(fileURLWithPath: (first.directory as NSString).appendingPathComponent(first.record.scenarioCopy ?? RunRecord.scenarioFileName))))
        var record = first.record
        record.scenarioCopy = RunRecord.scenarioFileName
        record.scheduledCalls = facts.scheduledCalls
        record.startedAt = ISO8601DateFormatter().string(from: facts.startedAt)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writer.write(RunRecord.fileName, encoder.encode(record) + Data("\n".utf8))
        try concatenateCalls(archives.sorted { $0.shard.index < $1.shard.index }.map(\.directory), into: (out as NSString).appendingPathComponent("calls.csv"))
        for a in archives { try copyTraces(from: a.directory, to: out) }
        return summary
    }

    static func readRecord(_ directory: String) throws -> RunRecord {
        let path = (directory as NSString).appendingPathComponent(RunRecord.fileName)
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "\(directory): no \(RunRecord.fileName); is this a wasim run folder?") }
        do { return try JSONDecoder().decode(RunRecord.self, from: data) } catch {
            throw Failure(description: "\(path): not a run record: \(error)")
        }
    }

    static func readSummary(_ directory: String) throws -> RunSummary {
        let data = try Data(contentsOf: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("summary.json")))
        return try JSONDecoder().decode(RunSummary.self, from: data)
    }

    /// Every shard's calls.csv rows under one header, copied in 1 MB pieces (a shard of a long run has
    /// millions of rows).
    static func concatenateCalls(_ directories: [String], into path: String) throws {
        let temp = path + ".partial"
        guard FileManager.default.createFile(atPath: temp, contents: nil), let output = FileHandle(forWritingAtPath: temp) else {
            throw ResultsError.cannotWrite("cannot create \(temp)")
        }
        defer { try? output.close() }
        var headerWritten = false
        for directory in directories {
            let source = (directory as NSString).appendingPathComponent("calls.csv")
            guard let input = FileHandle(forReadingAtPath: source) else { throw Failure(description: "\(directory): no calls.csv") }
            defer { try? input.close() }
            var first = true
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                var piece = chunk
                if first {
                    first = false
                    // The header line: written once, from the first shard.
                    if let end = piece.firstIndex(of: UInt8(ascii: "\n")) {
                        if headerWritten { piece = piece[(end + 1)...] }
                        headerWritten = true
                    }
                }
                try output.write(contentsOf: piece)
            }
        }
        try output.synchronize()
        guard rename(temp, path) == 0 else { throw ResultsError.cannotWrite("cannot rename \(temp)") }
    }

    static func copyTraces(from directory: String, to out: String) throws {
        let source = (directory as NSString).appendingPathComponent("traces")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: source), !names.isEmpty else { return }
        let target = (out as NSString).appendingPathComponent("traces")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for name in names {
            let to = (target as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: (source as NSString).appendingPathComponent(name), toPath: to)
        }
    }
}
