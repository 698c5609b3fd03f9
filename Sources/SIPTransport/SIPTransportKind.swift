import NIOCore

/// The transport protocols wasim speaks (RFC 3261 §18; TLS per §26.2).
public enum SIPTransportKind: String, Sendable, Hashable, Codable, CaseIterable {
    case udp, tcp, tls

    /// Stream transports frame by Content-Length and need no retransmission timers.
    public var isReliable: Bool { self != .udp }

    /// The token used in Via (`SIP/2.0/TLS`).
    public var viaToken: String { rawValue.uppercased() }

    public var defaultPort: Int { self == .tls ? 5061 : 5060 }

    public init?(token: String) { self.init(rawValue: token.lowercased()) }
}

/// Where to send a request: a transport, host and port, plus the TLS name to verify.
public struct SIPDestination: Sendable, Hashable, CustomStringConvertible {
    public var transport: SIPTransportKind
    public var host: String
    public var port: Int
    /// The name checked against the server certificate and sent as SNI (TLS only).
    public var serverName: String?
    /// Distinguishes separate connections to one address (a user agent that owns its own connection).
    public var connectionTag: Int

    public init(transport: SIPTransportKind, host: String, port: Int, serverName: String? = nil, connectionTag: Int = 0) {
        self.transport = transport
        self.host = host
        self.port = port
        self.serverName = serverName
        self.connectionTag = connectionTag
    }

    public var description: String { "\(transport.rawValue):\(host):\(port)" }
}
