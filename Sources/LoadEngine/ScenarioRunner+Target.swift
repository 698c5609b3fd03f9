import MetaMock
import NIOCore
import NIOPosix
import SIPCore
import SIPTransport
import WasimCerts
import WasimMedia

/// Where a run's calls go, and what it started to serve them: the embedded mock (for BIC when there is no
/// target, and always for UIC, where it places the calls as Meta), wasim's business UAS (UIC without a
/// target), and the transport stack of wasim's own user agents.
struct PreparedTarget {
    var stack: SIPTransportStack
    /// Where BIC INVITEs go.
    var destination: SIPDestination
    /// For the embedded mock over UDP: the mock's socket on each event loop, so each shard's calls go to the
    /// mock core of its own loop.
    var destinationByLoop: [SIPDestination] = []
    /// Further BIC targets, in failover order.
    var alternates: [SIPDestination] = []
    var transport: SIPTransportKind
    var description: String
    var uasSettings: BusinessUserAgentServer.Settings?
    var mock: MetaMockServer?
}

extension ScenarioRunner {
    func prepareTarget(group: MultiThreadedEventLoopGroup, password: String, mockOut: inout MetaMockServer?) async throws -> PreparedTarget {
        var transport = scenario.transport
        let targetURI = options.target ?? { if case .uri(let u) = scenario.target { return u } else { return nil } }()
        if let uri = targetURI, let t = uri.transport, let kind = SIPTransportKind(token: t) { transport = kind }
        let needsMock = scenario.hasUIC || targetURI == nil
        var config = try mockConfiguration()
        // Every peer of the embedded mock is this process, on one address: no per-source connection limit.
        config.protection.maxConnectionsPerSource = config.protection.maxConnections
        // The embedded mock answers a media probe with a probe: its leg sends at full rate as long as the
        // business's does, so a load run pays for the media it measures.
        if scenario.bicMedia || scenario.uicMedia, config.media.probeSeconds == nil { config.media.probeSeconds = scenario.mediaProbeSeconds }

        // UIC: the mock (as Meta) calls the business number's SIP server: the target SBC, or wasim's own UAS.
        var serverTLS: TLSServerSettings? = nil
        var uicBusiness: (index: Int, business: MockConfiguration.Business)? = nil
        if scenario.hasUIC {
            guard let index = config.businesses.firstIndex(where: { $0.number == scenario.businessNumber }) else {
                throw ScenarioError(file: scenario.file, path: "business.number",
                                    message: "the mock has no business \(scenario.businessNumber) to place UIC calls for")
            }
            let business = config.businesses[index]
            uicBusiness = (index, business)
            if targetURI == nil, transport == .tls {
                let authority = TestCertificateAuthority(directory: options.certsDirectory)
                let issued = try authority.ensure()
                let cert = try issued[business.sipServerHostname] ?? authority.issue(host: business.sipServerHostname)
                serverTLS = TLSServerSettings(certificateChainFile: cert.chainFile, privateKeyFile: cert.keyFile)
            }
        }
        // The test CA (and the mock's certificates) exist before any TLS context reads them.
        if needsMock || transport == .tls { _ = try TestCertificateAuthority(directory: options.certsDirectory).ensure() }
        // BIC over TLS trusts the scenario's CA, else the test CA the embedded mock's certificate comes from.
        let caFile = scenario.caFile ?? TestCertificateAuthority(directory: options.certsDirectory).caFile
        let clientTLS = scenario.hasBIC && transport == .tls ? TLSClientSettings(caFile: caFile) : nil
        // Against a target, wasim's sockets send from the address Via and Contact name (a non-loopback SBC
        // must be able to answer it); against the embedded mock everything stays on loopback.
        let clientBind = targetURI == nil ? nil : scenario.localHost
        let stack = try await SIPTransportStack(group: group, advertisedHost: scenario.localHost, clientBindHost: clientBind,
                                                timers: options.timers, clientTLS: clientTLS, serverTLS: serverTLS) { _ in nil }

        var uasSettings: BusinessUserAgentServer.Settings? = nil
        var uicDescription = ""
        if let (index, business0) = uicBusiness {
            var business = business0
            // wasim's business UAS answers: directly (no target), or behind the target SBC at
            // `call.business_uas`; a target without one is the business's own server end to end.
            var uasAt: (host: String, port: Int, transport: SIPTransportKind)? = nil
            if let uri = targetURI {
                business.connectAddress = "\(uri.host):\(uri.port ?? transport.defaultPort)"
                if scenario.serverName != "wa.meta.vc" { business.sipServerHostname = scenario.serverName }
                if let uas = scenario.businessUAS {
                    // A lab: the business's in-dialog requests come back through the SBC along the mock's
                    // Record-Route, which must then name a host the SBC reaches, not Meta's own. (Without
                    // a business UAS the SBC under test sees Meta's real route set.)
                    if config.labRouteHost == nil { config.labRouteHost = scenario.localHost }
                    let kind = uas.transport.flatMap(SIPTransportKind.init(token:)) ?? .udp
                    uasAt = (uas.host, uas.port ?? kind.defaultPort, kind)
                    uicDescription = "\(uri) (UIC: the embedded mock calls it as Meta; wasim's business UAS answers behind it at \(uas))"
                } else {
                    uicDescription = "\(uri) (UIC: the embedded mock calls it as Meta)"
                }
            } else {
                uasAt = ("127.0.0.1", 0, transport)
            }
            if let at = uasAt {
                let bound: SocketAddress
                switch at.transport {
                case .udp: bound = try await stack.listenUDP(host: at.host, port: at.port)
                case .tcp, .tls: bound = try await stack.listenStream(host: at.host, port: at.port, tls: at.transport == .tls)
                }
                let port = bound.port ?? 0
                if targetURI == nil { business.connectAddress = "127.0.0.1:\(port)" }
                var settings = BusinessUserAgentServer.Settings(
                    challenge: scenario.uicAnswer.challenge, realm: business.sipServerHostname, digestUsername: business.digestUsername,
                    password: password, answerAfter: scenario.uicAnswer.answerAfter, contactHost: "\(targetURI == nil ? scenario.localHost : at.host):\(port)",
                    contactUser: business.number)
                settings.rejectDTLS = scenario.uicAnswer.rejectDTLS
                if targetURI != nil { settings.contactTransport = at.transport.rawValue }
                if scenario.uicMedia {
                    let certificate = try SelfSignedCertificate(commonName: business.sipServerHostname)
                    settings.dtls = try DTLSContext(certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM)
                }
                uasSettings = settings
                if targetURI == nil {
                    uicDescription = "wasim business UAS (sip:127.0.0.1:\(port);transport=\(at.transport.rawValue)), called by the embedded mock"
                }
            }
            business.transport = transport
            config.businesses[index] = business
            if let ca = scenario.caFile { config.uic.caFile = ca }
        }

        var mock: MetaMockServer? = nil
        var bound: MockBoundAddresses? = nil
        if needsMock {
            let server = try await MetaMockServer(configuration: config, group: group, certsDirectory: options.certsDirectory)
            mockOut = server
            mock = server
            var listen = MockListenAddresses.ephemeral()
            listen.udpPortPerLoop = true
            bound = try await server.start(listen)
        }

        var destination = SIPDestination(transport: transport, host: "127.0.0.1", port: 0)
        var alternates: [SIPDestination] = []
        var byLoop: [SIPDestination] = []
        var bicDescription = ""
        if scenario.hasBIC {
            if let uri = targetURI {
                // Each target URI resolved as RFC 3263 asks (SRV, then A/AAAA); --target replaces the list.
                let uris = [uri] + (options.target == nil ? scenario.alternateTargets : [])
                var all: [SIPDestination] = []
                for u in uris {
                    let kind = u.transport.flatMap(SIPTransportKind.init(token:)) ?? transport
                    let found = SIPServerLocator.destinations(for: u, transport: kind, serverName: scenario.serverName)
                    if found.isEmpty {
                        throw ScenarioError(file: scenario.file, path: "target", message: "\(u) does not resolve (no SRV, A or AAAA record for \(u.host))")
                    }
                    for d in found where !all.contains(d) { all.append(d) }
                }
                destination = all[0]
                alternates = Array(all.dropFirst())
                bicDescription = uris.map(\.description).joined(separator: ", then ")
            } else if let bound {
                let address: SocketAddress?
                switch transport {
                case .tls: address = bound.tls
                case .tcp: address = bound.tcp
                case .udp: address = bound.udp
                }
                destination = SIPDestination(transport: transport, host: "127.0.0.1", port: address?.port ?? 0, serverName: scenario.serverName)
                if transport == .udp {
                    byLoop = bound.udpByLoop.map { SIPDestination(transport: .udp, host: "127.0.0.1", port: $0.port ?? 0, serverName: scenario.serverName) }
                }
                bicDescription = "embedded mock (sip:127.0.0.1:\(destination.port);transport=\(transport.rawValue))"
            }
            if transport == .udp { try await stack.openClientUDP(host: clientBind ?? "127.0.0.1") }
        }
        let description: String
        switch scenario.direction {
        case .bic: description = bicDescription
        case .uic: description = uicDescription
        case .mix: description = "BIC: \(bicDescription); UIC: \(uicDescription)"
        }
        return PreparedTarget(stack: stack, destination: destination, destinationByLoop: byLoop, alternates: alternates, transport: transport,
                              description: description, uasSettings: uasSettings, mock: mock)
    }
}
