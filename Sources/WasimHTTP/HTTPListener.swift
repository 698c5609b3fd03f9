import Hummingbird
import HummingbirdCore
import Logging
import MetaMock
import NIOConcurrencyHelpers
import NIOCore

/// Starts a Hummingbird server (the Graph API mock, the metrics endpoint) and returns once it listens, with
/// the address it got (port 0: a free one) and the task that runs it; a port in use or an address that
/// cannot be bound throws `MockListenError`, naming the listener, instead of ending the task later.
public enum HTTPListener {
    public static func start(router: Router<BasicRequestContext>, server: HTTPServerBuilder = .http1(), host: String, port: Int,
                             serverName: String, transport: String, group: any EventLoopGroup) async throws
        -> (address: SocketAddress, task: Task<Void, any Error>)
    {
        // Hummingbird's own log (a line per request) stays quiet.
        var logger = Logger(label: "wasim.http")
        logger.logLevel = .critical
        let bound = NIOLockedValueBox<CheckedContinuation<SocketAddress, any Error>?>(nil)
        let app = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in
                let continuation = bound.withLockedValue { c in defer { c = nil }; return c }
                if let address = channel.localAddress {
                    continuation?.resume(returning: address)
                } else {
                    continuation?.resume(throwing: MockListenError(transport: transport, host: host, port: port, reason: "the listener has no local address"))
                }
            },
            eventLoopGroupProvider: .shared(group), logger: logger)
        var task: Task<Void, any Error>!
        let address: SocketAddress = try await withCheckedThrowingContinuation { continuation in
            bound.withLockedValue { $0 = continuation }
            task = Task {
                do {
                    try await app.run()
                } catch {
                    // A bind failure ends `run` before the server runs: hand the error to the waiter.
                    if let c = bound.withLockedValue({ c in defer { c = nil }; return c }) {
                        c.resume(throwing: MockListenError(transport: transport, host: host, port: port, reason: MockListenError.reason(of: error)))
                    }
                    throw error
                }
            }
        }
        return (address, task)
    }
}
