import NIOCore
import SIPCore
import SIPTransaction

/// Messages and helpers for the transaction tables. Time starts at an arbitrary instant and only moves
/// when a row says so: no test sleeps.
enum TX {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(ms: Int64) -> NIODeadline { t0 + .milliseconds(ms) }

    static func request(_ method: SIPMethod) -> SIPRequest {
        var h = SIPHeaders()
        h.add(.via, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtx1")
        h.add(.from, "<sip:a@example.com>;tag=f1")
        h.add(.to, "<sip:b@example.com>")
        h.add(.callID, "tx-test")
        h.add(.cseq, "1 \(method.rawValue)")
        h.add(.maxForwards, "70")
        return SIPRequest(method: method, uri: try! SIPURI("sip:b@example.com"), headers: h)
    }

    static func response(_ code: Int, to method: SIPMethod = .invite) -> SIPResponse {
        SIPResponse(to: request(method), status: code, toTag: code == 100 ? nil : "t1")
    }

    /// A readable form of actions: "send INVITE", "send ACK", "send 200", "deliver 180", "timeout B", "terminated".
    static func describe(_ actions: [TransactionAction]) -> [String] {
        actions.map { action in
            switch action {
            case .send(.request(let r)): return "send \(r.method.rawValue)"
            case .send(.response(let r)): return "send \(r.statusCode)"
            case .deliverResponse(let r): return "deliver \(r.statusCode)"
            case .deliverAck: return "deliver ACK"
            case .timeout(let t): return "timeout \(t.rawValue)"
            case .transportError: return "transport error"
            case .terminated: return "terminated"
            }
        }
    }
}
