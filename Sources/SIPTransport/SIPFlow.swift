import NIOCore

/// One path to a peer: the channel a message arrived on (or was sent on) and, for UDP, the peer address.
/// Responses go back on the flow of their request (RFC 3261 §18.2.2); a mock reuses the business's TLS
/// connection for its own requests (RFC 5923 `alias`).
public struct SIPFlow: Sendable, Hashable {
    public let transport: SIPTransportKind
    public let channel: any Channel
    public let remote: SocketAddress

    public init(transport: SIPTransportKind, channel: any Channel, remote: SocketAddress) {
        self.transport = transport
        self.channel = channel
        self.remote = remote
    }

    public static func == (a: SIPFlow, b: SIPFlow) -> Bool {
        a.transport == b.transport && ObjectIdentifier(a.channel) == ObjectIdentifier(b.channel) && a.remote == b.remote
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(transport)
        hasher.combine(ObjectIdentifier(channel))
        hasher.combine(remote)
    }

    /// Writes bytes on this flow: as a datagram to `remote` on UDP, on the connection otherwise.
    public func write(_ bytes: ByteBuffer) {
        enqueue(bytes)
        channel.flush()
    }

    /// Queues bytes on the channel without flushing: the endpoint flushes once per batch, so NIO can send
    /// several datagrams with one `sendmmsg` (or stream writes with one `writev`).
    func enqueue(_ bytes: ByteBuffer) {
        if transport == .udp {
            channel.write(AddressedEnvelope(remoteAddress: remote, data: bytes), promise: nil)
        } else {
            channel.write(bytes, promise: nil)
        }
    }
}
