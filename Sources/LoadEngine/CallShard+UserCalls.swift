import MetaMock
import NIOCore
import SIPTransport

/// User-initiated calls of a shard: the embedded mock places them on the shard's loop (as Meta), wasim's
/// business side or the target SBC answers, and the shard records Meta's view of each.
extension CallShard {
    func launchUserCall(_ index: Int, intended: NIODeadline, now: NIODeadline) {
        guard let mock = plan.mock else { return }
        let caller = plan.scenario.callees.callee(index)
        userCalls[index] = UserCall(index: index, caller: caller, intended: intended, actual: now)
        active += 1
        statistics.attempted += 1
        statistics.maxConcurrent = max(statistics.maxConcurrent, active)
        _ = statistics.startLag.record(ShardStatistics.micros(now - intended))
        statistics.timeSeries.at(second(now)) { $0.started += 1 }
        let request = UICCallRequest(user: caller, business: plan.scenario.businessNumber, hold: Double(holdTime().nanoseconds) / 1e9)
        mock.placeUserCall(request, on: endpoint.eventLoop) { [self] report in
            finishUserCall(index, report: report)
        }
    }

    func finishUserCall(_ index: Int, report: UICCallReport?) {
        guard let call = userCalls.removeValue(forKey: index) else { return }
        active -= 1
        let outcome = report?.outcome ?? UICOutcome(status: 0, reason: "interrupted", localFailure: true)
        statistics.responses["\(outcome.status) \(outcome.reason)", default: 0] += 1
        let ok = outcome.connected && (outcome.byeStatus.map { $0 < 300 } ?? true)
        if ok { statistics.connected += 1 } else { statistics.failed += 1 }
        statistics.timeSeries.at(second(NIODeadline.now())) { if ok { $0.succeeded += 1 } else { $0.failed += 1 } }
        let timing = report?.timing ?? UICCallTiming()
        if let answered = timing.answered, let setup = timing.setup { statistics.timeSeries.setup(second(answered), ms: Double(setup.nanoseconds) / 1e6) }
        func span(_ a: NIODeadline?, _ b: NIODeadline?) -> TimeAmount? { a.flatMap { a in b.map { $0 - a } } }
        let setup = timing.setup, postDial = span(timing.inviteSent, timing.firstRinging), auth = span(timing.inviteSent, timing.challengeReceived)
        statistics.record(setup, in: \.setup)
        statistics.record(postDial, in: \.postDial)
        statistics.record(auth, in: \.auth)
        if let answered = timing.answered { _ = statistics.setupFromIntended.record(ShardStatistics.micros(answered - call.intended)) }
        func ms(_ t: TimeAmount?) -> Double? { t.map { Double($0.nanoseconds) / 1e6 } }
        var reason = outcome.reason
        if let detail = outcome.detail, !outcome.connected { reason += " (\(detail))" }
        statistics.records.append(CallRecord(
            index: call.index, callID: report?.callID ?? "", callee: call.caller,
            intendedStartMs: ms(call.intended - plan.runStart) ?? 0, actualStartMs: ms(call.actual - plan.runStart) ?? 0,
            status: outcome.status, reason: reason, setupMs: ms(setup), postDialMs: ms(postDial), authMs: ms(auth),
            hangup: outcome.endedBy ?? "none"))
        afterCallEnded()
    }

}
