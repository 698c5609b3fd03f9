import Foundation
import MetaMock
import NIOCore
import NIOPosix
import SIPCore
import SIPTransport
import Testing

/// Mocks (and scenario runs) that share one certificate folder, started at the same moment: the CA is made
/// once under a lock, and each mock's client certificate is its own, so no process pairs another's key
/// with its certificate (this once failed with `failedToLoadPrivateKey`, or a chain from another CA).
@Suite("Shared certificate folder", .serialized)
struct SharedCertificatesTests {
    @Test func mocksStartedTogetherShareOneCA() async throws {
        for _ in 0..<3 {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            var settings = MockConfiguration.default
            settings.uic.clientCertificate = .dynamicHost
            let configuration = settings
            let path = dir.path
            let servers = try await withThrowingTaskGroup(of: MetaMockServer.self) { tasks in
                for _ in 0..<4 {
                    tasks.addTask { try await MetaMockServer(configuration: configuration, group: group, certsDirectory: path) }
                }
                var all: [MetaMockServer] = []
                for try await server in tasks { all.append(server) }
                return all
            }
            // Every mock's TLS certificate verifies against the one CA in the folder.
            let client = try await TestClient(tls: TLSClientSettings(caFile: dir.path + "/ca.pem"))
            for server in servers {
                let bound = try await server.start(.ephemeral())
                let destination = SIPDestination(transport: .tls, host: "127.0.0.1", port: bound.tls!.port!, serverName: "wa.meta.vc")
                let response = try await client.send(Requests.options(.tls), to: destination).get()
                #expect(response.statusCode == 200)
            }
            for server in servers { await server.stop() }
            await client.stop()
            try await group.shutdownGracefully()
            // Each mock removed its own client certificate; the untrusted CA stays for the next start.
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/mock-client").sorted()
            #expect(left.filter { $0 != ".lock" } == ["ca.key.pem", "ca.pem"], "\(left)")
        }
    }
}
