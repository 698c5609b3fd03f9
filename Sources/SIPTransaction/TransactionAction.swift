import NIOCore
import SIPCore

/// What a transaction asks its owner to do. Machines never do I/O themselves.
public enum TransactionAction: Sendable, Hashable {
    /// Send (or re-send) this message on the transaction's transport.
    case send(SIPMessage)
    /// Pass a response up to the transaction user (client transactions).
    case deliverResponse(SIPResponse)
    /// Pass an ACK for a 2xx up to the transaction user (INVITE server, RFC 6026 Accepted state).
    case deliverAck(SIPRequest)
    /// The transaction timed out (Timer B, F or H); the TU treats it as a 408 (RFC 3261 §8.1.3.1).
    case timeout(SIPTimerName)
    /// The transport failed; the TU treats it as a 503 (RFC 3261 §8.1.3.1).
    case transportError
    /// The transaction is over; its owner may forget it.
    case terminated
}
