import Crypto
import Foundation
import X509

/// A self-signed ECDSA P-256 certificate made in memory, for DTLS-SRTP (RFC 5763: the certificate is
/// bound to the session by its SDP fingerprint, not by a CA).
public struct SelfSignedCertificate: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String

    public init(commonName: String = "wasim") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(30 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {},
            issuerPrivateKey: Certificate.PrivateKey(key))
        certificatePEM = try cert.serializeAsPEM().pemString
        privateKeyPEM = key.pemRepresentation
    }
}
