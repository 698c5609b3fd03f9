import Crypto
import Foundation
import SwiftASN1
import X509

/// The files of one issued certificate.
public struct IssuedCertificate: Sendable, Hashable {
    /// PEM: the leaf, then the CA (the chain a TLS server presents).
    public var chainFile: String
    /// PEM PKCS#8 private key (git-ignored, never committed).
    public var keyFile: String

    public init(chainFile: String, keyFile: String) {
        self.chainFile = chainFile
        self.keyFile = keyFile
    }
}

/// Makes a test CA and server certificates (ECDSA P-256, SHA-256) with real X.509 extensions, so that
/// peers verify them exactly as they would a public chain: basicConstraints, keyUsage, extendedKeyUsage,
/// subjectAltName (DNS names; IP addresses only when asked, since an IP SAN lets a client that connects to
/// that address accept the certificate whatever name it expected), subject/authority key identifiers.
public struct TestCertificateAuthority: Sendable {
    public let directory: String

    /// IP addresses added to every issued certificate's subjectAltName (none by default).
    public var ipAddresses: [String] = []

    public init(directory: String, ipAddresses: [String] = []) {
        self.directory = directory
        self.ipAddresses = ipAddresses
    }

    public var caFile: String { path("ca.pem") }
    public var caKeyFile: String { path("ca.key.pem") }

    public func chainFile(for host: String) -> String { path("\(host).pem") }
    public func keyFile(for host: String) -> String { path("\(host).key.pem") }

    /// The default hosts: Meta's endpoint and the default business SBC.
    public static let defaultHosts = ["wa.meta.vc", "sip.example.com"]

    /// Creates whatever is missing (CA, then one certificate per host) and returns the host certificates.
    /// Existing files are kept, so an SBC that already trusts the CA keeps working.
    @discardableResult
    public func ensure(hosts: [String] = TestCertificateAuthority.defaultHosts) throws -> [String: IssuedCertificate] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try withDirectoryLock { try ensureLocked(hosts: hosts) }
    }

    private func ensureLocked(hosts: [String]) throws -> [String: IssuedCertificate] {
        let (caCert, caKey) = try loadOrCreateCA()
        var issued: [String: IssuedCertificate] = [:]
        for host in hosts {
            let chain = chainFile(for: host), key = keyFile(for: host)
            if !FileManager.default.fileExists(atPath: chain) || !FileManager.default.fileExists(atPath: key) {
                try issue(host: host, caCert: caCert, caKey: caKey)
            }
            issued[host] = IssuedCertificate(chainFile: chain, keyFile: key)
        }
        return issued
    }

    /// Issues a certificate for `host` (and any `extraNames`), replacing existing files. `fileStem` names
    /// the files (`<stem>.pem`, `<stem>.key.pem`); the host by default.
    @discardableResult
    public func issue(host: String, extraNames: [String] = [], clientAuth: Bool = true, fileStem: String? = nil) throws -> IssuedCertificate {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try withDirectoryLock {
            let (caCert, caKey) = try loadOrCreateCA()
            let stem = fileStem ?? host
            try issue(host: host, extraNames: extraNames, caCert: caCert, caKey: caKey, clientAuth: clientAuth, stem: stem)
            return IssuedCertificate(chainFile: chainFile(for: stem), keyFile: keyFile(for: stem))
        }
    }

    /// Runs `body` holding an exclusive `flock` on the directory's `.lock` file, so processes that share a
    /// certificate folder (a mock and a scenario started together, parallel CI jobs) never mix one's CA with
    /// another's keys. Called at startup, never on an event loop.
    private func withDirectoryLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(path(".lock"), O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw CertificateError.cannotWrite(path(".lock")) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CertificateError.cannotWrite(path(".lock")) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private func loadOrCreateCA() throws -> (Certificate, P256.Signing.PrivateKey) {
        if FileManager.default.fileExists(atPath: caFile), FileManager.default.fileExists(atPath: caKeyFile) {
            let cert = try Certificate(pemEncoded: String(contentsOfFile: caFile, encoding: .utf8))
            let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: caKeyFile, encoding: .utf8))
            return (cert, key)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("wasim")
            CommonName("wasim test CA")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        try write(key.pemRepresentation, to: caKeyFile, secret: true)
        try write(cert.serializeAsPEM().pemString, to: caFile, secret: false)
        return (cert, key)
    }

    private func issue(host: String, extraNames: [String] = [], caCert: Certificate, caKey: P256.Signing.PrivateKey,
                       clientAuth: Bool = true, stem: String? = nil) throws
    {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("wasim")
            CommonName(host)
        }
        var names: [GeneralName] = ([host] + extraNames).map { .dnsName($0) }
        for ip in ipAddresses {
            let octets = ip.split(separator: ".").compactMap { UInt8($0) }
            if octets.count == 4 { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets)))) }
        }
        let caSKI = try caCert.extensions.subjectKeyIdentifier?.keyIdentifier
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(2 * 365 * 86400),
            issuer: caCert.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyAgreement: true))
                try ExtendedKeyUsage(clientAuth ? [.serverAuth, .clientAuth] : [.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caSKI)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        let chain = try cert.serializeAsPEM().pemString + "\n" + caCert.serializeAsPEM().pemString + "\n"
        try write(key.pemRepresentation, to: keyFile(for: stem ?? host), secret: true)
        try write(chain, to: chainFile(for: stem ?? host), secret: false)
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Writes atomically (temporary file + rename); keys get mode 0600.
    private func write(_ text: String, to file: String, secret: Bool) throws {
        let temp = file + ".tmp.\(getpid())"
        let attributes: [FileAttributeKey: Any]? = secret ? [.posixPermissions: 0o600] : nil
        guard FileManager.default.createFile(atPath: temp, contents: Data(text.utf8), attributes: attributes) else {
            throw CertificateError.cannotWrite(file)
        }
        guard rename(temp, file) == 0 else { throw CertificateError.cannotWrite(file) }
    }
}

/// Certificate generation failures.
public enum CertificateError: Error, CustomStringConvertible {
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .cannotWrite(let file): return "cannot write \(file)"
        }
    }
}
