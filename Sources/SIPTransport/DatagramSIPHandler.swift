import NIOCore
import SIPCore

/// Reads SIP datagrams (RFC 3261 §18.3 framing) and hands them to the loop's endpoint. A malformed datagram
/// is dropped and counted, never fatal to the socket.
final class DatagramSIPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let endpoint: SIPEndpoint

    init(endpoint: SIPEndpoint) { self.endpoint = endpoint }

    func channelActive(context: ChannelHandlerContext) {
        endpoint.udpChannel = context.channel
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let flow = SIPFlow(transport: .udp, channel: context.channel, remote: envelope.remoteAddress)
        do {
            guard let message = try SIPMessageParser.parseDatagram(envelope.data, limits: endpoint.limits) else { return }
            endpoint.receive(message, flow: flow)
        } catch {
            endpoint.receiveMalformed(error, flow: flow)
        }
    }

    /// The socket has no more datagrams for now: the answers to this batch leave together.
    func channelReadComplete(context: ChannelHandlerContext) {
        endpoint.flushPending()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here on UDP; the socket stays open.
        endpoint.statistics.transportErrors += 1
    }
}
