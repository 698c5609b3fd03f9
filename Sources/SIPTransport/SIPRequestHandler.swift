import NIOCore
import SIPCore
import SIPTransaction

/// Identifies a server transaction so that its TU can respond later (after a ring delay, say).
public typealias ServerTransactionID = TransactionKey

/// What a client transaction reports to the code that sent the request.
public enum ClientTransactionEvent: Sendable {
    /// A provisional or final response (and, for INVITE, 2xx retransmissions while Accepted).
    case response(SIPResponse)
    /// Timer B or F fired: treat as 408 (RFC 3261 §8.1.3.1).
    case timeout
    /// The transport failed (connect, TLS handshake, closed connection): treat as 503 (RFC 3261 §8.1.3.1).
    case transportError(String)
}

/// The transaction user above an endpoint. All calls arrive on the endpoint's event loop.
public protocol SIPRequestHandler: AnyObject {
    /// A new request with its server transaction. Answer with `endpoint.respond(_:to:)`, now or later.
    func endpoint(_ endpoint: SIPEndpoint, didReceive request: SIPRequest, transaction: ServerTransactionID, flow: SIPFlow)
    /// An ACK that no transaction absorbs: the ACK for a 2xx (RFC 3261 §13.3.1.4, RFC 6026).
    func endpoint(_ endpoint: SIPEndpoint, didReceiveAck request: SIPRequest, flow: SIPFlow)
    /// A CANCEL, already answered 200 when `invite` is a proceeding INVITE transaction (else 481, RFC 3261
    /// §9.2). The TU answers that INVITE with 487.
    func endpoint(_ endpoint: SIPEndpoint, didReceiveCancel request: SIPRequest, invite: ServerTransactionID?, flow: SIPFlow)
    /// An INVITE server transaction ended without the ACK of its final response (Timer H).
    func endpoint(_ endpoint: SIPEndpoint, ackTimeoutFor transaction: ServerTransactionID)
}

extension SIPRequestHandler {
    public func endpoint(_ endpoint: SIPEndpoint, didReceiveAck request: SIPRequest, flow: SIPFlow) {}
    public func endpoint(_ endpoint: SIPEndpoint, didReceiveCancel request: SIPRequest, invite: ServerTransactionID?, flow: SIPFlow) {}
    public func endpoint(_ endpoint: SIPEndpoint, ackTimeoutFor transaction: ServerTransactionID) {}
}
