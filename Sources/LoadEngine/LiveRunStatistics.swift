import MetaMock
import NIOConcurrencyHelpers
import NIOCore
import SIPTransport

/// What the runs of this process measured so far, for a metrics endpoint scraped while they go: the runs
/// that ended (their final statistics) plus the run going now, read from each shard on its own loop when
/// asked. The shards keep counting alone (no lock on the call path); the lock here guards only which runs
/// exist, and a run's end moves its shards' counts to the ended ones in one step, so no count is seen
/// twice or goes down.
public final class LiveRunStatistics: Sendable {
    private struct State {
        var ended = RunMetricsSnapshot()
        /// The embedded mocks of the ended runs (none: no run had one).
        var endedMock: MockMetricsSnapshot?
        var shards: [NIOLoopBound<CallShard>] = []
        var stack: SIPTransportStack?
        var mock: MetaMockServer?
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// What the runs' embedded mocks counted (the ended runs' and the one going now), or nil when no run
    /// had one; published beside the runs' own metrics.
    public func embeddedMockSnapshot() async -> (snapshot: MockMetricsSnapshot, businesses: [String])? {
        let (ended, mock) = state.withLockedValue { ($0.endedMock, $0.mock) }
        guard ended != nil || mock != nil else { return nil }
        var total = ended ?? MockMetricsSnapshot()
        if let mock { total.add(await mock.metricsSnapshot()) }
        return (total, mock?.configuration.businesses.map(\.number) ?? Array(total.activeByBusiness.keys))
    }

    func begin(shards: [NIOLoopBound<CallShard>], stack: SIPTransportStack, mock: MetaMockServer?) {
        state.withLockedValue {
            $0.shards = shards
            $0.stack = stack
            $0.mock = mock
        }
    }

    /// The run ended with these statistics and transport counts: they join the ended runs.
    func end(_ statistics: ShardStatistics, transport: SIPEndpointStatistics, mock: MockMetricsSnapshot?) {
        state.withLockedValue {
            if var mock {
                // Its calls are over: none is up any more.
                mock.activeByBusiness = mock.activeByBusiness.mapValues { _ in 0 }
                mock.protection.connectionsOpen = 0
                var ended = $0.endedMock ?? MockMetricsSnapshot()
                ended.add(mock)
                $0.endedMock = ended
            }
            $0.ended.add(statistics, active: 0)
            $0.ended.add(transport: transport)
            $0.ended.runsEnded += 1
            $0.shards = []
            $0.stack = nil
            $0.mock = nil
        }
    }

    /// The run failed before it ended: its shards are forgotten (what they counted is not kept).
    func abandon() {
        state.withLockedValue {
            $0.shards = []
            $0.stack = nil
            $0.mock = nil
        }
    }

    /// The ended runs plus the one going now.
    public func snapshot() async -> RunMetricsSnapshot {
        let (ended, shards, stack, mock) = state.withLockedValue { ($0.ended, $0.shards, $0.stack, $0.mock) }
        var total = ended
        guard !shards.isEmpty else { return total }
        total.running = true
        for shard in shards {
            guard let part = try? await shard.eventLoop.submit({ (shard.value.statistics, shard.value.active) }).get() else { continue }
            total.add(part.0, active: part.1)
        }
        if let stack {
            var transport = (try? await stack.statistics()) ?? SIPEndpointStatistics()
            if let mock, let m = try? await mock.stack.statistics() { transport.add(m) }
            total.add(transport: transport)
            for durations in (try? await stack.onEveryEndpoint({ $0.connectDurationsMicros })) ?? [] {
                for d in durations { _ = total.statistics.tlsHandshake.record(max(1, d)) }
            }
        }
        return total
    }
}
