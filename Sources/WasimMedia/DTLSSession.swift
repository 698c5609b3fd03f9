import COpenSSL
import Foundation

/// A DTLS certificate and key for DTLS-SRTP (an ECDSA P-256 self-signed certificate, as Meta recommends
/// ECDSA "to prevent fragmentation"), loaded into one OpenSSL context shared by the sessions of a process.
/// Its SHA-256 fingerprint goes in `a=fingerprint` (RFC 8122).
public final class DTLSContext: @unchecked Sendable {
    let context: OpaquePointer
    /// `AB:CD:…`, uppercase hex.
    public let fingerprint: String

    /// - Parameters:
    ///   - certificatePEM: the certificate; `privateKeyPEM`: its key (PKCS#8 or SEC1 PEM).
    ///   - profiles: offered or accepted in `use_srtp`, in preference order (RFC 5764 §4.1.2).
    public init(certificatePEM: String, privateKeyPEM: String, profiles: [SRTPProfile] = [.aesCM128HmacSHA1_80, .aesCM128HmacSHA1_32]) throws {
        guard let ctx = SSL_CTX_new(DTLS_method()) else { throw DTLSError.openssl("SSL_CTX_new", DTLSError.drain()) }
        context = ctx
        guard wasim_ssl_ctx_set_min_proto_version(ctx, wasim_tls1_2_version()) == 1 else { throw DTLSError.openssl("min version", DTLSError.drain()) }
        let names = profiles.compactMap(\.dtlsName).joined(separator: ":")
        guard SSL_CTX_set_tlsext_use_srtp(ctx, names) == 0 else { throw DTLSError.openssl("use_srtp \(names)", DTLSError.drain()) }
        guard let cert = Self.readCertificate(certificatePEM), let key = Self.readKey(privateKeyPEM) else {
            throw DTLSError.openssl("PEM", DTLSError.drain())
        }
        defer { X509_free(cert); EVP_PKEY_free(key) }
        guard SSL_CTX_use_certificate(ctx, cert) == 1, SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            throw DTLSError.openssl("certificate", DTLSError.drain())
        }
        // The peer's certificate is self-signed: it is checked against the SDP fingerprint after the
        // handshake, not against a CA (RFC 5763 §5).
        SSL_CTX_set_verify(ctx, wasim_ssl_verify_peer_fail(), { _, _ in 1 })
        _ = wasim_ssl_ctx_set_read_ahead(ctx, 1)
        fingerprint = Self.fingerprint(of: cert)
    }

    deinit { SSL_CTX_free(context) }

    static func readCertificate(_ pem: String) -> OpaquePointer? {
        pem.withCString { text in
            let bio = BIO_new_mem_buf(text, -1)
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
    }

    static func readKey(_ pem: String) -> OpaquePointer? {
        pem.withCString { text in
            let bio = BIO_new_mem_buf(text, -1)
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
    }

    /// SHA-256 of the certificate's DER, as `a=fingerprint:sha-256` writes it.
    static func fingerprint(of cert: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        X509_digest(cert, EVP_sha256(), &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}

/// DTLS failures.
public enum DTLSError: Error, Equatable, CustomStringConvertible {
    case openssl(String, String)
    case fingerprintMismatch(expected: String, got: String)
    case noSRTPProfile

    public var description: String {
        switch self {
        case .openssl(let step, let detail): return "DTLS \(step): \(detail)"
        case .fingerprintMismatch(let expected, let got): return "DTLS peer certificate fingerprint \(got) does not match the SDP's \(expected)"
        case .noSRTPProfile: return "DTLS handshake negotiated no SRTP profile (use_srtp)"
        }
    }

    /// OpenSSL's error queue, as text (and emptied).
    static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.isEmpty ? "unknown error" : parts.joined(separator: "; ")
    }
}

/// SRTP keys from a DTLS-SRTP handshake (RFC 5764 §4.2): ours to protect what we send, the peer's to
/// unprotect what we receive.
public struct DTLSSRTPKeys: Sendable, Equatable {
    public var profile: SRTPProfile
    public var local: [UInt8]
    public var remote: [UInt8]
    /// The 60 (or more) bytes of `EXTRACTOR-dtls_srtp`, as exported.
    public var exported: [UInt8]
}

/// One DTLS 1.2 handshake for DTLS-SRTP over our own UDP socket: datagrams in, datagrams out, through
/// OpenSSL memory BIOs (no socket in OpenSSL, so it runs on the event loop). The ClientHello and every
/// flight are retransmitted by OpenSSL's timer, which starts at `initialRetransmit` and doubles (1 s, 2 s,
/// 4 s by default, the pattern that clips audio, spec §5.5); the caller wakes `retransmitDue()` when
/// `retransmitDelay` says. Not thread-safe: one owner.
public final class DTLSSession {
    public enum Role: Sendable { case client, server }

    public enum State: Equatable {
        case handshaking
        case connected(DTLSSRTPKeys)
        case failed(String)
    }

    public let role: Role
    public private(set) var state: State = .handshaking
    /// Handshake flights sent again because the timer fired (ClientHello retransmissions for a client).
    public private(set) var retransmissions = 0
    let ssl: OpaquePointer
    let incoming: OpaquePointer
    let outgoing: OpaquePointer
    let expectedFingerprint: String?
    let mtu: Int

    /// - Parameters:
    ///   - expectedFingerprint: the peer's `a=fingerprint:sha-256` from the SDP; nil skips the check.
    ///   - initialRetransmit: seconds before the first retransmission of a flight.
    public init(context: DTLSContext, role: Role, expectedFingerprint: String?, initialRetransmit: Double = 1, mtu: Int = 1200) throws {
        guard let ssl = SSL_new(context.context) else { throw DTLSError.openssl("SSL_new", DTLSError.drain()) }
        self.ssl = ssl
        self.role = role
        self.expectedFingerprint = expectedFingerprint?.uppercased()
        self.mtu = mtu
        incoming = BIO_new(BIO_s_mem())
        outgoing = BIO_new(BIO_s_mem())
        _ = wasim_bio_set_mem_eof_return(incoming, -1)
        _ = wasim_bio_set_mem_eof_return(outgoing, -1)
        SSL_set_bio(ssl, incoming, outgoing)
        _ = wasim_ssl_set_options_no_query_mtu(ssl)
        _ = wasim_ssl_set_mtu(ssl, mtu - 28)
        // The first retransmission delay, kept in the SSL's app-data slot for the timer callback.
        SSL_set_ex_data(ssl, 0, UnsafeMutableRawPointer(bitPattern: UInt(max(1000, initialRetransmit * 1e6))))
        DTLS_set_timer_cb(ssl) { ssl, previous in
            let initial = UInt32(UInt(bitPattern: SSL_get_ex_data(ssl, 0)))
            return previous == 0 ? initial : min(previous &* 2, 60_000_000)
        }
        if role == .client { SSL_set_connect_state(ssl) } else { SSL_set_accept_state(ssl) }
    }

    deinit { SSL_free(ssl) }

    /// Starts the handshake: the client's ClientHello; nothing for a server.
    public func start() -> [[UInt8]] {
        advance()
        return drainOutgoing()
    }

    /// A DTLS datagram from the peer (first byte 20–63, RFC 7983). Returns datagrams to send.
    public func receive(_ datagram: [UInt8]) -> [[UInt8]] {
        _ = datagram.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) }
        if case .handshaking = state {
            advance()
        } else {
            // After the handshake: a retransmitted final flight from the peer is answered by OpenSSL.
            var scratch = [UInt8](repeating: 0, count: 2048)
            _ = SSL_read(ssl, &scratch, Int32(scratch.count))
            ERR_clear_error()
        }
        return drainOutgoing()
    }

    /// Seconds until OpenSSL wants `retransmitDue()`, or nil when no timer runs.
    public var retransmitDelay: Double? {
        let us = wasim_dtls_get_timeout_us(ssl)
        return us < 0 ? nil : Double(us) / 1e6
    }

    /// The retransmission timer fired: OpenSSL resends the last flight if it is still unanswered.
    public func retransmitDue() -> [[UInt8]] {
        guard case .handshaking = state else { return [] }
        if wasim_dtls_handle_timeout(ssl) > 0 { retransmissions += 1 }
        return drainOutgoing()
    }

    private func advance() {
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            finishHandshake()
            return
        }
        let error = SSL_get_error(ssl, result)
        if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
            state = .failed(DTLSError.openssl("handshake", DTLSError.drain()).description)
        }
    }

    private func finishHandshake() {
        if let expectedFingerprint {
            guard let peer = SSL_get1_peer_certificate(ssl) else {
                state = .failed(DTLSError.fingerprintMismatch(expected: expectedFingerprint, got: "none").description)
                return
            }
            defer { X509_free(peer) }
            let got = DTLSContext.fingerprint(of: peer)
            guard got == expectedFingerprint else {
                state = .failed(DTLSError.fingerprintMismatch(expected: expectedFingerprint, got: got).description)
                return
            }
        }
        guard let name = wasim_srtp_profile_name(ssl).map({ String(cString: $0) }), let profile = SRTPProfile(dtlsName: name) else {
            state = .failed(DTLSError.noSRTPProfile.description)
            return
        }
        let keyLength = profile.keyLength, saltLength = profile.saltLength
        var material = [UInt8](repeating: 0, count: 2 * (keyLength + saltLength))
        let label = "EXTRACTOR-dtls_srtp"
        let ok = SSL_export_keying_material(ssl, &material, material.count, label, label.utf8.count, nil, 0, 0)
        guard ok == 1 else {
            state = .failed(DTLSError.openssl("export keying material", DTLSError.drain()).description)
            return
        }
        // RFC 5764 §4.2: client key | server key | client salt | server salt.
        let clientKey = Array(material[0..<keyLength]), serverKey = Array(material[keyLength..<(2 * keyLength)])
        let clientSalt = Array(material[(2 * keyLength)..<(2 * keyLength + saltLength)])
        let serverSalt = Array(material[(2 * keyLength + saltLength)...])
        let client = clientKey + clientSalt, server = serverKey + serverSalt
        state = .connected(DTLSSRTPKeys(profile: profile, local: role == .client ? client : server,
                                        remote: role == .client ? server : client, exported: material))
    }

    /// What OpenSSL wrote, cut into datagrams of whole records no larger than the MTU (RFC 6347 §4.1.1:
    /// several records may share a datagram, a record never spans two).
    private func drainOutgoing() -> [[UInt8]] {
        let pending = Int(wasim_bio_pending(outgoing))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = BIO_read(outgoing, &bytes, Int32(pending))
        guard read > 0 else { return [] }
        bytes.removeLast(pending - Int(read))
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var offset = 0
        while offset + 13 <= bytes.count {
            let length = Int(bytes[offset + 11]) << 8 | Int(bytes[offset + 12])
            let end = min(bytes.count, offset + 13 + length)
            if !current.isEmpty && current.count + (end - offset) > mtu {
                datagrams.append(current)
                current = []
            }
            current += bytes[offset..<end]
            offset = end
        }
        if offset < bytes.count { current += bytes[offset...] }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }
}
