import SIPCore

/// Digest credentials from `Authorization` / `Proxy-Authorization` (RFC 3261 §22.2, RFC 2617 §3.2.2).
public struct DigestCredentials: Sendable, Hashable {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithm: DigestAlgorithm
    public var cnonce: String?
    public var opaque: String?
    public var qop: String?
    public var nc: String?

    public init(username: String, realm: String, nonce: String, uri: String, response: String,
                algorithm: DigestAlgorithm, cnonce: String?, opaque: String?, qop: String?, nc: String?)
    {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nc = nc
    }

    public init(parsing value: Substring) throws(SIPGrammarError) {
        let params = try DigestParameters(parsing: value)
        guard params.scheme.lowercased() == "digest" else { throw .invalid("authorization scheme '\(params.scheme)' is not Digest") }
        guard let username = params["username"], let realm = params["realm"], let nonce = params["nonce"],
              let uri = params["uri"], let response = params["response"]
        else { throw .invalid("Digest credentials lack username, realm, nonce, uri or response") }
        guard let algorithm = DigestAlgorithm(token: params["algorithm"]) else {
            throw .invalid("unsupported digest algorithm '\(params["algorithm"] ?? "")'")
        }
        self.init(username: username, realm: realm, nonce: nonce, uri: uri, response: response, algorithm: algorithm,
                  cnonce: params["cnonce"], opaque: params["opaque"], qop: params["qop"], nc: params["nc"])
    }

    /// Header value in the order Meta's own samples use.
    public var headerValue: String {
        var params = DigestParameters()
        params.append("username", username, quoted: true)
        params.append("realm", realm, quoted: true)
        params.append("nonce", nonce, quoted: true)
        params.append("uri", uri, quoted: true)
        params.append("response", response, quoted: true)
        params.append("algorithm", algorithm.rawValue, quoted: false)
        if let cnonce { params.append("cnonce", cnonce, quoted: true) }
        if let opaque { params.append("opaque", opaque, quoted: true) }
        if let qop { params.append("qop", qop, quoted: false) }
        if let nc { params.append("nc", nc, quoted: false) }
        return params.serialized
    }
}
