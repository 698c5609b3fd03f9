import NIOCore

/// A SIP request (RFC 3261 §7.1).
public struct SIPRequest: Sendable, Hashable {
    public var method: SIPMethod
    public var uri: SIPURI
    public var headers: SIPHeaders
    public var body: ByteBuffer

    public init(method: SIPMethod, uri: SIPURI, headers: SIPHeaders = SIPHeaders(), body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

/// A SIP response (RFC 3261 §7.2).
public struct SIPResponse: Sendable, Hashable {
    public var statusCode: Int
    public var reasonPhrase: String
    public var headers: SIPHeaders
    public var body: ByteBuffer

    public init(statusCode: Int, reasonPhrase: String? = nil, headers: SIPHeaders = SIPHeaders(), body: ByteBuffer = ByteBuffer()) {
        self.statusCode = statusCode
        self.reasonPhrase = reasonPhrase ?? SIPStatus.defaultReason(statusCode)
        self.headers = headers
        self.body = body
    }

    public var isProvisional: Bool { statusCode < 200 }
    public var isSuccess: Bool { (200..<300).contains(statusCode) }
}

/// Either kind of message.
public enum SIPMessage: Sendable, Hashable {
    case request(SIPRequest)
    case response(SIPResponse)

    public var headers: SIPHeaders {
        switch self {
        case .request(let r): return r.headers
        case .response(let r): return r.headers
        }
    }

    public var body: ByteBuffer {
        switch self {
        case .request(let r): return r.body
        case .response(let r): return r.body
        }
    }
}

/// Typed access to the headers every message carries. Each accessor parses on demand.
public protocol SIPHeaderCarrier {
    var headers: SIPHeaders { get set }
}

extension SIPRequest: SIPHeaderCarrier {}
extension SIPResponse: SIPHeaderCarrier {}

extension SIPHeaderCarrier {
    public var callID: Substring? { headers[.callID] }

    public func cseq() throws(SIPGrammarError) -> SIPCSeq {
        guard let value = headers[.cseq] else { throw .expected("CSeq header") }
        return try SIPCSeq(parsing: value)
    }

    public func from() throws(SIPGrammarError) -> SIPAddress {
        guard let value = headers[.from] else { throw .expected("From header") }
        return try SIPAddress(parsing: value)
    }

    public func to() throws(SIPGrammarError) -> SIPAddress {
        guard let value = headers[.to] else { throw .expected("To header") }
        return try SIPAddress(parsing: value)
    }

    /// The top (first) Via.
    public func topVia() throws(SIPGrammarError) -> SIPVia {
        guard let line = headers[.via] else { throw .expected("Via header") }
        if SIPHeaders.mayHoldSeveral(line) {
            return try SIPVia(parsing: SIPHeaders.splitList(line)[0])
        }
        return try SIPVia(parsing: line)
    }

    public func vias() throws(SIPGrammarError) -> [SIPVia] {
        var out: [SIPVia] = []
        for value in headers.values(.via) { out.append(try SIPVia(parsing: value)) }
        return out
    }

    public func contacts() throws(SIPGrammarError) -> [SIPAddress] {
        try SIPAddress.parseList(headers.values(.contact))
    }

    public func recordRoutes() throws(SIPGrammarError) -> [SIPAddress] {
        try SIPAddress.parseList(headers.values(.recordRoute))
    }

    public func routes() throws(SIPGrammarError) -> [SIPAddress] {
        try SIPAddress.parseList(headers.values(.route))
    }

    /// The branch of the top Via, without parsing the whole Via when it is simple.
    public func topBranch() -> String? { try? topVia().branch }
}

/// Default reason phrases (RFC 3261 §21 and extensions).
public enum SIPStatus {
    public static func defaultReason(_ code: Int) -> String {
        switch code {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 181: return "Call Is Being Forwarded"
        case 182: return "Queued"
        case 183: return "Session Progress"
        case 200: return "OK"
        case 202: return "Accepted"
        case 302: return "Moved Temporarily"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 413: return "Request Entity Too Large"
        case 415: return "Unsupported Media Type"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 423: return "Interval Too Brief"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 482: return "Loop Detected"
        case 483: return "Too Many Hops"
        case 484: return "Address Incomplete"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 491: return "Request Pending"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Server Time-out"
        case 505: return "Version Not Supported"
        case 513: return "Message Too Large"
        case 600: return "Busy Everywhere"
        case 603: return "Decline"
        case 604: return "Does Not Exist Anywhere"
        case 606: return "Not Acceptable"
        default: return "Unknown"
        }
    }
}
