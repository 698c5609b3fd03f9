import Foundation
import NIOCore
import NIOSSL
import SIPCore

/// Sits after `SIPStreamDecoder` on a TCP or TLS connection: delivers messages to the endpoint, answers
/// CRLF CRLF pings with a CRLF pong (RFC 5626 §3.5.1), and closes the connection on a framing error, since
/// a stream cannot be resynchronised after a bad Content-Length.
final class StreamSIPHandler: ChannelInboundHandler {
    typealias InboundIn = SIPStreamFrame
    typealias OutboundOut = ByteBuffer

    let endpoint: SIPEndpoint
    let transport: SIPTransportKind
    var flow: SIPFlow?

    init(endpoint: SIPEndpoint, transport: SIPTransportKind) {
        self.endpoint = endpoint
        self.transport = transport
    }

    func channelActive(context: ChannelHandlerContext) {
        makeFlow(context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { makeFlow(context) }
    }

    private func makeFlow(_ context: ChannelHandlerContext) {
        guard flow == nil, let remote = context.channel.remoteAddress else { return }
        flow = SIPFlow(transport: transport, channel: context.channel, remote: remote)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let flow else { return }
        switch Self.unwrapInboundIn(data) {
        case .message(let message):
            endpoint.receive(message, flow: flow)
        case .keepAlivePing:
            endpoint.statistics.keepAlivesAnswered += 1
            var pong = context.channel.allocator.buffer(capacity: 2)
            pong.writeStaticString("\r\n")
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endpoint.connectionClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if ProcessInfo.processInfo.environment["WASIM_DEBUG"] != nil { FileHandle.standardError.write(Data("stream error: \(error)\n".utf8)) }
        if let parseError = error as? SIPParseError, let flow {
            endpoint.receiveMalformed(parseError, flow: flow)
        } else {
            endpoint.statistics.transportErrors += 1
            endpoint.lastTransportError = "\(error)"
        }
        context.close(promise: nil)
    }
}
