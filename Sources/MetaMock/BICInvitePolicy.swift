import SIPAuth
import SIPCore

/// The decision on a business-initiated INVITE, before the user's outcome.
public enum BICDecision: Sendable, Equatable {
    /// Challenge for credentials (407 with Proxy-Authenticate).
    case challenge(stale: Bool)
    /// Reject with Meta's status and reason (the reason also goes in `Warning: 399`).
    case reject(status: Int, reason: String, rule: String)
    /// Authenticated and allowed: ring the user.
    case accept(business: MockConfiguration.Business)
}

/// Meta's checks on a BIC INVITE, in the order of `meta-sip-spec.md` §10: Request-URI, credentials, From
/// number, From host, digest. Pure apart from the digest server's replay table, which the caller owns.
public struct BICInvitePolicy: Sendable {
    public let configuration: MockConfiguration

    public init(configuration: MockConfiguration) { self.configuration = configuration }

    public func evaluate(_ request: SIPRequest, digest: inout DigestServer, now: UInt64) -> BICDecision {
        // 1. An IP literal or a sips: Request-URI → 404 (spec §1, §2.2).
        if request.uri.isSecure || request.uri.hostIsIPLiteral || !request.uri.isSIP {
            return .reject(status: 404, reason: "Not Found", rule: "request-uri")
        }
        // 2. No credentials → 407.
        guard let authorization = request.headers[.proxyAuthorization] ?? request.headers[.authorization] else {
            return .challenge(stale: false)
        }
        // 3. From user must be a business number → 400 Asset not found.
        guard let from = try? request.from(), let number = from.uri.userNumber.map(String.init),
              let business = configuration.business(number: number)
        else {
            return .reject(status: 400, reason: "Asset not found, invalid business phone number", rule: "from-number")
        }
        // 4. From host must match the configured SIP server hostname (a subdomain of it also matches).
        let host = from.uri.host.lowercased()
        let configured = business.sipServerHostname.lowercased()
        if host != configured && !host.hasSuffix("." + configured) {
            return .reject(
                status: 403,
                reason: "SIP server \(from.uri.host) from INVITE does not match any SIP server configured for phone number id \(business.phoneNumberID)",
                rule: "from-domain")
        }
        // 6. Digest: a wrong answer is 403, not a new challenge (spec §2.2).
        guard let credentials = try? DigestCredentials(parsing: authorization) else {
            return .reject(status: 403, reason: "Forbidden", rule: "digest-malformed")
        }
        let password = configuration.business(digestUsername: credentials.username)?.sipPassword
        switch digest.verify(credentials, method: request.method, password: password, now: now) {
        case .accepted:
            return .accept(business: business)
        case .stale:
            return .challenge(stale: true)
        case .rejected(let why):
            return .reject(status: 403, reason: "Forbidden", rule: "digest: \(why)")
        }
    }
}
