import Foundation
import Logging
import NIOCore
import NIOSSL
import SIPCore

/// Sits after `SIPStreamDecoder` on a TCP or TLS connection: delivers messages to the endpoint, answers
/// CRLF CRLF pings with a CRLF pong (RFC 5626 §3.5.1), and closes the connection on a framing error, since
/// a stream cannot be resynchronised after a bad Content-Length. On an accepted connection it closes one
/// that sends no complete message within the idle timeout (a slowloris); on an outgoing one it sends a
/// CRLF CRLF keep-alive when nothing has arrived for the keep-alive interval.
final class StreamSIPHandler: ChannelInboundHandler {
    typealias InboundIn = SIPStreamFrame
    typealias OutboundOut = ByteBuffer

    /// What the activity timer does when the connection has been quiet for its interval.
    enum QuietAction {
        /// Accepted connection: close it.
        case close(after: TimeAmount)
        /// Outgoing connection: send a keep-alive ping.
        case ping(every: TimeAmount)
    }

    let endpoint: SIPEndpoint
    let transport: SIPTransportKind
    let quiet: QuietAction?
    var flow: SIPFlow?
    /// Complete frames (messages or pings) received since the activity check last ran.
    private var framesSinceCheck = 0
    /// Activity checks in a row that found no frame.
    private var quietChecks: Int64 = 0
    private var activityCheck: RepeatedTask?

    init(endpoint: SIPEndpoint, transport: SIPTransportKind, quiet: QuietAction? = nil) {
        self.endpoint = endpoint
        self.transport = transport
        self.quiet = quiet
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
        startActivityChecks(context)
    }

    private var quietInterval: TimeAmount {
        switch quiet {
        case .close(let after): return after
        case .ping(let every): return every
        case nil: return .zero
        }
    }

    /// Checks run `checksPerInterval` times per quiet interval; the action comes after that many checks in
    /// a row found no frame, so between one interval and a quarter more after the last frame. Frames only
    /// bump a counter: no clock read and no timer move per message.
    static let checksPerInterval: Int64 = 4

    private func startActivityChecks(_ context: ChannelHandlerContext) {
        guard quiet != nil else { return }
        let step = TimeAmount.nanoseconds(max(1, quietInterval.nanoseconds / Self.checksPerInterval))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        activityCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: step, delay: step) { _ in
            bound.value.0.activityCheckFired(bound.value.1)
        }
    }

    private func activityCheckFired(_ context: ChannelHandlerContext) {
        guard let quiet, context.channel.isActive else { return }
        if framesSinceCheck > 0 {
            framesSinceCheck = 0
            quietChecks = 0
            return
        }
        quietChecks += 1
        guard quietChecks >= Self.checksPerInterval else { return }
        quietChecks = 0
        switch quiet {
        case .close:
            endpoint.statistics.idleConnectionsClosed += 1
            activityCheck?.cancel()
            activityCheck = nil
            context.close(promise: nil)
        case .ping:
            endpoint.statistics.keepAlivesSent += 1
            var ping = context.channel.allocator.buffer(capacity: 4)
            ping.writeStaticString("\r\n\r\n")
            context.writeAndFlush(Self.wrapOutboundOut(ping), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let flow else { return }
        framesSinceCheck &+= 1
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
        activityCheck?.cancel()
        activityCheck = nil
        endpoint.connectionClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        transportLogger.debug("stream error", metadata: ["error": "\(error)", "peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        if let parseError = error as? SIPParseError, let flow {
            endpoint.receiveMalformed(parseError, flow: flow)
        } else {
            endpoint.statistics.transportErrors += 1
            endpoint.lastTransportError = "\(error)"
        }
        context.close(promise: nil)
    }
}

/// The transports' log (`wasim.transport`): connection errors at debug (`--log-level debug`).
let transportLogger = Logger(label: "wasim.transport")
