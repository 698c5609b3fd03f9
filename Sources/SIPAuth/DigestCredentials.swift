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
        guard SIPGrammar.equalsIgnoringCase(params.scheme, "digest") else { throw .invalid("authorization scheme '\(params.scheme)' is not Digest") }
        // One pass over the parameters (the first of each name counts, as a lookup by name would find it).
        var username: String?, realm: String?, nonce: String?, uri: String?, response: String?, algorithm: String?
        var cnonce: String?, opaque: String?, qop: String?, nc: String?
        func take(_ slot: inout String?, _ value: String) { if slot == nil { slot = value } }
        for item in params.items {
            var name = item.name
            name.withUTF8 { bytes in
                func named(_ word: StaticString) -> Bool {
                    guard bytes.count == word.utf8CodeUnitCount else { return false }
                    for i in 0..<bytes.count where SIPGrammar.lowercase(bytes[i]) != word.utf8Start[i] { return false }
                    return true
                }
                if named("username") { take(&username, item.value) }
                else if named("realm") { take(&realm, item.value) }
                else if named("nonce") { take(&nonce, item.value) }
                else if named("uri") { take(&uri, item.value) }
                else if named("response") { take(&response, item.value) }
                else if named("algorithm") { take(&algorithm, item.value) }
                else if named("cnonce") { take(&cnonce, item.value) }
                else if named("opaque") { take(&opaque, item.value) }
                else if named("qop") { take(&qop, item.value) }
                else if named("nc") { take(&nc, item.value) }
            }
        }
        guard let username, let realm, let nonce, let uri, let response
        else { throw .invalid("Digest credentials lack username, realm, nonce, uri or response") }
        guard let parsedAlgorithm = DigestAlgorithm(token: algorithm) else {
            throw .invalid("unsupported digest algorithm '\(algorithm ?? "")'")
        }
        self.init(username: username, realm: realm, nonce: nonce, uri: uri, response: response, algorithm: parsedAlgorithm,
                  cnonce: cnonce, opaque: opaque, qop: qop, nc: nc)
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
