#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import NIOSSL

/// A transport failure in the few words a results file shows ("connection refused", "TLS handshake
/// failed: certificate verify failed"), instead of an error's debug text; the destination is named by the
/// caller.
public enum TransportFailure {
    public static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .handshakeFailed(let inner): return "TLS handshake failed: \(certificateReason(String(describing: inner)))"
            case .uncleanShutdown: return "TLS connection closed without close_notify"
            default: return "TLS failed: \(ssl)"
            }
        }
        if let ssl = error as? BoringSSLError { return "TLS handshake failed: \(certificateReason(String(describing: ssl)))" }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return describe(first.error)
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case ETIMEDOUT: return "connection timed out"
            case EHOSTUNREACH: return "no route to host"
            case ENETUNREACH: return "network unreachable"
            default: break
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connection timed out" }
        // What is left (a TLS library's or a wrapped error's text) is matched on its words.
        for (needle, phrase) in [("Connection refused", "connection refused"), ("errno: 111", "connection refused"),
                                 ("Connection reset", "connection reset"), ("errno: 104", "connection reset"),
                                 ("No route to host", "no route to host"), ("Network is unreachable", "network unreachable"),
                                 ("connectTimeout", "connection timed out"), ("timed out", "connection timed out"),
                                 ("certificate", "TLS handshake failed: " + certificateReason(text))] where text.contains(needle) {
            return phrase
        }
        return text.count > 120 ? String(text.prefix(120)) + "…" : text
    }

    /// The certificate part of a TLS error, when there is one.
    static func certificateReason(_ text: String) -> String {
        if let start = text.range(of: "Couldn't find "), let end = text.range(of: " in certificate", range: start.upperBound..<text.endIndex) {
            return "certificate is not for \(text[start.upperBound..<end.lowerBound])"
        }
        for (needle, phrase) in [("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"), ("certificate verify failed", "certificate verify failed"),
                                 ("unable to get local issuer", "certificate from an unknown CA"), ("hostname", "certificate is for another host"),
                                 ("expired", "certificate expired")] where text.contains(needle) {
            return phrase
        }
        return text.count > 100 ? String(text.prefix(100)) + "…" : text
    }
}
