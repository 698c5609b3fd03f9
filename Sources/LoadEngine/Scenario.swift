import Foundation
import MetaMock
import SIPCore
import SIPTransport
import WasimYAML
import Yams

/// Errors in scenario files (file, line, column, YAML path).
public typealias ScenarioError = ConfigFileError

/// A checked scenario: everything `wasim scenario` needs, with defaults applied.
public struct Scenario: Sendable {
    public enum Target: Sendable, Hashable {
        /// The mock, started in-process with its default configuration.
        case embedded
        /// A SIP URI of a separately started mock or of a real SBC.
        case uri(SIPURI)
    }

    public enum Secret: Sendable, Hashable {
        case literal(String)
        case environment(String)
        case file(String)
        /// The password the embedded (or default) mock configuration gives the business number.
        case fromMock
    }

    public enum Connections: Sendable, Hashable {
        /// One connection per event loop, shared by its calls (a trunk).
        case shared
        /// A connection of its own for every call (each user agent), closed when the call ends.
        case perAgent
    }

    public enum Arrivals: Sendable, Hashable {
        /// Calls start evenly spaced at `rate` per second.
        case constant(rate: Double)
        /// `size` calls start at once every `every` seconds.
        case burst(size: Int, every: Double)
        /// A Poisson process: exponential gaps with mean 1/`rate` (seeded).
        case poisson(rate: Double)
        /// Stages; each moves the rate linearly to its target over its duration (from 0 for the first).
        case ramp(stages: [RampStage])
        /// A closed model: `max_concurrent` calls up at all times; each call that ends starts the next.
        case closed
    }

    /// One ramp stage: reach `rate` calls/s over `duration` seconds.
    public struct RampStage: Sendable, Hashable {
        public var rate: Double
        public var duration: Double

        public init(rate: Double, duration: Double) {
            self.rate = rate
            self.duration = duration
        }
    }

    /// Who calls whom: the business calls WhatsApp users (BIC), or users call the business (UIC: the mock,
    /// as Meta, places the calls and wasim answers as the business, or the target SBC does), or both in
    /// one run (`mix`: each call of the schedule is a UIC with probability `uicShare`).
    public enum Direction: String, Sendable, Hashable { case bic, uic, mix }

    /// The request each BIC "call" makes: an INVITE dialog, or a REGISTER (which Meta answers 403).
    public enum CallMethod: String, Sendable, Hashable { case invite = "INVITE", register = "REGISTER" }

    /// How wasim's business side answers user-initiated calls.
    public struct UICAnswer: Sendable, Hashable {
        /// Challenge Meta's INVITE with 407 first (Meta answers with the number's SIP password).
        public var challenge = false
        /// Seconds from INVITE to 200 OK.
        public var answerAfter: Double = 0
        /// The business does no ICE/DTLS (an SBC without WebRTC): it answers a DTLS offer 488 (spec §9).
        public var rejectDTLS = false

    }

    /// How long a connected call lasts before its planned hang-up, in seconds.
    public enum Hold: Sendable, Hashable {
        case fixed(Double)
        case uniform(Double, Double)
        /// Exponential with this mean (the classic telephony holding time behind Erlang's formulas), cut at
        /// ten times the mean so one draw cannot hold a run open.
        case exponential(mean: Double)
    }

    public var file: String
    public var name: String
    public var description: String?
    public var target: Target
    /// Further targets after `target`, tried in order when it fails (`target:` given as a list).
    public var alternateTargets: [SIPURI] = []
    public var businessNumber: String
    public var businessDomain: String
    public var password: Secret
    public var transport: SIPTransportKind
    public var connections: Connections
    public var caFile: String?
    public var serverName: String
    /// Host written in Via and Contact (and bound by the client sockets).
    public var localHost: String
    /// `transport.local_host` was given; otherwise a run against a target uses the address that routes to it.
    public var localHostGiven = false
    public var callees: CalleeList
    public var arrivals: Arrivals
    public var totalCalls: Int
    public var maxConcurrent: Int
    /// The most calls whose INVITE has had no response yet (the ones retransmitting): past it, due calls
    /// are not started but counted as shed, so a slow target or a saturated generator does not feed a
    /// retransmission storm.
    public var maxInFlight = 5_000
    /// A due call this late is not started but counted as shed (nil: calls start however late).
    public var shedLate: Double?
    /// While an event loop of the generator stays saturated, it admits fewer calls in flight (the rest are
    /// shed) so that the calls it runs are served on time; false pushes every call however late.
    public var shedWhenSaturated = true
    /// Stop starting calls after this many seconds (with or instead of `total_calls`).
    public var duration: Double?
    /// Once a shard has started its last call, its calls get the ring timeout and the longest hold, plus
    /// this many seconds, to end; then they are hung up or CANCELled, and those still not over 5 s later
    /// end as `interrupted` (`load.drain`, default 60 s; `none` waits for the target however long).
    public var drain: Double? = 60
    public var hold: Hold
    public var seed: UInt64
    /// A share of calls CANCELled this many seconds after their INVITE, if still unanswered.
    public var cancel: (share: Double, after: Double)?
    /// A BIC INVITE with no final response this long after it was sent is CANCELled and counted
    /// unanswered (`call.ring_timeout`, default 60 s; `none` waits for Timer B and the target alone).
    public var ringTimeout: Double? = 60
    public var direction: Direction = .bic
    /// With `direction: mix`: the share of calls that are user-initiated.
    public var uicShare: Double = 0.5
    /// The share of connected calls the WhatsApp user ends (Meta's BYE); the business ends the rest.
    /// nil: the direction's default (BIC: the business hangs up; UIC: the user does).
    public var userHangUpShare: Double? = nil
    public var method: CallMethod = .invite
    /// Send a re-INVITE this long after the call connects (Meta answers 500), then carry on.
    public var reinviteAfter: Double?
    public var uicAnswer = UICAnswer()
    /// UIC through a target SBC: where wasim's business UAS listens behind it (`call.business_uas`), so the
    /// SBC's forwarded INVITEs are answered and measured (a SIP URI; its transport defaults to UDP).
    public var businessUAS: SIPURI?
    /// Media of BICs: `none`, `dtls`, `sdes`, or `alternate` (even calls SDES, odd calls DTLS).
    public var mediaSecurity = "none"
    /// `probe`: full-rate audio for `probeSeconds`, then keep-alives; `full`: audio for the whole call.
    public var mediaProbeSeconds: Double? = 2
    /// BIC calls run media (the business offers `mediaSecurity`).
    public var bicMedia: Bool { direction != .uic && mediaSecurity != "none" }
    /// UIC calls run media (Meta's number chooses DTLS or SDES; wasim's business side answers it).
    public var uicMedia: Bool { direction != .bic && mediaSecurity != "none" }
    /// The run has business-initiated calls.
    public var hasBIC: Bool { direction != .uic }
    /// The run has user-initiated calls.
    public var hasUIC: Bool { direction != .bic }
    /// Share of calls that carry media (a sample keeps media affordable inside large signalling runs).
    public var mediaSample: Double = 1
    /// The business's first DTLS retransmission (its stack's schedule then doubles).
    public var dtlsRetransmitSeconds: Double = 1
    /// The embedded mock's configuration file, when not the default.
    public var mockConfigFile: String?
    /// Expected counts per final response ("403 No Approved Call Permission Found": 1); the run fails when
    /// the counts differ.
    public var expectedResponses: [String: Int]
    /// Pass/fail rules over the results (`p99(setup) < 300ms`).
    public var thresholds: [Threshold]
    /// Command-line overrides applied to the file (in the run header and summary.json).
    public var overrides: [ScenarioOverride] = []
    /// How `wasim capacity` raises the load (`capacity:`; `wasim scenario` ignores it).
    public var capacity = CapacityPlan()
}

/// Parses and validates scenario files.
public enum ScenarioLoader {
    static let topKeys = ["name", "description", "target", "mock", "business", "transport", "callees", "load", "seed", "call", "expect", "media",
                          "capacity"]

    public static func load(path: String) throws -> Scenario { try parse(YAMLValue.document(path: path)) }

    /// Loads a scenario with command-line overrides applied to its document first (they are checked as
    /// the file is); an error about an overridden field says so.
    public static func load(path: String, overrides: [ScenarioOverride]) throws -> Scenario {
        try load(document: YAMLValue.document(path: path), overrides: overrides)
    }

    /// Loads a scenario from its text as if it were the file `file` (its relative paths, such as `mock:` and
    /// a callee CSV, are read from that file's folder), with command-line overrides.
    public static func load(text: String, file: String, overrides: [ScenarioOverride]) throws -> Scenario {
        try load(document: YAMLValue.document(text, file: file), overrides: overrides)
    }

    static func load(document: YAMLValue, overrides: [ScenarioOverride]) throws -> Scenario {
        let document = try ScenarioOverride.apply(overrides, to: document)
        do {
            var scenario = try parse(document)
            scenario.overrides = overrides
            return scenario
        } catch var error as ConfigFileError {
            func annotate(_ error: inout ConfigFileError) {
                if let o = overrides.last(where: { error.path == $0.path || error.path.hasPrefix($0.path + ".") || error.path.hasPrefix($0.path + "[") }) {
                    // The value came from the command line: no line of the file to point at.
                    error.line = nil
                    error.column = nil
                    error.message += " (from \(o.flag) \(o))"
                }
            }
            annotate(&error)
            for i in error.further.indices { annotate(&error.further[i]) }
            throw error
        }
    }

    public static func parse(_ text: String, file: String) throws -> Scenario { try parse(YAMLValue.document(text, file: file)) }

    /// Every error of the document at once (`YAMLValue.collectingErrors`).
    static func parse(_ doc: YAMLValue) throws -> Scenario { try YAMLValue.collectingErrors(doc, parseOnce) }

    static func parseOnce(_ doc: YAMLValue) throws -> Scenario {
        let file = doc.file
        let top = try doc.mapping(allowed: topKeys)
        guard let nameValue = top["name"] else { throw doc.error("missing required key 'name'") }
        let name = try nameValue.string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw nameValue.error("name must be letters, digits, '-', '_' or '.' (it names the results folder)")
        }

        var target = Scenario.Target.embedded
        var alternateTargets: [SIPURI] = []
        if let t = top["target"] {
            // One target, or a list tried in order (failover on a transport error, no response, or 503).
            let items = t.isScalar ? [t] : try t.sequence()
            guard !items.isEmpty else { throw t.error("target lists at least one SIP URI") }
            var uris: [SIPURI] = []
            for item in items {
                let text = try item.string()
                if text == "embedded", items.count == 1 { break }
                do { uris.append(try SIPURI(text)) } catch {
                    throw item.error("'\(text)' is \(items.count == 1 ? "neither 'embedded' nor" : "not") a SIP URI: \(error)")
                }
            }
            if let first = uris.first {
                target = .uri(first)
                alternateTargets = Array(uris.dropFirst())
            }
        }
        var mockConfigFile: String? = nil
        if let mock = top["mock"], try mock.string() != "default" {
            // Relative to the scenario file.
            let path = try mock.string()
            let resolved = path.hasPrefix("/") ? path : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: resolved) else { throw mock.error("mock configuration \(resolved) does not exist") }
            mockConfigFile = resolved
        }
        var expectedResponses: [String: Int] = [:]
        var thresholds: [Threshold] = []
        if let e = top["expect"] {
            let m = try e.mapping(allowed: ["responses", "thresholds", "callees"])
            if let t = m["thresholds"] {
                thresholds = try t.sequence().map { item in
                    do { return try Threshold(parsing: try item.string()) } catch let error as ThresholdError { throw item.error(error.description) }
                }
            }
            if let r = m["responses"] {
                guard case .mapping(let mapping) = r.node else { throw r.error("expected a mapping of \"<code> <reason>\": count") }
                for (k, v) in mapping {
                    guard let key = k.string, let first = key.split(separator: " ").first, Int(first) != nil else {
                        throw r.error("keys are \"<code> <reason>\", like \"200 OK\"")
                    }
                    guard let count = v.string.flatMap({ Int($0) }), count >= 0 else { throw r.error("count for '\(key)' must be a whole number") }
                    expectedResponses[key] = count
                }
            }
        }

        // business
        var number = "+33639980001", domain = "sip.example.com"
        var password = Scenario.Secret.fromMock
        if let b = top["business"] {
            let m = try b.mapping(allowed: ["number", "domain", "password"])
            if let v = m["number"] {
                number = try v.string()
                guard number.hasPrefix("+"), number.dropFirst().allSatisfy(\.isNumber), number.count >= 4 else {
                    throw v.error("business number must be E.164 with '+', like +33639980001")
                }
            }
            if let v = m["domain"] { domain = try v.string() }
            if let v = m["password"] { password = try secret(v) }
        }

        // transport
        var transport = SIPTransportKind.tls
        var connections = Scenario.Connections.shared
        var caFile: String? = nil, serverName = "wa.meta.vc", localHost = "127.0.0.1", localHostGiven = false
        if let t = top["transport"] {
            let m = try t.mapping(allowed: ["protocol", "connections", "ca", "server_name", "local_host"])
            if let v = m["protocol"] { transport = SIPTransportKind(rawValue: try v.choice(["tls", "tcp", "udp"]))! }
            if let v = m["connections"] { connections = try v.choice(["shared", "per-agent"]) == "shared" ? .shared : .perAgent }
            if let v = m["ca"] { caFile = try v.string() }
            if let v = m["server_name"] { serverName = try v.string() }
            if let v = m["local_host"] { localHost = try v.string(); localHostGiven = true }
        }
        if case .uri(let uri) = target, let t = uri.transport, let kind = SIPTransportKind(token: t), top["transport"] == nil {
            transport = kind
        }

        // callees
        guard let c = top["callees"] else { throw doc.error("missing required key 'callees'") }
        var callees = try CalleeList.parse(c)
        if let e = try top["expect"]?.mapping(allowed: ["responses", "thresholds", "callees"])["callees"] { try callees.addExpectations(e) }

        // load
        guard let l = top["load"] else { throw doc.error("missing required key 'load'") }
        let lm = try l.mapping(allowed: ["arrivals", "rate", "burst", "stages", "total_calls", "max_concurrent", "max_in_flight", "shed_late", "shed_when_saturated", "duration", "drain"])
        let duration = try lm["duration"].map { try $0.seconds() }
        guard lm["total_calls"] != nil || duration != nil || lm["stages"] != nil else {
            throw l.error("load needs total_calls, duration, or both (ramp stages bound a run by themselves)")
        }
        let maxConcurrent = try lm["max_concurrent"]?.int(min: 1, max: 1_000_000) ?? 10_000
        let kinds = ["constant", "burst", "poisson", "ramp", "closed"]
        let arrivalsKind = try lm["arrivals"]?.choice(kinds) ?? (lm["burst"] != nil ? "burst" : lm["stages"] != nil ? "ramp" : "constant")
        let arrivals: Scenario.Arrivals
        for (key, kind) in [("burst", "burst"), ("stages", "ramp")] where lm[key] != nil && arrivalsKind != kind {
            throw lm[key]!.error("'\(key)' is only for arrivals: \(kind)")
        }
        switch arrivalsKind {
        case "burst":
            guard let b = lm["burst"] else { throw l.error("arrivals: burst needs 'burst: { size: N, every: 2s }'") }
            let bm = try b.mapping(allowed: ["size", "every"])
            guard let size = bm["size"], let every = bm["every"] else { throw b.error("burst needs 'size' and 'every'") }
            let interval = try every.seconds()
            guard interval > 0 else { throw every.error("a burst repeats after more than 0 s") }
            arrivals = .burst(size: try size.int(min: 1, max: 1_000_000), every: interval)
        case "ramp":
            guard let st = lm["stages"] else { throw l.error("arrivals: ramp needs 'stages: [{ rate: 10/s, duration: 30s }, ...]'") }
            let stages = try st.sequence().map { item -> Scenario.RampStage in
                let m = try item.mapping(allowed: ["rate", "duration"])
                guard let r = m["rate"], let d = m["duration"] else { throw item.error("a stage needs rate and duration") }
                let seconds = try d.seconds()
                guard seconds > 0 else { throw d.error("a stage lasts more than 0 s") }
                return Scenario.RampStage(rate: try r.ratePerSecond(), duration: seconds)
            }
            guard !stages.isEmpty else { throw st.error("at least one stage") }
            arrivals = .ramp(stages: stages)
        case "poisson":
            arrivals = .poisson(rate: try lm["rate"]?.ratePerSecond() ?? 10)
        case "closed":
            guard lm["max_concurrent"] != nil else { throw l.error("arrivals: closed keeps max_concurrent calls up: set max_concurrent") }
            arrivals = .closed
        default:
            arrivals = .constant(rate: try lm["rate"]?.ratePerSecond() ?? 10)
        }
        var totalCalls = try lm["total_calls"]?.int(min: 1, max: 10_000_000) ?? 10_000_000
        if lm["total_calls"] == nil, case .ramp(let stages) = arrivals, duration == nil {
            totalCalls = min(10_000_000, Int(stages.map { $0.rate * $0.duration }.reduce(0, +)) + 10)
        }
        if lm["total_calls"] == nil, let duration {
            // Only a duration: the schedule ends the run; the count is what fits (closed: a bound).
            switch arrivals {
            case .constant(let rate), .poisson(let rate): totalCalls = min(10_000_000, Int((duration * rate * 1.5).rounded(.up)) + 10)
            case .burst(let size, let every): totalCalls = min(10_000_000, Int((duration / every).rounded(.up) + 1) * size)
            case .ramp(let stages): totalCalls = min(10_000_000, Int(stages.map { $0.rate * $0.duration }.reduce(0, +)) + 10)
            case .closed: totalCalls = 10_000_000
            }
        }

        // call
        var hold = Scenario.Hold.fixed(1)
        var cancel: (share: Double, after: Double)? = nil
        var ringTimeout: Double? = 60
        var businessUAS: SIPURI? = nil
        var direction = Scenario.Direction.bic, method = Scenario.CallMethod.invite
        var reinviteAfter: Double? = nil
        var uicAnswer = Scenario.UICAnswer()
        var uicShare = 0.5
        var userHangUpShare: Double? = nil
        if let call = top["call"] {
            let m = try call.mapping(allowed: ["direction", "uic_share", "hold", "hang_up", "cancel", "method", "reinvite_after", "challenge",
                                                "answer_after", "reject_dtls", "ring_timeout", "business_uas"])
            if let x = m["business_uas"] {
                do { businessUAS = try SIPURI(try x.string()) } catch { throw x.error("business_uas is a SIP URI like sip:127.0.0.1:5090;transport=udp: \(error)") }
                guard let uas = businessUAS, uas.port != nil else { throw x.error("business_uas needs a port (the SBC forwards to it)") }
            }
            if let x = m["ring_timeout"] {
                if try x.string() == "none" { ringTimeout = nil } else {
                    let t = try x.seconds()
                    guard t >= 0.1 && t <= 3600 else { throw x.error("ring_timeout is between 100ms and 1h (or none)") }
                    ringTimeout = t
                }
            }
            if let x = m["reject_dtls"] { uicAnswer.rejectDTLS = try x.bool() }
            if let d = m["direction"] { direction = Scenario.Direction(rawValue: try d.choice(["bic", "uic", "mix"]))! }
            if let x = m["uic_share"] {
                guard direction == .mix else { throw x.error("'uic_share' is for direction: mix") }
                uicShare = try x.double()
                guard uicShare >= 0 && uicShare <= 1 else { throw x.error("uic_share is between 0 and 1") }
            }
            if let x = m["hang_up"] { userHangUpShare = try parseHangUp(x) }
            if let x = m["method"] { method = Scenario.CallMethod(rawValue: try x.choice(["INVITE", "REGISTER"]))! }
            if let x = m["reinvite_after"] { reinviteAfter = try x.seconds() }
            if let x = m["challenge"] { uicAnswer.challenge = try x.bool() }
            if let x = m["answer_after"] { uicAnswer.answerAfter = try x.seconds() }
            if direction == .uic {
                for key in ["method", "reinvite_after", "cancel", "ring_timeout"] where m[key] != nil {
                    throw m[key]!.error("'\(key)' is for direction: bic (in UIC calls Meta places the INVITE)")
                }
            } else if direction == .bic {
                for key in ["challenge", "answer_after", "reject_dtls", "business_uas"] where m[key] != nil {
                    throw m[key]!.error("'\(key)' is for direction: uic (how the business answers Meta's INVITE)")
                }
            }
            if let h = m["hold"] { hold = try parseHold(h) }
            if let c = m["cancel"] {
                let cm = try c.mapping(allowed: ["share", "after"])
                guard let share = cm["share"], let after = cm["after"] else { throw c.error("cancel needs share and after") }
                let s = try share.double()
                guard s >= 0 && s <= 1 else { throw share.error("share is between 0 and 1") }
                cancel = (s, try after.seconds())
            }
        }
        let seed = try top["seed"].map { UInt64(try $0.int(min: 0)) } ?? 1

        var scenario = Scenario(
            file: file, name: name, description: try top["description"]?.string(), target: target,
            businessNumber: number, businessDomain: domain, password: password, transport: transport,
            connections: connections, caFile: caFile, serverName: serverName, localHost: localHost, callees: callees,
            arrivals: arrivals, totalCalls: totalCalls, maxConcurrent: maxConcurrent, duration: duration, hold: hold, seed: seed,
            cancel: cancel, mockConfigFile: mockConfigFile, expectedResponses: expectedResponses, thresholds: thresholds)
        if let x = lm["max_in_flight"] { scenario.maxInFlight = try x.int(min: 1, max: 10_000_000) }
        if let x = lm["shed_late"] { scenario.shedLate = try x.seconds() }
        if let x = lm["shed_when_saturated"] { scenario.shedWhenSaturated = try x.bool() }
        if let x = lm["drain"] { scenario.drain = (try? x.string()) == "none" ? nil : try x.seconds() }
        scenario.localHostGiven = localHostGiven
        scenario.direction = direction
        scenario.ringTimeout = ringTimeout
        scenario.businessUAS = businessUAS
        scenario.alternateTargets = alternateTargets
        if let c = top["capacity"] { scenario.capacity = try CapacityPlan.parse(c) }
        scenario.uicShare = uicShare
        scenario.userHangUpShare = userHangUpShare
        scenario.method = method
        scenario.reinviteAfter = reinviteAfter
        scenario.uicAnswer = uicAnswer
        if let m = top["media"] {
            let mm = try m.mapping(allowed: ["security", "mode", "probe", "dtls_retransmit", "sample"])
            if let x = mm["sample"] {
                scenario.mediaSample = try x.double()
                guard scenario.mediaSample > 0 && scenario.mediaSample <= 1 else { throw x.error("sample is a share of calls, above 0 and at most 1") }
            }
            if let x = mm["dtls_retransmit"] {
                scenario.dtlsRetransmitSeconds = try x.seconds()
                guard scenario.dtlsRetransmitSeconds >= 0.05 else { throw x.error("at least 50ms") }
            }
            scenario.mediaSecurity = try mm["security"]?.choice(["none", "dtls", "sdes", "alternate"]) ?? "dtls"
            let mode = try mm["mode"]?.choice(["probe", "full"]) ?? "probe"
            if mode == "full" {
                if let p = mm["probe"] { throw p.error("'probe' is for mode: probe") }
                scenario.mediaProbeSeconds = nil
            } else if let p = mm["probe"] {
                scenario.mediaProbeSeconds = try p.seconds()
            }
            // UIC: Meta's number decides DTLS or SDES (srtp_key_exchange_protocol); wasim answers either.
            if direction == .uic, let security = mm["security"], scenario.mediaSecurity != "none" {
                throw security.error("with direction: uic the mock's business number chooses DTLS or SDES (srtp_key_exchange_protocol); leave security out")
            }
        }
        return scenario
    }

    static func secret(_ v: YAMLValue) throws -> Scenario.Secret {
        if case .scalar = v.node { return .literal(try v.string()) }
        let m = try v.mapping(allowed: ["env", "file", "from"])
        guard m.count == 1, let (key, value) = m.first else { throw v.error("password takes exactly one of env, file, from") }
        switch key {
        case "env": return .environment(try value.string())
        case "file": return .file(try value.string())
        default:
            _ = try value.choice(["mock"])
            return .fromMock
        }
    }

    /// `hang_up: business`, `user`, or `{ user: 0.3 }` (the share the user ends): the user's share.
    static func parseHangUp(_ v: YAMLValue) throws -> Double {
        if case .scalar = v.node { return try v.choice(["business", "user"]) == "user" ? 1 : 0 }
        let m = try v.mapping(allowed: ["user"])
        guard let u = m["user"] else { throw v.error("hang_up is business, user, or { user: SHARE }") }
        let share = try u.double()
        guard share >= 0 && share <= 1 else { throw u.error("the user's share is between 0 and 1") }
        return share
    }

    static func parseHold(_ v: YAMLValue) throws -> Scenario.Hold {
        if case .scalar = v.node { return .fixed(try v.seconds()) }
        let m = try v.mapping(allowed: ["uniform", "exponential"])
        guard m.count == 1 else { throw v.error("hold is a duration, { uniform: [min, max] } or { exponential: MEAN }") }
        if let e = m["exponential"] {
            let mean = try e.seconds()
            guard mean > 0 else { throw e.error("the mean is more than 0 s") }
            return .exponential(mean: mean)
        }
        let u = m["uniform"]!
        let bounds = try u.sequence()
        guard bounds.count == 2 else { throw u.error("uniform needs [min, max]") }
        let low = try bounds[0].seconds(), high = try bounds[1].seconds()
        guard low <= high else { throw u.error("uniform min must not exceed max") }
        return .uniform(low, high)
    }
}
