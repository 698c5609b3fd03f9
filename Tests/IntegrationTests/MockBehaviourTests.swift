import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MetaMock
import NIOCore
import SIPAuth
import SIPCore
import SIPTransport
import Testing

/// The mock's answers over real sockets with our own UA (the first slice of Meta's behaviour).
@Suite("Mock behaviour over sockets")
struct MockBehaviourTests {
    static func invite(_ transport: SIPTransportKind, from host: String = "sip.example.com") -> SIPRequest {
        var h = SIPHeaders()
        h.add(.from, "<sip:+33639980001@\(host)>;tag=\(UInt32.random(in: 1...UInt32.max))")
        h.add(.to, "<sip:+15550200000@wa.meta.vc>")
        h.add(.callID, UUID().uuidString)
        h.add(.cseq, "1 INVITE")
        h.add(.contact, "<sip:+33639980001@127.0.0.1;transport=\(transport.rawValue)>")
        return SIPRequest(method: .invite, uri: try! SIPURI("sip:+15550200000@wa.meta.vc;transport=\(transport.rawValue)"), headers: h)
    }

    @Test(arguments: [SIPTransportKind.udp, .tcp, .tls])
    func inviteWithoutCredentialsGets407(_ transport: SIPTransportKind) async throws {
        let mock = try await MockHarness.start()
        let client = try await TestClient(tls: TLSClientSettings(caFile: mock.server.caFile))
        let port = transport == .tls ? mock.tlsPort : (transport == .udp ? mock.udpPort : mock.tcpPort)
        let response = try await client.send(Self.invite(transport), to: SIPDestination(transport: transport, host: "127.0.0.1", port: port, serverName: "wa.meta.vc")).get()
        await client.stop()
        await mock.stop()
        #expect(response.statusCode == 407)
        #expect(response.reasonPhrase == "Proxy Authentication Required")
        let challenge = try #require(DigestChallenge.all(in: response).first)
        #expect(challenge.proxy && challenge.challenge.realm == "wa.meta.vc" && challenge.challenge.nonce.count == 16)
        #expect(challenge.challenge.opaque?.count == 16)
    }

    @Test func registerIs403AndUnknownMethodIs405() async throws {
        let mock = try await MockHarness.start()
        let client = try await TestClient(tls: nil)
        let destination = SIPDestination(transport: .udp, host: "127.0.0.1", port: mock.udpPort)
        var register = Requests.options(.udp)
        register.method = .register
        register.headers.set(.cseq, "1 REGISTER")
        let r1 = try await client.send(register, to: destination).get()
        var info = Requests.options(.udp)
        info.method = .info
        info.headers.set(.cseq, "1 INFO")
        let r2 = try await client.send(info, to: destination).get()
        await client.stop()
        await mock.stop()
        #expect(r1.statusCode == 403)
        #expect(r1.headers[.warning] == "399 wa.meta.vc \"Forbidden\"")
        #expect(r2.statusCode == 405 && r2.headers[.allow] == "INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS")
    }

    /// Malformed input: UDP junk is dropped and counted, a broken request that still has a Via gets 400 with
    /// the reason, a TCP stream with a bad Content-Length is closed; the mock keeps serving.
    @Test func malformedInputNeverStopsTheMock() async throws {
        let mock = try await MockHarness.start()
        let udp = try UDPProbe()
        udp.send("\u{1}\u{2}garbage that is not SIP\r\n\r\n", port: mock.udpPort)
        udp.send("INVITE sip:x@wa.meta.vc SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port);branch=z9hG4bKbad\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: bad1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", port: mock.udpPort)
        let reply = udp.receive(timeout: 3)
        #expect(reply?.hasPrefix("SIP/2.0 400 Bad Request (CSeq method BYE does not match request method INVITE)") == true, "\(reply ?? "nil")")
        udp.close()
        // TCP: a negative Content-Length cannot be framed: the connection is closed.
        let tcp = try TCPProbe(port: mock.tcpPort)
        tcp.send("OPTIONS sip:wa.meta.vc SIP/2.0\r\nContent-Length: -5\r\n\r\n")
        #expect(tcp.readUntilClosed(timeout: 3))
        // Still serving.
        let client = try await TestClient(tls: nil)
        let ok = try await client.send(Requests.options(.udp), to: SIPDestination(transport: .udp, host: "127.0.0.1", port: mock.udpPort)).get()
        #expect(ok.statusCode == 200)
        let stats = try await mock.server.stack.statistics()
        #expect(stats.malformedReceived >= 3)
        #expect(stats.badRequestsAnswered >= 1)
        await client.stop()
        await mock.stop()
    }
}

/// A raw UDP socket for sending hand-made datagrams.
final class UDPProbe {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.port = Int(UInt16(bigEndian: bound.sin_port))
    }

    func send(_ text: String, port: Int) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let bytes = Array(text.utf8)
        _ = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    func receive(timeout: Int) -> String? {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    func close() { Glibc.close(fd) }
}

/// A raw TCP connection.
final class TCPProbe {
    let fd: Int32

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { throw TestFailure(text: "connect failed") }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = Glibc.send(fd, bytes, bytes.count, 0)
    }

    /// True when the peer closes the connection within the timeout.
    func readUntilClosed(timeout: Int) -> Bool {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { Glibc.close(fd); return true }
            if n < 0 { Glibc.close(fd); return false }
        }
    }
}
