import NIOCore

extension SIPResponse {
    /// Builds a response to `request` as RFC 3261 §8.2.6.2 requires: Via (all, in order), From, Call-ID and
    /// CSeq copied; To copied with `toTag` added when it has none (never on 100, §8.2.6.2).
    public init(to request: SIPRequest, status: Int, reason: String? = nil, toTag: String? = nil) {
        var headers = SIPHeaders()
        for field in request.headers where field.name == .via { headers.add(.via, field.value) }
        if let from = request.headers[.from] { headers.add(.from, from) }
        if let to = request.headers[.to] {
            if let toTag, status != 100, (try? SIPAddress(parsing: to))?.tag == nil {
                headers.add(.to, String(to) + ";tag=" + toTag)
            } else {
                headers.add(.to, to)
            }
        }
        if let callID = request.headers[.callID] { headers.add(.callID, callID) }
        if let cseq = request.headers[.cseq] { headers.add(.cseq, cseq) }
        // RFC 3261 §8.2.6.1: a 100 Trying copies a Timestamp header.
        if status == 100, let ts = request.headers[.timestamp] { headers.add(.timestamp, ts) }
        self.init(statusCode: status, reasonPhrase: reason, headers: headers)
    }
}
