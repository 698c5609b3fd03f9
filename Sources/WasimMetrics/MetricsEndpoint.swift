import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import WasimHTTP

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
        let (address, task) = try await HTTPListener.start(router: router, host: host, port: port, serverName: "wasim",
                                                            transport: "metrics (HTTP)", group: MultiThreadedEventLoopGroup.singleton)
        return MetricsEndpoint(address: address, task: task)
    }

    /// Stops listening.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
