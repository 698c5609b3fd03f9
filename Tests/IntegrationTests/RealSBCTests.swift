import Foundation
@testable import LoadEngine
import NIOCore
import SIPCore
import SIPTransport
import Testing
import WasimCerts

/// wasim pointed at an SBC rather than the mock: a SIPp UAS stands in for it, on loopback or in a network
/// namespace reached over a veth pair (a non-loopback address, as a real SBC has).
@Suite("Against a real SBC", .serialized)
struct RealSBCTests {
    static func sippFile(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "SIPp")!.path
    }

    static func scenario(_ name: String, transport: String, calls: Int, extra: String = "") throws -> Scenario {
        try ScenarioLoader.parse("""
            name: \(name)
            business: { number: "+33639980001", domain: sip.example.com, password: s3cret }
            transport: { protocol: \(transport) }
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 10/s, total_calls: \(calls) }
            call: { hold: 200ms\(extra) }
            """, file: "inline.yaml")
    }

    /// A target that answers 180 and never a final response: each call is CANCELled at the ring timeout,
    /// counted unanswered (end `ring_timeout`, the target's 487 kept), and the run ends at once after.
    @Test(.enabled(if: Peers.available("sipp")))
    func ringTimeoutCancelsAndCountsUnanswered() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.udp()
        let (uas, log) = try ExternalProcess.start(sipp, [
            "-sf", Self.sippFile("uas-rings-forever"), "-t", "u1", "-i", "127.0.0.1", "-p", "\(port)", "-m", "3",
            "-nostdin", "-timeout", "40", "-trace_err",
        ], directory: work.url)
        defer { ExternalProcess.stop(uas) }
        #expect(await eventually(timeout: 20) { udpPortIsBound(port) }, "SIPp did not bind \(port)")
        var options = RunOptions(resultsRoot: work.path, certsDirectory: work.path)
        options.target = try SIPURI("sip:127.0.0.1:\(port);transport=udp")
        let result = try await ScenarioRunner(scenario: try Self.scenario("rings-forever", transport: "udp", calls: 3, extra: ", ring_timeout: 1s"),
                                              options: options).run()
        let s = result.summary
        #expect(s.calls.attempted == 3 && s.calls.connected == 0 && s.calls.unanswered == 3, "\(s.calls) \(s.responses)")
        #expect(s.ends == ["ring_timeout": 3], "\(s.ends)")
        #expect(s.responses == ["487 Request Terminated": 3], "\(s.responses)")
        // Ended by the ring timeout's CANCEL (end ring_timeout, the target's 487), not by Timer B (timer_b) nor an
        // open-ended wait; when the CANCEL goes is the flow's, checked with injected time below.
        let csv = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst()
        #expect(rows.count == 3 && rows.allSatisfy { $0.hasSuffix(",ring_timeout") }, "\(csv)")
        // SIPp saw the CANCEL of every call (its scenario fails without one) and ended cleanly.
        _ = await eventually(timeout: 10) { !uas.isRunning }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(!uas.isRunning && uas.terminationStatus == 0, "\(output.suffix(1500))")
    }

    /// The give-up: a target that never answers the CANCEL either ends the call 64 × T1 after it, and its
    /// INVITE transaction is let go (checked on the flow, with injected time).
    @Test func cancelIgnoredEndsTheCallAnyway() throws {
        var flow = BusinessCallFlow(identity: .init(businessNumber: "+33639980001", businessDomain: "sip.example.com", callee: "+15550200000",
                                                    targetDomain: "wa.meta.vc", transport: "udp", contactHost: "10.0.0.1", callID: "c1",
                                                    fromTag: "t1", digestUsername: "33639980001", password: "p"),
                                    hold: .seconds(1), ringTimeout: .seconds(60))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let start = flow.start(now: t0)
        #expect(start.contains { if case .scheduleRingTimeout(let t) = $0 { return t == .seconds(60) } else { return false } })
        guard case .sendInvite(let invite) = start[0] else { Issue.record("no INVITE first"); return }
        let ringing = SIPResponse(statusCode: 180, reasonPhrase: "Ringing", headers: invite.headers)
        #expect(flow.inviteResponse(ringing, now: t0 + .seconds(1)).isEmpty)
        let due = flow.ringTimeoutDue(now: t0 + .seconds(60))
        #expect(due.contains { if case .sendCancel = $0 { return true } else { return false } })
        #expect(due.contains { if case .scheduleRingTimeout(let t) = $0 { return t == BusinessCallFlow.cancelGiveUp } else { return false } })
        let end = flow.ringTimeoutDue(now: t0 + .seconds(92))
        guard case .finished(let outcome)? = end.first else { Issue.record("the call did not end: \(end)"); return }
        #expect(outcome.end == .ringTimeout && !outcome.connected)
        #expect(flow.state == .finished)
    }
}

/// A SIPp UAS inside a network namespace, reached over a veth pair: wasim finds the address that routes to
/// it, sends from there over UDP and TCP, and writes it in Via and Contact (never 127.0.0.1).
@Suite("A target beyond loopback", .serialized)
struct RoutedTargetTests {
    @Test(.enabled(if: Peers.available("sipp") && (NetworkNamespace.usable || Peers.required)), arguments: ["u1", "t1"])
    func sippUASInANamespace(transport: String) async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let ns = try await NetworkNamespace.create()
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let messages = work.path + "/messages.log"
        let (command, arguments) = ns.exec(sipp, [
            "-sf", RealSBCTests.sippFile("uas-answers"), "-t", transport, "-i", ns.peerAddress, "-p", "5060", "-m", "3",
            "-nostdin", "-timeout", "30", "-trace_msg", "-message_file", messages,
        ])
        let (uas, log) = try ExternalProcess.start(command, arguments, directory: work.url)
        // SIPp listens inside the namespace: its socket is seen from there.
        #expect(await eventually(timeout: 20) { await ns.isListening(port: 5060, udp: transport == "u1") }, "SIPp did not listen in \(ns.name)")
        var options = RunOptions(resultsRoot: work.path, certsDirectory: work.path)
        let kind = transport == "u1" ? "udp" : "tcp"
        options.target = try SIPURI("sip:\(ns.peerAddress):5060;transport=\(kind)")
        let result: RunResult
        do {
            result = try await ScenarioRunner(scenario: try RealSBCTests.scenario("routed-\(kind)", transport: kind, calls: 3), options: options).run()
        } catch {
            ExternalProcess.stop(uas)
            await ns.remove()
            throw error
        }
        _ = await eventually(timeout: 10) { !uas.isRunning }
        ExternalProcess.stop(uas)
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        // SIPp's log keeps the CRLFs (one Character each in Swift): lines are split on LF after dropping CR.
        let seen = ((try? String(contentsOfFile: messages, encoding: .utf8)) ?? "").replacingOccurrences(of: "\r", with: "")
        await ns.remove()
        let s = result.summary
        #expect(s.calls.connected == 3 && s.passed, "\(s.calls) \(s.responses) \(output.suffix(800))")
        #expect(s.localHost == ns.hostAddress)
        // What SIPp received: Via and Contact name the veth address.
        let invites = seen.components(separatedBy: "INVITE sip:").dropFirst()
        #expect(invites.count >= 3, "\(seen.prefix(1500))")
        let viaLines = seen.split(separator: "\n").filter { $0.hasPrefix("Via:") || $0.hasPrefix("v:") }
        let contactLines = seen.split(separator: "\n").filter { $0.hasPrefix("Contact:") && $0.contains("33639980001") }
        #expect(!viaLines.isEmpty && viaLines.allSatisfy { $0.contains(ns.hostAddress) && !$0.contains("127.0.0.1") }, "\(viaLines.prefix(4))")
        #expect(!contactLines.isEmpty && contactLines.allSatisfy { $0.contains("@\(ns.hostAddress)") }, "\(contactLines.prefix(4))")
        #expect(!seen.contains("127.0.0.1"), "a message to the SBC named loopback")
    }

    /// TLS to a target beyond loopback: `wasim mock` (the executable) runs inside the namespace on its veth
    /// address; the run verifies its certificate, sends from the routed address, and every call connects.
    @Test(.enabled(if: CLITests.available && (NetworkNamespace.usable || Peers.required)))
    func tlsToAMockInANamespace() async throws {
        let ns = try await NetworkNamespace.create()
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let certs = work.path + "/certs"
        _ = try TestCertificateAuthority(directory: certs).ensure()
        let (command, arguments) = ns.exec(CLITests.binary, [
            "mock", "--host", ns.peerAddress, "--tls-port", "5061", "--no-udp", "--no-tcp", "--certs", certs,
        ])
        let (mock, log) = try ExternalProcess.start(command, arguments, directory: work.url)
        // The mock prints its listeners once it listens (its port is not visible from this namespace).
        let listening = await eventually(timeout: 20) { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("listening TLS") }
        var options = RunOptions(resultsRoot: work.path, certsDirectory: certs)
        options.target = try SIPURI("sip:\(ns.peerAddress):5061;transport=tls")
        let result: RunResult?
        if listening {
            result = try? await ScenarioRunner(scenario: try RealSBCTests.scenario("routed-tls", transport: "tls", calls: 3)
                .withPassword(.literal("wasim-default-sip-password")), options: options).run()
        } else {
            result = nil
        }
        ExternalProcess.stop(mock)
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        await ns.remove()
        #expect(listening, "the mock did not listen in the namespace: \(output.suffix(1000))")
        let s = try #require(result?.summary, "the run failed: \(output.suffix(1000))")
        #expect(s.calls.connected == 3 && s.passed, "\(s.responses) \(output.suffix(800))")
        #expect(s.localHost == ns.hostAddress && s.transport == "tls")
        #expect((s.latencyMs.tlsHandshake?.count ?? 0) >= 1)
    }
}

extension Scenario {
    /// The same scenario with another password.
    func withPassword(_ secret: Secret) -> Scenario {
        var copy = self
        copy.password = secret
        return copy
    }
}

/// Several targets: the scenario's list, and a name's SRV records (RFC 3263), tried in order.
@Suite("Failover between targets", .serialized)
struct FailoverTests {
    /// The first target refuses the connection: each call moves to the second (a new transaction, the
    /// same call), the first is marked down so later calls start on the second, and every call connects.
    @Test(.enabled(if: Peers.available("sipp")))
    func refusedTargetFailsOverToTheNext() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.tcp(), dead = try FreePort.tcp()
        let (uas, log) = try ExternalProcess.start(sipp, [
            "-sf", RealSBCTests.sippFile("uas-answers"), "-t", "t1", "-i", "127.0.0.1", "-p", "\(port)", "-m", "4",
            "-nostdin", "-timeout", "30",
        ], directory: work.url)
        defer { ExternalProcess.stop(uas) }
        #expect(await eventually(timeout: 20) { tcpPortIsListening(port) }, "SIPp did not listen on \(port)")
        var scenario = try RealSBCTests.scenario("failover", transport: "tcp", calls: 4)
        scenario.target = .uri(try SIPURI("sip:127.0.0.1:\(dead);transport=tcp"))
        scenario.alternateTargets = [try SIPURI("sip:127.0.0.1:\(port);transport=tcp")]
        let result = try await ScenarioRunner(scenario: scenario, options: RunOptions(resultsRoot: work.path, certsDirectory: work.path)).run()
        let s = result.summary
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(s.calls.connected == 4 && s.passed, "\(s.responses) \(output.suffix(800))")
        #expect(s.targets == ["tcp:127.0.0.1:\(dead)", "tcp:127.0.0.1:\(port)"])
        // One failover per event loop that met the dead target; its later calls started on the second.
        #expect(s.failovers >= 1 && s.failovers <= 2, "\(s.failovers)")
    }

    /// SRV records from a real DNS server: dnsmasq in a network namespace serves `_sip._tcp.sbc.wasim.test`
    /// with a dead target at priority 5 and SIPp at priority 10; `wasim scenario`, run in that namespace,
    /// resolves the name in priority order and fails over.
    @Test(.enabled(if: Peers.available("sipp") && Peers.available("dnsmasq") && CLITests.available && (NetworkNamespace.usable || Peers.required)))
    func srvRecordsGiveTheOrder() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let dnsmasq = try #require(Peers.path("dnsmasq"), "dnsmasq (dnsmasq-base) is not installed")
        let ns = try await NetworkNamespace.create(resolver: "127.0.0.1")
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let (dnsCommand, dnsArguments) = ns.exec(dnsmasq, [
            "--no-daemon", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces", "--port=53",
            "--srv-host=_sip._tcp.sbc.wasim.test,sbc-a.wasim.test,5060,5,0", "--srv-host=_sip._tcp.sbc.wasim.test,sbc-b.wasim.test,5060,10,0",
            "--host-record=sbc-a.wasim.test,127.0.0.2", "--host-record=sbc-b.wasim.test,127.0.0.3",
        ])
        let (dns, dnsLog) = try ExternalProcess.start(dnsCommand, dnsArguments, directory: work.url)
        let (sippCommand, sippArguments) = ns.exec(sipp, [
            "-sf", RealSBCTests.sippFile("uas-answers"), "-t", "t1", "-i", "127.0.0.3", "-p", "5060", "-m", "3", "-nostdin", "-timeout", "30",
        ])
        let (uas, _) = try ExternalProcess.start(sippCommand, sippArguments, directory: work.url)
        #expect(await eventually(timeout: 20) { await ns.isListening(port: 53, udp: true) }, "dnsmasq did not listen in \(ns.name)")
        #expect(await eventually(timeout: 20) { await ns.isListening(port: 5060, udp: false) }, "SIPp did not listen in \(ns.name)")
        let file = work.path + "/srv.yaml"
        try """
            name: srv
            target: "sip:sbc.wasim.test;transport=tcp"
            business: { number: "+33639980001", domain: sip.example.com, password: s3cret }
            callees: { range: "+15550200000..+15550200099" }
            load: { rate: 10/s, total_calls: 3 }
            call: { hold: 200ms }
            """.write(toFile: file, atomically: false, encoding: .utf8)
        let (command, arguments) = ns.exec(CLITests.binary, ["scenario", file, "--results", work.path, "--certs", work.path])
        let run = try await ExternalProcess.run(command, arguments, directory: work.url, timeout: 60)
        ExternalProcess.stop(uas)
        ExternalProcess.stop(dns)
        let dnsOutput = (try? String(contentsOf: dnsLog, encoding: .utf8)) ?? ""
        await ns.remove()
        #expect(CLITests.ranThrough(run), "\(run.output.suffix(1200)) dnsmasq: \(dnsOutput.suffix(400))")
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: work.path).first { $0.hasPrefix("srv-") })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(work.path)/\(folder)/summary.json"))) as? [String: Any]
        #expect(json?["targets"] as? [String] == ["tcp:127.0.0.2:5060", "tcp:127.0.0.3:5060"], "\(json?["targets"] ?? "none")")
        #expect((json?["failovers"] as? Int ?? 0) >= 1)
        #expect((json?["calls"] as? [String: Any])?["connected"] as? Int == 3)
    }

    /// The SRV answer parser on a DNS response as a server writes it (compressed names), and the order.
    @Test func parsesAndOrdersServiceRecords() {
        var m: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0]
        var qname: [UInt8] = []
        for label in ["_sip", "_udp", "sbc", "test"] { qname.append(UInt8(label.utf8.count)); qname += Array(label.utf8) }
        qname.append(0)
        m += qname + [0, 33, 0, 1]
        func answer(priority: UInt16, weight: UInt16, port: UInt16, target: String) -> [UInt8] {
            var name: [UInt8] = []
            for label in target.split(separator: ".") { name.append(UInt8(label.utf8.count)); name += Array(label.utf8) }
            name.append(0)
            let fixed: [UInt8] = [UInt8(priority >> 8), UInt8(priority & 0xFF), UInt8(weight >> 8), UInt8(weight & 0xFF), UInt8(port >> 8), UInt8(port & 0xFF)]
            let rdata: [UInt8] = fixed + name
            let head: [UInt8] = [0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)]
            return head + rdata
        }
        m += answer(priority: 20, weight: 0, port: 5062, target: "c.test")
        m += answer(priority: 10, weight: 10, port: 5060, target: "a.test")
        m += answer(priority: 10, weight: 60, port: 5061, target: "b.test")
        let records = SIPServerLocator.parseServiceRecords(m)
        #expect(records.count == 3)
        #expect(SIPServerLocator.ordered(records).map(\.target) == ["b.test", "a.test", "c.test"])
        #expect(SIPServerLocator.ordered(records).map(\.port) == [5061, 5060, 5062])
        #expect(SIPServerLocator.parseServiceRecords(Array(m.prefix(40))).isEmpty)
    }
}

/// A transport failure is named in a few words in the reason column (it was the error's debug text), and
/// the call ends as `transport`.
@Suite("Transport failures, classified")
struct TransportFailureTests {
    @Test func refusedConnectionAndWrongCertificate() async throws {
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let closed = try FreePort.tcp()
        var refused = try RealSBCTests.scenario("refused", transport: "tcp", calls: 2)
        refused.target = .uri(try SIPURI("sip:127.0.0.1:\(closed);transport=tcp"))
        let r = try await ScenarioRunner(scenario: refused, options: RunOptions(resultsRoot: work.path, certsDirectory: work.path)).run().summary
        #expect(r.responses == ["503 connection refused (tcp:127.0.0.1:\(closed))": 2], "\(r.responses)")
        #expect(r.ends == ["transport": 2])

        let mock = try await MockHarness.start()
        var wrongName = try RealSBCTests.scenario("wrong-name", transport: "tls", calls: 2)
        wrongName.target = .uri(try SIPURI("sip:127.0.0.1:\(mock.tlsPort);transport=tls"))
        wrongName.serverName = "other.example.com"
        let w = try await ScenarioRunner(scenario: wrongName, options: RunOptions(resultsRoot: work.path, certsDirectory: mock.certs)).run().summary
        await mock.stop()
        #expect(w.responses == ["503 TLS handshake failed: certificate is not for other.example.com (tls:127.0.0.1:\(mock.tlsPort))": 2], "\(w.responses)")
        #expect(w.ends == ["transport": 2])
    }
}

/// A call answered 200 whose BYE is refused is a connected call with a failed teardown, not a failed call
/// (it was counted "0 connected, 3 failed").
@Suite("Teardown apart from connecting")
struct TeardownTests {
    @Test(.enabled(if: Peers.available("sipp")))
    func refusedByeIsAConnectedCallWithAFailedTeardown() async throws {
        let sipp = try #require(Peers.path("sipp"), "sip-tester (sipp) is not installed")
        let work = try TemporaryDirectory()
        defer { work.remove() }
        let port = try FreePort.udp()
        let (uas, _) = try ExternalProcess.start(sipp, [
            "-sf", RealSBCTests.sippFile("uas-refuses-bye"), "-t", "u1", "-i", "127.0.0.1", "-p", "\(port)", "-m", "3", "-nostdin", "-timeout", "30",
        ], directory: work.url)
        defer { ExternalProcess.stop(uas) }
        #expect(await eventually(timeout: 20) { udpPortIsBound(port) })
        var options = RunOptions(resultsRoot: work.path, certsDirectory: work.path)
        options.target = try SIPURI("sip:127.0.0.1:\(port);transport=udp")
        let result = try await ScenarioRunner(scenario: try RealSBCTests.scenario("bye-481", transport: "udp", calls: 3), options: options).run()
        let s = result.summary
        #expect(s.calls.connected == 3 && s.calls.failed == 0 && s.calls.teardownFailed == 3, "\(s.calls)")
        #expect(s.ends == ["connected": 3] && !s.passed && s.calls.unexpected == 3)
        let rows = try String(contentsOfFile: result.directory + "/calls.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.count == 3 && rows.allSatisfy { $0.hasSuffix(",connected,bye 481,connected") }, "\(rows)")
    }
}
