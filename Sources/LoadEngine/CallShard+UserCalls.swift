import MetaMock
import NIOCore
import SIPTransport

/// User-initiated calls of a shard: the embedded mock places them on the shard's loop (as Meta), wasim's
/// business side or the target SBC answers, and the shard records Meta's view of each.
extension CallShard {
    func launchUserCall(_ index: Int, intended: NIODeadline, now: NIODeadline) {
        guard let mock = plan.mock else { return }
        let caller = plan.scenario.callees.callee(index)
        let businessEnds = !plan.scenario.userHangsUp(index)
        userCalls[index] = UserCall(index: index, caller: caller, intended: intended, actual: now, businessEnds: businessEnds)
        active += 1
        statistics.attempted += 1
        statistics.maxConcurrent = max(statistics.maxConcurrent, active)
        _ = statistics.startLag.record(ShardStatistics.micros(now - intended))
        statistics.timeSeries.at(second(now)) { $0.started += 1 }
        let hold = Double(holdTime().nanoseconds) / 1e9
        var request = UICCallRequest(user: caller, business: plan.scenario.businessNumber, hold: hold)
        request.recordMessages = plan.traceMode != .none
        if businessEnds {
            // Meta waits for the business's BYE; wasim's own business side is told when to send it (an SBC
            // under test decides by itself).
            request.hold = hold + Double(BusinessCallFlow.userHangUpGrace.nanoseconds) / 1e9
            if uas != nil { request.businessHangsUpAfter = hold }
        }
        mock.placeUserCall(request, on: endpoint.eventLoop) { [self] report in
            finishUserCall(index, report: report)
        }
    }

    func finishUserCall(_ index: Int, report: UICCallReport?) {
        guard let call = userCalls.removeValue(forKey: index) else { return }
        active -= 1
        let outcome = report?.outcome ?? UICOutcome(status: 0, reason: "interrupted", localFailure: true)
        let timing = report?.timing ?? UICCallTiming()
        func span(_ a: NIODeadline?, _ b: NIODeadline?) -> TimeAmount? { a.flatMap { a in b.map { $0 - a } } }
        let setup = timing.setup, postDial = span(timing.inviteSent, timing.firstRinging), auth = span(timing.inviteSent, timing.challengeReceived)
        let ms = CallShard.milliseconds
        var reason = outcome.reason
        if let detail = outcome.detail, !outcome.connected { reason += " (\(detail))" }
        // The business was to hang up, and Meta had to after waiting the grace.
        let businessMissing = call.businessEnds && outcome.connected && outcome.endedBy == "meta"
        if businessMissing { reason += " (no BYE from the business within the hold + 32 s; Meta hung up)" }
        var record = CallRecord(
            index: call.index, callID: report?.callID ?? "", callee: call.caller,
            intendedStartMs: ms(call.intended - plan.runStart) ?? 0, actualStartMs: ms(call.actual - plan.runStart) ?? 0,
            status: outcome.status, reason: reason, setupMs: ms(setup), postDialMs: ms(postDial), authMs: ms(auth),
            hangup: outcome.endedBy ?? "none")
        record.direction = "uic"
        let end: CallEnd
        if report == nil { end = .interrupted }
        else if outcome.connected { end = .connected }
        else if outcome.notPlaced { end = .rejected }
        else if outcome.localFailure { end = outcome.status == 408 ? .timerB : .transport }
        else { end = .rejected }
        record.end = end.rawValue
        if outcome.connected, let endedBy = outcome.endedBy { record.teardown = "bye from \(endedBy)" }
        if let media = report?.media, !media.security.isEmpty {
            // Meta's measurement: when the business's audio first arrived, and how much of it never did.
            record.mediaSecurity = media.security
            record.mediaStartMs = media.mediaStartMs
            record.clippedMs = media.clippedMs
            statistics.recordMedia(security: media.security, startMs: media.mediaStartMs, clippedMs: media.clippedMs)
        }
        let succeeded = outcome.connected
        let teardownFailed = succeeded && ((outcome.byeStatus.map { $0 >= 300 } ?? false) || businessMissing)
        let asExpected = account(record, succeeded: succeeded, teardownFailed: teardownFailed,
                                 times: EndedCall(intended: call.intended, setup: setup, postDial: postDial, auth: auth,
                                                  answered: timing.answered, duration: span(timing.answered, timing.byeSent ?? timing.ended)))
        if plan.traceMode == .all || (plan.traceMode == .failed && !(succeeded && asExpected)) {
            keepTrace(name: "\(call.index)", title: "UIC \(call.index) \(record.callID) from \(call.caller) (as the mock saw it): \(outcome.status) \(reason)",
                      trace: CallTrace(messages: report?.messages ?? []))
        }
        afterCallEnded()
    }
}
