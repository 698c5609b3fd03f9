/// The reason phrases of Meta's BIC answers where its pages disagree (spec §2.2): the Calling
/// Troubleshooting page (the default) and the SIP page's error table word the same answers differently.
/// `sip.wording` picks one set; `sip.reason_phrases` overrides single phrases.
public struct MetaReasonPhrases: Sendable, Hashable {
    /// Which of Meta's pages the phrases follow.
    public enum Wording: String, Sendable, Hashable, CaseIterable {
        /// Calling Troubleshooting, "SIP errors → Business initiated calls".
        case troubleshooting
        /// The SIP page's "Common SIP Errors" table.
        case sipPage = "sip-page"
    }

    /// 400 for a From number that is not a business number.
    public var assetNotFound: String
    /// 404 for an IP literal (or `sips:`) in the Request-URI.
    public var ipInRequestURI: String
    /// 486 when the user declines.
    public var userDeclined: String
    /// 403 without call permission.
    public var noPermission: String
    /// 403 past the connected-call limit of the pair.
    public var dailyLimit: String

    public init(_ wording: Wording = .troubleshooting) {
        switch wording {
        case .troubleshooting:
            assetNotFound = "Asset not found, invalid business phone number"
            ipInRequestURI = "Not found"
            userDeclined = "User declined the call"
        case .sipPage:
            assetNotFound = "Asset not found"
            ipInRequestURI = "SIP INVITEs using IP in request URI are not allowed"
            userDeclined = "Busy Here"
        }
        noPermission = "No Approved Call Permission Found"
        dailyLimit = "Business Initiated Connected Call Per Day Limit Hit"
    }

    /// The keys of `sip.reason_phrases`, with the phrase each sets.
    public static let keys: [(key: String, path: WritableKeyPath<MetaReasonPhrases, String> & Sendable)] = [
        ("asset_not_found", \.assetNotFound), ("ip_in_request_uri", \.ipInRequestURI), ("user_declined", \.userDeclined),
        ("no_permission", \.noPermission), ("daily_limit", \.dailyLimit),
    ]
}
