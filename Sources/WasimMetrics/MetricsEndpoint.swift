import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MetaMock
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What serves `/metrics`: the exposition text, made when scraped.
public protocol MetricsPublisher: Actor {
    func exposition() async -> [UInt8]
}

/// `--metrics HOST:PORT`: an HTTP server (Hummingbird) answering `GET /metrics` with the publisher's
/// Prometheus text, read fresh at each scrape.
public final class MetricsEndpoint: Sendable {
    /// Where it listens.
    public let address: SocketAddress
    private let task: Task<Void, any Error>

    private init(address: SocketAddress, task: Task<Void, any Error>) {
        self.address = address
        self.task = task
    }

    /// `http://127.0.0.1:9464/metrics`.
    public var url: String {
        let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "127.0.0.1"
        return "http://\(host):\(address.port ?? 0)/metrics"
    }

    /// Starts serving on `host:port` (0: a free port) and returns once it listens; a port in use or an
    /// address that cannot be bound throws `MockListenError`.
    public static func start(host: String, port: Int, publisher: any MetricsPublisher) async throws -> MetricsEndpoint {
        let router = Router(context: BasicRequestContext.self)
        router.get("metrics") { _, _ -> Response in
            let text = await publisher.exposition()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        var logger = Logger(label: "wasim.metrics")
        logger.logLevel = .critical
        let bound = NIOLockedValueBox<CheckedContinuation<SocketAddress, any Error>?>(nil)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "wasim"),
            onServerRunning: { channel in
                let continuation = bound.withLockedValue { c in defer { c = nil }; return c }
                if let address = channel.localAddress {
                    continuation?.resume(returning: address)
                } else {
                    continuation?.resume(throwing: MockListenError(transport: "metrics (HTTP)", host: host, port: port, reason: "the listener has no local address"))
                }
            },
            eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), logger: logger)
        var task: Task<Void, any Error>!
        let address: SocketAddress = try await withCheckedThrowingContinuation { continuation in
            bound.withLockedValue { $0 = continuation }
            task = Task {
                do {
                    try await app.run()
                } catch {
                    // A bind failure ends `run` before the server runs: hand the error to the waiter.
                    if let c = bound.withLockedValue({ c in defer { c = nil }; return c }) {
                        c.resume(throwing: MockListenError(transport: "metrics (HTTP)", host: host, port: port, reason: MockListenError.reason(of: error)))
                    }
                    throw error
                }
            }
        }
        return MetricsEndpoint(address: address, task: task)
    }

    /// Stops listening.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
