/// A header field name, compared case-insensitively (RFC 3261 §7.3.1). Compact forms (RFC 3261 §7.3.3,
/// e.g. `v`, `i`, `m`) resolve to their long form, so `Via` and `v` are the same name.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Index into `known` plus one; 0 for an extension header.
    @usableFromInline let code: UInt8
    /// The name as written on the wire by this implementation (long, canonical form).
    public let canonical: String
    /// Lowercased name; used for extension headers only.
    @usableFromInline let folded: String

    public var description: String { canonical }

    init(code: UInt8, canonical: String) {
        self.code = code
        self.canonical = canonical
        self.folded = code == 0 ? canonical.lowercased() : ""
    }

    /// Makes a name from any spelling (long or compact, any case).
    public init(_ name: String) { self = SIPHeaderName.lookup(Substring(name)) }

    public init(stringLiteral value: String) { self.init(value) }

    public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool {
        lhs.code == rhs.code && (lhs.code != 0 || lhs.folded == rhs.folded)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        if code == 0 { hasher.combine(folded) }
    }

    /// True when the header's ABNF is a comma-separated list (RFC 3261 §7.3.1), so that several values may
    /// share one line. Headers such as Authorization or Date contain commas that are not separators.
    public var isList: Bool { code != 0 && SIPHeaderName.listCodes.contains(code) }

    // MARK: - Known names

    public static let accept = known(0)
    public static let acceptEncoding = known(1)
    public static let allow = known(2)
    public static let authorization = known(3)
    public static let callID = known(4)
    public static let contact = known(5)
    public static let contentEncoding = known(6)
    public static let contentLength = known(7)
    public static let contentType = known(8)
    public static let cseq = known(9)
    public static let date = known(10)
    public static let expires = known(11)
    public static let from = known(12)
    public static let maxForwards = known(13)
    public static let minExpires = known(14)
    public static let proxyAuthenticate = known(15)
    public static let proxyAuthorization = known(16)
    public static let proxyRequire = known(17)
    public static let reason = known(18)
    public static let recordRoute = known(19)
    public static let require = known(20)
    public static let route = known(21)
    public static let server = known(22)
    public static let subject = known(23)
    public static let supported = known(24)
    public static let to = known(25)
    public static let unsupported = known(26)
    public static let userAgent = known(27)
    public static let via = known(28)
    public static let warning = known(29)
    public static let wwwAuthenticate = known(30)
    public static let sessionExpires = known(31)
    public static let minSE = known(32)
    public static let event = known(33)
    public static let referTo = known(34)
    public static let allowEvents = known(35)
    public static let referredBy = known(36)
    public static let acceptContact = known(37)
    public static let rejectContact = known(38)
    public static let requestDisposition = known(39)
    public static let identity = known(40)
    public static let identityInfo = known(41)
    public static let authenticationInfo = known(42)
    public static let acceptLanguage = known(43)
    public static let contentDisposition = known(44)
    public static let retryAfter = known(45)
    public static let timestamp = known(46)
    public static let organization = known(47)
    public static let inReplyTo = known(48)

    static let knownNames: [String] = [
        "Accept", "Accept-Encoding", "Allow", "Authorization", "Call-ID", "Contact", "Content-Encoding",
        "Content-Length", "Content-Type", "CSeq", "Date", "Expires", "From", "Max-Forwards", "Min-Expires",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Reason", "Record-Route", "Require",
        "Route", "Server", "Subject", "Supported", "To", "Unsupported", "User-Agent", "Via", "Warning",
        "WWW-Authenticate", "Session-Expires", "Min-SE", "Event", "Refer-To", "Allow-Events", "Referred-By",
        "Accept-Contact", "Reject-Contact", "Request-Disposition", "Identity", "Identity-Info",
        "Authentication-Info", "Accept-Language", "Content-Disposition", "Retry-After", "Timestamp",
        "Organization", "In-Reply-To",
    ]

    /// RFC 3261 §7.3.3 and later RFCs' compact forms.
    static let compactForms: [UInt8: Int] = [
        UInt8(ascii: "i"): 4, UInt8(ascii: "m"): 5, UInt8(ascii: "e"): 6, UInt8(ascii: "l"): 7,
        UInt8(ascii: "c"): 8, UInt8(ascii: "f"): 12, UInt8(ascii: "s"): 23, UInt8(ascii: "k"): 24,
        UInt8(ascii: "t"): 25, UInt8(ascii: "v"): 28, UInt8(ascii: "x"): 31, UInt8(ascii: "o"): 33,
        UInt8(ascii: "r"): 34, UInt8(ascii: "u"): 35, UInt8(ascii: "b"): 36, UInt8(ascii: "a"): 37,
        UInt8(ascii: "j"): 38, UInt8(ascii: "d"): 39, UInt8(ascii: "y"): 40, UInt8(ascii: "n"): 41,
    ]

    static let listCodes: Set<UInt8> = Set(
        [0, 1, 2, 5, 6, 17, 18, 19, 20, 21, 24, 26, 28, 29, 35, 37, 38, 39, 43, 48].map { UInt8($0 + 1) })

    static let all: [SIPHeaderName] = knownNames.enumerated().map {
        SIPHeaderName(code: UInt8($0.offset + 1), canonical: $0.element)
    }

    /// Known names bucketed by length, for allocation-free lookup while parsing.
    static let byLength: [[SIPHeaderName]] = {
        var buckets = [[SIPHeaderName]](repeating: [], count: 32)
        for name in all { buckets[name.canonical.utf8.count].append(name) }
        return buckets
    }()

    private static func known(_ index: Int) -> SIPHeaderName { all[index] }

    /// Resolves a name as read from the wire.
    public static func lookup(_ raw: Substring) -> SIPHeaderName {
        let bytes = raw.utf8
        let count = bytes.count
        if count == 1, let index = compactForms[SIPGrammar.lowercase(bytes.first!)] {
            return all[index]
        }
        if count < byLength.count {
            for candidate in byLength[count] where SIPGrammar.equalsIgnoringCase(candidate.canonical, raw) {
                return candidate
            }
        }
        return SIPHeaderName(code: 0, canonical: String(raw))
    }
}
