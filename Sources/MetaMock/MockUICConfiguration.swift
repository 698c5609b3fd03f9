import SIPTransport
import WasimMedia

/// How the mock places user-initiated calls towards business SIP servers (spec §3, §10 "UIC generator").
public struct MockUICConfiguration: Sendable, Hashable {
    /// The certificate the mock presents when a business TLS server asks for one (spec §1, §11.5).
    public enum ClientCertificate: Sendable, Hashable {
        /// Present none, even when asked.
        case none
        /// A certificate for a random host name, new at every start (Meta, Dec 2025: "a random dynamic host
        /// which will not pass certificate validation").
        case dynamicHost
        /// A certificate for this host name (the 2026 variant: `client.sip.fbclientcerts.com`).
        case host(String)
    }

    /// A batch of user-initiated calls the mock places by itself (from the configuration at start, or from a
    /// scenario).
    public struct CallPlan: Sendable, Hashable {
        /// Callers: WhatsApp users, taken in turn.
        public var users: NumberSet
        /// The business number called.
        public var business: String
        public var count: Int
        /// Calls started per second.
        public var rate: Double
        /// Seconds the user stays in the call before Meta's BYE (uniform in the range).
        public var hold: ClosedRange<Double>
        public var ctaPayload: String?
        public var deeplinkPayload: String?

        public init(users: NumberSet, business: String, count: Int, rate: Double = 1, hold: ClosedRange<Double> = 5...5,
                    ctaPayload: String? = nil, deeplinkPayload: String? = nil)
        {
            self.users = users
            self.business = business
            self.count = count
            self.rate = rate
            self.hold = hold
            self.ctaPayload = ctaPayload
            self.deeplinkPayload = deeplinkPayload
        }
    }

    public var clientCertificate: ClientCertificate = .dynamicHost
    /// CA file used to verify business servers; nil uses the mock's own test CA (the `Certs/` folder).
    public var caFile: String?
    /// Seconds the business has to answer before Meta gives up with CANCEL (spec §8: "about 30 to 60 s").
    public var answerTimeoutSeconds: Double = 60
    /// Calls placed at start.
    public var calls: [CallPlan] = []

    public init() {}
}

/// Names of Meta's custom headers. Live traffic and the documentation disagree (spec §3, §11.4), so each is
/// a setting; nil leaves the header out.
public struct MetaHeaderNames: Sendable, Hashable {
    public var wacid: String = "x-wa-meta-wacid"
    public var callDuration: String = "x-wa-meta-call-duration"
    public var ctaPayload: String = "x-wa-meta-cta-payload"
    public var deeplinkPayload: String = "x-wa-meta-deeplink-payload"
    public var userID: String? = "x-wa-meta-user-id"
    public var userName: String? = "x-wa-meta-user-name"
    /// Documented as `x-wa-meta-user-country-code`; seen live as `x-wa-meta-country-code`.
    public var userCountryCode: String? = "x-wa-meta-user-country-code"
    /// Seen live (`x-wa-meta-phone-number-id`), absent from the Dec 2025 documentation: off by default.
    public var phoneNumberID: String? = nil

    public init() {}
}

/// The mock's media (spec §5): on for secure offers, with the clipping impairments of §5.5.
public struct MockMediaConfiguration: Sendable, Hashable {
    /// Run media for `UDP/TLS/RTP/SAVPF` (ICE + DTLS) and `RTP/SAVP` + `a=crypto` (SDES) offers.
    public var enabled = true
    /// Drop the first ClientHellos, or DTLS before the ICE nomination (per user group: `users[].media`).
    public var impairment = MediaLeg.Impairment()
    /// Meta's `a=setup` in a BIC answer to `actpass`: passive (Meta is the DTLS server) or active (spec §11.2).
    public var bicDTLSSetup = "passive"
    /// Load tests: Meta's leg sends full-rate audio for this long after its first packet, then a keep-alive
    /// every 10 s (nil: audio for the whole call, as Meta does).
    public var probeSeconds: Double? = nil
    /// The IPv6 host candidate Meta's UIC offers carry beside the IPv4 one, on the same port (spec §5.2; nil:
    /// IPv4 only). Nothing answers on it: a business stack must get through ICE on the IPv4 candidate.
    public var ipv6Candidate: String? = "2a03:2880:f343:131:face:b00c:0:699c"
    /// Meta's fixed media ports, taken by legs while free (empty: an ephemeral port per leg).
    public var ports: [Int] = []

    public init() {}
}
