import Foundation
import MetaMock
import NIOCore
import SIPCore
import SIPTransport
import WasimMedia
import WasimResults

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
        /// When each call is meant to start (shared by the shards; each takes every shardCount-th call of
        /// this process's, numbered by `numbering`).
        var schedule: ArrivalSchedule
        /// This process's calls among the run's (all of them without `--shard`).
        var numbering: CallNumbering
        /// calls.csv, written as calls end.
        var callsCSV: ResultsStream?
        /// Further targets, in failover order after `destination`.
        var alternates: [SIPDestination] = []
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

    /// A business-initiated call's slot in `calls` and its index in the schedule: callbacks hold it, and
    /// ignore a slot that has since been given to another call.
    struct CallRef: Hashable {
        var slot: Int
        var index: Int
    }

    /// A business-initiated call in flight, in its slot of `calls`: a reference, so the slot table holds a
    /// pointer per slot and a call costs what it uses (a struct inline in the table would cost its whole
    /// size in every slot, and the table's growth slack on top).
    final class ActiveCall {
        var flow: BusinessCallFlow
        /// Where its requests go: the target it started on, or the one it failed over to.
        var destination: SIPDestination
        /// Its target's place in the shard's `targets` (0: the first).
        var targetIndex = 0
        let index: Int
        let callID: String
        let callee: String
        let intended: NIODeadline
        let actual: NIODeadline
        /// When the business hangs up (its slot in the shard's `hangUps`); nil once done or not planned.
        var hangUpAt: NIODeadline?
        /// When the ring timeout (or the wait after its CANCEL) ends (its slot in `ringTimeouts`).
        var ringTimeoutAt: NIODeadline?
        /// Branch of the INVITE transaction in flight (to CANCEL it).
        var inviteBranch: String?
        var trace = CallTrace()
        let media: BusinessMedia?
        /// Its current INVITE has had no response yet (counted in the shard's `inFlight`).
        var awaitingResponse = false

        init(flow: BusinessCallFlow, destination: SIPDestination, index: Int, callID: String, callee: String,
             intended: NIODeadline, actual: NIODeadline, media: BusinessMedia?)
        {
            self.flow = flow
            self.destination = destination
            self.index = index
            self.callID = callID
            self.callee = callee
            self.intended = intended
            self.actual = actual
            self.media = media
        }
    }

    /// The shard's share of the run; `runStart` is set by `start(runStart:)`.
    private(set) var plan: Plan
    let endpoint: SIPEndpoint
    let promise: EventLoopPromise<ShardStatistics>
    var statistics = ShardStatistics()
    /// Business-initiated calls in flight, by slot.
    var calls = SlotTable<ActiveCall>()
    /// Their slots by Call-ID, for requests from the far end (Meta's BYE) and traces.
    var callSlots: [String: Int] = [:]
    /// The next call of this shard to start, counted among the process's calls (`plan.numbering`).
    var nextOrdinal: Int
    /// Its index in the run (what its callee, choices and intended start follow).
    var nextIndex: Int { plan.numbering.index(nextOrdinal) }
    var active = 0
    let concurrencyCap: Int
    /// This shard's share of `load.max_in_flight`, and its calls whose INVITE has had no response yet.
    let inFlightCap: Int
    var inFlight = 0
    /// The in-flight limit in force: the cap, lowered while this loop is saturated (halved to what is in
    /// flight on each busy tick, raised by a quarter on each calm one), so an overloaded generator sheds
    /// starts and keeps serving the calls it has, instead of dropping their messages in full socket queues.
    var admitLimit: Double
    /// Consecutive busy ticks: the limit comes down only when the loop stays busy (300 ms), not for one burst.
    var busyStreak = 0
    /// This loop's thread CPU at the last 100 ms tick (to know how busy the loop was).
    var lastTickCPU: UInt64 = 0
    var random: FastRandom
    var wakeScheduled = false
    /// Set by `stop(grace:)`: no new calls start, calls in flight are ended.
    var stopping = false
    var finished = false
    /// The drain deadline is set (once the last call has started).
    var drainScheduled = false
    /// wasim's business side for UIC runs without a target SBC.
    var uas: BusinessUserAgentServer?
    /// UIC calls in flight, by a local sequence number.
    var userCalls: [Int: UserCall] = [:]
    /// calls.csv rows of ended calls not yet handed to the writer.
    var rows: [UInt8] = []
    /// When connected calls hang up, in 10 ms slots.
    var hangUps = CallTimers()
    /// When unanswered calls reach their ring timeout, in slots too (one task per slot, not per call).
    var ringTimeouts = CallTimers()
    /// Until when each target (in failover order) is considered down after a call failed over from it: new
    /// calls start on the first target that is not.
    var targetDownUntil: [NIODeadline] = []
    /// The media legs' timers of this loop's calls.
    lazy var mediaScheduler = MediaScheduler(eventLoop: endpoint.eventLoop)

    init(plan: Plan, endpoint: SIPEndpoint, promise: EventLoopPromise<ShardStatistics>) {
        self.plan = plan
        self.endpoint = endpoint
        self.promise = promise
        self.nextOrdinal = plan.shardIndex
        // The scenario's max_concurrent split exactly over the shards (the runner uses at most that many).
        let cap = plan.scenario.maxConcurrent
        self.concurrencyCap = cap / plan.shardCount + (plan.shardIndex < cap % plan.shardCount ? 1 : 0)
        let flight = plan.scenario.maxInFlight
        self.inFlightCap = max(1, flight / plan.shardCount + (plan.shardIndex < flight % plan.shardCount ? 1 : 0))
        self.admitLimit = Double(inFlightCap)
        self.random = FastRandom(seed: plan.scenario.seed &+ UInt64(plan.shardIndex) &* 0x9E37_79B9)
        if plan.traceMode != .none {
            endpoint.tracer = { [unowned self] event in
                guard let callID = event.message.headers[.callID], let slot = callSlots[String(callID)] else { return }
                calls[slot]?.trace.append(event, at: .now())
            }
        }
    }

    /// The in-flight limit never goes below this while the loop is saturated.
    static let minimumAdmitLimit = 20.0

    /// RFC-free arithmetic of the arrival schedule: when call `index` is meant to start.
    func intendedStart(_ index: Int) -> NIODeadline {
        plan.runStart + .nanoseconds(Int64(plan.schedule.offset(index) * 1e9))
    }

    /// Calls this process may start: its share of the schedule's (`plan.numbering`).
    var callLimit: Int { plan.numbering.count }

    /// The duration is over: no more calls start (closed model; open schedules end by themselves).
    var pastDuration: Bool {
        guard let duration = plan.scenario.duration else { return false }
        return NIODeadline.now() >= plan.runStart + .nanoseconds(Int64(duration * 1e9))
    }

    /// Starts the shard's calls on the schedule whose time zero is `runStart` (the same for every shard).
    func start(runStart: NIODeadline) {
        plan.runStart = runStart
        if nextOrdinal >= callLimit { complete(); return }
        lastTickCPU = ThreadCPU.nanoseconds()
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
            // How busy the loop was since the last tick: its thread's CPU over the wall time. A loop that
            // works through a full socket queue keeps its ticks on time (NIO interleaves tasks with I/O), so
            // this, not the lag alone, shows a loop that is the bottleneck.
            let cpu = ThreadCPU.nanoseconds()
            let wall = max(1, Double((now - (expected - .milliseconds(100))).nanoseconds))
            let busy = min(1, Double(cpu &- lastTickCPU) / wall)
            lastTickCPU = cpu
            statistics.ticks += 1
            if busy >= ShardStatistics.busyTick {
                statistics.busyTicks += 1
                busyStreak += 1
                if busyStreak >= 3, plan.scenario.shedWhenSaturated {
                    admitLimit = max(CallShard.minimumAdmitLimit, min(admitLimit, Double(inFlight) * 0.5))
                }
            } else {
                busyStreak = 0
                admitLimit = min(Double(inFlightCap), admitLimit * 1.25 + 10)
            }
            let active = self.active
            // The send backlog: this shard's calls due by now that it has not started (a late loop or the
            // concurrency cap holds them back).
            let due = plan.numbering.count(below: plan.schedule.callsDue(by: Double((now - plan.runStart).nanoseconds) / 1e9))
            let dueHere = due > plan.shardIndex ? (due - plan.shardIndex + plan.shardCount - 1) / plan.shardCount : 0
            let startedHere = max(0, nextOrdinal - plan.shardIndex) / plan.shardCount
            statistics.backlogMax = max(statistics.backlogMax, dueHere - startedHere)
            statistics.samples.record(tick: Int((now - plan.runStart).nanoseconds / 100_000_000), active: active, backlog: dueHere - startedHere)
            statistics.timeSeries.at(second(now)) {
                $0.loopLagMaxMs = max($0.loopLagMaxMs, Double(lag) / 1000)
                $0.loopBusyMax = max($0.loopBusyMax, busy)
                $0.activeMax = max($0.activeMax, active)
            }
            flushRows()
            scheduleLagProbe(expected: now + .milliseconds(100))
        }
    }

    /// Ctrl-C: stop arrivals, hang up connected calls (BYE), cancel ringing ones (CANCEL), and after
    /// `grace` count whatever is still open as interrupted, so results are always written.
    func stop(grace: TimeAmount) {
        guard !stopping, !finished else { return }
        stopping = true
        let now = NIODeadline.now()
        for slot in calls.occupied {
            guard let call = calls[slot] else { continue }
            let ref = CallRef(slot: slot, index: call.index)
            switch call.flow.state {
            case .connected:
                call.hangUpAt = nil
                step(ref) { $0.hangUp(now: now) }
            case .inviting:
                step(ref) { $0.cancelDue(now: now) }
            default:
                break
            }
        }
        if calls.isEmpty && userCalls.isEmpty { complete(); return }
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: grace) { [self] in
            for slot in calls.occupied {
                guard let index = calls[slot]?.index else { continue }
                var outcome = CallOutcome(status: 0, reason: "interrupted", byeStatus: nil, localFailure: true)
                outcome.end = .interrupted
                finish(CallRef(slot: slot, index: index), outcome: outcome, hangup: "none")
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
        flushRows()
        promise.succeed(statistics)
    }

    private func scheduleNextArrival() {
        guard nextOrdinal < callLimit, !wakeScheduled, !stopping else { return }
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
            if pastDuration { nextOrdinal = max(nextOrdinal, callLimit) }
            while nextOrdinal < callLimit, active < concurrencyCap {
                launch(nextIndex, intended: now, now: now)
                nextOrdinal += plan.shardCount
            }
            if (nextOrdinal >= callLimit) && active == 0 { complete() }
            if nextOrdinal >= callLimit { scheduleDrainDeadline() }
            return
        }
        while nextOrdinal < callLimit, intendedStart(nextIndex) <= now, active < concurrencyCap {
            let intended = intendedStart(nextIndex)
            if let late = plan.scenario.shedLate, now - intended > .nanoseconds(Int64(late * 1e9)) {
                shed(nextIndex, intended: intended, now: now, reason: .late)
            } else if Double(inFlight) >= admitLimit, !plan.scenario.isUserInitiated(nextIndex) {
                shed(nextIndex, intended: intended, now: now, reason: admitLimit < Double(inFlightCap) ? .overload : .inFlight)
            } else {
                launch(nextIndex, intended: intended, now: now)
            }
            nextOrdinal += plan.shardCount
        }
        if active < concurrencyCap { scheduleNextArrival() }
        if nextOrdinal >= callLimit { scheduleDrainDeadline() }
    }

    /// The longest a call may take after its start: ringing up to the ring timeout, then its hold.
    var longestCall: Double {
        let hold: Double
        switch plan.scenario.hold {
        case .fixed(let s): hold = s
        case .uniform(_, let b): hold = b
        case .exponential(let mean): hold = 10 * mean
        }
        return (plan.scenario.ringTimeout ?? 0) + hold
    }

    /// Once the last call has started: the calls still up when `load.drain` runs out are ended as on Ctrl-C
    /// (hung up or CANCELled, then `interrupted` after 5 s), so a target that never ends a call cannot
    /// hold the run open.
    private func scheduleDrainDeadline() {
        guard !drainScheduled, let drain = plan.scenario.drain, !finished else { return }
        drainScheduled = true
        endpoint.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(Int64((longestCall + drain) * 1e9))) { [self] in
            guard !finished, !stopping else { return }
            statistics.drained = active
            stop(grace: .seconds(5))
        }
    }

    /// Starts call `index`: a UIC (the mock places it) or a BIC (`launchBusinessCall`).
    private func launch(_ index: Int, intended: NIODeadline, now: NIODeadline) {
        if now - intended > .milliseconds(10) { statistics.lateStarts += 1 }
        if plan.scenario.isUserInitiated(index) {
            launchUserCall(index, intended: intended, now: now)
        } else {
            launchBusinessCall(index, intended: intended, now: now)
        }
    }

    func holdTime() -> TimeAmount {
        switch plan.scenario.hold {
        case .fixed(let s): return .nanoseconds(Int64(s * 1e9))
        case .uniform(let a, let b): return .nanoseconds(Int64((a + (b - a) * random.nextUnit()) * 1e9))
        case .exponential(let mean): return .nanoseconds(Int64(min(10 * mean, -mean * Foundation.log(1 - random.nextUnit())) * 1e9))
        }
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
        if (nextOrdinal >= callLimit || stopping) && active == 0 {
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
        if request.method == .bye, let callID = request.callID, let slot = callSlots[String(callID)], let call = calls[slot] {
            endpoint.respond(SIPResponse(to: request, status: 200), to: transaction)
            call.hangUpAt = nil
            step(CallRef(slot: slot, index: call.index)) { $0.byeReceived(now: .now()) }
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
