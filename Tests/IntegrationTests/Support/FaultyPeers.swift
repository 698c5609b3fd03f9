import Foundation
import NIOCore
import NIOPosix
import SIPCore

/// A business SBC that breaks after answering, for the generator's fault tests: it answers every INVITE
/// with 200 OK and then, by `fault`, never answers the BYE, or resets the connection when the ACK comes and
/// stops listening (an SBC that crashes mid-call).
final class BrokenUAS: @unchecked Sendable {
    enum Fault { case ignoresBye, resetsAfterAck }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var listener: (any Channel)?
    private(set) var port = 0
    let byesSeen = NIOLockedCounter()

    static func start(udp: Bool, fault: Fault) async throws -> BrokenUAS {
        let uas = BrokenUAS()
        if udp {
            uas.listener = try await DatagramBootstrap(group: uas.group)
                .channelInitializer { $0.pipeline.addHandler(DatagramHandler(uas: uas, fault: fault)) }
                .bind(host: "127.0.0.1", port: 0).get()
        } else {
            uas.listener = try await ServerBootstrap(group: uas.group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.addHandlers([ByteToMessageHandler(SIPStreamDecoder()), StreamHandler(uas: uas, fault: fault)])
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }
        uas.port = uas.listener!.localAddress!.port!
        return uas
    }

    func stopListening() { listener?.close(promise: nil) }

    func stop() async {
        try? await listener?.close()
        try? await group.shutdownGracefully()
    }

    static let answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

    /// The fault itself, the same over UDP and TCP: `reply` sends a response back where the request came from.
    func handle(_ request: SIPRequest, udp: Bool, fault: Fault, context: ChannelHandlerContext, reply: (SIPResponse) -> Void) {
        switch request.method {
        case .invite:
            var ok = SIPResponse(to: request, status: 200, toTag: "broken\(UInt32.random(in: 1...UInt32.max))")
            ok.headers.add(.contact, "<sip:uas@127.0.0.1:\(port);transport=\(udp ? "udp" : "tcp")>")
            ok.headers.add(.contentType, "application/sdp")
            ok.body = ByteBuffer(string: BrokenUAS.answer)
            reply(ok)
        case .ack where fault == .resetsAfterAck:
            // SO_LINGER 0: the close sends a reset, as a crashing host's kernel would.
            stopListening()
            let channel = context.channel
            if let provider = channel as? any SocketOptionProvider {
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                channel.close(promise: nil)
            }
        case .bye:
            byesSeen.increment()
        default:
            break
        }
    }

    final class DatagramHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let uas: BrokenUAS
        let fault: Fault

        init(uas: BrokenUAS, fault: Fault) {
            self.uas = uas
            self.fault = fault
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard case .request(let request)? = try? SIPMessageParser.parseDatagram(envelope.data) else { return }
            uas.handle(request, udp: true, fault: fault, context: context) { response in
                context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: SIPSerializer.bytes(.response(response)))), promise: nil)
            }
        }
    }

    final class StreamHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = SIPStreamFrame
        typealias OutboundOut = ByteBuffer
        let uas: BrokenUAS
        let fault: Fault

        init(uas: BrokenUAS, fault: Fault) {
            self.uas = uas
            self.fault = fault
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .message(.request(let request)) = unwrapInboundIn(data) else { return }
            uas.handle(request, udp: false, fault: fault, context: context) { response in
                context.writeAndFlush(wrapOutboundOut(SIPSerializer.bytes(.response(response))), promise: nil)
            }
        }
    }
}

/// A thread-safe counter for test peers.
final class NIOLockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// A UDP path that loses datagrams: it listens on a port of its own and relays each client's datagrams to
/// `upstream` (from a socket per client) and the answers back, dropping `lossRate` of them each way with a
/// seeded generator. This machine's kernel has no `netem`, so loss is made here.
final class LossyUDPProxy: @unchecked Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var front: (any Channel)?
    private(set) var port = 0
    let relayed = NIOLockedCounter()
    let dropped = NIOLockedCounter()

    static func start(upstream: SocketAddress, lossRate: Double, seed: UInt64) async throws -> LossyUDPProxy {
        let proxy = LossyUDPProxy()
        let state = State(upstream: upstream, lossRate: lossRate, seed: seed, proxy: proxy)
        proxy.front = try await DatagramBootstrap(group: proxy.group)
            .channelInitializer { $0.pipeline.addHandler(Front(state: state)) }
            .bind(host: "127.0.0.1", port: 0).get()
        proxy.port = proxy.front!.localAddress!.port!
        return proxy
    }

    func stop() async {
        try? await front?.close()
        try? await group.shutdownGracefully()
    }

    /// Everything the relay keeps, touched on its one event loop only.
    final class State: @unchecked Sendable {
        let upstream: SocketAddress
        let lossRate: Double
        var random: UInt64
        let proxy: LossyUDPProxy
        var backs: [SocketAddress: any Channel] = [:]
        var pending: [SocketAddress: [ByteBuffer]] = [:]

        init(upstream: SocketAddress, lossRate: Double, seed: UInt64, proxy: LossyUDPProxy) {
            self.upstream = upstream
            self.lossRate = lossRate
            self.random = seed
            self.proxy = proxy
        }

        /// Whether to drop the next datagram (xorshift64*: the same seed loses the same datagrams).
        func lose() -> Bool {
            random ^= random >> 12
            random ^= random << 25
            random ^= random >> 27
            let drawn = Double((random &* 2685821657736338717) >> 11) / Double(1 << 53)
            if drawn < lossRate { proxy.dropped.increment(); return true }
            proxy.relayed.increment()
            return false
        }
    }

    final class Front: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let state: State

        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard !state.lose() else { return }
            let client = envelope.remoteAddress
            if let back = state.backs[client] {
                back.writeAndFlush(AddressedEnvelope(remoteAddress: state.upstream, data: envelope.data), promise: nil)
                return
            }
            if state.pending[client] != nil {
                state.pending[client]!.append(envelope.data)
                return
            }
            state.pending[client] = [envelope.data]
            let front = context.channel
            let state = self.state
            DatagramBootstrap(group: context.eventLoop)
                .channelInitializer { $0.pipeline.addHandler(Back(state: state, front: front, client: client)) }
                .bind(host: "127.0.0.1", port: 0)
                .whenSuccess { back in
                    state.backs[client] = back
                    for data in state.pending.removeValue(forKey: client) ?? [] {
                        back.writeAndFlush(AddressedEnvelope(remoteAddress: state.upstream, data: data), promise: nil)
                    }
                }
        }
    }

    final class Back: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let state: State
        let front: any Channel
        let client: SocketAddress

        init(state: State, front: any Channel, client: SocketAddress) {
            self.state = state
            self.front = front
            self.client = client
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard !state.lose() else { return }
            front.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: envelope.data), promise: nil)
        }
    }
}
