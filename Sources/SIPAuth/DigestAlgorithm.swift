import Crypto
import SIPCore

/// Digest hash algorithms usable in SIP (RFC 8760 adds SHA-256 to RFC 3261's MD5). The `-sess` variants
/// change how HA1 is computed (RFC 7616 §3.4.2).
public enum DigestAlgorithm: String, Sendable, CaseIterable, Codable {
    case md5 = "MD5"
    case md5Session = "MD5-sess"
    case sha256 = "SHA-256"
    case sha256Session = "SHA-256-sess"

    /// Parses the `algorithm` parameter; absent means MD5 (RFC 2617 §3.2.1).
    public init?(token: String?) {
        guard let token else { self = .md5; return }
        guard let match = DigestAlgorithm.allCases.first(where: { SIPGrammar.equalsIgnoringCase($0.rawValue, token) }) else { return nil }
        self = match
    }

    /// Preference when several challenges are offered: the strongest hash first (RFC 8760 §2.4 says a UAC
    /// SHOULD use the topmost challenge it supports; Meta lists SHA-256 before MD5).
    public var strength: Int {
        switch self {
        case .md5, .md5Session: return 1
        case .sha256, .sha256Session: return 2
        }
    }

    public var isSession: Bool { self == .md5Session || self == .sha256Session }

    /// Lowercase hex digest of `text`.
    public func hash(_ text: String) -> String { hash(parts: [text]) }

    /// Lowercase hex digest of `parts` joined by ":" (the shape of every digest input), hashed piece by
    /// piece without building the joined string.
    public func hash(parts: [String]) -> String {
        switch self {
        case .md5, .md5Session:
            var h = Insecure.MD5()
            DigestAlgorithm.feed(&h, parts)
            return h.finalize().hexString
        case .sha256, .sha256Session:
            var h = SHA256()
            DigestAlgorithm.feed(&h, parts)
            return h.finalize().hexString
        }
    }

    private static func feed<H: HashFunction>(_ h: inout H, _ parts: [String]) {
        for (i, part) in parts.enumerated() {
            if i > 0 { withUnsafeBytes(of: UInt8(ascii: ":")) { h.update(bufferPointer: $0) } }
            var part = part
            part.withUTF8 { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let bytes = Array(self)
        return bytes.withUnsafeBytes { HexText.lowercase($0) }
    }
}

extension Digest {
    var hexString: String { withUnsafeBytes { HexText.lowercase($0) } }
}

/// Lowercase hexadecimal text of bytes, written straight into the string's storage.
enum HexText {
    static func lowercase(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                let hi = byte >> 4, lo = byte & 0x0F
                out[2 * i] = hi < 10 ? 0x30 + hi : 0x61 + hi - 10
                out[2 * i + 1] = lo < 10 ? 0x30 + lo : 0x61 + lo - 10
            }
            return bytes.count * 2
        }
    }
}

/// The digest computation itself (RFC 2617 §3.2.2, RFC 7616 §3.4.1), shared by client and server.
public enum DigestComputation {
    /// `request-digest` for the given inputs. `qop` nil selects the RFC 2069 compatible form.
    public static func response(
        algorithm: DigestAlgorithm, username: String, realm: String, password: String,
        method: String, uri: String, nonce: String, nc: String?, cnonce: String?, qop: String?
    ) -> String {
        var ha1 = algorithm.hash(parts: [username, realm, password])
        if algorithm.isSession {
            ha1 = algorithm.hash(parts: [ha1, nonce, cnonce ?? ""])
        }
        // qop=auth-int would hash the body too; SIP peers (and Meta) use qop=auth.
        let ha2 = algorithm.hash(parts: [method, uri])
        if let qop {
            return algorithm.hash(parts: [ha1, nonce, nc ?? "", cnonce ?? "", qop, ha2])
        }
        return algorithm.hash(parts: [ha1, nonce, ha2])
    }
}
