import MetaMock
import NIOCore
import SIPCore
import SIPTransport
import WasimMedia

/// Business-initiated calls of a shard: each call's `BusinessCallFlow` driven through the loop's endpoint
/// (INVITE, the 407 answer, ACK, CANCEL, re-INVITE, BYE), its media, and its end counted.
extension CallShard {
    /// A business-initiated call: wasim, as the business UAC, INVITEs the callee (binding its media first
    /// when the call carries media: the offer names the port).
    func launchBusinessCall(_ index: Int, intended: NIODeadline, now: NIODeadline) {
        let scenario = plan.scenario
        let callID = endpoint.identifiers.callID(host: scenario.localHost)
        let identity0 = BusinessCallFlow.Identity(
            businessNumber: scenario.businessNumber, businessDomain: scenario.businessDomain,
            callee: scenario.callees.callee(index), targetDomain: plan.targetDomain,
            transport: scenario.transport.rawValue, contactHost: scenario.localHost, callID: callID,
            fromTag: endpoint.identifiers.tag(),
            digestUsername: String(scenario.businessNumber.dropFirst()), password: plan.password, method: scenario.method == .register ? .register : .invite)
        let targetIndex = firstLiveTarget(now: now)
        var destination = target(targetIndex)
        if scenario.connections == .perAgent, destination.transport != .udp { destination.connectionTag = index + 1 }
        var cancelAfter: TimeAmount? = nil
        if let cancel = scenario.cancel, random.nextUnit() < cancel.share {
            cancelAfter = .nanoseconds(Int64(cancel.after * 1e9))
        }
        let reinvite = scenario.reinviteAfter.map { TimeAmount.nanoseconds(Int64($0 * 1e9)) }
        let ringTimeout = scenario.ringTimeout.map { TimeAmount.nanoseconds(Int64($0 * 1e9)) }
        let hold = holdTime()
        var identity = identity0
        if scenario.userHangsUp(index), scenario.method == .invite { identity.userHangsUpAfter = Double(hold.nanoseconds) / 1e9 }
        var security = scenario.mediaSecurity
        if security == "alternate" { security = index % 2 == 0 ? "sdes" : "dtls" }
        // A media sample: every n-th call by index, so the sample is spread evenly over the run.
        if scenario.mediaSample < 1, security != "none", Double(index).truncatingRemainder(dividingBy: (1 / scenario.mediaSample).rounded()) != 0 {
            security = "none"
        }
        active += 1
        statistics.attempted += 1
        statistics.maxConcurrent = max(statistics.maxConcurrent, active)
        _ = statistics.startLag.record(ShardStatistics.micros(now - intended))
        statistics.timeSeries.at(second(now)) { $0.started += 1 }
        guard scenario.bicMedia, security != "none", scenario.method == .invite, let context = plan.dtlsContext else {
            begin(BusinessCallFlow(identity: identity, hold: hold, cancelAfter: cancelAfter, reinviteAfter: reinvite, ringTimeout: ringTimeout,
                                   alternates: plan.alternates.count),
                  destination: destination, targetIndex: targetIndex, index: index, intended: intended, media: nil)
            return
        }
        // Bind the media port first: the offer carries it.
        let media = BusinessMedia(security: security, host: scenario.localHost, context: context, probeSeconds: scenario.mediaProbeSeconds,
                                  eventLoop: endpoint.eventLoop, scheduler: mediaScheduler, random: &random)
        media.dtlsRetransmit = scenario.dtlsRetransmitSeconds
        media.bind().assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
            var withMedia = identity
            if case .success = result { withMedia.sdpOffer = media.offer }
            begin(BusinessCallFlow(identity: withMedia, hold: hold, cancelAfter: cancelAfter, reinviteAfter: reinvite, ringTimeout: ringTimeout,
                                   alternates: plan.alternates.count),
                  destination: destination, targetIndex: targetIndex, index: index, intended: intended,
                  media: (try? result.get()) == nil ? nil : media)
        }
    }

    /// The target at `index` of the failover order (0: the scenario's first).
    func target(_ index: Int) -> SIPDestination { index == 0 ? plan.destination : plan.alternates[index - 1] }

    /// The first target not marked down (the first of all when every one is).
    func firstLiveTarget(now: NIODeadline) -> Int {
        guard !plan.alternates.isEmpty else { return 0 }
        for i in 0...plan.alternates.count where i >= targetDownUntil.count || targetDownUntil[i] <= now { return i }
        return 0
    }

    /// A call failed over from its target: that target is down for 30 s, and the call moves to the next one.
    func failOver(_ ref: CallRef, now: NIODeadline) {
        let from = calls.elements[ref.slot]!.targetIndex
        while targetDownUntil.count <= from { targetDownUntil.append(.uptimeNanoseconds(0)) }
        targetDownUntil[from] = now + .seconds(30)
        let next = min(from + 1, plan.alternates.count)
        var destination = target(next)
        destination.connectionTag = calls.elements[ref.slot]!.destination.connectionTag
        calls[ref.slot]!.destination = destination
        calls[ref.slot]!.targetIndex = next
        calls[ref.slot]!.inviteBranch = nil
        statistics.failovers += 1
        calls[ref.slot]!.trace.note("target \(target(from)) failed: failing over to \(destination)")
    }

    func begin(_ flow: BusinessCallFlow, destination: SIPDestination, targetIndex: Int = 0, index: Int, intended: NIODeadline, media: BusinessMedia?) {
        var flow = flow
        let now = NIODeadline.now()
        let actions = flow.start(now: now)
        let callID = flow.identity.callID
        let slot = calls.insert(ActiveCall(flow: flow, destination: destination, index: index, callID: callID, callee: flow.identity.callee,
                                           intended: intended, actual: now, media: media))
        callSlots[callID] = slot
        calls[slot]!.targetIndex = targetIndex
        perform(actions, CallRef(slot: slot, index: index))
    }

    /// True while `ref` names a call in flight (its slot was not freed and reused).
    func isLive(_ ref: CallRef) -> Bool { calls.elements.indices.contains(ref.slot) && calls.elements[ref.slot]?.index == ref.index }

    func perform(_ actions: [BusinessCallFlow.Action], _ ref: CallRef) {
        for action in actions {
            guard isLive(ref) else { return }
            switch action {
            case .sendInvite(let invite):
                if !calls.elements[ref.slot]!.awaitingResponse {
                    calls[ref.slot]!.awaitingResponse = true
                    inFlight += 1
                    statistics.inFlightMax = max(statistics.inFlightMax, inFlight)
                }
                endpoint.sendRequest(invite, to: calls.elements[ref.slot]!.destination, started: { [self] branch in
                    if isLive(ref) { calls[ref.slot]!.inviteBranch = branch }
                }) { [self] event in
                    inviteEvent(event, ref)
                }
            case .failover(let invite):
                failOver(ref, now: .now())
                perform([.sendInvite(invite)], ref)
            case .scheduleCancel(let after):
                endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: after) { [self] in
                    step(ref) { $0.cancelDue(now: .now()) }
                }
            case .sendCancel:
                if let branch = calls.elements[ref.slot]!.inviteBranch { endpoint.cancelInvite(branch: branch) }
            case .scheduleRingTimeout(let after):
                file(.ringTimeout, ref, deadline: .now() + after)
            case .scheduleReinvite(let after):
                endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: after) { [self] in
                    step(ref) { $0.reinviteDue(now: .now()) }
                }
            case .sendReinvite(let reinvite):
                let sequence = (try? reinvite.cseq().sequence) ?? 0
                endpoint.sendRequest(reinvite, to: calls.elements[ref.slot]!.destination) { [self] event in
                    guard case .response(let r) = event else { return }
                    step(ref) { $0.reinviteResponse(r, sequence: sequence, now: .now()) }
                }
            case .sendAck(let ack):
                endpoint.flow(for: calls.elements[ref.slot]!.destination) { [self] flow, _ in
                    if let flow { endpoint.sendAck(ack, on: flow) }
                }
            case .scheduleHangUp(let after) where after <= .zero:
                // No hold: hang up now (after the ACK, which went out first).
                step(ref) { $0.hangUp(now: .now()) }
            case .scheduleHangUp(let after):
                file(.hangUp, ref, deadline: .now() + after)
            case .sendBye(let bye):
                endpoint.sendRequest(bye, to: calls.elements[ref.slot]!.destination) { [self] event in
                    step(ref) { flow in
                        switch event {
                        case .response(let r): return flow.byeResponse(r, now: .now())
                        case .timeout: return flow.failed("BYE timed out", timeout: true, now: .now())
                        case .transportError(let why): return flow.failed(why, timeout: false, now: .now())
                        }
                    }
                }
            case .finished(let outcome):
                let hangup = calls.elements[ref.slot]!.flow.timing.byeSent != nil ? "business" : "none"
                finish(ref, outcome: outcome, hangup: hangup)
            }
        }
    }

    /// The two deadlines a call files in the shard's slot timers.
    enum CallDeadline { case hangUp, ringTimeout }

    /// Files the call's deadline in its slot timer, and schedules the slot's one task when the slot is new.
    func file(_ kind: CallDeadline, _ ref: CallRef, deadline: NIODeadline) {
        let call = calls[ref.slot]!
        let filed: (slot: UInt64, isNew: Bool)
        switch kind {
        case .hangUp:
            call.hangUpAt = deadline
            filed = hangUps.add(ref, deadline: deadline)
        case .ringTimeout:
            call.ringTimeoutAt = deadline
            filed = ringTimeouts.add(ref, deadline: deadline)
        }
        guard filed.isNew else { return }
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: .uptimeNanoseconds(filed.slot)) { [self] in
            slotDue(kind, filed.slot)
        }
    }

    /// A slot came: its calls hang up, or reach their ring timeout, unless they ended or were filed again
    /// under another slot meanwhile.
    func slotDue(_ kind: CallDeadline, _ slot: UInt64) {
        let now = NIODeadline.now()
        let refs = kind == .hangUp ? hangUps.take(slot) : ringTimeouts.take(slot)
        for ref in refs where isLive(ref) {
            let call = calls[ref.slot]!
            switch kind {
            case .hangUp:
                guard let at = call.hangUpAt, CallTimers.slot(for: at) == slot else { continue }
                call.hangUpAt = nil
                step(ref) { $0.hangUp(now: now) }
            case .ringTimeout:
                guard let at = call.ringTimeoutAt, CallTimers.slot(for: at) == slot else { continue }
                call.ringTimeoutAt = nil
                step(ref) { $0.ringTimeoutDue(now: now) }
            }
        }
    }

    func inviteEvent(_ event: ClientTransactionEvent, _ ref: CallRef) {
        guard isLive(ref) else { return }
        if calls.elements[ref.slot]!.awaitingResponse {
            calls[ref.slot]!.awaitingResponse = false
            inFlight -= 1
        }
        if let media = calls.elements[ref.slot]!.media, case .response(let r) = event, r.isSuccess, !media.started {
            let sdp = r.body.getString(at: r.body.readerIndex, length: r.body.readableBytes) ?? ""
            if let problem = media.answered(sdp) { calls[ref.slot]!.trace.note("media: \(problem)") }
        }
        let now = NIODeadline.now()
        step(ref) { flow in
            switch event {
            case .response(let r) where flow.identity.method == .register: return flow.registerResponse(r, now: now)
            case .response(let r): return flow.inviteResponse(r, now: now)
            case .timeout: return flow.failed("Timer B: no final response", timeout: true, now: now)
            case .transportError(let why): return flow.failed(why, timeout: false, now: now)
            }
        }
    }

    /// Feeds one input to a call's flow where it lies in its slot (no copy of the call out and back) and
    /// performs the actions it returns.
    func step(_ ref: CallRef, _ input: (inout BusinessCallFlow) -> [BusinessCallFlow.Action]) {
        guard isLive(ref) else { return }
        let next = input(&calls[ref.slot]!.flow)
        perform(next, ref)
    }

    func finish(_ ref: CallRef, outcome: CallOutcome, hangup: String) {
        guard isLive(ref), let call = calls.remove(ref.slot) else { return }
        callSlots[call.callID] = nil
        if call.awaitingResponse { inFlight -= 1 }
        // A CANCELled INVITE the target never answered: its transaction goes with the call.
        if outcome.end == .ringTimeout, let branch = call.inviteBranch { endpoint.abandonInvite(branch: branch) }
        let callID = call.callID
        let hangup = outcome.endedByFarEnd ? "meta" : hangup
        call.hangUpAt = nil
        active -= 1
        let timing = call.flow.timing
        let ms = CallShard.milliseconds
        var reason = outcome.reason
        if outcome.userHangUpMissing { reason += " (no BYE from the user within the hold + 32 s; the business hung up)" }
        var record = CallRecord(
            index: call.index, callID: callID, callee: call.callee,
            intendedStartMs: ms(call.intended - plan.runStart) ?? 0, actualStartMs: ms(call.actual - plan.runStart) ?? 0,
            status: outcome.status, reason: reason, setupMs: ms(timing.setup), postDialMs: ms(timing.postDial),
            authMs: ms(timing.auth), hangup: hangup)
        if let media = call.media {
            if let m = media.metrics {
                record.mediaSecurity = media.security
                record.mediaStartMs = m.mediaStartSeconds.map { $0 * 1000 }
                // Outbound clipping: frames the business produced before it could encrypt them.
                record.clippedMs = Double(m.framesLostBeforeKeys) * 20
                record.clientHelloRetransmissions = media.security == "dtls" ? m.clientHelloRetransmissions : nil
                record.dtlsHandshakeMs = m.dtlsHandshakeSeconds.map { $0 * 1000 }
                record.iceMs = m.iceCheckSeconds.map { $0 * 1000 }
                statistics.recordMedia(security: media.security, startMs: record.mediaStartMs, clippedMs: record.clippedMs)
            }
            media.close()
        }
        record.end = outcome.end.rawValue
        if outcome.endedByFarEnd { record.teardown = "bye from meta" } else if let failure = outcome.byeLocalFailure {
            record.teardown = "bye \(failure)"
        } else if let bye = outcome.byeStatus { record.teardown = "bye \(bye)" }
        let succeeded = outcome.connected
        let teardownFailed = succeeded && ((outcome.byeStatus.map { $0 >= 300 } ?? false) || outcome.userHangUpMissing)
        let asExpected = account(record, succeeded: succeeded, teardownFailed: teardownFailed,
                                 times: EndedCall(intended: call.intended, setup: timing.setup, postDial: timing.postDial, auth: timing.auth,
                                                  answered: timing.answered, duration: timing.duration),
                                 extraResponses: outcome.inDialogResponses)
        if plan.traceMode == .all || (plan.traceMode == .failed && !(succeeded && asExpected)) {
            keepTrace(name: "\(call.index)", title: "call \(call.index) \(callID) to \(call.callee): \(outcome.status) \(reason)", trace: call.trace)
        }
        if plan.scenario.connections == .perAgent, call.destination.connectionTag != 0 {
            endpoint.closeConnection(to: call.destination)
        }
        afterCallEnded()
    }
}
