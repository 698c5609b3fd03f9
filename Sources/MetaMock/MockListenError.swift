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

    public var description: String {
        "cannot listen for \(transport) on \(host):\(port): \(reason)" + (reason.contains("in use") ? " (another process holds the port: stop it, or choose another port)" : "")
    }

    /// Runs `open`, turning its failure into a `MockListenError` that names the listener.
    static func naming<T>(_ transport: String, _ host: String, _ port: Int, _ open: () async throws -> T) async throws -> T {
        do { return try await open() } catch let error as IOError {
            let reason: String
            switch error.errnoCode {
            case EADDRINUSE: reason = "address already in use"
            case EADDRNOTAVAIL: reason = "no such local address"
            case EACCES: reason = "permission denied (ports below 1024 need root)"
            default: reason = "\(error)"
            }
            throw MockListenError(transport: transport, host: host, port: port, reason: reason)
        } catch {
            throw MockListenError(transport: transport, host: host, port: port, reason: "\(error)")
        }
    }
}
