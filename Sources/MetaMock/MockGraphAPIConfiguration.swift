/// The Graph API mock's access tokens: each stands for an app, with the permissions the token was granted.
/// Without a `graph_api` section every app of the businesses gets `wasim-token-<APP_ID>` with both
/// WhatsApp permissions.
public struct MockGraphAPIConfiguration: Sendable, Hashable {
    /// One bearer token.
    public struct AccessToken: Sendable, Hashable {
        public var token: String
        public var appID: String
        /// Graph permissions granted to the token (`whatsapp_business_management`, `whatsapp_business_messaging`).
        public var permissions: Set<String>

        public init(token: String, appID: String, permissions: Set<String> = MockGraphAPIConfiguration.allPermissions) {
            self.token = token
            self.appID = appID
            self.permissions = permissions
        }
    }

    public static let management = "whatsapp_business_management"
    public static let messaging = "whatsapp_business_messaging"
    public static let allPermissions: Set<String> = [management, messaging]

    /// nil: one default token per app.
    public var tokens: [AccessToken]?
    /// Requests per second per token before error 613 (Meta documents 100/s for call permissions).
    public var requestsPerSecond: Double = 100

    public init() {}

    /// The tokens in force for `businesses`.
    public func effectiveTokens(for businesses: [MockConfiguration.Business]) -> [AccessToken] {
        if let tokens { return tokens }
        var seen = Set<String>(), result: [AccessToken] = []
        for app in businesses.flatMap(\.apps) where seen.insert(app.appID).inserted {
            result.append(AccessToken(token: "wasim-token-\(app.appID)", appID: app.appID))
        }
        return result
    }
}
