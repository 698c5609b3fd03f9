import NIOCore

/// Answers a TLS ClientHello that offers a refused ALPN protocol with a fatal `no_application_protocol`
/// alert (120) and closes, as Meta's `wa.meta.vc` does for ALPN `sip` (spec §1, livekit/sip#685). Sits in
/// front of the TLS handler, reads only the first handshake record, then gets out of the way.
///
///     record:    type 0x16 | version (2) | length (2)
///     handshake: type 0x01 | length (3) | version (2) | random (32) | session id | cipher suites |
///                compression methods | extensions (2-byte length) ... ALPN = extension 0x0010
final class ALPNRejectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let refused: Set<String>
    private var buffered: ByteBuffer?
    private var decided = false

    init(refused: [String]) { self.refused = Set(refused) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { context.fireChannelRead(data); return }
        var incoming = Self.unwrapInboundIn(data)
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        switch Self.offeredProtocols(buffered!) {
        case .needMore:
            if buffered!.readableBytes > 16_389 { pass(context) }  // larger than one record: not ours to judge
        case .notAClientHello:
            pass(context)
        case .protocols(let offered):
            if !refused.isDisjoint(with: offered) {
                decided = true
                var alert = context.channel.allocator.buffer(capacity: 7)
                alert.writeBytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 120])  // fatal no_application_protocol
                // Close once the alert is written (on this loop: the future completes on the channel's loop).
                let channel = context.channel
                context.writeAndFlush(Self.wrapOutboundOut(alert)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                pass(context)
            }
        }
    }

    private func pass(_ context: ChannelHandlerContext) {
        decided = true
        if let buffered { context.fireChannelRead(Self.wrapInboundOut(buffered)) }
        buffered = nil
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    enum Inspection: Equatable {
        case needMore
        case notAClientHello
        case protocols(Set<String>)
    }

    /// The ALPN protocols offered in the ClientHello at the start of `buffer`.
    static func offeredProtocols(_ buffer: ByteBuffer) -> Inspection {
        var b = buffer
        guard let type = b.readInteger(as: UInt8.self) else { return .needMore }
        guard type == 0x16 else { return .notAClientHello }
        guard let _ = b.readInteger(as: UInt16.self), let length = b.readInteger(as: UInt16.self) else { return .needMore }
        guard b.readableBytes >= Int(length) else { return .needMore }
        guard var hs = b.readSlice(length: Int(length)), hs.readInteger(as: UInt8.self) == 0x01,
              let hsLength = hs.readBytes(length: 3)
        else { return .notAClientHello }
        let bodyLength = Int(hsLength[0]) << 16 | Int(hsLength[1]) << 8 | Int(hsLength[2])
        // A ClientHello fragmented over several records is passed to the TLS handler unjudged.
        guard hs.readableBytes >= bodyLength else { return .notAClientHello }
        hs.moveReaderIndex(forwardBy: 2 + 32)
        guard let sid = hs.readInteger(as: UInt8.self), hs.readSlice(length: Int(sid)) != nil,
              let suites = hs.readInteger(as: UInt16.self), hs.readSlice(length: Int(suites)) != nil,
              let compression = hs.readInteger(as: UInt8.self), hs.readSlice(length: Int(compression)) != nil
        else { return .notAClientHello }
        guard let extLength = hs.readInteger(as: UInt16.self), var exts = hs.readSlice(length: Int(extLength)) else {
            return .protocols([])
        }
        while let extType = exts.readInteger(as: UInt16.self), let len = exts.readInteger(as: UInt16.self),
              var ext = exts.readSlice(length: Int(len))
        {
            guard extType == 0x0010 else { continue }
            var offered = Set<String>()
            guard let listLength = ext.readInteger(as: UInt16.self), var list = ext.readSlice(length: Int(listLength)) else { break }
            while let n = list.readInteger(as: UInt8.self), let name = list.readString(length: Int(n)) { offered.insert(name) }
            return .protocols(offered)
        }
        return .protocols([])
    }
}
