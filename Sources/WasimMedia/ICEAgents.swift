/// Meta's ICE side: ICE-lite, always controlled (spec §5.6; RFC 8445 §2.5, §7.3). It answers connectivity
/// checks that carry the right USERNAME and MESSAGE-INTEGRITY (short-term credentials, RFC 8445 §7.2.2),
/// with XOR-MAPPED-ADDRESS; it never checks itself; a peer that claims the controlled role too gets
/// 487 Role Conflict (a lite agent cannot switch); USE-CANDIDATE nominates the pair. No I/O.
public struct ICELiteResponder: Sendable {
    public let localUfrag: String
    public let localPwd: String
    /// The pair the controlling peer nominated: its address as seen here.
    public private(set) var nominated: (address: [UInt8], port: UInt16)?
    /// Checks answered with success.
    public private(set) var checksAnswered = 0

    public init(localUfrag: String, localPwd: String) {
        self.localUfrag = localUfrag
        self.localPwd = localPwd
    }

    /// What a received check leads to.
    public struct Reply: Sendable {
        /// The STUN response to send back to the sender, if any.
        public var response: [UInt8]?
        /// This check nominated the pair (it carried USE-CANDIDATE and succeeded).
        public var nominatedNow = false
        /// Why the check was refused, when it was.
        public var problem: String?
    }

    /// A STUN message from `address:port`.
    public mutating func receive(_ bytes: [UInt8], from address: [UInt8], port: UInt16) -> Reply {
        guard let request = try? STUNMessage.decode(bytes), request.type == STUNMessage.MessageType.bindingRequest.rawValue else {
            return Reply(problem: "not a STUN binding request")
        }
        let key = Array(localPwd.utf8)
        let username = request.value(.username).map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard username.hasPrefix(localUfrag + ":"), STUNMessage.verify(bytes, integrityKey: key) else {
            // RFC 8489 §9.1.3: a bad USERNAME or MESSAGE-INTEGRITY gets 401 (without integrity).
            var error = STUNMessage(type: .bindingError, transactionID: request.transactionID)
            error.add(.errorCode, STUNMessage.errorCode(401, "Unauthorized"))
            return Reply(response: error.encode(), problem: "bad USERNAME or MESSAGE-INTEGRITY")
        }
        if request.value(.iceControlled) != nil {
            var error = STUNMessage(type: .bindingError, transactionID: request.transactionID)
            error.add(.errorCode, STUNMessage.errorCode(487, "Role Conflict"))
            return Reply(response: error.encode(integrityKey: key), problem: "peer claims the controlled role; an ICE-lite agent is always controlled")
        }
        var response = STUNMessage(type: .bindingSuccess, transactionID: request.transactionID)
        response.add(.xorMappedAddress, STUNMessage.xorMappedAddress(ipv4: address, port: port))
        checksAnswered += 1
        var reply = Reply(response: response.encode(integrityKey: key))
        if request.value(.useCandidate) != nil, nominated == nil {
            nominated = (address, port)
            reply.nominatedNow = true
        }
        return reply
    }
}

/// The business's ICE side: full ICE, controlling, regular nomination (RFC 8445 §8.1.1: a check, then the
/// same check again with USE-CANDIDATE once it succeeded), as Meta requires (spec §5.6). One candidate
/// pair (Meta offers host candidates only). No I/O: it makes checks and reads responses.
public struct ICEControllingAgent: Sendable {
    public enum State: Sendable, Equatable { case checking, validated, nominated, failed(String) }

    public let localUfrag: String
    public let localPwd: String
    public let remoteUfrag: String
    public let remotePwd: String
    public let tieBreaker: UInt64
    /// Claim the controlled role instead (the FreeSWITCH mistake of spec §9, to test Meta's 487).
    public let claimControlled: Bool
    public private(set) var state: State = .checking
    public private(set) var checksSent = 0
    var pending: [UInt8]?
    var counter: UInt64 = 0

    public init(localUfrag: String, localPwd: String, remoteUfrag: String, remotePwd: String, tieBreaker: UInt64, claimControlled: Bool = false) {
        self.localUfrag = localUfrag
        self.localPwd = localPwd
        self.remoteUfrag = remoteUfrag
        self.remotePwd = remotePwd
        self.tieBreaker = tieBreaker
        self.claimControlled = claimControlled
    }

    /// The next connectivity check (sent again on each call until answered); USE-CANDIDATE once validated.
    public mutating func nextCheck() -> [UInt8]? {
        switch state {
        case .checking, .validated: break
        default: return nil
        }
        counter &+= 1
        var id = STUNMessage.bytes64(tieBreaker ^ counter &* 0x9E37_79B9_7F4A_7C15)
        id += STUNMessage.bytes32(UInt32(truncatingIfNeeded: counter))
        var check = STUNMessage(type: .bindingRequest, transactionID: id)
        check.add(.username, Array("\(remoteUfrag):\(localUfrag)".utf8))
        // RFC 8445 §5.1.2.1: priority of a host candidate, component 1.
        check.add(.priority, STUNMessage.bytes32((126 << 24) | (65535 << 8) | 255))
        if claimControlled {
            check.add(.iceControlled, STUNMessage.bytes64(tieBreaker))
        } else {
            check.add(.iceControlling, STUNMessage.bytes64(tieBreaker))
        }
        if state == .validated { check.add(.useCandidate, []) }
        pending = id
        checksSent += 1
        return check.encode(integrityKey: Array(remotePwd.utf8))
    }

    /// A STUN response from the peer.
    public mutating func receive(_ bytes: [UInt8]) {
        guard let response = try? STUNMessage.decode(bytes), response.transactionID == pending else { return }
        guard STUNMessage.verify(bytes, integrityKey: Array(remotePwd.utf8)) else {
            if response.type == STUNMessage.MessageType.bindingError.rawValue, let code = response.value(.errorCode), code.count >= 4 {
                state = .failed("STUN error \(Int(code[2]) * 100 + Int(code[3]))")
            }
            return
        }
        pending = nil
        if response.type == STUNMessage.MessageType.bindingError.rawValue {
            let code = response.value(.errorCode).map { $0.count >= 4 ? Int($0[2]) * 100 + Int($0[3]) : 0 } ?? 0
            state = .failed(code == 487 ? "487 Role Conflict" : "STUN error \(code)")
            return
        }
        switch state {
        case .checking: state = .validated
        case .validated: state = .nominated
        default: break
        }
    }
}
