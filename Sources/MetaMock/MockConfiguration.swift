import SIPAuth
import SIPTransaction
import SIPTransport
import WasimMedia

/// The mock's configuration. Every value has the documented default of `meta-sip-spec.md` §10, so
/// `wasim mock` with no file behaves as Meta's endpoint does for the default business; `MockConfigLoader`
/// reads the YAML form, `MockConfigWriter` prints it.
public struct MockConfiguration: Sendable, Hashable {
    /// An app with access to a business number; its SIP password is per (number, app).
    public struct App: Sendable, Hashable {
        public var appID: String
        /// Whether the app has `whatsapp_business_messaging` on the number.
        public var authorized: Bool
        /// "" while the app has no SIP server on the number (a password is generated when it configures one).
        public var sipPassword: String

        public init(appID: String, authorized: Bool = true, sipPassword: String) {
            self.appID = appID
            self.authorized = authorized
            self.sipPassword = sipPassword
        }

        /// A password as Meta generates one per (number, app): 32 random characters.
        public static func newSIPPassword() -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            var generator = SystemRandomNumberGenerator()
            return String((0..<32).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        }
    }

    /// One business phone number and its calling settings (Meta's `calling` object of
    /// `/<PHONE_NUMBER_ID>/settings`), which the Graph API mock changes while the mock runs.
    public struct Business: Sendable, Hashable {
        /// E.164 with "+", as in the From user part.
        public var number: String
        public var phoneNumberID: String
        public var apps: [App]
        /// `calling.sip.servers`: at most one per app (spec §6). The first is where user-initiated calls go.
        public var servers: [SIPServer]
        /// `calling.srtp_key_exchange_protocol` as set (nil: never set, Meta's default DTLS applies and a GET
        /// leaves the field out).
        public var srtpKeyExchangeSetting: String?
        /// `calling.audio.additional_codecs` (PCMA, PCMU): codecs accepted besides Opus.
        public var additionalCodecs: [String] = []
        /// `calling.status`: when DISABLED the number takes and places no calls at all.
        public var callingEnabled = true
        /// Other `calling` settings the mock keeps and returns but does not act on (`call_icon_visibility`,
        /// `call_hours`, ...), each as its JSON text.
        public var otherCallingSettings: [String: String] = [:]
        /// Lab setting: connect UIC calls to this `host:port` instead of resolving the server's hostname (the
        /// certificate is still checked against the hostname).
        public var connectAddress: String?
        /// Transport of UIC calls. Meta uses TLS only; `tcp` and `udp` are lab settings for peers without TLS.
        public var transport: SIPTransportKind = .tls
        /// `calling.sip.status`: when DISABLED the servers are kept but Meta routes no SIP call for the number
        /// (no UIC INVITE is placed; a BIC INVITE matches no SIP server and gets 403).
        public var sipEnabled = true

        public init(number: String, phoneNumberID: String, apps: [App], sipServerAppID: String? = nil,
                    sipServerHostname: String, sipServerPort: Int = 5061, requestURIUserParams: [String: String] = [:],
                    srtpKeyExchange: String? = nil)
        {
            self.number = number
            self.phoneNumberID = phoneNumberID
            self.apps = apps
            self.servers = [SIPServer(appID: sipServerAppID ?? apps.first?.appID ?? "", hostname: sipServerHostname,
                                      port: sipServerPort, requestURIUserParams: requestURIUserParams)]
            self.srtpKeyExchangeSetting = srtpKeyExchange
        }

        /// The digest username Meta expects: the number without "+".
        public var digestUsername: String { number.hasPrefix("+") ? String(number.dropFirst()) : number }
        /// `DTLS` (default) or `SDES`.
        public var srtpKeyExchange: String {
            get { srtpKeyExchangeSetting ?? "DTLS" }
            set { srtpKeyExchangeSetting = newValue }
        }
        /// Whether Meta routes SIP calls for the number: calling and SIP enabled, and a server configured.
        public var routesSIP: Bool { callingEnabled && sipEnabled && !servers.isEmpty }
        /// The app that configured the first SIP server ("" when there is none).
        public var sipServerAppID: String {
            get { servers.first?.appID ?? "" }
            set { ensureServer(); servers[0].appID = newValue }
        }
        /// The first SIP server's hostname: the From host of BICs must match a server's, UICs go to it.
        public var sipServerHostname: String {
            get { servers.first?.hostname ?? "" }
            set { ensureServer(); servers[0].hostname = newValue }
        }
        public var sipServerPort: Int {
            get { servers.first?.port ?? 5061 }
            set { ensureServer(); servers[0].port = newValue }
        }
        /// Put in the user part of UIC Request-URIs (RFC 4904 `tgrp`, `trunk-context`).
        public var requestURIUserParams: [String: String] {
            get { servers.first?.requestURIUserParams ?? [:] }
            set { ensureServer(); servers[0].requestURIUserParams = newValue }
        }
        private mutating func ensureServer() {
            if servers.isEmpty { servers = [SIPServer(appID: apps.first?.appID ?? "", hostname: "")] }
        }
        /// The app that configured the first SIP server.
        public var sipServerApp: App? { app(servers.first?.appID) }
        /// The digest password of the first server: its app's SIP password.
        public var sipPassword: String { sipServerApp?.sipPassword ?? "" }
        public func app(_ id: String?) -> App? { id.flatMap { id in apps.first { $0.appID == id } } }
    }

    /// One `calling.sip.servers` entry: the SIP server an app configured for the number.
    public struct SIPServer: Sendable, Hashable {
        public var appID: String
        public var hostname: String
        public var port: Int
        public var requestURIUserParams: [String: String]

        public init(appID: String, hostname: String, port: Int = 5061, requestURIUserParams: [String: String] = [:]) {
            self.appID = appID
            self.hostname = hostname
            self.port = port
            self.requestURIUserParams = requestURIUserParams
        }
    }

    /// A user's call permission for business-initiated calls (spec §7).
    public enum Permission: Sendable, Hashable {
        case none
        /// Valid until this many seconds after the mock's start (7 days = 604800 in production).
        case temporary(expiresAfter: Double)
        case permanent

        /// Whether the permission lets a BIC through at `now` (a temporary one counts from the mock's start).
        public func grants(at now: Double, startedAt: Double) -> Bool {
            switch self {
            case .none: return false
            case .temporary(let after): return now < startedAt + after
            case .permanent: return true
            }
        }
    }

    /// What a user does when called. Weights need not sum to 1; they are normalised.
    public struct Behaviour: Sendable, Hashable {
        public var answer: Double
        public var decline: Double
        public var noAnswer: Double
        public var unreachable: Double
        /// 503 Service Unavailable at once (Meta's generic internal error).
        public var unavailable: Double = 0
        /// 408 RTP Timeout after the media start timeout (the WhatsApp client got no media).
        public var noMedia: Double = 0
        /// Seconds between the authenticated INVITE and the answer (uniform in the range).
        public var answerAfter: ClosedRange<Double>
        /// When set, the user hangs up this many seconds after answering and Meta sends the BYE (with
        /// `x-wa-meta-wacid` and `x-wa-meta-call-duration`); otherwise the business hangs up.
        public var hangUpAfter: ClosedRange<Double>? = nil

        public init(answer: Double = 1, decline: Double = 0, noAnswer: Double = 0, unreachable: Double = 0,
                    answerAfter: ClosedRange<Double> = 0...0)
        {
            self.answer = answer
            self.decline = decline
            self.noAnswer = noAnswer
            self.unreachable = unreachable
            self.answerAfter = answerAfter
        }
    }

    /// WhatsApp users: a list or a range of numbers sharing a permission and a behaviour.
    public struct UserGroup: Sendable, Hashable {
        public var numbers: NumberSet
        public var permission: Permission
        public var behaviour: Behaviour
        /// The media impairment for calls to these users (overrides `media.impairment`).
        public var mediaImpairment: MediaLeg.Impairment?
        /// Users with usernames: Meta's UIC From and Contact carry their business-scoped user id (BSUID)
        /// instead of the number. BICs may address any user by BSUID either way.
        public var addressedByBSUID = false

        public init(numbers: NumberSet, permission: Permission = .permanent, behaviour: Behaviour = Behaviour()) {
            self.numbers = numbers
            self.permission = permission
            self.behaviour = behaviour
        }
    }

    /// Limits per business number and per (business number, user) pair (spec §7, §8).
    public struct Limits: Sendable, Hashable {
        /// Connected BICs per pair in a rolling 24 h. Meta's error table says 5; its changelog says 100.
        public var connectedBICPer24h: Int = 5
        /// Calls up at once per business number.
        public var concurrentPerNumber: Int = 1000
        /// Authenticated BIC INVITEs per business number in a rolling 24 h (spec §8: 10,000 new BIC
        /// initiations; Meta documents no SIP response for it: 403).
        public var bicAttemptsPer24h: Int = 10_000
        /// Status sent when the concurrency limit is hit (undocumented for SIP; spec §12).
        public var concurrencyLimitStatus: Int = 503
        /// New calls (BIC INVITEs and UICs) per second per business number, nil: no limit. Meta's Graph API
        /// has an error for it (138005) but publishes no value; over it a BIC gets
        /// `concurrencyLimitStatus` and a UIC is not placed.
        public var callRatePerNumber: Double?
        /// Countries (ISO 3166) of business numbers that cannot make business-initiated calls (spec §7: US,
        /// CA, EG, VN, NG in Meta's Jun 2026 list; the Nov 2025 list also had TR). Graph error 138013; Meta
        /// documents no SIP answer: 403.
        public var bicBlockedCountries: Set<String> = ["US", "CA", "EG", "VN", "NG"]
        /// Consecutive unanswered or declined BICs per pair: a nudge at `nudge`, permission revoked at `revoke`.
        public var streakNudge: Int = 2
        public var streakRevoke: Int = 4

        public init() {}
    }

    /// Which From hosts match the configured SIP server hostname (spec §2.2 and its conflict).
    public enum DomainMatch: String, Sendable, Hashable, CaseIterable {
        /// The From host equals the configured hostname or is a subdomain of it (Meta's SIP page).
        case subdomainOfConfigured = "subdomain-of-configured"
        /// The configured hostname equals the From host or is a subdomain of it (Meta's troubleshooting page).
        case configuredIsSubdomain = "configured-is-subdomain"
        case exact
    }

    public var domain: String
    public var businesses: [Business]
    public var users: [UserGroup]
    public var limits: Limits
    public var domainMatch: DomainMatch
    /// Digest algorithms offered in the 407, in order.
    public var digestAlgorithms: [DigestAlgorithm]
    public var nonceLifetimeSeconds: UInt64
    /// Seconds a user's phone rings before a no-answer gives 480.
    public var ringTimeoutSeconds: Double
    /// Seconds without media before "408 RTP Timeout" (spec §8: 20 s at start).
    public var mediaStartTimeoutSeconds: Double = 20
    /// Seconds without media mid-call before Meta hangs up (spec §8: 30 s).
    public var mediaTimeoutSeconds: Double = 30
    /// Send 180 Ringing before the answer (undocumented for BIC; a setting).
    public var sendRinging: Bool
    /// The two Record-Route entries Meta prepends to its responses.
    public var recordRoutes: [String]
    /// Lab setting: when set, Record-Route and Contact name this host (with the port and transport the
    /// request came in on) instead of Meta's hosts, so that peers which follow the route set (baresip,
    /// Kamailio) send ACK and BYE back to the mock rather than to names that resolve to Meta.
    public var labRouteHost: String?
    /// Seed of the users' random behaviour.
    public var seed: UInt64
    /// Answer a TLS ClientHello offering ALPN `sip` with alert 120, as Meta does (spec §1).
    public var rejectALPNSip: Bool = true
    /// User-initiated calls: client certificate, CA, answer window and calls placed at start.
    public var uic = MockUICConfiguration()
    /// Names of the `x-wa-meta-*` headers.
    public var headerNames = MetaHeaderNames()
    /// SIP timers (T1, T2, T4) of the mock's transactions.
    public var timers = SIPTimers.rfc3261
    /// Answer 404 to an in-dialog request whose Request-URI or Route does not match what Meta gave the
    /// dialog (spec §3 "Record-Route handling"); off, such requests are accepted.
    public var strictInDialogRoute = true
    /// A re-INVITE fails the call: after its 500, Meta hangs up with a BYE (seen by one integrator; Meta's FAQ
    /// only says re-INVITEs get 500). Off by default.
    public var reinviteEndsCall = false
    /// Reason phrases where Meta's pages disagree (`sip.wording`, `sip.reason_phrases`).
    public var reasonPhrases = MetaReasonPhrases()
    /// Honour wasim's control headers (`X-Wasim-Hangup-After` on a BIC INVITE: the user hangs up then).
    public var wasimHeaders = true
    /// Media: run ICE-lite, DTLS-SRTP or SDES and RTP for secure offers, and how to impair it.
    public var media = MockMediaConfiguration()
    /// How deeply BIC SDP offers are checked (403 on failure).
    public var sdpCheck = MetaSDPCheck.basic
    /// Defences for a mock on a public address: connection limits, timeouts, message size, auth throttling.
    public var protection = MockProtection()
    /// The Graph API mock's tokens (`wasim mock --graph-api`).
    public var graphAPI = MockGraphAPIConfiguration()

    public init(
        domain: String = "wa.meta.vc",
        businesses: [Business] = [MockConfiguration.defaultBusiness],
        users: [UserGroup] = MockConfiguration.defaultUsers,
        limits: Limits = Limits(),
        domainMatch: DomainMatch = .subdomainOfConfigured,
        digestAlgorithms: [DigestAlgorithm] = [.md5],
        nonceLifetimeSeconds: UInt64 = 300,
        ringTimeoutSeconds: Double = 30,
        sendRinging: Bool = false,
        recordRoutes: [String] = ["<sip:onevc-sip-proxy.fbinfra.net:8191;transport=tls;lr>", "<sip:wa.meta.vc;transport=tls;lr>"],
        labRouteHost: String? = nil,
        seed: UInt64 = 1
    ) {
        self.domain = domain
        self.businesses = businesses
        self.users = users
        self.limits = limits
        self.domainMatch = domainMatch
        self.digestAlgorithms = digestAlgorithms
        self.nonceLifetimeSeconds = nonceLifetimeSeconds
        self.ringTimeoutSeconds = ringTimeoutSeconds
        self.sendRinging = sendRinging
        self.recordRoutes = recordRoutes
        self.labRouteHost = labRouteHost
        self.seed = seed
    }

    /// The business of the default configuration; `wasim scenario` uses it out of the box.
    public static let defaultBusiness = Business(
        number: "+33639980001", phoneNumberID: "100000000000001",
        apps: [App(appID: "100000000000099", authorized: true, sipPassword: "wasim-default-sip-password")],
        sipServerHostname: "sip.example.com", requestURIUserParams: ["tgrp": "wacall", "trunk-context": "byoc.example.com"])

    /// Default users: 100,000 numbers with permanent permission who answer at once.
    public static let defaultUsers = [
        UserGroup(numbers: NumberSet(range: "+15550200000..+15550299999")!, permission: .permanent, behaviour: Behaviour()),
    ]

    public static let `default` = MockConfiguration()

    public func business(number: String) -> Business? { businesses.first { $0.number == number } }

    /// The first group that holds `number`; nil for a number the mock does not know (treated as a user
    /// without permission, as Meta does not tell "not on WhatsApp" apart).
    public func userGroup(_ number: String) -> UserGroup? { users.first { $0.numbers.contains(number) } }

    /// The country of a business number without business-initiated calls (`limits.bic_blocked_countries`),
    /// or nil when its BICs are allowed.
    public func bicBlockedCountry(of number: String) -> String? {
        let country = E164Country.of(number)
        return limits.bicBlockedCountries.contains(country) ? country : nil
    }

    /// Whether `host` (a From host) matches the configured SIP server hostname.
    public func fromHostMatches(_ host: String, configured: String) -> Bool {
        let h = host.lowercased(), c = configured.lowercased()
        switch domainMatch {
        case .exact: return h == c
        case .subdomainOfConfigured: return h == c || h.hasSuffix("." + c)
        case .configuredIsSubdomain: return h == c || c.hasSuffix("." + h)
        }
    }
}

/// A set of E.164 numbers: a list, or an inclusive range `"+15550200000..+15550209999"`.
public struct NumberSet: Sendable, Hashable, CustomStringConvertible {
    public enum Storage: Sendable, Hashable {
        case list([String])
        case range(first: UInt64, last: UInt64, digits: Int)
    }

    public let storage: Storage

    public init(list: [String]) { storage = .list(list) }

    public init?(range text: String) {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, parts.allSatisfy(NumberSet.isE164), parts[0].count == parts[1].count,
              let a = UInt64(parts[0].dropFirst()), let b = UInt64(parts[1].dropFirst()), a <= b
        else { return nil }
        storage = .range(first: a, last: b, digits: parts[0].count - 1)
    }

    /// How many numbers the set holds.
    public var count: Int {
        switch storage {
        case .list(let l): return l.count
        case .range(let first, let last, _): return Int(last - first + 1)
        }
    }

    /// The `index`th number (0-based, `index < count`).
    public func number(at index: Int) -> String {
        switch storage {
        case .list(let l): return l[index]
        case .range(let first, _, let digits): return Self.format(first + UInt64(index), digits: digits)
        }
    }

    static func format(_ n: UInt64, digits: Int) -> String {
        let s = String(n)
        return "+" + String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    public func contains(_ number: String) -> Bool {
        switch storage {
        case .list(let l): return l.contains(number)
        case .range(let first, let last, let digits):
            guard number.count == digits + 1, number.hasPrefix("+"), let n = UInt64(number.dropFirst()) else { return false }
            return n >= first && n <= last
        }
    }

    public var description: String {
        switch storage {
        case .list(let l): return l.joined(separator: ", ")
        case .range(let first, let last, let digits):
            return "\(Self.format(first, digits: digits))..\(Self.format(last, digits: digits))"
        }
    }

    public static func isE164(_ s: String) -> Bool {
        s.hasPrefix("+") && s.count >= 4 && s.count <= 16 && s.dropFirst().allSatisfy(\.isNumber)
    }
}
