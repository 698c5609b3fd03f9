import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MetaMock
import NIOCore
import NIOSSL
import WasimCerts
import WasimHTTP

/// Meta's Graph API for calling settings and permissions, served by `wasim mock --graph-api` (Hummingbird,
/// HTTPS with a certificate from the mock's CA, or plain HTTP) on the running mock's state.
public final class GraphAPIServer: Sendable {
    /// Where it listens, and the CA file clients verify it with (nil over plain HTTP).
    public let address: SocketAddress
    public let caFile: String?
    private let task: Task<Void, any Error>

    private init(address: SocketAddress, caFile: String?, task: Task<Void, any Error>) {
        self.address = address
        self.caFile = caFile
        self.task = task
    }

    /// `https://127.0.0.1:8443` (or `http://`).
    public var baseURL: String {
        let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "127.0.0.1"
        return "\(caFile == nil ? "http" : "https")://\(host):\(address.port ?? 0)"
    }

    /// Starts the API on `host:port` (0: a free port) for `mock`, and returns once it listens; a port in use
    /// or an address that cannot be bound throws `MockListenError`.
    public static func start(mock: MetaMockServer, host: String, port: Int, tls: Bool, certsDirectory: String,
                             logger: Logger = Logger(label: "wasim.graph-api")) async throws -> GraphAPIServer
    {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: UnknownPathMiddleware())
        GraphAPIRoutes(mock: mock, access: GraphAccess(configuration: mock.configuration.graphAPI, businesses: mock.configuration.businesses),
                       logger: logger).register(on: router)
        var caFile: String?
        var server: HTTPServerBuilder = .http1()
        if tls {
            // A certificate from the mock's CA, for Meta's API host, localhost and the address listened on.
            var authority = TestCertificateAuthority(directory: certsDirectory)
            authority.ipAddresses = host == "0.0.0.0" || host == "::" ? ["127.0.0.1"] : [host]
            let issued = try authority.issue(host: "graph.facebook.com", extraNames: ["localhost"], clientAuth: false, fileStem: "graph-api")
            let chain = try NIOSSLCertificate.fromPEMFile(issued.chainFile).map { NIOSSLCertificateSource.certificate($0) }
            let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: issued.keyFile, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: configuration)
            caFile = authority.caFile
        }
        let (address, task) = try await HTTPListener.start(router: router, server: server, host: host, port: port, serverName: "wasim-graph-api",
                                                            transport: "the Graph API (HTTP)", group: mock.stack.group)
        return GraphAPIServer(address: address, caFile: caFile, task: task)
    }

    /// Stops listening and closes the connections.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Graph's answer to a path it does not have (error 2500) instead of a bare 404.
struct UnknownPathMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            let graph = GraphError.unknownPath(request.uri.path)
            return GraphAPIRoutes.json(graph.httpStatus, graph.body())
        }
    }
}
