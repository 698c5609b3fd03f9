/// A header field name, compared case-insensitively (RFC 3261 §7.3.1). Compact forms (RFC 3261 §7.3.3,
/// e.g. `v`, `i`, `m`) resolve to their long form, so `Via` and `v` are the same name.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Index into `known` plus one; 0 for an extension header.
    @usableFromInline let code: UInt8
    /// An extension header's name as written (compared case-insensitively); empty for known names.
    @usableFromInline let custom: String

    /// The name as written on the wire by this implementation: the long, canonical form of a known name,
    /// an extension name as it was read or made.
    public var canonical: String { code == 0 ? custom : SIPHeaderName.knownNames[Int(code) - 1] }

    public var description: String { canonical }

    init(code: UInt8) {
        self.code = code
        self.custom = ""
    }

    /// An extension header (not one of the known names).
    init(extension name: Substring) {
        self.code = 0
        self.custom = String(name)
    }

    /// Makes a name from any spelling (long or compact, any case).
    public init(_ name: String) { self = SIPHeaderName.lookup(Substring(name)) }

    public init(stringLiteral value: String) { self.init(value) }

    @inlinable public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool {
        lhs.code == rhs.code && (lhs.code != 0 || SIPGrammar.equalsIgnoringCase(lhs.custom, rhs.custom))
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        if code == 0 { for byte in custom.utf8 { hasher.combine(SIPGrammar.lowercase(byte)) } }
    }

    /// True when the header's ABNF is a comma-separated list (RFC 3261 §7.3.1), so that several values may
    /// share one line. Headers such as Authorization or Date contain commas that are not separators.
    public var isList: Bool { code != 0 && code < 64 && SIPHeaderName.listCodes & (1 << UInt64(code)) != 0 }

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

    /// Codes of the list headers, as bits: Accept, Accept-Encoding, Allow, Contact, Content-Encoding,
    /// Proxy-Require, Reason, Record-Route, Require, Route, Supported, Unsupported, Via, Warning,
    /// Allow-Events, Accept-Contact, Reject-Contact, Request-Disposition, Accept-Language, In-Reply-To.
    static let listCodes: UInt64 = 0x211D06A7C00CE

    static let all: [SIPHeaderName] = knownNames.indices.map { SIPHeaderName(code: UInt8($0 + 1)) }

    /// Known names as lowercase bytes, bucketed by length, for lookup without allocating.
    static let byLength: [[(code: UInt8, lowercase: [UInt8])]] = {
        var buckets = [[(code: UInt8, lowercase: [UInt8])]](repeating: [], count: 32)
        for (i, name) in knownNames.enumerated() {
            buckets[name.utf8.count].append((UInt8(i + 1), name.utf8.map(SIPGrammar.lowercase)))
        }
        return buckets
    }()

    /// The compact form's index into `known` by letter (RFC 3261 §7.3.3 and later RFCs), or nil.
    @inline(__always) static func compactIndex(_ letter: UInt8) -> Int? {
        switch SIPGrammar.lowercase(letter) {
        case UInt8(ascii: "i"): return 4
        case UInt8(ascii: "m"): return 5
        case UInt8(ascii: "e"): return 6
        case UInt8(ascii: "l"): return 7
        case UInt8(ascii: "c"): return 8
        case UInt8(ascii: "f"): return 12
        case UInt8(ascii: "s"): return 23
        case UInt8(ascii: "k"): return 24
        case UInt8(ascii: "t"): return 25
        case UInt8(ascii: "v"): return 28
        case UInt8(ascii: "x"): return 31
        case UInt8(ascii: "o"): return 33
        case UInt8(ascii: "r"): return 34
        case UInt8(ascii: "u"): return 35
        case UInt8(ascii: "b"): return 36
        case UInt8(ascii: "a"): return 37
        case UInt8(ascii: "j"): return 38
        case UInt8(ascii: "d"): return 39
        case UInt8(ascii: "y"): return 40
        case UInt8(ascii: "n"): return 41
        default: return nil
        }
    }

    private static func known(_ index: Int) -> SIPHeaderName { SIPHeaderName(code: UInt8(index + 1)) }

    /// Resolves a known name (long or compact, any case) from its bytes as read from the wire; nil for an
    /// extension header.
    public static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPHeaderName? {
        let count = bytes.count
        if count == 1 { return compactIndex(bytes[0]).map { SIPHeaderName(code: UInt8($0 + 1)) } }
        guard count < byLength.count else { return nil }
        candidates: for candidate in byLength[count] {
            for i in 0..<count where SIPGrammar.lowercase(bytes[i]) != candidate.lowercase[i] { continue candidates }
            return SIPHeaderName(code: candidate.code)
        }
        return nil
    }

    /// Resolves a name as read from the wire.
    public static func lookup(_ raw: Substring) -> SIPHeaderName {
        var name = raw
        return name.withUTF8 { lookup($0) } ?? SIPHeaderName(extension: raw)
    }
}
