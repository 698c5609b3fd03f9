import Foundation
import Histogram

/// `summary.json`: versioned, with stable snake_case names that users script against.
public struct RunSummary: Codable, Sendable {
    public struct Calls: Codable, Sendable {
        public var attempted: Int
        public var connected: Int
        public var failed: Int
        public var dropped: Int
        /// Calls that did not end as the scenario expects: failures no callee expectation covers, and calls
        /// whose callee expected another response.
        public var unexpected = 0
        /// Of the calls not started (`dropped`), those the generator shed to protect itself and the target
        /// (`load.max_in_flight`, `load.shed_late`); each has a calls.csv row with outcome `not_started`.
        public var shed = 0
        /// Calls that rang until `call.ring_timeout` and were CANCELled by the business (end `ring_timeout`).
        public var unanswered = 0
        /// Of the connected calls, those whose hang-up went wrong: the BYE timed out or was refused, or the
        /// BYE the far end was to send never came (`teardown` in calls.csv says which). Not expected: a
        /// run with any does not pass.
        public var teardownFailed = 0
        /// Calls still up when the drain deadline (`load.drain`) ran out, and ended then.
        public var drained = 0
        enum CodingKeys: String, CodingKey {
            case attempted, connected, failed, dropped, unexpected, shed, unanswered, teardownFailed = "teardown_failed", drained
        }
    }

    /// Calls of one direction (in a `direction: mix` run).
    public struct DirectionCalls: Codable, Sendable {
        public var attempted = 0
        public var connected = 0
        public var failed = 0
    }

    /// The callees' expected responses (`expect.callees`, the CSV's `expect` column).
    public struct Expectations: Codable, Sendable {
        public var checked: Int
        public var met: Int
        public var unmet: Int
        /// The first calls that ended otherwise ("call 12 +15550200001: expected 403, got 200 OK").
        public var unmetExamples: [String]
        enum CodingKeys: String, CodingKey { case checked, met, unmet, unmetExamples = "unmet_examples" }
    }

    public struct Percentiles: Codable, Sendable {
        public var count: UInt64
        public var p50: Double
        public var p90: Double
        public var p95: Double
        public var p99: Double
        public var p999: Double
        public var max: Double

        /// From a histogram in microseconds to milliseconds.
        init(_ h: Histogram<UInt64>) {
            count = h.totalCount
            func ms(_ v: UInt64) -> Double { (Double(v) / 1000 * 1000).rounded() / 1000 }
            if count == 0 {
                p50 = 0; p90 = 0; p95 = 0; p99 = 0; p999 = 0; max = 0
            } else {
                p50 = ms(h.valueAtPercentile(50))
                p90 = ms(h.valueAtPercentile(90))
                p95 = ms(h.valueAtPercentile(95))
                p99 = ms(h.valueAtPercentile(99))
                p999 = ms(h.valueAtPercentile(99.9))
                max = ms(h.max)
            }
        }
    }

    public struct Latency: Codable, Sendable {
        public var setup: Percentiles
        public var setupFromIntended: Percentiles
        public var postDial: Percentiles
        public var auth: Percentiles
        public var startLag: Percentiles
        /// Answer → first media packet from the far end decrypted (media runs only).
        public var mediaStart: Percentiles? = nil
        /// TCP connect + TLS handshake of each connection wasim opened (TLS runs).
        public var tlsHandshake: Percentiles? = nil

        enum CodingKeys: String, CodingKey {
            case setup, setupFromIntended = "setup_from_intended", postDial = "post_dial", auth, startLag = "start_lag"
            case mediaStart = "media_start", tlsHandshake = "tls_handshake"
        }
    }

    public struct Rate: Codable, Sendable {
        public var targetCPS: Double
        public var achievedCPS: Double
        enum CodingKeys: String, CodingKey { case targetCPS = "target_cps", achievedCPS = "achieved_cps" }
    }

    public struct Traces: Codable, Sendable {
        public var written: Int
        public var notWritten: Int
        enum CodingKeys: String, CodingKey { case written, notWritten = "not_written" }
    }

    /// Calls up at once.
    public struct Concurrency: Codable, Sendable {
        /// The peak of calls up at one moment: every loop's count at the same 100 ms tick, added (or the
        /// busiest loop's own exact peak, when higher).
        public var max: Int
    }

    public struct Generator: Codable, Sendable {
        public var cpuSeconds: Double
        public var retransmissions: Int
        public var transportErrors: Int
        public var lastTransportError: String?
        /// p99 of the event loops' lag (how late a 100 ms tick ran), ms.
        public var loopLagMsP99: Double = 0
        /// The generator itself was the bottleneck (see `saturationReason`: loop lag p99 over 50 ms, CPU over
        /// 90 % of the cores, a loop busy in a quarter of its ticks, or its own UDP sockets dropping): its
        /// latencies and failures then measure wasim, not the target.
        public var saturated = false
        public var saturationReason: String? = nil
        /// The most calls due by the schedule that had not started yet (sampled every 100 ms per loop, and
        /// summed over the loops tick by tick): a late generator, or calls held back by `max_concurrent`.
        public var sendBacklogMax = 0
        /// Calls that started more than 10 ms after their intended start.
        public var lateStarts = 0
        /// The busiest event loop's share of 100 ms ticks in which its thread was busy at least 90 % of the
        /// time (a loop working through a full socket queue keeps its ticks on time, so lag alone misses it).
        public var loopBusyShare = 0.0
        /// Datagrams the kernel dropped on wasim's own UDP sockets (full receive queue): messages from the
        /// target (or, embedded, from the mock) that wasim was too slow to read.
        public var udpReceiveDrops = 0
        /// Retransmissions as a share of the messages wasim sent.
        public var retransmissionRate = 0.0
        /// The most calls waiting for a first response at once, and the cap (`load.max_in_flight`).
        public var inFlightMax = 0
        public var inFlightCap = 0
        /// Due calls shed: with `load.max_in_flight` reached, later than `load.shed_late`, or while an event loop
        /// was saturated (the generator admits fewer calls in flight until it is not).
        public var shedInFlight = 0
        public var shedLate = 0
        public var shedOverload = 0
        enum CodingKeys: String, CodingKey {
            case cpuSeconds = "cpu_seconds", retransmissions, transportErrors = "transport_errors"
            case lastTransportError = "last_transport_error", loopLagMsP99 = "loop_lag_ms_p99", saturated
            case saturationReason = "saturation_reason", sendBacklogMax = "send_backlog_max", lateStarts = "late_starts"
            case loopBusyShare = "loop_busy_share", udpReceiveDrops = "udp_receive_drops", retransmissionRate = "retransmission_rate"
            case inFlightMax = "in_flight_max", inFlightCap = "in_flight_cap", shedInFlight = "shed_in_flight", shedLate = "shed_late", shedOverload = "shed_overload"
        }
    }

    public var schemaVersion = 1
    public var scenario: String
    public var startedAt: String
    public var endedAt: String
    public var interrupted: Bool
    public var target: String
    public var transport: String
    /// The address wasim's user agents sent from and wrote in Via and Contact.
    public var localHost: String = ""
    /// The BIC targets in failover order, as resolved (RFC 3263: SRV, then A/AAAA), and the INVITEs that
    /// moved to the next one after a target failed (transport error, no response, 503).
    public var targets: [String] = []
    public var failovers = 0
    /// Command-line changes to the scenario file, in order (`--rate 200/s`, `--set call.hold=5s`,
    /// `--target ...`, `--bind ...`): with the file, they reproduce the run.
    public var overrides: [String] = []
    public var calls: Calls
    public var responses: [String: Int]
    /// Calls per way of ending (`CallEnd`: connected, rejected, ring_timeout, timer_b, transport, ...).
    public var ends: [String: Int] = [:]
    public var latencyMs: Latency
    public var rate: Rate
    public var concurrency: Concurrency
    public var generator: Generator
    /// Trace files written to `traces/`, and those left out by the bound.
    public var traces: Traces
    /// Each threshold of the scenario with its measured value and verdict.
    public var thresholds: [ThresholdResult] = []
    public var passed: Bool
    /// Business audio lost at the start of each call, in ms (media runs only).
    public var clippingMs: Percentiles? = nil
    /// Answer → hang-up of connected calls, in ms.
    public var callDurationMs: Percentiles? = nil
    /// Present when callees have expected responses.
    public var expectations: Expectations? = nil
    /// Per direction, in a `direction: mix` run.
    public var byDirection: [String: DirectionCalls]? = nil
    /// Media start and clipping per security (`dtls`, `sdes`), for comparing them in one run.
    public var mediaBySecurity: [String: MediaBreakdown]? = nil
    /// Set by `wasim report DIR` ("calls.csv"): the summary was rebuilt from the per-call rows after the run's
    /// process died, so the generator's health (CPU, loop lag, retransmissions) and the calls in progress
    /// at the end are not in it.
    public var rebuiltFrom: String? = nil
    /// This run's part of a run split over processes (`--shard I/N`), and for a merged run the shards'
    /// folders it was merged from (`wasim merge`).
    public var shard: String? = nil
    public var mergedFrom: [String]? = nil

    /// Media measurements of the calls that used one security.
    public struct MediaBreakdown: Codable, Sendable {
        public var mediaStartMs: Percentiles
        public var clippingMs: Percentiles
        enum CodingKeys: String, CodingKey { case mediaStartMs = "media_start_ms", clippingMs = "clipping_ms" }
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", scenario, startedAt = "started_at", endedAt = "ended_at", interrupted
        case target, transport, localHost = "local_host", targets, failovers, overrides, calls, responses, ends, latencyMs = "latency_ms", rate, concurrency, generator, traces, thresholds, passed
        case clippingMs = "clipping_ms", mediaBySecurity = "media_by_security", callDurationMs = "call_duration_ms"
        case expectations, byDirection = "by_direction", rebuiltFrom = "rebuilt_from", shard, mergedFrom = "merged_from"
    }

    /// One threshold's outcome: `{ "name", "expression", "value", "ok" }`.
    public struct ThresholdResult: Codable, Sendable {
        public var name: String
        public var expression: String
        public var value: Double?
        public var ok: Bool
    }
}
