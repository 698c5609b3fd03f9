import SIPAuth

/// The mock's configuration. Every value has the documented default of `meta-sip-spec.md` §10, so
/// `wasim mock` with no file behaves as Meta's endpoint does for the default business.
public struct MockConfiguration: Sendable, Codable, Hashable {
    /// One business phone number configured for SIP calling.
    public struct Business: Sendable, Codable, Hashable {
        /// E.164 with "+", as in the From user part.
        public var number: String
        public var phoneNumberID: String
        /// SIP password (`sip_user_password`); the digest username is the number without "+".
        public var sipPassword: String
        /// Configured SIP server hostname: the From host of BICs must match it (or a subdomain).
        public var sipServerHostname: String
        public var sipServerPort: Int

        public init(number: String, phoneNumberID: String, sipPassword: String, sipServerHostname: String, sipServerPort: Int = 5061) {
            self.number = number
            self.phoneNumberID = phoneNumberID
            self.sipPassword = sipPassword
            self.sipServerHostname = sipServerHostname
            self.sipServerPort = sipServerPort
        }

        /// The digest username Meta expects: the number without "+".
        public var digestUsername: String { number.hasPrefix("+") ? String(number.dropFirst()) : number }
    }

    public var domain: String
    public var businesses: [Business]
    /// Digest algorithms offered in the 407, in order.
    public var digestAlgorithms: [DigestAlgorithm]
    public var nonceLifetimeSeconds: UInt64
    /// Delay between the authenticated INVITE and the 200 OK (the user "answers").
    public var answerDelayMilliseconds: Int
    /// Send 180 Ringing before the 200 (undocumented for BIC; a setting).
    public var sendRinging: Bool
    /// The two Record-Route entries Meta prepends to its responses.
    public var recordRoutes: [String]
    /// Lab setting: when set, Record-Route and Contact name this host (with the port and transport the
    /// request came in on) instead of Meta's hosts, so that peers which follow the route set (baresip,
    /// Kamailio) send ACK and BYE back to the mock rather than to names that resolve to Meta.
    public var labRouteHost: String?

    public init(
        domain: String = "wa.meta.vc",
        businesses: [Business] = [MockConfiguration.defaultBusiness],
        digestAlgorithms: [DigestAlgorithm] = [.md5],
        nonceLifetimeSeconds: UInt64 = 300,
        answerDelayMilliseconds: Int = 0,
        sendRinging: Bool = false,
        recordRoutes: [String] = ["<sip:onevc-sip-proxy.fbinfra.net:8191;transport=tls;lr>", "<sip:wa.meta.vc;transport=tls;lr>"],
        labRouteHost: String? = nil
    ) {
        self.domain = domain
        self.businesses = businesses
        self.digestAlgorithms = digestAlgorithms
        self.nonceLifetimeSeconds = nonceLifetimeSeconds
        self.answerDelayMilliseconds = answerDelayMilliseconds
        self.sendRinging = sendRinging
        self.recordRoutes = recordRoutes
        self.labRouteHost = labRouteHost
    }

    /// The business of the default configuration; `wasim scenario` uses it out of the box.
    public static let defaultBusiness = Business(
        number: "+15550100001", phoneNumberID: "100000000000001",
        sipPassword: "wasim-default-sip-password", sipServerHostname: "sip.example.com")

    public static let `default` = MockConfiguration()

    public func business(number: String) -> Business? { businesses.first { $0.number == number } }

    public func business(digestUsername: String) -> Business? { businesses.first { $0.digestUsername == digestUsername } }
}
