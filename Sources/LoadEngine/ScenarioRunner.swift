import Foundation
import MetaMock
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SIPCore
import SIPTransaction
import SIPTransport
import WasimCerts
import WasimMedia
import WasimResults

/// Options given on the command line, over the scenario file.
public struct RunOptions: Sendable {
    /// Overrides the scenario's target (`sip:127.0.0.1:5061;transport=tls`).
    public var target: SIPURI?
    public var resultsRoot: String
    public var certsDirectory: String
    /// Called about once a second with a progress line.
    public var progress: (@Sendable (String) -> Void)?
    /// Lets another task interrupt the run (Ctrl-C).
    public var control: RunControl
    /// Which calls get a ladder in `traces/` (default: the failed ones).
    public var traceMode: TraceMode = .failed
    /// Most trace files per run; the rest are counted in the summary.
    public var traceLimit = 200
    /// The local address to send from and write in Via/Contact (`--bind`), over `transport.local_host` and
    /// the address that routes to the target.
    public var bind: String?
    /// SIP timers of the generator's transactions (T1, T2, T4); tests shorten them so that Timer B and F
    /// fire in seconds.
    public var timers: SIPTimers = .rfc3261
    /// Where the runs' measurements are read from while they go (`--metrics`); nil: nobody reads them.
    public var metrics: LiveRunStatistics?
    /// This process's part of a run split over several (`--shard I/N`); nil: the whole run.
    public var shard: RunShard?

    public init(target: SIPURI? = nil, resultsRoot: String = "Results", certsDirectory: String = "Certs",
                control: RunControl = RunControl(), progress: (@Sendable (String) -> Void)? = nil)
    {
        self.target = target
        self.resultsRoot = resultsRoot
        self.certsDirectory = certsDirectory
        self.control = control
        self.progress = progress
    }
}

/// Interrupts a running scenario from outside (a signal handler): arrivals stop, calls in flight are ended
/// within the grace period, and the results are still written, with `"interrupted": true`.
public final class RunControl: Sendable {
    let shards = NIOLockedValueBox<[NIOLoopBound<CallShard>]>([])
    private let state = NIOLockedValueBox<(interrupted: Bool, grace: TimeAmount)>((false, .seconds(5)))

    public init() {}

    public var isInterrupted: Bool { state.withLockedValue { $0.interrupted } }

    /// Stops the run. Safe to call from any thread, before or during the run, more than once.
    public func interrupt(grace: TimeAmount = .seconds(5)) {
        let first = state.withLockedValue { s -> Bool in
            defer { s = (true, grace) }
            return !s.interrupted
        }
        guard first else { return }
        for shard in shards.withLockedValue({ $0 }) {
            shard.eventLoop.execute { shard.value.stop(grace: grace) }
        }
    }

    /// Calls started so far, summed over the shards (for progress and tests).
    public func callsStarted() async -> Int {
        var total = 0
        for shard in shards.withLockedValue({ $0 }) {
            total += (try? await shard.eventLoop.submit { shard.value.statistics.attempted }.get()) ?? 0
        }
        return total
    }

    /// A shard joins after an interrupt: it stops at once.
    func register(_ shard: NIOLoopBound<CallShard>) {
        shards.withLockedValue { $0.append(shard) }
        let (interrupted, grace) = state.withLockedValue { $0 }
        if interrupted { shard.eventLoop.execute { shard.value.stop(grace: grace) } }
    }
}

/// What a run produced.
public struct RunResult: Sendable {
    public var summary: RunSummary
    public var directory: String
    /// The embedded mock's ledger file (`mock-ledger.jsonl`), when the run had one.
    public var mockLedgerPath: String?

    /// The embedded mock's ledger, read from its file (nil without an embedded mock).
    public func mockLedger() throws -> [MockCallRecord]? {
        try mockLedgerPath.map { try MockCallLedger.read(path: $0) }
    }
}

/// Runs a scenario: starts the embedded mock when the scenario has no target, spreads the calls over every
/// event loop (one `CallShard` each), waits for them, and writes the results.
public struct ScenarioRunner {
    public let scenario: Scenario
    public let options: RunOptions

    public init(scenario: Scenario, options: RunOptions) {
        var scenario = scenario
        scenario.localHost = Self.localHost(scenario: scenario, options: options)
        self.scenario = scenario
        self.options = options
    }

    /// Where wasim's user agents send from and what Via and Contact say: `--bind`, else
    /// `transport.local_host`, else (with a target) the address the kernel routes to it from, as SIPp's `-i`
    /// defaults; against the embedded mock, loopback.
    /// The command line's changes, as the run header prints them and summary.json keeps them.
    public var commandLine: [String] {
        // A flag like --rate sets several fields (the rate, and constant arrivals): it is named once.
        var lines: [String] = []
        for o in scenario.overrides {
            if o.flag == "--set" { lines.append("--set \(o)") } else if !lines.contains(where: { $0.hasPrefix(o.flag + " ") }) {
                lines.append("\(o.flag) \(scenario.overrides.last { $0.flag == o.flag }!.value)")
            }
        }
        if let target = options.target { lines.append("--target \(target)") }
        if let bind = options.bind { lines.append("--bind \(bind)") }
        return lines
    }

    static func localHost(scenario: Scenario, options: RunOptions) -> String {
        if let bind = options.bind { return bind }
        if scenario.localHostGiven { return scenario.localHost }
        let target = options.target ?? { if case .uri(let u) = scenario.target { return u } else { return nil } }()
        guard let target else { return scenario.localHost }
        return RoutedLocalAddress.towards(target.host, port: target.port ?? 5060) ?? scenario.localHost
    }

    public func run() async throws -> RunResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var mock: MetaMockServer?
        do {
            let result = try await run(group: group, mockOut: &mock)
            // The shards' loops go with the group: a control used again (the next level of `wasim
            // capacity`) must not reach them.
            options.control.shards.withLockedValue { $0.removeAll() }
            await mock?.stop()
            try await group.shutdownGracefully()
            return result
        } catch {
            options.control.shards.withLockedValue { $0.removeAll() }
            options.metrics?.abandon()
            await mock?.stop()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(group: MultiThreadedEventLoopGroup, mockOut: inout MetaMockServer?) async throws -> RunResult {
        let startedAt = Date()
        let cpuStart = ProcessCPU.seconds()
        let password = try resolvePassword()
        // The run's folder exists from the start: calls.csv and the mock's ledger are written as calls end.
        let writer = try ResultsWriter(root: options.resultsRoot, scenario: scenario.name, startedAt: startedAt, shard: options.shard)
        let prepared = try await prepareTarget(group: group, password: password, mockOut: &mockOut)
        let ledgerPath = mockOut == nil ? nil : (writer.directory as NSString).appendingPathComponent("mock-ledger.jsonl")
        if let mock = mockOut, let ledgerPath { try await mock.writeLedger(to: ledgerPath) }
        let stack = prepared.stack, destination = prepared.destination, transport = prepared.transport
        let targetDescription = prepared.description
        let shardsBox = options.control.shards
        let uicMock = scenario.hasUIC ? mockOut : nil
        var secret = [UInt8](repeating: 0, count: 32)
        for i in secret.indices { secret[i] = UInt8.random(in: 0...255) }
        let uasSecret = secret
        let uasConfiguration = prepared.uasSettings
        // The business's DTLS certificate for media (self-signed; bound to calls by its SDP fingerprint).
        var dtlsContext: DTLSContext? = nil
        if scenario.bicMedia {
            let certificate = try SelfSignedCertificate(commonName: scenario.businessDomain)
            dtlsContext = try DTLSContext(certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
        }
        let businessDTLS = dtlsContext

        let callsCSV = try ResultsStream(path: (writer.directory as NSString).appendingPathComponent("calls.csv"), header: CallsCSV.header)
        defer { callsCSV.close() }

        // One shard per event loop, but never more shards than calls may be up at once.
        let schedule = ArrivalSchedule(scenario.arrivals, totalCalls: scenario.totalCalls, duration: scenario.duration, seed: scenario.seed)
        if let shard = options.shard, shard.count > scenario.callees.count {
            throw ScenarioError(file: scenario.file, path: "callees",
                                message: "--shard \(shard): each shard calls its own callees, and the list has \(scenario.callees.count); split it in at most \(scenario.callees.count) shards")
        }
        let numbering = CallNumbering(shard: options.shard, callees: scenario.callees.count, total: schedule.count)
        let scheduled = numbering.count
        // A process shard keeps its share of the caps on calls up and in flight.
        var scenario = scenario
        if let shard = options.shard {
            scenario.maxConcurrent = max(1, scenario.maxConcurrent / shard.count + (shard.index < scenario.maxConcurrent % shard.count ? 1 : 0))
            scenario.maxInFlight = max(1, scenario.maxInFlight / shard.count + (shard.index < scenario.maxInFlight % shard.count ? 1 : 0))
        }
        let loops = Array(stack.eventLoops.prefix(max(1, min(scenario.maxConcurrent, scheduled))))
        var futures: [EventLoopFuture<ShardStatistics>] = []
        // Every loop's endpoint gets its handler before any call starts: a shard (with wasim's business UAS
        // for UIC), or the UAS alone on a loop without a shard, since Meta's connections may land on any loop.
        var shards: [NIOLoopBound<CallShard>] = []
        // Endpoints hold their handler weakly: the UAS-only handlers are kept here until the run ends.
        var standaloneServers: [NIOLoopBound<BusinessUserAgentServer>] = []
        for (i, loop) in stack.eventLoops.enumerated() {
            let bound = stack.endpoint(on: loop)
            guard i < loops.count else {
                if let uasConfiguration {
                    standaloneServers.append(try await loop.submit {
                        let endpoint = bound.value
                        let server = BusinessUserAgentServer(settings: uasConfiguration, endpoint: endpoint, secret: uasSecret, shard: i)
                        endpoint.handler = server
                        return NIOLoopBound(server, eventLoop: loop)
                    }.get())
                }
                continue
            }
            let plan = CallShard.Plan(shardIndex: i, shardCount: loops.count, scenario: scenario, traceMode: options.traceMode,
                                      traceLimit: max(1, options.traceLimit / loops.count), password: password,
                                      destination: i < prepared.destinationByLoop.count ? prepared.destinationByLoop[i] : destination, targetDomain: scenario.serverName, runStart: .now(), mock: uicMock, dtlsContext: businessDTLS,
                                      schedule: schedule, numbering: numbering, callsCSV: callsCSV, alternates: prepared.alternates)
            let made = try await loop.submit {
                let endpoint = bound.value
                let promise = loop.makePromise(of: ShardStatistics.self)
                let shard = CallShard(plan: plan, endpoint: endpoint, promise: promise)
                if let uasConfiguration { shard.uas = BusinessUserAgentServer(settings: uasConfiguration, endpoint: endpoint, secret: uasSecret, shard: i) }
                endpoint.handler = shard
                return (promise.futureResult, NIOLoopBound(shard, eventLoop: loop))
            }.get()
            futures.append(made.0)
            shards.append(made.1)
        }
        // The schedule's time zero: shortly after every shard is ready.
        let udpPorts = stack.udpPorts.union(mockOut?.stack.udpPorts ?? [])
        let dropsBefore = UDPReceiveDrops.count(localPorts: udpPorts)
        let runStart = NIODeadline.now() + .milliseconds(20)
        for shard in shards {
            shard.eventLoop.execute { shard.value.start(runStart: runStart) }
            options.control.register(shard)
        }
        options.metrics?.begin(shards: shards, stack: stack, mock: mockOut)
        let targets = ([prepared.destination] + prepared.alternates).map(\.description)
        try RunRecord.write(scenario, startedAt: startedAt, target: targetDescription, transport: transport, scheduledCalls: scheduled,
                            embeddedMock: mockOut != nil, commandLine: commandLine, targets: targets, shard: options.shard,
                            scheduleShare: schedule.count > 0 ? Double(scheduled) / Double(schedule.count) : 1, to: writer)
        let progressTask = startProgress(shards: shardsBox, total: scheduled)
        let seriesTask = Self.streamTimeSeries(shards: shards, writer: writer, runStart: runStart)
        var statistics = ShardStatistics()
        for future in futures { statistics.merge(try await future.get()) }
        progressTask?.cancel()
        seriesTask.cancel()
        // The seconds taken while the run went, and those the shards still held when they finished.
        var series = await seriesTask.value
        series.merge(statistics.timeSeries)
        statistics.timeSeries = series
        withExtendedLifetime(standaloneServers) {}
        let endedAt = Date()
        var transportStats = try await stack.statistics()
        let dropsAfter = UDPReceiveDrops.count(localPorts: udpPorts)
        if let mock = mockOut { transportStats.add(try await mock.stack.statistics()) }
        let lastError = try await stack.onEveryEndpoint { $0.lastTransportError }.compactMap { $0 }.last
        for durations in try await stack.onEveryEndpoint({ $0.connectDurationsMicros }) {
            for d in durations { _ = statistics.tlsHandshake.record(max(1, d)) }
        }
        if let metrics = options.metrics { metrics.end(statistics, transport: transportStats, mock: await mockOut?.metricsSnapshot()) }
        await stack.shutdown()

        let facts = RunFacts(startedAt: startedAt, endedAt: endedAt, interrupted: options.control.isInterrupted, target: targetDescription,
                             transport: transport, scheduledCalls: scheduled, cpuSeconds: ProcessCPU.seconds() - cpuStart,
                             retransmissions: transportStats.retransmissionsSent, transportErrors: transportStats.transportErrors,
                             lastTransportError: lastError, messagesSent: transportStats.messagesSent, messagesReceived: transportStats.messagesReceived,
                             udpReceiveDrops: max(0, dropsAfter - dropsBefore), embeddedMock: mockOut != nil,
                             overrides: commandLine, targets: targets,
                             scheduleShare: schedule.count > 0 ? Double(scheduled) / Double(schedule.count) : 1, shard: options.shard)
        let summary = RunSummary.build(scenario: scenario, statistics: statistics, facts: facts)

        callsCSV.close()
        if let error = callsCSV.error { throw ResultsError.cannotWrite(error) }
        try writer.writeSummary(summary)
        try RunArchive(statistics: statistics, facts: facts).write(to: writer)
        try writer.write("timeseries.csv", text: statistics.timeSeries.csv)
        try writer.write("report.html", text: HTMLReport.render(summary: summary, timeSeries: statistics.timeSeries, clipping: statistics.clippingBuckets))
        for trace in statistics.traces { try writer.write("traces/call-\(trace.name).txt", text: trace.text) }
        await mockOut?.closeLedger()
        return RunResult(summary: summary, directory: writer.directory, mockLedgerPath: ledgerPath)
    }

    /// The embedded mock's configuration: the scenario's `mock:` file, or the default.
    func mockConfiguration() throws -> MockConfiguration {
        guard let file = scenario.mockConfigFile else { return .default }
        return try MockConfigLoader.load(path: file)
    }

    func resolvePassword() throws -> String {
        switch scenario.password {
        case .literal(let s): return s
        case .fromMock:
            guard let business = try mockConfiguration().business(number: scenario.businessNumber) else {
                throw ScenarioError(file: scenario.file, path: "business.password",
                                    message: "{ from: mock }: the mock has no business \(scenario.businessNumber)")
            }
            return business.sipPassword
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ScenarioError(file: scenario.file, path: "business.password", message: "environment variable \(name) is not set")
            }
            return value
        case .file(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ScenarioError(file: scenario.file, path: "business.password", message: "cannot read password file \(path)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Every second, the seconds that are over (before the last two) are taken from every shard and kept
    /// here merged, their lines computed once; timeseries.csv is written with them and the shards' seconds
    /// in progress (atomically: a killed run leaves the last whole file). A shard that has finished keeps
    /// its seconds (they went with its statistics). The task's value is the seconds it took.
    private static func streamTimeSeries(shards: [NIOLoopBound<CallShard>], writer: ResultsWriter, runStart: NIODeadline) -> Task<TimeSeries, Never> {
        Task {
            var taken = TimeSeries()
            var takenRows: [String] = []
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                if Task.isCancelled { break }
                let over = Int((NIODeadline.now() - runStart).nanoseconds / 1_000_000_000) - 2
                var current = TimeSeries()
                for shard in shards {
                    guard let (old, rest) = try? await shard.eventLoop.submit({ () -> (TimeSeries, TimeSeries) in
                        let s = shard.value
                        guard !s.finished else { return (TimeSeries(), TimeSeries()) }
                        return (s.statistics.timeSeries.takeSeconds(before: over), s.statistics.timeSeries)
                    }).get() else { continue }
                    taken.merge(old)
                    current.merge(rest)
                    // Setups of calls answered in seconds whose lines were written: those lines again.
                    for second in old.lateSeconds where second < takenRows.count {
                        takenRows[second] = TimeSeries.row(second, taken.seconds[second])
                    }
                }
                while takenRows.count < taken.seconds.count {
                    takenRows.append(TimeSeries.row(takenRows.count, taken.seconds[takenRows.count]))
                }
                let open = current
                if Task.isCancelled { break }
                let tail = open.seconds.enumerated().filter { open.firstSecond + $0.offset >= taken.count }
                    .map { TimeSeries.row(open.firstSecond + $0.offset, $0.element) }.joined()
                try? writer.write("timeseries.csv", text: TimeSeries.csvHeader + "\n" + takenRows.joined() + tail)
            }
            return taken
        }
    }

    /// About once a second: elapsed, started/total, calls up, calls that ended well and badly, the start
    /// rate of the last second and the p99 setup latency so far (the worst shard's).
    private func startProgress(shards: NIOLockedValueBox<[NIOLoopBound<CallShard>]>, total: Int) -> Task<Void, Never>? {
        guard let progress = options.progress else { return nil }
        return Task {
            let start = Date()
            var lastStarted = 0
            var lastTime = start
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                if Task.isCancelled { break }
                var started = 0, active = 0, connected = 0, failed = 0, unexpected = 0
                var p99 = 0.0
                for shard in shards.withLockedValue({ $0 }) {
                    let s = try? await shard.eventLoop.submit { () -> (Int, Int, Int, Int, Int, Double) in
                        let st = shard.value.statistics
                        let p = st.setup.totalCount > 0 ? Double(st.setup.valueAtPercentile(99)) / 1000 : 0
                        return (st.attempted, shard.value.active, st.connected, st.failed, st.unexpected, p)
                    }.get()
                    if let s { started += s.0; active += s.1; connected += s.2; failed += s.3; unexpected += s.4; p99 = max(p99, s.5) }
                }
                let now = Date()
                let rate = Double(started - lastStarted) / max(0.001, now.timeIntervalSince(lastTime))
                lastStarted = started
                lastTime = now
                let setup = p99 > 0 ? String(format: "%.1f ms", p99) : "-"
                progress(String(format: "%5.1fs  started %d/%d  active %d  ended ok %d  failed %d (unexpected %d)  %.0f calls/s  p99 setup ",
                                now.timeIntervalSince(start), started, total, active, connected, failed, unexpected, rate) + setup)
            }
        }
    }
}

/// CPU time of this process (user + system).
public enum ProcessCPU {
    public static func seconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
