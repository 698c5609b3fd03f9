import CSRTP

/// The SRTP protection profiles wasim speaks: RFC 4568 §6.2 crypto-suites for SDES and RFC 5764 §4.1.2
/// profiles for DTLS-SRTP (AES-256: RFC 6188).
public enum SRTPProfile: String, CaseIterable, Sendable, Hashable {
    case aesCM128HmacSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HmacSHA1_32 = "AES_CM_128_HMAC_SHA1_32"
    case aes256CMHmacSHA1_80 = "AES_256_CM_HMAC_SHA1_80"
    case aes256CMHmacSHA1_32 = "AES_256_CM_HMAC_SHA1_32"

    /// Master key length in bytes.
    public var keyLength: Int {
        switch self {
        case .aesCM128HmacSHA1_80, .aesCM128HmacSHA1_32: return 16
        case .aes256CMHmacSHA1_80, .aes256CMHmacSHA1_32: return 32
        }
    }

    /// Master salt length in bytes (RFC 3711 §8.2: 112 bits).
    public var saltLength: Int { 14 }

    /// Authentication tag of SRTP packets, in bytes.
    public var tagLength: Int {
        switch self {
        case .aesCM128HmacSHA1_80, .aes256CMHmacSHA1_80: return 10
        case .aesCM128HmacSHA1_32, .aes256CMHmacSHA1_32: return 4
        }
    }

    /// The name in the DTLS `use_srtp` extension (OpenSSL's spelling), when DTLS-SRTP defines one.
    public var dtlsName: String? {
        switch self {
        case .aesCM128HmacSHA1_80: return "SRTP_AES128_CM_SHA1_80"
        case .aesCM128HmacSHA1_32: return "SRTP_AES128_CM_SHA1_32"
        case .aes256CMHmacSHA1_80, .aes256CMHmacSHA1_32: return nil
        }
    }

    public init?(dtlsName: String) {
        guard let match = SRTPProfile.allCases.first(where: { $0.dtlsName == dtlsName }) else { return nil }
        self = match
    }

    func apply(rtp: inout srtp_crypto_policy_t, rtcp: inout srtp_crypto_policy_t) {
        switch self {
        case .aesCM128HmacSHA1_80:
            srtp_crypto_policy_set_rtp_default(&rtp)
            srtp_crypto_policy_set_rtcp_default(&rtcp)
        case .aesCM128HmacSHA1_32:
            // RFC 5764 §4.1.2: SRTCP keeps the 80-bit tag.
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&rtp)
            srtp_crypto_policy_set_rtcp_default(&rtcp)
        case .aes256CMHmacSHA1_80:
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtp)
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtcp)
        case .aes256CMHmacSHA1_32:
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&rtp)
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtcp)
        }
    }
}

/// An SRTP failure, with libsrtp2's status.
public struct SRTPError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The packet failed authentication (wrong key, or tampered).
        case authentication
        /// Replayed or too old for the replay window (RFC 3711 §3.3.2).
        case replay
        /// Bad key length or profile, or a malformed packet.
        case badParameter
        case other(Int)
    }

    public var kind: Kind
    public var operation: String

    init(_ status: srtp_err_status_t, _ operation: String) {
        self.operation = operation
        switch status {
        case srtp_err_status_auth_fail: kind = .authentication
        case srtp_err_status_replay_fail, srtp_err_status_replay_old: kind = .replay
        case srtp_err_status_bad_param: kind = .badParameter
        default: kind = .other(Int(status.rawValue))
        }
    }

    public var description: String { "SRTP \(operation) failed: \(kind)" }
}

/// One direction of an SRTP session through libsrtp2 (RFC 3711): `outbound` protects what we send,
/// `inbound` unprotects what we receive (with replay protection, RFC 3711 §3.3.2). Keys come from SDES
/// (`a=crypto`) or from the DTLS exporter. Not thread-safe: one owner (an event loop).
public final class SRTPSession {
    public enum Direction: Sendable { case outbound, inbound }

    public let profile: SRTPProfile
    public let direction: Direction
    private var session: srtp_t?

    /// Room for the tag, MKI and SRTCP index that protecting appends (SRTP_MAX_SRTCP_TRAILER_LEN: the macro
    /// does not import).
    static let maxTrailer = 148

    /// libsrtp2 is initialized once per process.
    static let libraryReady: Bool = srtp_init() == srtp_err_status_ok

    /// - Parameter keyAndSalt: the master key followed by the master salt (`profile.keyLength + 14` bytes).
    public init(profile: SRTPProfile, keyAndSalt: [UInt8], direction: Direction, replayWindow: Int = 1024) throws {
        guard Self.libraryReady else { throw SRTPError(srtp_err_status_init_fail, "init") }
        guard keyAndSalt.count == profile.keyLength + profile.saltLength else { throw SRTPError(srtp_err_status_bad_param, "key length") }
        self.profile = profile
        self.direction = direction
        var policy = srtp_policy_t()
        profile.apply(rtp: &policy.rtp, rtcp: &policy.rtcp)
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.window_size = UInt(replayWindow)
        policy.allow_repeat_tx = 0
        var key = keyAndSalt
        let status = key.withUnsafeMutableBufferPointer { keyBuffer -> srtp_err_status_t in
            policy.key = keyBuffer.baseAddress
            return srtp_create(&session, &policy)
        }
        guard status == srtp_err_status_ok else { throw SRTPError(status, "create") }
    }

    deinit {
        if let session { srtp_dealloc(session) }
    }

    /// Encrypts and authenticates an RTP packet in place (it grows by the tag).
    public func protect(_ packet: inout [UInt8]) throws { try transform(&packet, grow: Self.maxTrailer, "protect", srtp_protect) }

    /// Checks and decrypts an SRTP packet in place (it shrinks by the tag).
    public func unprotect(_ packet: inout [UInt8]) throws { try transform(&packet, grow: 0, "unprotect", srtp_unprotect) }

    /// Protects an RTCP packet (SRTCP: index and tag appended).
    public func protectRTCP(_ packet: inout [UInt8]) throws { try transform(&packet, grow: Self.maxTrailer, "protect_rtcp", srtp_protect_rtcp) }

    /// Checks and decrypts an SRTCP packet.
    public func unprotectRTCP(_ packet: inout [UInt8]) throws { try transform(&packet, grow: 0, "unprotect_rtcp", srtp_unprotect_rtcp) }

    private func transform(_ packet: inout [UInt8], grow: Int, _ name: String,
                           _ body: (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t) throws
    {
        var length = Int32(packet.count)
        if grow > 0 { packet.append(contentsOf: repeatElement(0, count: grow)) }
        let status = packet.withUnsafeMutableBytes { body(session, $0.baseAddress, &length) }
        guard status == srtp_err_status_ok else {
            if grow > 0 { packet.removeLast(grow) }
            throw SRTPError(status, name)
        }
        packet.removeLast(packet.count - Int(length))
    }
}
