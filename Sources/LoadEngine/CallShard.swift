import Foundation
import MetaMock
import NIOCore
import SIPCore
import SIPTransport
import WasimMedia

/// The calls one event loop runs: it starts its share of the arrival schedule, drives each call's
/// `BusinessCallFlow` through the loop's `SIPEndpoint`, and measures. Loop-confined; no locks.
final class CallShard: SIPRequestHandler {
    struct Plan: Sendable {
        var shardIndex: Int
        var shardCount: Int
        var scenario: Scenario
        var traceMode: TraceMode
        /// Most trace files this shard writes (the rest are counted, not written).
        var traceLimit: Int
        var password: String
        var destination: SIPDestination
        var targetDomain: String
        var runStart: NIODeadline
        /// For `direction: uic`: the embedded mock that places the calls (on this shard's loop).
        var mock: MetaMockServer?
        /// The business's DTLS certificate, for calls with DTLS-SRTP media.
        var dtlsContext: DTLSContext?
        /// When each call is meant to start (shared by the shards; each takes every shardCount-th call).
        var schedule: ArrivalSchedule
    }

    /// A user-initiated call the mock is placing for this shard.
    struct UserCall {
        var index: Int
        var caller: String
        var intended: NIODeadline
        var actual: NIODeadline
        /// The business, not the user, is to hang up.
        var businessEnds: Bool
    }

    struct ActiveCall {
        var flow: BusinessCallFlow
        var destination: SIPDestination
        var index: Int
        var callee: String
        var intended: NIODeadline
        var actual: NIODeadline
        var hangUpTask: Scheduled<Void>?
        /// Branch of the INVITE transaction in flight (to CANCEL it).
        var inviteBranch: String?
        var trace = CallTrace()
        var media: BusinessMedia?
    }

    /// The shard's share of the run; `runStart` is set by `start(runStart:)`.
    private(set) var plan: Plan
    let endpoint: SIPEndpoint
    let promise: EventLoopPromise<ShardStatistics>
    var statistics = ShardStatistics()
    var calls: [String: ActiveCall] = [:]
    /// The next call index of this shard to start.
    var nextIndex: Int
    var active = 0
    let concurrencyCap: Int
    var random: FastRandom
    var wakeScheduled = false
    /// Set by `stop(grace:)`: no new calls start, calls in flight are ended.
    var stopping = false
    var finished = false
    /// wasim's business side for UIC runs without a target SBC.
    var uas: BusinessUserAgentServer?
    /// UIC calls in flight, by a local sequence number.
    var userCalls: [Int: UserCall] = [:]

    init(plan: Plan, endpoint: SIPEndpoint, promise: EventLoopPromise<ShardStatistics>) {
        self.plan = plan
        self.endpoint = endpoint
        self.promise = promise
        self.nextIndex = plan.shardIndex
        // The scenario's max_concurrent split exactly over the shards (the runner uses at most that many).
        let cap = plan.scenario.maxConcurrent
        self.concurrencyCap = cap / plan.shardCount + (plan.shardIndex < cap % plan.shardCount ? 1 : 0)
        self.random = FastRandom(seed: plan.scenario.seed &+ UInt64(plan.shardIndex) &* 0x9E37_79B9)
        if plan.traceMode != .none {
            endpoint.tracer = { [unowned self] event in
                guard let callID = event.message.headers[.callID], calls[String(callID)] != nil else { return }
                calls[String(callID)]!.trace.append(event, at: .now())
            }
        }
    }

    /// RFC-free arithmetic of the arrival schedule: when call `index` is meant to start.
    func intendedStart(_ index: Int) -> NIODeadline {
        plan.runStart + .nanoseconds(Int64(plan.schedule.offset(index) * 1e9))
    }

    /// Calls this run may start: the schedule's, fewer once the duration is over (closed model).
    var callLimit: Int { plan.schedule.count }

    /// The duration is over: no more calls start (closed model; open schedules end by themselves).
    var pastDuration: Bool {
        guard let duration = plan.scenario.duration else { return false }
        return NIODeadline.now() >= plan.runStart + .nanoseconds(Int64(duration * 1e9))
    }

    /// Starts the shard's calls on the schedule whose time zero is `runStart` (the same for every shard).
    func start(runStart: NIODeadline) {
        plan.runStart = runStart
        if nextIndex >= callLimit { complete(); return }
        scheduleLagProbe(expected: NIODeadline.now() + .milliseconds(100))
        scheduleNextArrival()
    }

    /// The second of the run `t` falls in.
    func second(_ t: NIODeadline) -> Int { Int((t - plan.runStart).nanoseconds / 1_000_000_000) }

    /// Every 100 ms: how late the loop ran this tick (event-loop lag: the generator's own health), and the
    /// calls up, for the time series.
    private func scheduleLagProbe(expected: NIODeadline) {
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: expected) { [self] in
            guard !finished else { return }
            let now = NIODeadline.now()
            let lag = max(0, (now - expected).nanoseconds / 1000)
            _ = statistics.loopLag.record(UInt64(max(1, lag)))
            let active = self.active
            // The send backlog: this shard's calls due by now that it has not started (a late loop or the
            // concurrency cap holds them back).
            let due = plan.schedule.callsDue(by: Double((now - plan.runStart).nanoseconds) / 1e9)
            let dueHere = due > plan.shardIndex ? (due - plan.shardIndex + plan.shardCount - 1) / plan.shardCount : 0
            let startedHere = max(0, nextIndex - plan.shardIndex) / plan.shardCount
            statistics.backlogMax = max(statistics.backlogMax, dueHere - startedHere)
            statistics.timeSeries.at(second(now)) {
                $0.loopLagMaxMs = max($0.loopLagMaxMs, Double(lag) / 1000)
                $0.activeMax = max($0.activeMax, active)
            }
            scheduleLagProbe(expected: now + .milliseconds(100))
        }
    }

    /// Ctrl-C: stop arrivals, hang up connected calls (BYE), cancel ringing ones (CANCEL), and after
    /// `grace` count whatever is still open as interrupted, so results are always written.
    func stop(grace: TimeAmount) {
        guard !stopping, !finished else { return }
        stopping = true
        let now = NIODeadline.now()
        for callID in Array(calls.keys) {
            guard var c = calls[callID] else { continue }
            var next: [BusinessCallFlow.Action]
            switch c.flow.state {
            case .connected:
                c.hangUpTask?.cancel()
                next = c.flow.hangUp(now: now)
            case .inviting:
                next = c.flow.cancelDue(now: now)
            default:
                next = []
            }
            calls[callID] = c
            perform(next, callID: callID)
        }
        if calls.isEmpty && userCalls.isEmpty { complete(); return }
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: grace) { [self] in
            for callID in Array(calls.keys) {
                finish(callID: callID, outcome: CallOutcome(status: 0, reason: "interrupted", byeStatus: nil, localFailure: true), hangup: "none")
            }
            // UIC calls are Meta's: they end with their hold time; those still up are counted as interrupted.
            for index in Array(userCalls.keys) {
                finishUserCall(index, report: nil)
            }
        }
    }

    private func complete() {
        guard !finished else { return }
        finished = true
        promise.succeed(statistics)
    }

    private func scheduleNextArrival() {
        guard nextIndex < callLimit, !wakeScheduled, !stopping else { return }
        wakeScheduled = true
        let at = plan.schedule.isClosed ? plan.runStart : intendedStart(nextIndex)
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: at) { [self] in
            wakeScheduled = false
            launchDue()
        }
    }

    /// Starts every call whose intended start has passed, as far as the concurrency cap allows.
    private func launchDue() {
        guard !stopping else { return }
        let now = NIODeadline.now()
        if plan.schedule.isClosed {
            // Closed model: keep the cap up; a call's intended start is when a slot freed.
            if pastDuration { nextIndex = max(nextIndex, callLimit) }
            while nextIndex < callLimit, active < concurrencyCap {
                launch(nextIndex, intended: now, now: now)
                nextIndex += plan.shardCount
            }
            if (nextIndex >= callLimit) && active == 0 { complete() }
            return
        }
        while nextIndex < callLimit, intendedStart(nextIndex) <= now, active < concurrencyCap {
            launch(nextIndex, intended: intendedStart(nextIndex), now: now)
            nextIndex += plan.shardCount
        }
        if active < concurrencyCap { scheduleNextArrival() }
    }

    private func launch(_ index: Int, intended: NIODeadline, now: NIODeadline) {
        let scenario = plan.scenario
        if now - intended > .milliseconds(10) { statistics.lateStarts += 1 }
        if scenario.isUserInitiated(index) {
            launchUserCall(index, intended: intended, now: now)
            return
        }
        let callID = endpoint.identifiers.callID(host: scenario.localHost)
        let identity0 = BusinessCallFlow.Identity(
            businessNumber: scenario.businessNumber, businessDomain: scenario.businessDomain,
            callee: scenario.callees.callee(index), targetDomain: plan.targetDomain,
            transport: scenario.transport.rawValue, contactHost: scenario.localHost, callID: callID,
            fromTag: endpoint.identifiers.tag(),
            digestUsername: String(scenario.businessNumber.dropFirst()), password: plan.password, method: scenario.method == .register ? .register : .invite)
        var destination = plan.destination
        if scenario.connections == .perAgent, destination.transport != .udp { destination.connectionTag = index + 1 }
        var cancelAfter: TimeAmount? = nil
        if let cancel = scenario.cancel, random.nextUnit() < cancel.share {
            cancelAfter = .nanoseconds(Int64(cancel.after * 1e9))
        }
        let reinvite = scenario.reinviteAfter.map { TimeAmount.nanoseconds(Int64($0 * 1e9)) }
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
            begin(BusinessCallFlow(identity: identity, hold: hold, cancelAfter: cancelAfter, reinviteAfter: reinvite),
                  destination: destination, index: index, intended: intended, media: nil)
            return
        }
        // Bind the media port first: the offer carries it.
        let media = BusinessMedia(security: security, host: scenario.localHost, context: context, probeSeconds: scenario.mediaProbeSeconds,
                                  eventLoop: endpoint.eventLoop, random: &random)
        media.dtlsRetransmit = scenario.dtlsRetransmitSeconds
        media.bind().assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
            var withMedia = identity
            if case .success = result { withMedia.sdpOffer = media.offer }
            begin(BusinessCallFlow(identity: withMedia, hold: hold, cancelAfter: cancelAfter, reinviteAfter: reinvite),
                  destination: destination, index: index, intended: intended, media: (try? result.get()) == nil ? nil : media)
        }
    }

    private func begin(_ flow: BusinessCallFlow, destination: SIPDestination, index: Int, intended: NIODeadline, media: BusinessMedia?) {
        var flow = flow
        let now = NIODeadline.now()
        let actions = flow.start(now: now)
        let callID = flow.identity.callID
        calls[callID] = ActiveCall(flow: flow, destination: destination, index: index, callee: flow.identity.callee,
                                   intended: intended, actual: now, media: media)
        perform(actions, callID: callID)
    }

    func holdTime() -> TimeAmount {
        switch plan.scenario.hold {
        case .fixed(let s): return .nanoseconds(Int64(s * 1e9))
        case .uniform(let a, let b): return .nanoseconds(Int64((a + (b - a) * random.nextUnit()) * 1e9))
        case .exponential(let mean): return .nanoseconds(Int64(min(10 * mean, -mean * Foundation.log(1 - random.nextUnit())) * 1e9))
        }
    }

    private func perform(_ actions: [BusinessCallFlow.Action], callID: String) {
        for action in actions {
            guard let call = calls[callID] else { return }
            switch action {
            case .sendInvite(let invite):
                endpoint.sendRequest(invite, to: call.destination, started: { [self] branch in
                    calls[callID]?.inviteBranch = branch
                }) { [self] event in
                    inviteEvent(event, callID: callID)
                }
            case .scheduleCancel(let after):
                endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: after) { [self] in
                    guard var c = calls[callID] else { return }
                    let next = c.flow.cancelDue(now: .now())
                    calls[callID] = c
                    perform(next, callID: callID)
                }
            case .sendCancel:
                if let branch = call.inviteBranch { endpoint.cancelInvite(branch: branch) }
            case .scheduleReinvite(let after):
                endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: after) { [self] in
                    guard var c = calls[callID] else { return }
                    let next = c.flow.reinviteDue(now: .now())
                    calls[callID] = c
                    perform(next, callID: callID)
                }
            case .sendReinvite(let reinvite):
                let sequence = (try? reinvite.cseq().sequence) ?? 0
                endpoint.sendRequest(reinvite, to: call.destination) { [self] event in
                    guard case .response(let r) = event, var c = calls[callID] else { return }
                    let next = c.flow.reinviteResponse(r, sequence: sequence, now: .now())
                    calls[callID] = c
                    perform(next, callID: callID)
                }
            case .sendAck(let ack):
                endpoint.flow(for: call.destination) { [self] flow, _ in
                    if let flow { endpoint.sendAck(ack, on: flow) }
                }
            case .scheduleHangUp(let after):
                let task = endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: after) { [self] in
                    guard var c = calls[callID] else { return }
                    let next = c.flow.hangUp(now: .now())
                    c.hangUpTask = nil
                    calls[callID] = c
                    perform(next, callID: callID)
                }
                calls[callID]?.hangUpTask = task
            case .sendBye(let bye):
                endpoint.sendRequest(bye, to: call.destination) { [self] event in
                    guard var c = calls[callID] else { return }
                    let next: [BusinessCallFlow.Action]
                    switch event {
                    case .response(let r): next = c.flow.byeResponse(r, now: .now())
                    case .timeout: next = c.flow.failed("BYE timed out", timeout: true, now: .now())
                    case .transportError(let why): next = c.flow.failed(why, timeout: false, now: .now())
                    }
                    calls[callID] = c
                    perform(next, callID: callID)
                }
            case .finished(let outcome):
                finish(callID: callID, outcome: outcome, hangup: call.flow.timing.byeSent != nil ? "business" : "none")
            }
        }
    }

    private func inviteEvent(_ event: ClientTransactionEvent, callID: String) {
        guard var c = calls[callID] else { return }
        let now = NIODeadline.now()
        let next: [BusinessCallFlow.Action]
        if case .response(let r) = event, r.isSuccess, let media = c.media, !media.started {
            let sdp = r.body.getString(at: r.body.readerIndex, length: r.body.readableBytes) ?? ""
            if let problem = media.answered(sdp) { c.trace.note("media: \(problem)") }
        }
        switch event {
        case .response(let r) where c.flow.identity.method == .register: next = c.flow.registerResponse(r, now: now)
        case .response(let r): next = c.flow.inviteResponse(r, now: now)
        case .timeout: next = c.flow.failed("Timer B: no final response", timeout: true, now: now)
        case .transportError(let why): next = c.flow.failed(why, timeout: false, now: now)
        }
        calls[callID] = c
        perform(next, callID: callID)
    }

    private func finish(callID: String, outcome: CallOutcome, hangup: String) {
        guard let call = calls.removeValue(forKey: callID) else { return }
        let hangup = outcome.endedByFarEnd ? "meta" : hangup
        call.hangUpTask?.cancel()
        active -= 1
        let timing = call.flow.timing
        func ms(_ t: TimeAmount?) -> Double? { t.map { Double($0.nanoseconds) / 1e6 } }
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
        let succeeded = outcome.connected && (outcome.byeStatus.map { $0 < 300 } ?? true) && !outcome.userHangUpMissing
        let asExpected = account(record, succeeded: succeeded,
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

    /// Keeps a call's ladder for `traces/`, within the shard's bound (the rest are counted).
    func keepTrace(name: String, title: String, trace: CallTrace) {
        if statistics.traces.count < plan.traceLimit {
            statistics.traces.append((name: name, text: trace.render(title: title)))
        } else {
            statistics.tracesNotWritten += 1
        }
    }

    func afterCallEnded() {
        if (nextIndex >= callLimit || stopping) && active == 0 {
            complete()
        } else {
            launchDue()
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, didReceiveCancel request: SIPRequest, invite: ServerTransactionID?, flow: SIPFlow) {
        if let invite { uas?.cancelled(invite) }
    }

    // MARK: SIPRequestHandler (requests from the far end: Meta's BYE)

    func endpoint(_ endpoint: SIPEndpoint, didReceive request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow) {
        let callID = String(request.callID ?? "")
        if request.method == .bye, var call = calls[callID] {
            endpoint.respond(SIPResponse(to: request, status: 200), to: transaction)
            call.hangUpTask?.cancel()
            let next = call.flow.byeReceived(now: .now())
            calls[callID] = call
            perform(next, callID: callID)
            return
        }
        if let uas {
            uas.receive(request, transaction: transaction, flow: flow)
            return
        }
        let status = request.method == .bye ? 481 : (request.method == .options ? 200 : 405)
        endpoint.respond(SIPResponse(to: request, status: status, toTag: endpoint.identifiers.tag()), to: transaction)
    }
}
