import Foundation
import MetaMock
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `wasim mock` as users expose it, attacked: scanners (sipvicious), password guessing, borrowed
/// credentials, connection floods, slowloris and garbage. During each attack a normal call from another
/// business on another address still completes; afterwards the mock's descriptors and memory are back to
/// where they were, and its log counts what its defences did.
@Suite("Hostile traffic against wasim mock", .serialized)
struct HostileTrafficTests {
    /// Two businesses (the attacks use A, the normal calls B) and small limits.
    static func configuration(_ protection: String) -> String {
        """
        businesses:
          - number: "+33639980001"
            phone_number_id: "100000000000001"
            apps: [{ app_id: "100000000000099", sip_password: "wasim-default-sip-password" }]
            sip_server: { hostname: sip.example.com }
          - number: "+33639980002"
            phone_number_id: "100000000000002"
            apps: [{ app_id: "100000000000098", sip_password: "password-of-b" }]
            sip_server: { hostname: sip.example.com }
        limits: { connected_bic_per_24h: 1000 }
        protection:
        \(protection)
        """
    }

    /// The calls of one normal run use callees no other run used (Meta refuses a second call to a user in one).
    nonisolated(unsafe) static var nextCallee = 100

    /// Business B places `calls` calls through `wasim scenario` from `source` and they must all connect.
    static func normalCalls(_ mock: MockProcess, transport: String, source: String = "127.0.0.2", calls: Int = 2) async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let callees = (0..<calls).map { _ -> String in
            nextCallee += 1
            return "\"+1555020\(String(format: "%04d", nextCallee))\""
        }
        let port = transport == "udp" ? mock.udpPort : transport == "tcp" ? mock.tcpPort : mock.tlsPort
        let tls = transport == "tls" ? "transport: { protocol: tls, ca: \"\(mock.caFile)\", server_name: wa.meta.vc }" : ""
        try """
            name: normal-call
            target: "sip:127.0.0.1:\(port);transport=\(transport)"
            business: { number: "+33639980002", domain: sip.example.com, password: password-of-b }
            callees: { list: [\(callees.joined(separator: ", "))] }
            load: { total_calls: \(calls), rate: 20/s }
            call: { hold: 200ms }
            \(tls)
            """.write(toFile: work.path + "/normal.yaml", atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(CLITests.binary, [
            "scenario", work.path + "/normal.yaml", "--results", work.path, "--certs", work.path, "--bind", source,
        ], timeout: 60)
        #expect(CLITests.ranThrough(result), "a normal call during the attack failed: \(result.output.suffix(1500))")
        #expect(result.output.contains("\(calls) calls, \(calls) connected, 0 failed"), "\(result.output.suffix(1500))")
    }

    /// Baseline descriptors and memory after a first normal call; `settled` checks the mock came back to them.
    struct Baseline {
        let descriptors: Int
        let residentKiB: Int

        static func take(_ mock: MockProcess) async throws -> Baseline {
            try await HostileTrafficTests.normalCalls(mock, transport: "tcp")
            // The generator's connection closes with its process: the baseline is taken once the mock has
            // closed its side.
            let closed = await eventually(timeout: 10) { tcpConnectionsOpen(onPort: mock.tcpPort) == 0 }
            #expect(closed, "the mock kept the finished generator's connection open")
            return Baseline(descriptors: mock.openDescriptors, residentKiB: mock.residentKiB)
        }

        /// Descriptors back to the baseline (within 2), memory within 40 MB of it (a debug build's heap).
        func settled(_ mock: MockProcess) async -> Bool {
            let back = await eventually(timeout: 15) { mock.openDescriptors <= descriptors + 2 }
            #expect(back, "descriptors: \(mock.openDescriptors) now, \(descriptors) before")
            #expect(mock.residentKiB <= residentKiB + 40_960, "RSS \(mock.residentKiB) KiB now, \(residentKiB) KiB before")
            return back
        }
    }

    /// The final "protection:" line of the mock's log.
    static func protectionLine(_ log: String) -> String {
        log.split(separator: "\n").last { $0.contains("info: protection:") }.map(String.init) ?? ""
    }

    /// The first number before `label` in `line` ("refused 70 (per-source limit)" → 70).
    static func count(_ label: String, in line: String) -> Int {
        guard let range = line.range(of: label) else { return -1 }
        let before = line[..<range.lowerBound].split(separator: " ").last ?? ""
        return Int(before.trimmingCharacters(in: CharacterSet(charactersIn: ",;("))) ?? -1
    }

    // MARK: - Scanners and guessing

    /// svmap finds the mock, svwar enumerates, svcrack with a wordlist holding the password finds nothing
    /// (Meta answers REGISTER with 403, never a challenge); a normal call still completes.
    @Test(.enabled(if: Peers.available("svcrack") && CLITests.available))
    func sipviciousFindsNoPassword() async throws {
        let mock = try await MockProcess.start(configuration: Self.configuration("  idle_timeout: 60s"))
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let baseline = try await Baseline.take(mock)
        let svmap = try await ExternalProcess.run(try #require(Peers.path("svmap")), ["-p", "\(mock.udpPort)", "127.0.0.1"], timeout: 60)
        #expect(svmap.output.contains("127.0.0.1:\(mock.udpPort)"), "\(svmap.output.suffix(800))")
        let svwar = try await ExternalProcess.run(try #require(Peers.path("svwar")), [
            "-p", "\(mock.udpPort)", "-e", "33639980000-33639980020", "-m", "INVITE", "127.0.0.1",
        ], timeout: 90)
        #expect(!svwar.timedOut, "\(svwar.output.suffix(800))")
        let words = (0..<200).map { "guess\($0)" } + ["wasim-default-sip-password"] + (0..<50).map { "after\($0)" }
        try words.joined(separator: "\n").write(toFile: work.path + "/words.txt", atomically: false, encoding: .utf8)
        // svcrack guesses over REGISTER, which Meta (and the mock) refuses with 403 before any challenge: it
        // is told "User not found" and keeps trying; 20 s of it is enough.
        let svcrack = try await ExternalProcess.run(try #require(Peers.path("svcrack")), [
            "-p", "\(mock.udpPort)", "-u", "33639980001", "-d", work.path + "/words.txt", "127.0.0.1",
        ], timeout: 30)
        // What it printed says so (on a loaded machine it may print nothing but its own warnings, such as
        // port 5060 being taken by another test, before the 30 s are up).
        let said = svcrack.output.split(separator: "\n").filter { !$0.hasPrefix("WARNING") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(said.isEmpty || svcrack.output.contains("User not found"), "\(svcrack.output.suffix(800))")
        #expect(!svcrack.output.contains("wasim-default-sip-password"), "svcrack found the password: \(svcrack.output.suffix(800))")
        try await Self.normalCalls(mock, transport: "udp")
        _ = await baseline.settled(mock)
        let log = await mock.stop()
        #expect(log.contains("info: protection:"), "\(log.suffix(1500))")
    }

    /// INVITE password guessing: each wrong guess uses its nonce up, and after 5 failures the source and the
    /// username are locked out, so the right password from there is refused too. Another business on
    /// another address is not affected.
    @Test(.enabled(if: Peers.available("sipp") && CLITests.available))
    func inviteGuessingIsLockedOut() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let mock = try await MockProcess.start(configuration: Self.configuration("  auth_failures: { failures: 5, window: 60s, lockout: 300s }"))
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let baseline = try await Baseline.take(mock)
        func sippRun(password: String, calls: Int, first: Int) async throws -> ExternalProcess.Result {
            let callees = "SEQUENTIAL\n" + (0..<calls).map { "+1555021\(String(format: "%04d", first + $0));" }.joined(separator: "\n") + "\n"
            try callees.write(toFile: work.path + "/callees.csv", atomically: false, encoding: .utf8)
            return try await ExternalProcess.run(sipp, [
                "-sf", PeerInteropTests.sippScenarioFile, "-inf", work.path + "/callees.csv", "-key", "fromhost", "sip.example.com",
                "-au", "33639980001", "-ap", password, "-t", "u1", "-i", "127.0.0.1", "-m", "\(calls)", "-r", "10",
                "-timeout", "20", "-timeout_error", "-nostdin", "-recv_timeout", "5000", "127.0.0.1:\(mock.udpPort)",
            ], directory: work.url, timeout: 40)
        }
        let guesses = try await sippRun(password: "not-the-password", calls: 8, first: 0)
        #expect(guesses.status != 0)
        let right = try await sippRun(password: "wasim-default-sip-password", calls: 1, first: 100)
        #expect(right.status != 0, "the right password was accepted from a locked-out source: \(right.output.suffix(800))")
        try await Self.normalCalls(mock, transport: "udp")
        _ = await baseline.settled(mock)
        let log = await mock.stop()
        let mismatches = log.components(separatedBy: "[digest: digest response does not match").count - 1
        #expect(mismatches == 5, "\(log.suffix(3000))")
        #expect(log.contains("source 127.0.0.1 and username 33639980001 now locked out"), "\(log.suffix(3000))")
        #expect(log.components(separatedBy: "[auth-throttle: source 127.0.0.1 is locked out after 5 failed attempts]").count - 1 == 4,
                "\(log.suffix(3000))")
        let line = Self.protectionLine(log)
        #expect(Self.count("auth lockouts", in: line) == 2, "\(line)")
        #expect(Self.count("attempts refused", in: line) == 4, "\(line)")
    }

    /// Business B's username and password on a call from A's number: 403, and the call is nobody's.
    @Test(.enabled(if: Peers.available("sipp") && CLITests.available))
    func crossBusinessCredentialsAreRefused() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let mock = try await MockProcess.start(configuration: Self.configuration("  idle_timeout: 60s"))
        let work = try TemporaryDirectory()
        defer { work.remove() }
        try "SEQUENTIAL\n+15550210500;\n".write(toFile: work.path + "/callees.csv", atomically: false, encoding: .utf8)
        let result = try await ExternalProcess.run(sipp, [
            "-sf", PeerInteropTests.sippScenarioFile, "-inf", work.path + "/callees.csv", "-key", "fromhost", "sip.example.com",
            "-au", "33639980002", "-ap", "password-of-b", "-t", "t1", "-i", "127.0.0.1", "-m", "1",
            "-timeout", "20", "-timeout_error", "-nostdin", "-recv_timeout", "5000", "127.0.0.1:\(mock.tcpPort)",
        ], directory: work.url, timeout: 40)
        #expect(result.status != 0)
        try await Self.normalCalls(mock, transport: "tcp")
        let log = await mock.stop()
        #expect(log.contains("→ sip:+15550210500@wa.meta.vc;transport=TCP: 403 Forbidden [digest: username '33639980002' is not +33639980001's (33639980001)]"),
                "\(log.suffix(2000))")
    }

    // MARK: - Connections

    /// 120 connections from one address against a per-source limit of 50, then 200 from four others against a
    /// total of 200: the excess is closed at once, normal calls (TCP from a fresh address, then UDP) go
    /// through, and closing the flood gives every descriptor back.
    @Test(.enabled(if: CLITests.available))
    func connectionFloodPastTheLimits() async throws {
        let mock = try await MockProcess.start(configuration: Self.configuration("""
              max_connections: 200
              max_connections_per_source: 50
              idle_timeout: 120s
            """))
        let baseline = try await Baseline.take(mock)
        let oneSource = RawSockets()
        for _ in 0..<120 { oneSource.connect(port: mock.tcpPort) }
        #expect(await eventually(timeout: 10) { oneSource.aliveCount == 50 }, "alive: \(oneSource.aliveCount)")
        try await Self.normalCalls(mock, transport: "tcp", source: "127.0.0.2")
        let others = RawSockets()
        for source in ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"] {
            for _ in 0..<50 { others.connect(port: mock.tcpPort, from: source) }
        }
        // 50 + 150 reach the total of 200; the last 50 are refused.
        #expect(await eventually(timeout: 10) { others.aliveCount == 150 }, "alive: \(others.aliveCount)")
        try await Self.normalCalls(mock, transport: "udp")
        oneSource.closeAll()
        others.closeAll()
        _ = await baseline.settled(mock)
        let log = await mock.stop()
        let line = Self.protectionLine(log)
        #expect(Self.count("(per-source limit)", in: line) == 70, "\(line)")
        #expect(Self.count("(connection limit)", in: line) == 50, "\(line)")
    }

    /// Slowloris: connections that trickle a request byte by byte (TCP), stall in the TLS handshake, or finish
    /// it and send nothing, are cut by the idle and handshake timeouts; a trunk that keeps itself alive with
    /// CRLF keep-alives or OPTIONS is not.
    @Test(.enabled(if: Peers.available("openssl") && CLITests.available))
    func slowlorisIsCutAndKeptAliveTrunksAreNot() async throws {
        let openssl = try #require(Peers.path("openssl"))
        let mock = try await MockProcess.start(configuration: Self.configuration("""
              idle_timeout: 3s
              tls_handshake_timeout: 1s
            """))
        let baseline = try await Baseline.take(mock)
        let trickle = RawSockets(), stalled = RawSockets(), trunks = RawSockets()
        let trickling = (0..<30).compactMap { _ in trickle.connect(port: mock.tcpPort) }
        let stalling = (0..<30).compactMap { _ in stalled.connect(port: mock.tlsPort) }
        for fd in stalling { stalled.send(fd, [0x16, 0x03, 0x01]) }
        let crlf = trunks.connect(port: mock.tcpPort, from: "127.0.0.7")!
        let options = trunks.connect(port: mock.tcpPort, from: "127.0.0.8")!
        // TLS sessions that complete the handshake and then say nothing.
        var quiet: [Process] = []
        for _ in 0..<3 {
            let (process, _) = try ExternalProcess.start(openssl, ["s_client", "-connect", "127.0.0.1:\(mock.tlsPort)", "-quiet", "-verify_quiet"])
            quiet.append(process)
        }
        defer { quiet.forEach(ExternalProcess.stop) }
        let request = Array("OPTIONS sip:wa.meta.vc SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.8:5060;branch=z9hG4bK-trunk\r\n".utf8)
        let callDuringAttack = Task { try await Self.normalCalls(mock, transport: "tcp") }
        // 7 s: the trickle sends a byte every 250 ms, the trunks keep alive every second.
        for tick in 0..<28 {
            for fd in trickling { trickle.send(fd, [request[tick % request.count]]) }
            if tick % 4 == 0 {
                trunks.send(crlf, Array("\r\n\r\n".utf8))
                let n = tick / 4
                trunks.send(options, Array("OPTIONS sip:wa.meta.vc SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.8:5060;branch=z9hG4bK-keep\(n)\r\nFrom: <sip:+33639980002@sip.example.com>;tag=k\r\nTo: <sip:wa.meta.vc>\r\nCall-ID: keep\(n)\r\nCSeq: \(n + 1) OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".utf8))
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        try await callDuringAttack.value
        #expect(await eventually(timeout: 10) { trickle.aliveCount == 0 }, "trickling connections still open: \(trickle.aliveCount)")
        #expect(await eventually(timeout: 10) { stalled.aliveCount == 0 }, "stalled handshakes still open: \(stalled.aliveCount)")
        #expect(await eventually(timeout: 5) { quiet.allSatisfy { !$0.isRunning } }, "an idle TLS session was not closed")
        #expect(!trunks.isClosedByPeer(crlf), "a trunk kept alive with CRLF keep-alives was cut")
        #expect(!trunks.isClosedByPeer(options), "a trunk kept alive with OPTIONS was cut")
        trunks.closeAll()
        _ = await baseline.settled(mock)
        let log = await mock.stop()
        let line = Self.protectionLine(log)
        #expect(Self.count("idle", in: line) >= 33, "\(line)")
        #expect(Self.count("TLS handshake timeouts", in: line) >= 30, "\(line)")
    }

    /// Garbage over UDP, TCP and TLS, and a message over the size limit: dropped or the connection closed,
    /// counted, and the mock goes on answering.
    @Test(.enabled(if: Peers.available("openssl") && CLITests.available))
    func garbageOverEveryTransport() async throws {
        let openssl = try #require(Peers.path("openssl"))
        // Garbage with no blank line is an unfinished head: the idle timeout closes it.
        let mock = try await MockProcess.start(configuration: Self.configuration("""
              max_message_size: 8192
              idle_timeout: 2s
            """))
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let baseline = try await Baseline.take(mock)
        var generator = SystemRandomNumberGenerator()
        func garbage(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let sipLike = [
            "INVITE sip:x SIP/2.0\r\n\r\n", "SIP/2.0 200\r\n\r\n", "OPTIONS  SIP/9.9\r\nVia: ;;;\r\n\r\n",
            "INVITE sip:+1@wa.meta.vc SIP/2.0\r\nContent-Length: -5\r\n\r\n", String(repeating: "\r\n", count: 500),
        ]
        for i in 0..<2_000 { RawSockets.sendDatagram(i % 4 == 0 ? Array(sipLike[i % sipLike.count].utf8) : garbage(1 + i % 1400), port: mock.udpPort) }
        let tcp = RawSockets()
        for i in 0..<50 {
            guard let fd = tcp.connect(port: mock.tcpPort) else { continue }
            tcp.send(fd, i % 2 == 0 ? garbage(4096) : Array(sipLike[i % sipLike.count].utf8) + garbage(512))
        }
        // A well-formed head announcing a body over the 8 KB limit.
        let big = tcp.connect(port: mock.tcpPort)!
        tcp.send(big, Array("INVITE sip:+15550200000@wa.meta.vc SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-big\r\nContent-Length: 20000\r\n\r\n".utf8) + garbage(20_000))
        try Data(garbage(64 * 1024)).write(to: work.url.appendingPathComponent("garbage.bin"))
        for _ in 0..<3 {
            let result = try await ExternalProcess.run("/bin/sh", ["-c", "\(openssl) s_client -connect 127.0.0.1:\(mock.tlsPort) -quiet -verify_quiet < \(work.path)/garbage.bin"], timeout: 30)
            #expect(!result.timedOut)
        }
        #expect(await eventually(timeout: 10) { tcp.aliveCount == 0 }, "garbage connections still open: \(tcp.aliveCount)")
        try await Self.normalCalls(mock, transport: "udp")
        try await Self.normalCalls(mock, transport: "tls")
        tcp.closeAll()
        _ = await baseline.settled(mock)
        let log = await mock.stop()
        let line = Self.protectionLine(log)
        #expect(Self.count("malformed messages", in: line) >= 500, "\(line)")
        #expect(Self.count("oversized", in: line) >= 1, "\(line)")
    }
}
