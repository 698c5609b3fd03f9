import NIOCore

/// How a shard counts an ended call of either direction: responses, success, the callee's expected
/// response, histograms, the time series and the per-call record.
extension CallShard {
    /// The instants of an ended call the histograms need.
    struct EndedCall {
        var intended: NIODeadline
        var setup: TimeAmount?
        var postDial: TimeAmount?
        var auth: TimeAmount?
        var answered: NIODeadline?
        var duration: TimeAmount?
    }

    /// Rows are handed to calls.csv's writer once this many bytes are waiting (and at least every 100 ms).
    static let rowFlushBytes = 64 * 1024

    /// Hands the rows written so far to calls.csv.
    func flushRows() {
        guard !rows.isEmpty else { return }
        plan.callsCSV?.append(rows)
        rows.removeAll(keepingCapacity: true)
    }

    /// A span in milliseconds, for the per-call record.
    static func milliseconds(_ t: TimeAmount?) -> Double? { t.map { Double($0.nanoseconds) / 1e6 } }

    /// Counts the call and appends its record; returns whether it ended as the scenario expects (a trace
    /// is written for the calls that did not).
    @discardableResult
    func account(_ record: CallRecord, succeeded: Bool, times: EndedCall, extraResponses: [String] = []) -> Bool {
        var record = record
        record.succeeded = succeeded
        statistics.responses["\(record.status) \(record.reason)", default: 0] += 1
        for extra in extraResponses { statistics.responses[extra, default: 0] += 1 }
        if succeeded { statistics.connected += 1 } else { statistics.failed += 1 }
        var asExpected = succeeded
        if let expected = plan.scenario.callees.expectation(for: record.callee) {
            let met = expected.matches(status: record.status, reason: record.reason)
            record.expected = expected.description
            record.expectationMet = met
            statistics.expectationsChecked += 1
            // A 2xx that was expected still has to end well (its BYE answered).
            asExpected = met && (succeeded || !(200..<300).contains(record.status))
            if !met {
                statistics.expectationsUnmet += 1
                if statistics.unmetExamples.count < 10 {
                    statistics.unmetExamples.append("call \(record.index) \(record.callee): expected \(expected), got \(record.status) \(record.reason)")
                }
            }
        }
        if !asExpected { statistics.unexpected += 1 }
        statistics.record(times.setup, in: \.setup)
        statistics.record(times.postDial, in: \.postDial)
        statistics.record(times.auth, in: \.auth)
        if let answered = times.answered {
            _ = statistics.setupFromIntended.record(ShardStatistics.micros(answered - times.intended))
            if let setup = times.setup { statistics.timeSeries.setup(second(answered), ms: Double(setup.nanoseconds) / 1e6) }
        }
        if let duration = times.duration, (200..<300).contains(record.status) {
            statistics.record(duration, in: \.duration)
            record.durationMs = Double(duration.nanoseconds) / 1e6
        }
        statistics.timeSeries.at(second(NIODeadline.now())) { if succeeded { $0.succeeded += 1 } else { $0.failed += 1 } }
        statistics.count(record)
        CallsCSV.append(record, to: &rows)
        if rows.count >= CallShard.rowFlushBytes { flushRows() }
        return asExpected
    }
}
