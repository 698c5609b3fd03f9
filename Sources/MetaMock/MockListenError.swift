#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// A listener of the mock could not be opened: which transport, address and port, and why ("address
/// already in use"), instead of a bare `bind(...)` errno.
public struct MockListenError: Error, CustomStringConvertible {
    public var transport: String
    public var host: String
    public var port: Int
    public var reason: String

    public init(transport: String, host: String, port: Int, reason: String) {
        self.transport = transport
        self.host = host
        self.port = port
        self.reason = reason
    }

    public var description: String {
        "cannot listen for \(transport) on \(host):\(port): \(reason)" + (reason.contains("in use") ? " (another process holds the port: stop it, or choose another port)" : "")
    }

    /// Runs `open`, turning its failure into a `MockListenError` that names the listener.
    static func naming<T>(_ transport: String, _ host: String, _ port: Int, _ open: () async throws -> T) async throws -> T {
        do { return try await open() } catch {
            throw MockListenError(transport: transport, host: host, port: port, reason: reason(of: error))
        }
    }

    /// Why a bind failed, in words ("address already in use").
    public static func reason(of error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        switch error.errnoCode {
        case EADDRINUSE: return "address already in use"
        case EADDRNOTAVAIL: return "no such local address"
        case EACCES: return "permission denied (ports below 1024 need root)"
        default: return "\(error)"
        }
    }
}
