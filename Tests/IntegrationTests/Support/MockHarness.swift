import Foundation
import MetaMock
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// The mock started in-process on 127.0.0.1 with ephemeral ports and its own certificates folder.
final class MockHarness: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let server: MetaMockServer
    let bound: MockBoundAddresses
    let directory: TemporaryDirectory

    var tlsPort: Int { bound.tls!.port! }
    var udpPort: Int { bound.udp!.port! }
    var tcpPort: Int { bound.tcp!.port! }
    var certs: String { directory.path }

    static func start(configuration: MockConfiguration = .default, threads: Int = 2, listen: MockListenAddresses = .ephemeral(),
                      clock: MockClock = .system) async throws -> MockHarness {
        let directory = try TemporaryDirectory()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server = try await MetaMockServer(configuration: configuration, group: group, certsDirectory: directory.path, clock: clock)
        let bound = try await server.start(listen)
        return MockHarness(group: group, server: server, bound: bound, directory: directory)
    }

    private init(group: MultiThreadedEventLoopGroup, server: MetaMockServer, bound: MockBoundAddresses, directory: TemporaryDirectory) {
        self.group = group
        self.server = server
        self.bound = bound
        self.directory = directory
    }

    func stop() async {
        await server.stop()
        try? await group.shutdownGracefully()
        directory.remove()
    }
}

/// A client-side transport stack for sending single requests in tests.
final class TestClient: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let stack: SIPTransportStack

    init(tls: TLSClientSettings?, connectionLimits: SIPConnectionLimits = .unlimited) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        stack = try await SIPTransportStack(group: group, advertisedHost: "127.0.0.1", connectionLimits: connectionLimits, clientTLS: tls) { _ in nil }
        try await stack.openClientUDP(host: "127.0.0.1")
    }

    /// Sends one request and returns its final response, or the failure text.
    func send(_ request: SIPRequest, to destination: SIPDestination) async throws -> Result<SIPResponse, TestFailure> {
        let loop = stack.eventLoops[0]
        let bound = stack.endpoint(on: loop)
        let promise = loop.makePromise(of: Result<SIPResponse, TestFailure>.self)
        loop.execute {
            bound.value.sendRequest(request, to: destination) { event in
                switch event {
                case .response(let r) where r.statusCode >= 200: promise.succeed(.success(r))
                case .response: break
                case .timeout: promise.succeed(.failure(TestFailure(text: "timeout")))
                case .transportError(let why): promise.succeed(.failure(TestFailure(text: why)))
                }
            }
        }
        return try await promise.futureResult.get()
    }

    /// Sends an ACK (no transaction) towards `destination`.
    func sendAck(_ ack: SIPRequest, to destination: SIPDestination) {
        let loop = stack.eventLoops[0]
        let bound = stack.endpoint(on: loop)
        loop.execute {
            bound.value.flow(for: destination) { flow, _ in
                if let flow { bound.value.sendAck(ack, on: flow) }
            }
        }
    }

    func stop() async {
        await stack.shutdown()
        try? await group.shutdownGracefully()
    }
}

struct TestFailure: Error, Equatable { var text: String }

enum Requests {
    static func options(_ transport: SIPTransportKind, callID: String = UUID().uuidString) -> SIPRequest {
        var h = SIPHeaders()
        h.add(.from, "<sip:+33639980001@sip.example.com>;tag=\(UInt32.random(in: 1...UInt32.max))")
        h.add(.to, "<sip:wa.meta.vc>")
        h.add(.callID, callID)
        h.add(.cseq, "1 OPTIONS")
        return SIPRequest(method: .options, uri: try! SIPURI("sip:wa.meta.vc;transport=\(transport.rawValue)"), headers: h)
    }
}

extension TestClient {
    /// A business's INVITE as an SBC sends it to Meta: the INVITE, then (after the 407) the same INVITE with
    /// the digest of `username`/`password`; the final response (the first one when it is not a 407).
    func inviteWithDigest(_ request: SIPRequest, to destination: SIPDestination, username: String, password: String) async throws -> SIPResponse {
        var invite = request
        let first = try await send(invite, to: destination).get()
        guard first.statusCode == 407 else { return first }
        var digest = DigestClient(username: username, password: password)
        let authorization = digest.authorize(first, method: .invite, uri: invite.uri.description, cnonce: "0a4f113b")
        let auth = try #require(authorization)
        invite.headers.set(.cseq, "2 INVITE")
        invite.headers.add(auth.header, auth.value)
        return try await send(invite, to: destination).get()
    }
}

/// The mock's wall clock held still at a fixed time (nonces keep real monotonic time): permissions, limits and
/// the Graph API's request rate read it, so tests compare exact values, however slow the machine.
enum FixedClock {
    static let epoch: Double = 1_800_000_000

    static func at(_ seconds: Double = epoch) -> MockClock {
        MockClock(wallNow: { seconds }, monotonicSeconds: { NIODeadline.now().uptimeNanoseconds / 1_000_000_000 })
    }
}
