import ArgumentParser
import Foundation
import Logging
import MetaGraphAPI
import MetaMock
import WasimYAML
import NIOCore
import NIOPosix
import WasimMetrics

/// `wasim mock`: run the mock of Meta's endpoint until interrupted.
struct MockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock",
        abstract: "Run the mock of Meta's WhatsApp SIP endpoint (TLS 5061; UDP and TCP 5060 for lab peers)."
    )

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("tls-port"), help: "TLS port (Meta's: 5061); 0 picks a free one.")
    var tlsPort: Int = 5061

    @Option(name: .customLong("udp-port"), help: "UDP port for lab peers.")
    var udpPort: Int = 5060

    @Option(name: .customLong("tcp-port"), help: "TCP port for lab peers.")
    var tcpPort: Int = 5060

    @Flag(name: .customLong("no-udp"), help: "No UDP listener.")
    var noUDP = false

    @Flag(name: .customLong("no-tcp"), help: "No TCP listener.")
    var noTCP = false

    @Option(help: "Folder of the test CA and certificates (made when missing).")
    var certs: String = "Certs"

    @Option(help: "Write the call ledger here: one JSON line per call as it ends (every call, however long the mock runs).")
    var ledger: String?

    @Option(name: .customLong("lab-route-host"), help: "Lab use: put this host in Record-Route and Contact instead of Meta's hosts, so peers that follow the route set (baresip, Kamailio) reach the mock.")
    var labRouteHost: String?

    @Option(help: "Mock configuration file (YAML); without it the documented default runs.")
    var config: String?

    @Flag(name: .customLong("print-config"), help: "Print the effective configuration (passwords included) and exit.")
    var printConfig = false

    @Option(name: .customLong("graph-api"), help: "Serve Meta's Graph API for calling settings and call permissions on HOST:PORT (HTTPS with the mock's CA), e.g. 127.0.0.1:8443.")
    var graphAPI: String?

    @Flag(name: .customLong("graph-api-plain"), help: "Serve the Graph API over plain HTTP instead of HTTPS.")
    var graphAPIPlain = false

    @OptionGroup var metrics: MetricsFlags

    @OptionGroup var logging: LoggingOptions

    @Option(name: .customLong("time-scale"), help: "Run the mock's clock this many times faster, for demonstrations: limits, permissions, the user's answer and hang-up, ring and answer timeouts, UIC holds, media timeouts (not SIP's T1/T2/T4 nor RTP pacing).")
    var timeScale: Double = 1

    func validate() throws {
        guard timeScale > 0 else { throw ValidationError("'--time-scale' must be greater than 0") }
        if let graphAPI, Self.hostPort(graphAPI) == nil {
            throw ValidationError("'--graph-api' is HOST:PORT, e.g. 127.0.0.1:8443 (got '\(graphAPI)')")
        }
        if graphAPIPlain, graphAPI == nil { throw ValidationError("'--graph-api-plain' needs '--graph-api HOST:PORT'") }
    }

    /// `127.0.0.1:8443`, `[::1]:8443`.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        let host = text[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "wasim.mock")
        var configuration = MockConfiguration.default
        if let config {
            do {
                configuration = try MockConfigLoader.load(path: config)
            } catch let error as ConfigFileError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        if let labRouteHost { configuration.labRouteHost = labRouteHost }
        if printConfig {
            print(MockConfigWriter.yaml(configuration), terminator: "")
            return
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let clock = timeScale == 1 ? MockClock.system : MockClock.scaled(timeScale)
        let server = try await MetaMockServer(configuration: configuration, group: group, certsDirectory: certs, clock: clock, logger: logger)
        if let ledger { try await server.writeLedger(to: ledger) }
        let bound: MockBoundAddresses
        do {
            bound = try await server.start(MockListenAddresses(
                host: host, tlsPort: tlsPort, udpPort: noUDP ? nil : udpPort, tcpPort: noTCP ? nil : tcpPort))
        } catch let error as MockListenError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            await server.stop()
            try? await group.shutdownGracefully()
            throw ExitCode(2)
        }
        var graph: GraphAPIServer?
        if let graphAPI, let (graphHost, graphPort) = Self.hostPort(graphAPI) {
            do {
                graph = try await GraphAPIServer.start(mock: server, host: graphHost, port: graphPort, tls: !graphAPIPlain, certsDirectory: certs,
                                                       logger: Logger(label: "wasim.graph-api"))
            } catch let error as MockListenError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                await server.stop()
                try? await group.shutdownGracefully()
                throw ExitCode(2)
            }
        }
        let metricsEndpoint: MetricsEndpoint?
        do {
            metricsEndpoint = try await metrics.start(MockMetricsPublisher(server: server))
        } catch {
            await graph?.stop()
            await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        for business in configuration.businesses {
            if business.servers.isEmpty {
                print("business \(business.number) (phone number id \(business.phoneNumberID)): no SIP server yet, SIP \(business.sipEnabled ? "enabled" : "disabled")")
            } else {
                print("business \(business.number) (phone number id \(business.phoneNumberID)): SIP server \(business.sipServerHostname), digest user \(business.digestUsername), password \(business.sipPassword)\(business.sipEnabled ? "" : ", SIP disabled")")
            }
        }
        for group in configuration.users {
            print("users \(group.numbers): permission \(group.permission)")
        }
        print("limits: \(configuration.limits.connectedBICPer24h) connected BICs per pair per 24 h, \(configuration.limits.concurrentPerNumber) concurrent per number\(timeScale == 1 ? "" : "; clock ×\(timeScale)")")
        let p = configuration.protection
        print("protection: \(p.maxConnections) connections, \(p.maxConnectionsPerSource) per source, idle timeout \(p.idleTimeoutSeconds.map { "\($0) s" } ?? "none"), TLS handshake \(p.tlsHandshakeTimeoutSeconds) s, messages up to \(p.maxMessageSize) bytes, \(p.authFailures.isEnabled ? "auth lockout \(p.authFailures.lockout) s after \(p.authFailures.failures) failures in \(p.authFailures.window) s" : "no auth lockout")")
        let r = configuration.reasonPhrases
        print("wording: 400 '\(r.assetNotFound)', 404 '\(r.ipInRequestURI)', 486 '\(r.userDeclined)' (sip.wording: troubleshooting is the Calling Troubleshooting page's, sip-page the SIP page's)")
        print("bic blocked for business numbers in: \(configuration.limits.bicBlockedCountries.sorted().joined(separator: ", "))")
        print("domain \(configuration.domain); CA \(server.caFile)")
        if let a = bound.tls { print("listening TLS \(a)") }
        if let a = bound.udp { print("listening UDP \(a)") }
        if let a = bound.tcp { print("listening TCP \(a)") }
        if let graph {
            print("graph api: \(graph.baseURL)/v23.0/<PHONE_NUMBER_ID>/settings\(graph.caFile.map { " (CA \($0))" } ?? "")")
            for token in configuration.graphAPI.effectiveTokens(for: configuration.businesses) {
                print("graph api token for app \(token.appID): \(token.token) (\(token.permissions.sorted().joined(separator: ", ")))")
            }
        }
        if let cert = server.clientCertificateHost { print("client certificate for business TLS servers that ask: \(cert)") }
        for plan in configuration.uic.calls {
            let business = configuration.business(number: plan.business)!
            print("uic: \(plan.count) call(s) from \(plan.users) to \(plan.business) at \(business.connectAddress ?? "\(business.sipServerHostname):\(business.sipServerPort)") over \(business.transport.rawValue), \(plan.rate)/s")
        }
        fflush(nil)
        let plans = configuration.uic.calls
        let uicTask = Task {
            for plan in plans {
                for report in await server.run(plan) {
                    let o = report.outcome
                    var line = "uic \(report.callID): \(o.status) \(o.reason)"
                    if o.connected { line += ", connected \(o.durationSeconds ?? 0) s, ended by \(o.endedBy ?? "?")" }
                    if let detail = o.detail { line += " (\(detail))" }
                    print(line)
                    fflush(nil)
                }
            }
        }
        // The defences' counts, logged when they change (every 10 s at most) and at the end.
        let protectionLog = Task {
            var last: MockProtectionCounts? = nil
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                let counts = await server.protectionCounts()
                if let last, counts.sameRefusals(as: last) { continue }
                if last != nil || counts != MockProtectionCounts.none {
                    logger.info("protection: \(counts)")
                }
                last = counts
            }
        }
        await waitForTerminationSignal()
        protectionLog.cancel()
        let finalCounts = await server.protectionCounts()
        logger.info("protection: \(finalCounts)")
        uicTask.cancel()
        print("stopping")
        await graph?.stop()
        await metricsEndpoint?.stop()
        await server.stop()
        try await group.shutdownGracefully()
    }
}
