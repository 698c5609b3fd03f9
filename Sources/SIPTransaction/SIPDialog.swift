import SIPCore

/// Dialog state (RFC 3261 §12): identifiers, sequence numbers, remote target and route set. Creating
/// in-dialog requests (§12.2.1.1) and the ACK for a 2xx (§13.2.2.4) happens here; sending does not.
public struct SIPDialog: Sendable, Hashable {
    /// The dialog ID (§12): Call-ID, local tag, remote tag.
    public struct ID: Hashable, Sendable {
        public var callID: String
        public var localTag: String
        public var remoteTag: String

        public init(callID: String, localTag: String, remoteTag: String) {
            self.callID = callID
            self.localTag = localTag
            self.remoteTag = remoteTag
        }
    }

    public var id: ID
    /// Local and remote URIs with the tags (From/To of requests we send).
    public var local: SIPAddress
    public var remote: SIPAddress
    public var localSequence: UInt32
    public var remoteSequence: UInt32?
    /// The remote target: the peer's Contact URI.
    public var remoteTarget: SIPURI
    /// Route set in the order it is used for sending (§12.1.1 / §12.1.2).
    public var routeSet: [SIPAddress]
    /// The CSeq of the INVITE that made the dialog, for the ACK of its 2xx.
    public var inviteSequence: UInt32

    /// §12.1.2: the UAC side from the INVITE sent and the 2xx received. Route set = Record-Route reversed;
    /// remote target = Contact of the response.
    public init(uac request: SIPRequest, response: SIPResponse) throws(SIPGrammarError) {
        let from = try request.from()
        let to = try response.to()
        guard let localTag = from.tag, let remoteTag = to.tag, let callID = request.callID else {
            throw .invalid("dialog needs Call-ID, From tag and To tag")
        }
        guard let contact = try response.contacts().first else { throw .invalid("2xx without Contact") }
        id = ID(callID: String(callID), localTag: localTag, remoteTag: remoteTag)
        local = from
        remote = to
        inviteSequence = try request.cseq().sequence
        localSequence = inviteSequence
        remoteSequence = nil
        remoteTarget = contact.uri
        routeSet = try response.recordRoutes().reversed()
    }

    /// §12.1.1: the UAS side from the INVITE received and the local tag chosen. Route set = Record-Route in
    /// order; remote target = Contact of the request.
    public init(uas request: SIPRequest, localTag: String) throws(SIPGrammarError) {
        let from = try request.from()
        var to = try request.to()
        guard let remoteTag = from.tag, let callID = request.callID else { throw .invalid("dialog needs Call-ID and From tag") }
        guard let contact = try request.contacts().first else { throw .invalid("INVITE without Contact") }
        to.tag = localTag
        id = ID(callID: String(callID), localTag: localTag, remoteTag: remoteTag)
        local = to
        remote = from
        inviteSequence = try request.cseq().sequence
        remoteSequence = inviteSequence
        localSequence = 0
        remoteTarget = contact.uri
        routeSet = try request.recordRoutes()
    }

    /// §12.2.1.1: a new request within the dialog (not ACK, not CANCEL). The caller adds Via, Contact and
    /// Max-Forwards. With a loose router first in the route set, the Request-URI is the remote target and
    /// every route goes in Route; with a strict router first, it becomes the Request-URI.
    public mutating func makeRequest(_ method: SIPMethod) -> SIPRequest {
        if localSequence == 0 { localSequence = UInt32.random(in: 1...0x7FFF) }
        localSequence += 1
        return request(method, sequence: localSequence)
    }

    /// §13.2.2.4: the ACK for a 2xx, with the INVITE's CSeq number and the dialog's route set.
    public func makeAck() -> SIPRequest { request(.ack, sequence: inviteSequence) }

    /// §13.2.2.4: the ACK for a 2xx to a re-INVITE sent in the dialog with CSeq `sequence`.
    public func makeAck(sequence: UInt32) -> SIPRequest { request(.ack, sequence: sequence) }

    func request(_ method: SIPMethod, sequence: UInt32) -> SIPRequest {
        var headers = SIPHeaders()
        var uri = remoteTarget
        var routes = routeSet
        if let first = routes.first, !first.uri.parameters.contains("lr") {
            // Strict router (§12.2.1.1): its URI is the Request-URI, the remote target the last Route.
            uri = first.uri
            uri.headers = nil
            routes.removeFirst()
            routes.append(SIPAddress(uri: remoteTarget))
        }
        for route in routes { headers.add(.route, route.description) }
        headers.add(.from, local.description)
        headers.add(.to, remote.description)
        headers.add(.callID, id.callID)
        headers.add(.cseq, "\(sequence) \(method.rawValue)")
        return SIPRequest(method: method, uri: uri, headers: headers)
    }

    /// §12.2.2: a request in this dialog with a lower or equal CSeq than seen is out of order (answer 500).
    public mutating func acceptRemoteSequence(_ sequence: UInt32) -> Bool {
        if let last = remoteSequence, sequence <= last { return false }
        remoteSequence = sequence
        return true
    }
}
