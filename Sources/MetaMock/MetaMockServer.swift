import Foundation
import NIOConcurrencyHelpers
import Logging
import NIOCore
import NIOPosix
import SIPCore
import SIPTransaction
import SIPTransport
import WasimCerts
import WasimMedia
import WasimResults

/// Where the mock listens. Meta's endpoint is TLS on 5061; UDP and TCP are for lab peers such as Debian's
/// SIPp, which has no TLS.
public struct MockListenAddresses: Sendable, Hashable {
    public var host: String
    public var tlsPort: Int?
    public var udpPort: Int?
    public var tcpPort: Int?
    /// UDP on a port of its own per event loop (for a load generator in the same process, which then sends
    /// each loop's calls to the mock socket of the same loop); otherwise one port shared by the loops.
    public var udpPortPerLoop = false

    public init(host: String = "127.0.0.1", tlsPort: Int? = 5061, udpPort: Int? = 5060, tcpPort: Int? = 5060) {
        self.host = host
        self.tlsPort = tlsPort
        self.udpPort = udpPort
        self.tcpPort = tcpPort
    }

    /// Every listener on an ephemeral port (tests, the embedded mock).
    public static func ephemeral(host: String = "127.0.0.1") -> MockListenAddresses {
        MockListenAddresses(host: host, tlsPort: 0, udpPort: 0, tcpPort: 0)
    }
}

/// The addresses actually bound.
public struct MockBoundAddresses: Sendable, Hashable {
    public var tls: SocketAddress?
    public var udp: SocketAddress?
    public var tcp: SocketAddress?
    /// Every UDP socket, in the order of the event loops (one address repeated when they share a port).
    public var udpByLoop: [SocketAddress] = []
}

/// The mock of Meta's SIP endpoint: a transport stack with one `MetaMockCore` per event loop.
public final class MetaMockServer: Sendable {
    public let configuration: MockConfiguration
    public let stack: SIPTransportStack
    public let certificates: IssuedCertificate
    public let caFile: String
    private let cores: [NIOLoopBound<MetaMockCore>]

    /// Shared per-pair and per-number state (limits, active calls, streaks).
    public let state: MockCallState
    /// The businesses' calling settings as they are now (the Graph API mock changes them).
    public let directory: MockBusinessDirectory
    /// The mock's clock, and its reading at the start (temporary permissions count from it).
    public let clock: MockClock
    public let startedAt: Double
    /// Failed digest authentications per source and username, shared by the loops.
    public let authThrottle: DigestFailureThrottle
    /// The certificate presented to business TLS servers that ask for one (UIC), if any.
    public let clientCertificate: IssuedCertificate?
    /// Files this server made for itself alone (its dynamic client certificate), removed by `stop()`.
    private let temporaryFiles: [String]
    /// Host name of that certificate.
    public let clientCertificateHost: String?
    private let nextLoop = NIOLockedValueBox(0)
    /// The ledger file being written, if any.
    private let ledgerFile = NIOLockedValueBox<ResultsStream?>(nil)

    public init(configuration: MockConfiguration = .default, group: any EventLoopGroup, certsDirectory: String,
                timers: SIPTimers? = nil, clock: MockClock = .system,
                logger: Logger = Logger(label: "wasim.mock", factory: { _ in SwiftLogNoOpLogHandler() })) async throws
    {
        self.configuration = configuration
        let authority = TestCertificateAuthority(directory: certsDirectory)
        let issued = try authority.ensure()
        guard let cert = issued[configuration.domain] ?? (try? authority.issue(host: configuration.domain)) else {
            throw CertificateError.cannotWrite(authority.chainFile(for: configuration.domain))
        }
        certificates = cert
        caFile = authority.caFile
        // The client certificate for UIC (spec §1, §11.5): a random host under a CA nobody trusts, or a
        // fixed host from the test CA.
        var clientCert: IssuedCertificate?, clientHost: String?
        var ownFiles: [String] = []
        switch configuration.uic.clientCertificate {
        case .none: break
        case .dynamicHost:
            clientHost = "dyn-\(FastRandom.hex(UInt64.random(in: 0...UInt64.max), digits: 12)).fbclientcerts.com"
            let untrusted = TestCertificateAuthority(directory: (certsDirectory as NSString).appendingPathComponent("mock-client"))
            // Files of this process only (removed at stop): mocks sharing the folder must not swap each
            // other's key under a certificate.
            clientCert = try untrusted.issue(host: clientHost!, fileStem: "client-\(getpid())-\(FastRandom.hex(UInt64.random(in: 0...UInt64.max), digits: 8))")
            ownFiles = [clientCert!.chainFile, clientCert!.keyFile]
        case .host(let host):
            clientHost = host
            clientCert = try authority.issue(host: host, fileStem: "mock-client-\(host)-\(getpid())-\(FastRandom.hex(UInt64.random(in: 0...UInt64.max), digits: 8))")
            ownFiles = [clientCert!.chainFile, clientCert!.keyFile]
        }
        clientCertificate = clientCert
        temporaryFiles = ownFiles
        clientCertificateHost = clientHost
        // Meta's media certificate: ECDSA P-256, self-signed, bound to calls by the SDP fingerprint.
        let mediaCertificate = try SelfSignedCertificate(commonName: "wa.meta.vc")
        let dtls = try DTLSContext(certificatePEM: mediaCertificate.certificatePEM, privateKeyPEM: mediaCertificate.privateKeyPEM)
        let fingerprint = dtls.fingerprint
        var secret = [UInt8](repeating: 0, count: 32)
        for i in secret.indices { secret[i] = UInt8.random(in: 0...255) }
        let secretCopy = secret
        let collected = NIOLockedValueBox<[NIOLoopBound<MetaMockCore>]>([])
        let state = MockCallState()
        self.state = state
        let throttle = DigestFailureThrottle(policy: configuration.protection.authFailures)
        self.authThrottle = throttle
        let startedAt = clock.wallNow()
        self.clock = clock
        self.startedAt = startedAt
        let directory = MockBusinessDirectory(configuration.businesses)
        self.directory = directory
        let mediaPorts = configuration.media.ports.isEmpty ? nil : MediaPortPool(ports: configuration.media.ports)
        stack = try await SIPTransportStack(
            group: group, advertisedHost: configuration.domain == "wa.meta.vc" ? "127.0.0.1" : configuration.domain,
            timers: timers ?? configuration.timers,
            limits: SIPParserLimits(maxMessageSize: configuration.protection.maxMessageSize),
            connectionLimits: configuration.protection.connectionLimits,
            clientTLS: TLSClientSettings(caFile: configuration.uic.caFile ?? authority.caFile,
                                         certificateChainFile: clientCert?.chainFile, privateKeyFile: clientCert?.keyFile),
            serverTLS: TLSServerSettings(certificateChainFile: cert.chainFile, privateKeyFile: cert.keyFile,
                                         refusedALPN: configuration.rejectALPNSip ? ["sip"] : [])
        ) { endpoint in
            return collected.withLockedValue { cores in
                let core = MetaMockCore(configuration: configuration, directory: directory, secret: secretCopy, shard: cores.count, state: state,
                                        clock: clock, startedAt: startedAt, endpoint: endpoint, logger: logger)
                core.authThrottle = throttle
                core.mediaPorts = mediaPorts
                core.mediaFingerprint = fingerprint
                core.dtlsContext = dtls
                cores.append(NIOLoopBound(core, eventLoop: endpoint.eventLoop))
                return core
            }
        }
        cores = collected.withLockedValue { $0 }
        let all = cores
        for core in cores { try await core.eventLoop.submit { core.value.siblings = all }.get() }
    }

    /// Places a user-initiated call towards the business's SIP server, on the next loop in turn, and returns
    /// once it is over.
    public func placeUserCall(_ request: UICCallRequest) async -> UICCallReport {
        let index = nextLoop.withLockedValue { i in
            defer { i = (i + 1) % cores.count }
            return i
        }
        return await placeUserCall(request, onLoop: index)
    }

    /// Places a user-initiated call from the core of loop `index`.
    public func placeUserCall(_ request: UICCallRequest, onLoop index: Int) async -> UICCallReport {
        let core = cores[index % cores.count]
        return await withCheckedContinuation { continuation in
            core.eventLoop.execute {
                core.value.placeUserCall(request) { continuation.resume(returning: $0) }
            }
        }
    }

    /// Places a user-initiated call from the core running on `loop` (the caller is on that loop);
    /// `completion` runs there. For the load engine, which keeps each call on one loop.
    public func placeUserCall(_ request: UICCallRequest, on loop: any EventLoop, completion: @escaping (UICCallReport) -> Void) {
        loop.preconditionInEventLoop()
        guard let core = cores.first(where: { $0.eventLoop === loop }) else { preconditionFailure("not a loop of this mock") }
        core.value.placeUserCall(request, completion: completion)
    }

    /// Places the calls of a plan at its rate, and returns their reports in order.
    public func run(_ plan: MockUICConfiguration.CallPlan) async -> [UICCallReport] {
        await withTaskGroup(of: (Int, UICCallReport).self) { group in
            let start = ContinuousClock.now
            for i in 0..<plan.count {
                let due = start + .nanoseconds(Int64(Double(i) / plan.rate * 1e9))
                try? await Task.sleep(until: due, clock: .continuous)
                let hold = plan.hold.lowerBound + (plan.hold.upperBound - plan.hold.lowerBound) * Double.random(in: 0...1)
                let request = UICCallRequest(user: plan.users.number(at: i % plan.users.count), business: plan.business, hold: hold,
                                             ctaPayload: plan.ctaPayload, deeplinkPayload: plan.deeplinkPayload)
                group.addTask { (i, await self.placeUserCall(request)) }
            }
            var reports = [UICCallReport?](repeating: nil, count: plan.count)
            for await (i, report) in group { reports[i] = report }
            return reports.compactMap { $0 }
        }
    }

    /// Starts the listeners and returns their addresses.
    public func start(_ listen: MockListenAddresses) async throws -> MockBoundAddresses {
        var bound = MockBoundAddresses()
        if let port = listen.tlsPort {
            bound.tls = try await MockListenError.naming("TLS", listen.host, port) { try await stack.listenStream(host: listen.host, port: port, tls: true) }
        }
        if let port = listen.udpPort {
            bound.udpByLoop = try await MockListenError.naming("UDP", listen.host, port) {
                try await stack.listenUDP(host: listen.host, port: port, sharedPort: !listen.udpPortPerLoop)
            }
            bound.udp = bound.udpByLoop.first
        }
        if let port = listen.tcpPort {
            if port == 0, let udpPort = bound.udp?.port {
                // The same number as UDP when it is free for TCP too (SIP's habit), else any free port.
                do {
                    bound.tcp = try await stack.listenStream(host: listen.host, port: udpPort, tls: false)
                } catch {
                    bound.tcp = try await stack.listenStream(host: listen.host, port: 0, tls: false)
                }
            } else {
                bound.tcp = try await MockListenError.naming("TCP", listen.host, port) { try await stack.listenStream(host: listen.host, port: port, tls: false) }
            }
        }
        var ports: [SIPTransportKind: Int] = [:]
        ports[.tls] = bound.tls?.port
        ports[.udp] = bound.udp?.port
        ports[.tcp] = bound.tcp?.port
        let known = ports
        for core in cores { try await core.eventLoop.submit { core.value.listenPorts = known }.get() }
        return bound
    }

    /// Writes every call to `path` as one JSON line when it ends (the file is created anew). Every loop hands
    /// its ended calls over at least every 200 ms, so a killed mock loses at most that much.
    public func writeLedger(to path: String) async throws {
        let stream = try ResultsStream(path: path, header: "")
        ledgerFile.withLockedValue { $0 = stream }
        for core in cores {
            try await core.eventLoop.submit {
                core.value.ledgerFile = stream
                core.value.ledger.writes = true
                core.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) { task in
                    guard core.value.ledgerFile != nil else { task.cancel(); return }
                    core.value.flushLedger()
                }
            }.get()
        }
    }

    /// Hands every loop's ended calls to the ledger file and closes it.
    public func closeLedger() async {
        guard let stream = ledgerFile.withLockedValue({ file -> ResultsStream? in
            defer { file = nil }
            return file
        }) else { return }
        for core in cores {
            _ = try? await core.eventLoop.submit {
                core.value.flushLedger()
                core.value.ledgerFile = nil
            }.get()
        }
        stream.close()
    }

    /// The calls kept in memory on every loop (those in progress, and at least the most recent 10,000 ended ones per
    /// loop), ordered by start time. The ledger file has every call.
    public func ledger() async throws -> [MockCallRecord] {
        var all: [MockCallRecord] = []
        for core in cores {
            all += try await core.eventLoop.submit { core.value.ledger.records }.get()
        }
        return all.sorted { $0.startedAt < $1.startedAt }
    }

    /// Calls answered and not ended, on every loop.
    public func openCalls() async throws -> [MockCallRecord] {
        var all: [MockCallRecord] = []
        for core in cores { all += try await core.eventLoop.submit { core.value.ledger.openCalls }.get() }
        return all
    }

    /// 407 challenges sent.
    public func challengesSent() async throws -> Int {
        var total = 0
        for core in cores { total += try await core.eventLoop.submit { core.value.challengesSent }.get() }
        return total
    }

    /// What the defences did since the start: connections refused or closed, oversized messages, lockouts.
    public func protectionCounts() async -> MockProtectionCounts {
        let transport = (try? await stack.statistics()) ?? SIPEndpointStatistics()
        let auth = authThrottle.counts
        return MockProtectionCounts(
            connectionsOpen: stack.acceptedConnections, refusedTotal: transport.connectionsRefusedTotal,
            refusedPerSource: transport.connectionsRefusedPerSource, idleClosed: transport.idleConnectionsClosed,
            tlsHandshakeTimeouts: transport.tlsHandshakeTimeouts, oversizedMessages: transport.oversizedMessages,
            malformedMessages: transport.malformedReceived, authLockouts: auth.lockouts, authRefused: auth.refused)
    }

    /// Every loop's counts and calls in progress, for `/metrics`.
    public func metricsSnapshot() async -> MockMetricsSnapshot {
        var snapshot = MockMetricsSnapshot()
        for core in cores {
            guard let part = try? await core.eventLoop.submit({ () -> (MockLedgerTally, [String: Int], Int, Int) in
                let c = core.value
                var active: [String: Int] = [:]
                for call in c.calls.values { active[call.pair.business, default: 0] += 1 }
                for call in c.uicCalls.values { active[call.pair.business, default: 0] += 1 }
                return (c.ledger.tally, active, c.ledger.tally.ended + c.ledger.openCount, c.challengesSent)
            }).get() else { continue }
            snapshot.tally.add(part.0)
            for (k, v) in part.1 { snapshot.activeByBusiness[k, default: 0] += v }
            snapshot.ledgerRecords += part.2
            snapshot.challengesSent += part.3
        }
        snapshot.protection = await protectionCounts()
        if let transport = try? await stack.statistics() {
            snapshot.messagesSent = transport.messagesSent
            snapshot.messagesReceived = transport.messagesReceived
            snapshot.retransmissionsSent = transport.retransmissionsSent
        }
        return snapshot
    }

    public func stop() async {
        await stack.shutdown()
        await closeLedger()
        for file in temporaryFiles { try? FileManager.default.removeItem(atPath: file) }
    }
}
