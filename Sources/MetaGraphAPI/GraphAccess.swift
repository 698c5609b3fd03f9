import MetaMock
import NIOConcurrencyHelpers

/// Who is calling the Graph API: the bearer token (`Authorization: Bearer T`, or `?access_token=T`) mapped to
/// its app and permissions, with a request-rate bucket per token (error 613 past it).
final class GraphAccess: Sendable {
    private let tokens: [String: MockGraphAPIConfiguration.AccessToken]
    private let requestsPerSecond: Double
    private let buckets = NIOLockedValueBox<[String: CallRateBucket]>([:])

    init(configuration: MockGraphAPIConfiguration, businesses: [MockConfiguration.Business]) {
        var map: [String: MockGraphAPIConfiguration.AccessToken] = [:]
        for token in configuration.effectiveTokens(for: businesses) { map[token.token] = token }
        tokens = map
        requestsPerSecond = configuration.requestsPerSecond
    }

    /// The token's entry; 190 when there is none or it is unknown, 613 when over the rate.
    func caller(authorization: String?, accessTokenParameter: String?, now: Double) throws(GraphError) -> MockGraphAPIConfiguration.AccessToken {
        var presented = accessTokenParameter
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, ["bearer", "oauth"].contains(parts[0].lowercased()) { presented = String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        guard let presented, !presented.isEmpty else { throw .missingToken() }
        guard let token = tokens[presented] else { throw .invalidToken() }
        let rate = requestsPerSecond
        let admitted = buckets.withLockedValue { $0[token.token, default: CallRateBucket(rate: rate)].take(now: now, rate: rate) }
        guard admitted else { throw .rateLimited(rate) }
        return token
    }

    /// The business of `phoneNumberID` as the token's app may see it: 100/33 when the number is unknown or
    /// the app is not one of its apps; 200 when the token lacks `permission`.
    static func business(_ phoneNumberID: String, for token: MockGraphAPIConfiguration.AccessToken, permission: String,
                         directory: MockBusinessDirectory, method: String) throws(GraphError) -> MockConfiguration.Business
    {
        guard let business = directory.business(phoneNumberID: phoneNumberID), business.app(token.appID) != nil else {
            throw .unknownObject(phoneNumberID, method: method)
        }
        guard token.permissions.contains(permission) else { throw .missingPermission(permission) }
        return business
    }

    /// The same, for calling endpoints: the app must also have `whatsapp_business_messaging` on the number.
    static func callingBusiness(_ phoneNumberID: String, for token: MockGraphAPIConfiguration.AccessToken,
                                directory: MockBusinessDirectory, method: String) throws(GraphError) -> MockConfiguration.Business
    {
        let business = try business(phoneNumberID, for: token, permission: MockGraphAPIConfiguration.messaging, directory: directory, method: method)
        guard business.app(token.appID)?.authorized == true else {
            throw .appNotAuthorized(appID: token.appID, phoneNumberID: phoneNumberID)
        }
        return business
    }
}
