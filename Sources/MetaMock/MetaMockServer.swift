import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SIPTransaction
import SIPTransport
import WasimCerts

/// Where the mock listens. Meta's endpoint is TLS on 5061; UDP and TCP are for lab peers such as Debian's
/// SIPp, which has no TLS.
public struct MockListenAddresses: Sendable, Hashable {
    public var host: String
    public var tlsPort: Int?
    public var udpPort: Int?
    public var tcpPort: Int?

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

    public init(configuration: MockConfiguration = .default, group: any EventLoopGroup, certsDirectory: String,
                timers: SIPTimers = .rfc3261, clock: MockClock = .system,
                log: @escaping @Sendable (String) -> Void = { _ in }) async throws
    {
        self.configuration = configuration
        let authority = TestCertificateAuthority(directory: certsDirectory)
        let issued = try authority.ensure()
        guard let cert = issued[configuration.domain] ?? (try? authority.issue(host: configuration.domain)) else {
            throw CertificateError.cannotWrite(authority.chainFile(for: configuration.domain))
        }
        certificates = cert
        caFile = authority.caFile
        var secret = [UInt8](repeating: 0, count: 32)
        for i in secret.indices { secret[i] = UInt8.random(in: 0...255) }
        let secretCopy = secret
        let collected = NIOLockedValueBox<[NIOLoopBound<MetaMockCore>]>([])
        let state = MockCallState()
        self.state = state
        let startedAt = clock.wallNow()
        stack = try await SIPTransportStack(
            group: group, advertisedHost: configuration.domain == "wa.meta.vc" ? "127.0.0.1" : configuration.domain,
            timers: timers,
            serverTLS: TLSServerSettings(certificateChainFile: cert.chainFile, privateKeyFile: cert.keyFile,
                                         refusedALPN: configuration.rejectALPNSip ? ["sip"] : [])
        ) { endpoint in
            return collected.withLockedValue { cores in
                let core = MetaMockCore(configuration: configuration, secret: secretCopy, shard: cores.count, state: state,
                                        clock: clock, startedAt: startedAt, log: log)
                cores.append(NIOLoopBound(core, eventLoop: endpoint.eventLoop))
                return core
            }
        }
        cores = collected.withLockedValue { $0 }
    }

    /// Starts the listeners and returns their addresses.
    public func start(_ listen: MockListenAddresses) async throws -> MockBoundAddresses {
        var bound = MockBoundAddresses()
        if let port = listen.tlsPort { bound.tls = try await stack.listenStream(host: listen.host, port: port, tls: true) }
        if let port = listen.udpPort { bound.udp = try await stack.listenUDP(host: listen.host, port: port) }
        if let port = listen.tcpPort {
            bound.tcp = try await stack.listenStream(host: listen.host, port: port == 0 ? (bound.udp?.port ?? 0) : port, tls: false)
        }
        return bound
    }

    /// The ledger of every loop, ordered by start time.
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

    public func stop() async { await stack.shutdown() }
}
