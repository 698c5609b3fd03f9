import NIOCore
import NIOPosix

/// Runs a `MediaLeg` on a UDP socket of its own on one event loop: datagrams in, the leg's datagrams out
/// to its remote address, and one scheduled wake at the leg's next timer (RTP frame, ICE check, DTLS
/// retransmission, media watchdog). Everything happens on `eventLoop`; no locks.
public final class MediaSocket {
    /// The leg; set before `start()` (a business binds its port for the offer before it knows the answer).
    public var leg: MediaLeg?
    public let eventLoop: any EventLoop
    public private(set) var localPort: Int = 0
    var channel: (any Channel)?
    var wake: Scheduled<Void>?
    var wakeAt: Double?
    /// The loop's media timers, when the socket shares them; else it schedules a task of its own.
    let scheduler: MediaScheduler?
    /// The scheduler slot this socket is filed under.
    var wakeSlot: UInt64?
    var closed = false
    /// Runs once when the socket closes (a fixed port goes back to its pool).
    public var onClose: (() -> Void)?
    /// The leg's remote address, parsed once per change (not per packet).
    var cachedRemote: (address: [UInt8], port: UInt16, socketAddress: SocketAddress)?
    /// Called on the loop for each event of the leg.
    public var onEvent: ((MediaLeg.Event) -> Void)?

    public init(leg: MediaLeg?, eventLoop: any EventLoop, scheduler: MediaScheduler? = nil) {
        self.leg = leg
        self.eventLoop = eventLoop
        self.scheduler = scheduler
    }

    /// Monotonic seconds, the leg's time base.
    public static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    /// Binds `host:0` and returns the port (to put in the SDP). Call on `eventLoop`.
    /// Binds `host:port` (0: an ephemeral port) and returns the port.
    public func bind(host: String = "127.0.0.1", port: Int = 0) -> EventLoopFuture<Int> {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        return DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MediaDatagramHandler(socket: bound))
                }
            }
            .bind(host: host, port: port)
            .map { channel in
                let socket = bound.value
                socket.channel = channel
                socket.localPort = channel.localAddress?.port ?? 0
                return socket.localPort
            }
    }

    /// Starts the leg (the call was answered).
    public func start() {
        eventLoop.preconditionInEventLoop()
        guard let leg else { return }
        send(leg.start(now: Self.now()))
        afterStep()
    }

    public func close() {
        closed = true
        let hook = onClose
        onClose = nil
        hook?()
        wake?.cancel()
        channel?.close(promise: nil)
        channel = nil
    }

    func receive(_ bytes: [UInt8], from address: SocketAddress) {
        guard !closed, let leg, let port = address.port, case .v4(let v4) = address else { return }
        let ip = withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }
        send(leg.receive(bytes, from: ip, port: UInt16(port), now: Self.now()))
        afterStep()
    }

    /// The scheduler's slot came: the leg's timers run, unless the socket closed or moved to another slot.
    func slotDue(_ slot: UInt64) {
        guard wakeSlot == slot else { return }
        wakeSlot = nil
        guard !closed, let leg else { return }
        send(leg.due(now: Self.now()))
        afterStep()
    }

    private func send(_ datagrams: [[UInt8]]) {
        guard let channel, let leg, !datagrams.isEmpty else { return }
        let remote = leg.remote
        let address: SocketAddress
        if let cached = cachedRemote, cached.address == remote.address, cached.port == remote.port {
            address = cached.socketAddress
        } else {
            guard let parsed = try? SocketAddress(ipAddress: remote.address.map(String.init).joined(separator: "."), port: Int(remote.port)) else { return }
            cachedRemote = (remote.address, remote.port, parsed)
            address = parsed
        }
        for datagram in datagrams {
            var buffer = channel.allocator.buffer(capacity: datagram.count)
            buffer.writeBytes(datagram)
            channel.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        }
        channel.flush()
    }

    private func afterStep() {
        guard let leg else { return }
        for event in leg.takeEvents() { onEvent?(event) }
        guard !closed, let next = leg.nextWake else { return }
        if let scheduler {
            let slot = MediaScheduler.slot(forSeconds: next)
            if let wakeSlot, wakeSlot <= slot { return }
            wakeSlot = scheduler.wake(self, atSeconds: next)
            return
        }
        if let wakeAt, wakeAt <= next, wake != nil { return }
        wake?.cancel()
        wakeAt = next
        let delay = max(0, next - Self.now())
        wake = eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [self] in
            wake = nil
            wakeAt = nil
            guard !closed, let leg = self.leg else { return }
            send(leg.due(now: Self.now()))
            afterStep()
        }
    }
}

/// Feeds a media socket's datagrams to it.
final class MediaDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let socket: NIOLoopBound<MediaSocket>

    init(socket: NIOLoopBound<MediaSocket>) { self.socket = socket }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let bytes = envelope.data.getBytes(at: envelope.data.readerIndex, length: envelope.data.readableBytes) ?? []
        socket.value.receive(bytes, from: envelope.remoteAddress)
    }
}
