import NIOCore
import NIOTLS

/// Closes an accepted TLS connection whose handshake has not finished within the deadline (a client that
/// connects and stalls holds a descriptor and a TLS state for nothing). Removes itself once the handshake
/// completes.
final class TLSHandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let timeout: TimeAmount
    let endpoint: SIPEndpoint
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, endpoint: SIPEndpoint) {
        self.timeout = timeout
        self.endpoint = endpoint
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.deadline = nil
            guard context.channel.isActive else { return }
            handler.endpoint.statistics.tlsHandshakeTimeouts += 1
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            deadline?.cancel()
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}
