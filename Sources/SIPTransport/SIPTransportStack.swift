import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
#if canImport(Glibc)
import Glibc
#endif
import SIPCore
import SIPTransaction

/// One SIP endpoint per event loop of a group, the listeners that feed them (UDP, TCP, TLS) and the
/// connector for outgoing stream connections. UDP listens with one socket per loop on the same port
/// (SO_REUSEPORT), so the kernel spreads peers across cores; TCP/TLS connections are spread by the server
/// bootstrap. Each connection stays on its loop, with that loop's endpoint.
public final class SIPTransportStack: Sendable {
    public let group: any EventLoopGroup
    public let advertisedHost: String
    /// Outgoing TCP/TLS connections and the client UDP sockets bind this local address (`--bind`); nil
    /// leaves the source to the kernel's route.
    public let clientBindHost: String?
    private let endpoints: [ObjectIdentifier: NIOLoopBound<SIPEndpoint>]
    private let loops: [any EventLoop]
    private let clientTLS: NIOSSLContext?
    private let serverTLS: NIOSSLContext?
    private let limits: SIPParserLimits
    /// Limits on accepted connections and keep-alives on outgoing ones.
    public let connectionLimits: SIPConnectionLimits
    private let admission: SIPConnectionAdmission
    private let refusedALPN: [String]
    private let listeners: NIOLockedValueBox<[any Channel]> = NIOLockedValueBox([])
    private let boundUDPPorts = NIOLockedValueBox<Set<Int>>([])

    /// Creates the endpoints. `makeHandler` runs once on each loop and returns that loop's TU.
    public init(
        group: any EventLoopGroup, advertisedHost: String, clientBindHost: String? = nil, timers: SIPTimers = .rfc3261,
        limits: SIPParserLimits = .default, connectionLimits: SIPConnectionLimits = .unlimited,
        clientTLS: TLSClientSettings? = nil, serverTLS: TLSServerSettings? = nil,
        makeHandler: @escaping @Sendable (SIPEndpoint) -> (any SIPRequestHandler)?
    ) async throws {
        self.group = group
        self.advertisedHost = advertisedHost
        self.clientBindHost = clientBindHost
        self.limits = limits
        self.connectionLimits = connectionLimits
        self.admission = SIPConnectionAdmission(limits: connectionLimits)
        self.clientTLS = try clientTLS?.makeContext()
        self.serverTLS = try serverTLS?.makeContext()
        self.refusedALPN = serverTLS?.refusedALPN ?? []
        var endpoints: [ObjectIdentifier: NIOLoopBound<SIPEndpoint>] = [:]
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() {
            let bound = try await loop.submit {
                let endpoint = SIPEndpoint(eventLoop: loop, advertisedHost: advertisedHost, timers: timers, limits: limits)
                endpoint.handler = makeHandler(endpoint)
                return NIOLoopBound(endpoint, eventLoop: loop)
            }.get()
            endpoints[ObjectIdentifier(loop)] = bound
            loops.append(loop)
        }
        self.endpoints = endpoints
        self.loops = loops
        for loop in loops {
            let stack = self
            try await loop.submit { stack.endpoints[ObjectIdentifier(loop)]!.value.connector = { destination, endpoint in stack.connect(destination, endpoint: endpoint) } }.get()
        }
    }

    /// The endpoints' loops, in order; a load generator assigns user agents round-robin over them.
    public var eventLoops: [any EventLoop] { loops }

    /// The endpoint of `loop` (use `.value` only on that loop).
    public func endpoint(on loop: any EventLoop) -> NIOLoopBound<SIPEndpoint> {
        endpoints[ObjectIdentifier(loop)]!
    }

    /// Runs `body` on every loop with its endpoint and collects the results.
    public func onEveryEndpoint<T: Sendable>(_ body: @escaping @Sendable (SIPEndpoint) -> T) async throws -> [T] {
        var results: [T] = []
        for loop in loops {
            let bound = endpoint(on: loop)
            results.append(try await loop.submit { body(bound.value) }.get())
        }
        return results
    }

    /// Sums the statistics of every endpoint.
    public func statistics() async throws -> SIPEndpointStatistics {
        var total = SIPEndpointStatistics()
        for s in try await onEveryEndpoint({ $0.statistics }) { total.add(s) }
        return total
    }

    // MARK: - Listening

    /// Binds one UDP socket per loop on `host:port` (port 0 picks one port for all). Returns the address.
    @discardableResult
    public func listenUDP(host: String, port: Int) async throws -> SocketAddress {
        try await listenUDP(host: host, port: port, sharedPort: true)[0]
    }

    /// Binds one UDP socket per loop and returns their addresses in loop order. With `sharedPort` they
    /// share one port (SO_REUSEPORT: the kernel spreads peers over them by address); without, each has a
    /// port of its own, so a peer in this process can send to the socket of its own loop (the embedded mock
    /// and the load generator then stay on one core per call, and every core gets its share).
    public func listenUDP(host: String, port: Int, sharedPort: Bool) async throws -> [SocketAddress] {
        var boundPort = port
        var addresses: [SocketAddress] = []
        for loop in loops {
            let bound = endpoint(on: loop)
            let channel = try await DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_REUSEPORT)), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: 4 * 1024 * 1024)
                .channelOption(.socketOption(.so_sndbuf), value: 4 * 1024 * 1024)
                .datagramReading()
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramSIPHandler(endpoint: bound.value))
                    }
                }
                .bind(host: host, port: boundPort).get()
            if addresses.isEmpty, sharedPort { boundPort = channel.localAddress?.port ?? port }
            addresses.append(channel.localAddress!)
            boundUDPPorts.withLockedValue { _ = $0.insert(channel.localAddress?.port ?? 0) }
            listeners.withLockedValue { $0.append(channel) }
        }
        return addresses
    }

    /// Listens for TCP (`tls: false`) or TLS connections.
    @discardableResult
    public func listenStream(host: String, port: Int, tls: Bool) async throws -> SocketAddress {
        let transport: SIPTransportKind = tls ? .tls : .tcp
        if tls && serverTLS == nil { throw SIPTransportError.noServerCertificate }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 4096)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.admit(channel)
                    try self.addStreamHandlers(channel, transport: transport, serverName: nil, isServer: true)
                }
            }
            .bind(host: host, port: port).get()
        listeners.withLockedValue { $0.append(channel) }
        return channel.localAddress!
    }

    /// Binds this process's client-side UDP sockets (port 0 on each loop) for sending UDP requests.
    public func openClientUDP(host: String = "0.0.0.0") async throws {
        for loop in loops {
            let bound = endpoint(on: loop)
            let channel = try await DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_rcvbuf), value: 4 * 1024 * 1024)
                .channelOption(.socketOption(.so_sndbuf), value: 4 * 1024 * 1024)
                .datagramReading()
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramSIPHandler(endpoint: bound.value))
                    }
                }
                .bind(host: host, port: 0).get()
            boundUDPPorts.withLockedValue { _ = $0.insert(channel.localAddress?.port ?? 0) }
            listeners.withLockedValue { $0.append(channel) }
        }
    }

    /// Takes a place for an accepted connection under `connectionLimits`, or throws (NIO then closes it).
    private func admit(_ channel: any Channel) throws {
        guard let source = channel.remoteAddress?.ipAddressKey else { return }
        if let refusal = admission.admit(source) {
            let endpoint = endpoint(on: channel.eventLoop).value
            switch refusal {
            case .total: endpoint.statistics.connectionsRefusedTotal += 1
            case .perSource: endpoint.statistics.connectionsRefusedPerSource += 1
            }
            throw refusal
        }
        let admission = self.admission
        channel.closeFuture.whenComplete { _ in admission.release(source) }
    }

    /// Accepted stream connections open now.
    public var acceptedConnections: Int { admission.open }

    private func addStreamHandlers(_ channel: any Channel, transport: SIPTransportKind, serverName: String?, isServer: Bool) throws {
        let ops = channel.pipeline.syncOperations
        if transport == .tls {
            if isServer {
                if !refusedALPN.isEmpty { try ops.addHandler(ALPNRejectionHandler(refused: refusedALPN)) }
                try ops.addHandler(NIOSSLServerHandler(context: serverTLS!))
                try ops.addHandler(TLSHandshakeDeadline(timeout: connectionLimits.tlsHandshakeTimeout,
                                                        endpoint: endpoint(on: channel.eventLoop).value))
            } else {
                guard let clientTLS else { throw SIPTransportError.noClientTLS }
                try ops.addHandler(NIOSSLClientHandler(context: clientTLS, serverHostname: serverName))
            }
        }
        try ops.addHandler(ByteToMessageHandler(SIPStreamDecoder(limits: limits)))
        let quiet: StreamSIPHandler.QuietAction?
        if isServer {
            quiet = connectionLimits.idleTimeout.map { .close(after: $0) }
        } else {
            quiet = connectionLimits.keepAliveInterval.map { .ping(every: $0) }
        }
        try ops.addHandler(StreamSIPHandler(endpoint: endpoint(on: channel.eventLoop).value, transport: transport, quiet: quiet))
    }

    /// Opens a stream connection on the endpoint's own loop. For TLS the returned future completes after
    /// the handshake, so a certificate failure is reported as the connection's failure.
    func connect(_ destination: SIPDestination, endpoint: SIPEndpoint) -> EventLoopFuture<any Channel> {
        let loop = endpoint.eventLoop
        let stack = self
        var bootstrap = ClientBootstrap(group: loop)
        if let host = clientBindHost, let local = try? SocketAddress(ipAddress: host, port: 0) { bootstrap = bootstrap.bind(to: local) }
        let connected = bootstrap
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try stack.addStreamHandlers(channel, transport: destination.transport,
                                                serverName: destination.serverName ?? destination.host, isServer: false)
                }
            }
            .connect(host: destination.host, port: destination.port)
        guard destination.transport == .tls else { return connected }
        return connected.flatMap { channel in
            channel.pipeline.handler(type: NIOSSLClientHandler.self).flatMap { tlsHandler in
                let promise = channel.eventLoop.makePromise(of: (any Channel).self)
                do {
                    // After the TLS handler: it fires the handshake event towards the tail.
                    try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: promise), position: .after(tlsHandler))
                } catch {
                    promise.fail(error)
                }
                // A handshake that never completes must fail the connection, not hang its callers.
                let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) {
                    promise.fail(SIPTransportError.handshakeTimeout)
                    channel.close(promise: nil)
                }
                promise.futureResult.whenComplete { _ in timeout.cancel() }
                return promise.futureResult
            }
        }
    }

    /// The local ports of this stack's UDP sockets (listeners and client sockets).
    public var udpPorts: Set<Int> { boundUDPPorts.withLockedValue { $0 } }

    /// Closes listeners and pooled connections.
    public func shutdown() async {
        let channels = listeners.withLockedValue { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in channels { try? await channel.close() }
        _ = try? await onEveryEndpoint { $0.closeConnections() }
    }
}

extension DatagramBootstrap {
    /// How every SIP UDP socket reads: up to `SIPDatagramReading.batch` datagrams per `recvmmsg` into one
    /// reused buffer (a slice of 64 KB each, the largest UDP payload), one batch per readiness: the socket
    /// is level-triggered, so a fuller queue wakes the loop again, and no `recvmsg` is spent only to learn
    /// that the queue is empty.
    func datagramReading() -> DatagramBootstrap {
        self.channelOption(.datagramVectorReadMessageCount, value: SIPDatagramReading.batch)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: SIPDatagramReading.batch * 65_536))
    }
}

/// Datagrams read per system call.
enum SIPDatagramReading {
    static let batch = 16
}

/// Errors of the transport stack itself.
public enum SIPTransportError: Error, CustomStringConvertible {
    case noServerCertificate
    case noClientTLS
    case handshakeTimeout

    public var description: String {
        switch self {
        case .noServerCertificate: return "TLS listener needs a server certificate"
        case .noClientTLS: return "TLS destination needs client TLS settings"
        case .handshakeTimeout: return "TLS handshake did not complete within 10 s"
        }
    }
}

/// Completes a promise when the TLS handshake finishes (or fails), so connection setup includes it.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let promise: EventLoopPromise<any Channel>
    var done = false

    init(promise: EventLoopPromise<any Channel>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !done {
            done = true
            promise.succeed(context.channel)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        // Pass it on: the stream handler counts it and closes the connection.
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }
}
