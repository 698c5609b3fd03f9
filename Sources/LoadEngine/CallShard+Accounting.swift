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

    /// Why a due call was not started.
    enum ShedReason {
        /// `load.max_in_flight` calls were already waiting for a first response.
        case inFlight
        /// The call was due longer ago than `load.shed_late`.
        case late
        /// This loop is saturated: it admits fewer calls in flight until it is not.
        case overload
    }

    /// A due call the generator does not start (its own protection): counted, given a calls.csv row, never
    /// silently skipped.
    func shed(_ index: Int, intended: NIODeadline, now: NIODeadline, reason: ShedReason) {
        statistics.shed += 1
        let why: String
        switch reason {
        case .inFlight:
            statistics.shedInFlight += 1
            why = "not started: \(plan.scenario.maxInFlight) calls already waiting for a first response (load.max_in_flight)"
        case .overload:
            statistics.shedOverload += 1
            why = "not started: the generator was saturated (its event loop busy), so it admitted fewer calls in flight"
        case .late:
            statistics.shedLate += 1
            why = String(format: "not started: due %.0f ms ago (load.shed_late)", Double((now - intended).nanoseconds) / 1e6)
        }
        statistics.timeSeries.at(second(now)) { $0.shed += 1 }
        var record = CallRecord(index: index, callID: "", callee: plan.scenario.callees.callee(index),
                                intendedStartMs: CallShard.milliseconds(intended - plan.runStart) ?? 0, actualStartMs: 0,
                                status: 0, reason: why, setupMs: nil, postDialMs: nil, authMs: nil, hangup: "none")
        record.outcome = "not_started"
        record.end = CallEnd.notStarted.rawValue
        statistics.ends[record.end, default: 0] += 1
        record.direction = plan.scenario.isUserInitiated(index) ? "uic" : "bic"
        CallsCSV.append(record, to: &rows)
        if rows.count >= CallShard.rowFlushBytes { flushRows() }
    }

    /// A span in milliseconds, for the per-call record.
    static func milliseconds(_ t: TimeAmount?) -> Double? { t.map { Double($0.nanoseconds) / 1e6 } }

    /// Counts the call (`succeeded`: it connected) and appends its record; returns whether it ended as the
    /// scenario expects (a trace is written for the calls that did not).
    @discardableResult
    func account(_ record: CallRecord, succeeded: Bool, teardownFailed: Bool = false, times: EndedCall, extraResponses: [String] = []) -> Bool {
        var record = record
        record.succeeded = succeeded
        record.outcome = succeeded ? "connected" : "failed"
        if let expected = plan.scenario.callees.expectation(for: record.callee) {
            record.expected = expected.description
            record.expectationMet = expected.matches(status: record.status, reason: record.reason)
        }
        let asExpected = statistics.countOutcome(record, succeeded: succeeded, teardownFailed: teardownFailed, extraResponses: extraResponses)
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
