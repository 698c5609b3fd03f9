import SIPAuth
import SIPCore

/// The decision on a business-initiated INVITE, before the user's outcome.
public enum BICDecision: Sendable, Equatable {
    /// Challenge for credentials (407 with Proxy-Authenticate).
    case challenge(stale: Bool)
    /// Reject with Meta's status and reason (the reason also goes in `Warning: 399`); `rule` names the check.
    case reject(status: Int, reason: String, rule: String)
    /// Authenticated and admitted (now active for its pair): ring the user.
    case accept(business: MockConfiguration.Business, user: MockConfiguration.UserGroup, pair: MockCallState.Pair)
}

/// Meta's checks on a BIC INVITE, in the order of `meta-sip-spec.md` §10: Request-URI, credentials, From
/// number, From host (SIP enabled), app authorization, failed-authentication lockout, digest (the username must
/// be the From number's, the password its SIP app's), the number's country, the number's 24 h BIC initiations, duplicate call, permission, 24 h connected-call limit,
/// SDP offer, concurrency. Every text is Meta's where Meta documents one. Time is passed in.
public struct BICInvitePolicy: Sendable {
    public let configuration: MockConfiguration
    /// The businesses' settings as they are now (changed by the Graph API mock).
    public let directory: MockBusinessDirectory
    /// The business numbers whose country has no BICs, with that country: decided once (the numbers of a
    /// running mock never change), so an INVITE costs one set lookup, not a parse of its number.
    private let blockedCountry: [String: String]

    public init(configuration: MockConfiguration, directory: MockBusinessDirectory? = nil) {
        self.configuration = configuration
        self.directory = directory ?? MockBusinessDirectory(configuration.businesses)
        var blocked: [String: String] = [:]
        for business in configuration.businesses {
            if let country = configuration.bicBlockedCountry(of: business.number) { blocked[business.number] = country }
        }
        blockedCountry = blocked
    }

    /// - Parameters:
    ///   - monotonic: seconds, for nonce ages.
    ///   - wall: seconds since the epoch as the mock's (possibly scaled) clock reads, for permissions and limits.
    ///   - startedAt: the mock's start on the same clock (temporary permissions count from it).
    ///   - source: the sender's IP address, and `throttle` its failed-authentication counts (nil: none).
    public func evaluate(_ request: SIPRequest, digest: inout DigestServer, state: MockCallState,
                         monotonic: UInt64, wall: Double, startedAt: Double,
                         source: String? = nil, throttle: DigestFailureThrottle? = nil) -> BICDecision
    {
        evaluate(request, offer: SDPOfferSummary(request.body), digest: &digest, state: state, monotonic: monotonic, wall: wall,
                 startedAt: startedAt, source: source, throttle: throttle)
    }

    /// The rejection of a call whose user has no permission (unknown, none, or a temporary one expired) or
    /// whose SDP offer fails the check; nil: eligible.
    private func ineligibility(group: MockConfiguration.UserGroup?, offer: SDPOfferSummary, business: MockConfiguration.Business,
                               wall: Double, startedAt: Double) -> BICDecision?
    {
        let noPermission = BICDecision.reject(status: 403, reason: configuration.reasonPhrases.noPermission, rule: "permission")
        guard let group, group.permission.grants(at: wall, startedAt: startedAt) else { return noPermission }
        if let problem = configuration.sdpCheck.problem(in: offer, keyExchange: business.srtpKeyExchange,
                                                        additionalCodecs: business.additionalCodecs) {
            return .reject(status: 403, reason: "Forbidden", rule: "sdp: \(problem)")
        }
        return nil
    }

    /// `12/s`, `0.5/s`.
    static func rate(_ perSecond: Double) -> String {
        perSecond == perSecond.rounded() ? "\(Int(perSecond))/s" : "\(perSecond)/s"
    }

    /// The same, with the INVITE's SDP offer already read (the mock reads it once per INVITE).
    func evaluate(_ request: SIPRequest, offer: SDPOfferSummary, digest: inout DigestServer, state: MockCallState,
                  monotonic: UInt64, wall: Double, startedAt: Double,
                  source: String? = nil, throttle: DigestFailureThrottle? = nil) -> BICDecision
    {
        // 1. An IP literal or a sips: Request-URI → 404 (spec §1, §2.2).
        if request.uri.isSecure || request.uri.hostIsIPLiteral || !request.uri.isSIP {
            return .reject(status: 404, reason: configuration.reasonPhrases.ipInRequestURI, rule: "request-uri: IP literal or sips: scheme")
        }
        // 2. No credentials → 407.
        guard let authorization = request.headers[.proxyAuthorization] ?? request.headers[.authorization] else {
            return .challenge(stale: false)
        }
        // 3. From user must be a business number → 400 Asset not found.
        guard let from = try? request.from(), let number = from.uri.userNumber.map(String.init),
              let business = directory.business(number: number)
        else {
            return .reject(status: 400, reason: configuration.reasonPhrases.assetNotFound, rule: "from-number: not a business")
        }
        // 4. From host must match a configured SIP server hostname; with the number's calling or SIP setting
        // disabled (its servers kept) no server matches (spec §6; Meta's text for this case is not documented).
        let noMatch = "SIP server \(from.uri.host) from INVITE does not match any SIP server configured for phone number id \(business.phoneNumberID)"
        if !business.callingEnabled || !business.sipEnabled {
            let setting = business.callingEnabled ? "calling.sip.status" : "calling.status"
            return .reject(status: 403, reason: noMatch,
                           rule: "sip-disabled: \(setting) is DISABLED for phone number id \(business.phoneNumberID)")
        }
        guard let server = business.servers.first(where: { configuration.fromHostMatches(from.uri.host, configured: $0.hostname) }) else {
            let configured = business.servers.isEmpty ? "no SIP server configured" : business.servers.map(\.hostname).joined(separator: ", ")
            return .reject(status: 403, reason: noMatch,
                           rule: "from-domain: \(from.uri.host) vs \(configured) (\(configuration.domainMatch.rawValue))")
        }
        // 5. The app that configured that SIP server must be authorized on the number.
        guard let app = business.app(server.appID), app.authorized else {
            return .reject(
                status: 403,
                reason: "The app \(server.appID) configured for SIP server \(server.hostname) is not authorized for phone number id \(business.phoneNumberID)",
                rule: "app-not-authorized")
        }
        // 6. Digest: a wrong answer is 403, not a new challenge (spec §2.2).
        guard let credentials = try? DigestCredentials(parsing: authorization) else {
            return .reject(status: 403, reason: "Forbidden", rule: "digest: malformed credentials")
        }
        if let throttle, let key = throttle.lockedOut(source: source, username: credentials.username, now: wall) {
            return .reject(status: 403, reason: "Forbidden",
                           rule: "auth-throttle: \(key) is locked out after \(throttle.policy.failures) failed attempts")
        }
        // The password is the one of the matched server's app on the From number: another business's
        // username and password do not authenticate this number's calls.
        let verdict: DigestVerdict
        if credentials.username != business.digestUsername {
            verdict = .rejected("username '\(credentials.username)' is not \(business.number)'s (\(business.digestUsername))")
        } else {
            verdict = digest.verify(credentials, method: request.method, password: app.sipPassword, now: monotonic)
        }
        switch verdict {
        case .accepted:
            throttle?.recordSuccess(source: source, username: credentials.username, now: wall)
        case .stale: return .challenge(stale: true)
        case .rejected(let why):
            let locked = throttle?.recordFailure(source: source, username: credentials.username, now: wall) ?? []
            let note = locked.isEmpty ? "" : "; \(locked.map(\.description).joined(separator: " and ")) now locked out"
            return .reject(status: 403, reason: "Forbidden", rule: "digest: \(why)\(note)")
        }
        // The number's country: no business-initiated calls from the countries Meta lists (spec §7).
        if !blockedCountry.isEmpty, let country = blockedCountry[business.number] {
            return .reject(status: 403, reason: "Forbidden",
                           rule: "country: business-initiated calls are not available for business numbers in \(country) (Graph error 138013)")
        }
        // 7–10. The permission and the SDP offer (decided here, from the configuration), then in one step on
        // the shared state: the number's 24 h BIC initiations (every authenticated INVITE counts, whatever
        // its outcome), its call rate, and for an eligible call the duplicate, revoked permission, the
        // pair's 24 h connected calls and concurrency. The real order is undocumented.
        // The user: a number, or a BSUID of this business's (spec §1 [BSUID]); anything else is a user Meta
        // does not know (403 no permission, as for a number not on WhatsApp).
        let addressed = request.uri.userNumber.map(String.init) ?? ""
        let user = addressed.hasPrefix("+") ? addressed : BusinessScopedUserID.number(from: addressed, business: business.number) ?? addressed
        let pair = MockCallState.Pair(business: business.number, user: user)
        let group = configuration.userGroup(user)
        let ineligible = ineligibility(group: group, offer: offer, business: business, wall: wall, startedAt: startedAt)
        switch state.admit(pair, now: wall, limits: configuration.limits, eligible: ineligible == nil) {
        case .admitted:
            guard let group else { preconditionFailure("an eligible call has a user group") }
            return .accept(business: business, user: group, pair: pair)
        case .ineligible:
            return ineligible!
        case .attemptLimit:
            return .reject(status: 403, reason: "Forbidden",
                           rule: "limit: \(configuration.limits.bicAttemptsPer24h) BIC attempts per number in 24 h")
        case .callRate:
            let status = configuration.limits.concurrencyLimitStatus
            return .reject(status: status, reason: SIPStatus.defaultReason(status),
                           rule: "call rate: over \(Self.rate(configuration.limits.callRatePerNumber ?? 0)) calls per number")
        case .duplicate:
            return .reject(status: 403, reason: "Forbidden", rule: "duplicate: a call between \(business.number) and \(user) is active")
        case .revoked:
            return .reject(status: 403, reason: configuration.reasonPhrases.noPermission, rule: "permission: revoked after unanswered calls")
        case .dailyLimit:
            return .reject(status: 403, reason: configuration.reasonPhrases.dailyLimit,
                           rule: "limit: \(configuration.limits.connectedBICPer24h) connected calls in 24 h")
        case .concurrency:
            let status = configuration.limits.concurrencyLimitStatus
            return .reject(status: status, reason: SIPStatus.defaultReason(status),
                           rule: "concurrency: \(configuration.limits.concurrentPerNumber) calls up for \(business.number)")
        }
    }
}
