import SIPCore

/// A Digest challenge from `WWW-Authenticate` (401) or `Proxy-Authenticate` (407), RFC 3261 §22.
public struct DigestChallenge: Sendable, Hashable {
    public var realm: String
    public var nonce: String
    public var opaque: String?
    public var algorithm: DigestAlgorithm
    /// The qop options offered (`auth`, `auth-int`); empty for an RFC 2069 style challenge.
    public var qopOptions: [String]
    public var stale: Bool

    public init(realm: String, nonce: String, opaque: String? = nil, algorithm: DigestAlgorithm = .md5,
                qopOptions: [String] = ["auth"], stale: Bool = false)
    {
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.algorithm = algorithm
        self.qopOptions = qopOptions
        self.stale = stale
    }

    /// Parses one challenge; nil when it is not Digest or uses an algorithm we do not implement.
    public init?(parsing value: Substring) throws(SIPGrammarError) {
        let params = try DigestParameters(parsing: value)
        guard params.scheme.lowercased() == "digest" else { return nil }
        guard let realm = params["realm"], let nonce = params["nonce"] else { throw .invalid("Digest challenge lacks realm or nonce") }
        guard let algorithm = DigestAlgorithm(token: params["algorithm"]) else { return nil }
        self.realm = realm
        self.nonce = nonce
        self.opaque = params["opaque"]
        self.algorithm = algorithm
        self.qopOptions = params["qop"].map { $0.split(separator: ",").map { $0.trimmingCharacters() } } ?? []
        self.stale = params["stale"]?.lowercased() == "true"
    }

    /// The header value, in Meta's parameter order: realm, nonce, opaque, algorithm, qop.
    public var headerValue: String {
        var params = DigestParameters()
        params.append("realm", realm, quoted: true)
        params.append("nonce", nonce, quoted: true)
        if let opaque { params.append("opaque", opaque, quoted: true) }
        params.append("algorithm", algorithm.rawValue, quoted: false)
        if !qopOptions.isEmpty { params.append("qop", qopOptions.joined(separator: ","), quoted: true) }
        if stale { params.append("stale", "true", quoted: false) }
        return params.serialized(separator: ",")
    }

    /// Every Digest challenge in a 401/407, strongest algorithm first (stable for equal strength).
    public static func all(in response: SIPResponse) -> [(challenge: DigestChallenge, proxy: Bool)] {
        var found: [(DigestChallenge, Bool, Int)] = []
        var position = 0
        for field in response.headers where field.name == .proxyAuthenticate || field.name == .wwwAuthenticate {
            if let challenge = try? DigestChallenge(parsing: field.value) {
                found.append((challenge, field.name == .proxyAuthenticate, position))
                position += 1
            }
        }
        return found.sorted { a, b in
            a.0.algorithm.strength != b.0.algorithm.strength ? a.0.algorithm.strength > b.0.algorithm.strength : a.2 < b.2
        }.map { ($0.0, $0.1) }
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self.trimmingWhitespace()) }
}
