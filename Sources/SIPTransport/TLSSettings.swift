import NIOSSL

/// TLS client settings: trust, hostname verification, ALPN and an optional client certificate.
public struct TLSClientSettings: Sendable {
    /// PEM file of the CA(s) to trust; nil trusts the system store.
    public var caFile: String?
    /// Check the server certificate chain and its name (RFC 5922 §7.2); off only for lab use.
    public var verifyCertificate: Bool
    /// ALPN protocols to offer. Empty by default: Meta answers ALPN `sip` with alert 120.
    public var alpn: [String]
    public var certificateChainFile: String?
    public var privateKeyFile: String?

    public init(caFile: String? = nil, verifyCertificate: Bool = true, alpn: [String] = [],
                certificateChainFile: String? = nil, privateKeyFile: String? = nil)
    {
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
        self.alpn = alpn
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }

    public func makeContext() throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let caFile { config.trustRoots = .file(caFile) }
        config.certificateVerification = verifyCertificate ? .fullVerification : .none
        config.applicationProtocols = alpn
        if let chain = certificateChainFile, let key = privateKeyFile {
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(chain).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        return try NIOSSLContext(configuration: config)
    }
}

/// TLS server settings: the certificate chain presented and, optionally, client-certificate checking.
public struct TLSServerSettings: Sendable {
    public var certificateChainFile: String
    public var privateKeyFile: String
    /// When set, clients must present a certificate chaining to this CA.
    public var clientCAFile: String?
    public var alpn: [String]
    /// ALPN protocols answered with a fatal `no_application_protocol` alert (Meta: `sip`).
    public var refusedALPN: [String]

    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil, alpn: [String] = [],
                refusedALPN: [String] = [])
    {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.alpn = alpn
        self.refusedALPN = refusedALPN
    }

    public func makeContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChainFile).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        config.applicationProtocols = alpn
        if let clientCAFile {
            config.trustRoots = .file(clientCAFile)
            config.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: config)
    }
}
