import SIPCore

/// Answers Digest challenges as a UAC (RFC 3261 §22.2): picks the strongest challenge it supports, counts
/// `nc` per nonce, and makes a fresh `cnonce` per answer.
public struct DigestClient: Sendable {
    public var username: String
    public var password: String
    private var nonceCounts: [String: UInt32] = [:]

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The credentials header (name and value) answering the best challenge of `response`, or nil when it
    /// carries no Digest challenge we support.
    public mutating func authorize(
        _ response: SIPResponse, method: SIPMethod, uri: String,
        cnonce: String
    ) -> (header: SIPHeaderName, value: String)? {
        guard let best = DigestChallenge.all(in: response).first else { return nil }
        let credentials = answer(best.challenge, method: method, uri: uri, cnonce: cnonce)
        return (best.proxy ? .proxyAuthorization : .authorization, credentials.headerValue)
    }

    /// Credentials for one challenge.
    public mutating func answer(_ challenge: DigestChallenge, method: SIPMethod, uri: String, cnonce: String) -> DigestCredentials {
        let qop = challenge.qopOptions.contains("auth") ? "auth" : nil
        var nc: String? = nil
        var usedCnonce: String? = nil
        if qop != nil || challenge.algorithm.isSession {
            let count = (nonceCounts[challenge.nonce] ?? 0) + 1
            nonceCounts[challenge.nonce] = count
            nc = qop == nil ? nil : DigestClient.formatNC(count)
            usedCnonce = cnonce
        }
        let response = DigestComputation.response(
            algorithm: challenge.algorithm, username: username, realm: challenge.realm, password: password,
            method: method.rawValue, uri: uri, nonce: challenge.nonce, nc: nc, cnonce: usedCnonce, qop: qop)
        return DigestCredentials(
            username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri, response: response,
            algorithm: challenge.algorithm, cnonce: usedCnonce, opaque: challenge.opaque, qop: qop, nc: nc)
    }

    /// `nc-value = 8LHEX`.
    public static func formatNC(_ count: UInt32) -> String {
        let hex = String(count, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }
}

extension DigestClient {
    /// The request re-sent with credentials after a 401/407 (RFC 3261 §22.2, §8.1.3.5): the same Call-ID,
    /// From tag and body, CSeq `sequence`, no Via (the transport adds one with a new branch), and the
    /// Authorization or Proxy-Authorization for the strongest challenge. Nil when no challenge is usable.
    public mutating func authorizedRetry(of request: SIPRequest, after challenge: SIPResponse, uri: String,
                                         sequence: UInt32, cnonce: String) -> SIPRequest?
    {
        guard let auth = authorize(challenge, method: request.method, uri: uri, cnonce: cnonce) else { return nil }
        var retry = request
        retry.headers.remove(.via)
        retry.headers.set(.cseq, "\(sequence) \(request.method.rawValue)")
        retry.headers.add(auth.header, auth.value)
        return retry
    }
}

extension DigestClient {
    /// A client nonce (RFC 2617 §3.2.2 `cnonce`) from the call's tag and a counter: unique per request and
    /// unpredictable enough for a test tool (Hasher is randomly seeded per process), without a syscall per call.
    public static func cnonce(tag: String, counter: UInt32) -> String {
        var hasher = Hasher()
        hasher.combine(tag)
        hasher.combine(counter)
        return String(UInt64(bitPattern: Int64(hasher.finalize())), radix: 16)
    }
}
