import Testing
import WasimCerts
import WasimMedia

/// Two OpenSSL DTLS sessions wired back to back in memory: the handshake completes, both sides export the
/// same 60 bytes of `EXTRACTOR-dtls_srtp`, the peer certificate is checked against the SDP fingerprint, and
/// the exported keys protect SRTP that the other side decrypts.
struct DTLSHandshakeTests {
    static func contexts() throws -> (DTLSContext, DTLSContext) {
        let a = try SelfSignedCertificate(commonName: "meta"), b = try SelfSignedCertificate(commonName: "business")
        return (try DTLSContext(certificatePEM: a.certificatePEM, privateKeyPEM: a.privateKeyPEM),
                try DTLSContext(certificatePEM: b.certificatePEM, privateKeyPEM: b.privateKeyPEM))
    }

    /// Delivers datagrams back and forth until neither side has anything to say; `drop` can lose some.
    static func run(_ client: DTLSSession, _ server: DTLSSession, drop: (Int, [UInt8]) -> Bool = { _, _ in false }) -> Int {
        var toServer = client.start(), toClient: [[UInt8]] = []
        var sent = 0, flights = 0
        while !toServer.isEmpty || !toClient.isEmpty {
            flights += 1
            var next: [[UInt8]] = []
            for d in toServer {
                sent += 1
                if drop(sent, d) { continue }
                next += server.receive(d)
            }
            toClient = next
            toServer = []
            for d in toClient { toServer += client.receive(d) }
            toClient = []
            if flights > 10 { break }
        }
        return flights
    }

    @Test func handshakeExportsTheSameKeys() throws {
        let (meta, business) = try Self.contexts()
        let client = try DTLSSession(context: business, role: .client, expectedFingerprint: meta.fingerprint)
        let server = try DTLSSession(context: meta, role: .server, expectedFingerprint: business.fingerprint)
        _ = Self.run(client, server)
        guard case .connected(let c) = client.state, case .connected(let s) = server.state else {
            Issue.record("client \(client.state), server \(server.state)")
            return
        }
        #expect(c.exported.count == 60 && c.exported == s.exported)
        #expect(c.profile == .aesCM128HmacSHA1_80)
        #expect(c.local == s.remote && c.remote == s.local && c.local != c.remote)
        // The keys work: SRTP from the client decrypts at the server, and back.
        let clientOut = try SRTPSession(profile: c.profile, keyAndSalt: c.local, direction: .outbound)
        let serverIn = try SRTPSession(profile: s.profile, keyAndSalt: s.remote, direction: .inbound)
        var packet: [UInt8] = [0x80, 111, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7] + [UInt8](repeating: 0x55, count: 80)
        let plain = packet
        try clientOut.protect(&packet)
        try serverIn.unprotect(&packet)
        #expect(packet == plain)
        #expect(meta.fingerprint.split(separator: ":").count == 32)
    }

    @Test func wrongFingerprintFails() throws {
        let (meta, business) = try Self.contexts()
        let client = try DTLSSession(context: business, role: .client, expectedFingerprint: String(repeating: "AB:", count: 31) + "AB")
        let server = try DTLSSession(context: meta, role: .server, expectedFingerprint: nil)
        _ = Self.run(client, server)
        guard case .failed(let why) = client.state else { Issue.record("\(client.state)"); return }
        #expect(why.contains("does not match"))
    }

    /// A lost ClientHello: nothing happens until the retransmission timer, then the handshake completes.
    @Test func lostClientHelloIsRetransmittedByTheTimer() throws {
        let (meta, business) = try Self.contexts()
        let client = try DTLSSession(context: business, role: .client, expectedFingerprint: meta.fingerprint, initialRetransmit: 1)
        _ = try DTLSSession(context: meta, role: .server, expectedFingerprint: business.fingerprint)
        let hello = client.start()
        #expect(hello.count == 1 && hello[0][0] == 22)  // handshake record
        let delay = try #require(client.retransmitDelay)
        #expect(delay > 0.9 && delay <= 1.0)
        // Nothing to resend before the timer expires.
        #expect(client.retransmitDue().isEmpty && client.retransmissions == 0)
    }
}
