import Crypto

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
        guard let match = DigestAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == token.lowercased() }) else { return nil }
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
    public func hash(_ text: String) -> String {
        switch self {
        case .md5, .md5Session: return Insecure.MD5.hash(data: Array(text.utf8)).hexString
        case .sha256, .sha256Session: return SHA256.hash(data: Array(text.utf8)).hexString
        }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Digest {
    var hexString: String { Array(self).hexString }
}

/// The digest computation itself (RFC 2617 §3.2.2, RFC 7616 §3.4.1), shared by client and server.
public enum DigestComputation {
    /// `request-digest` for the given inputs. `qop` nil selects the RFC 2069 compatible form.
    public static func response(
        algorithm: DigestAlgorithm, username: String, realm: String, password: String,
        method: String, uri: String, nonce: String, nc: String?, cnonce: String?, qop: String?
    ) -> String {
        var ha1 = algorithm.hash("\(username):\(realm):\(password)")
        if algorithm.isSession {
            ha1 = algorithm.hash("\(ha1):\(nonce):\(cnonce ?? "")")
        }
        // qop=auth-int would hash the body too; SIP peers (and Meta) use qop=auth.
        let ha2 = algorithm.hash("\(method):\(uri)")
        if let qop {
            return algorithm.hash("\(ha1):\(nonce):\(nc ?? ""):\(cnonce ?? ""):\(qop):\(ha2)")
        }
        return algorithm.hash("\(ha1):\(nonce):\(ha2)")
    }
}
