import NIOCore
import SIPCore
import SIPTransaction
import Testing

/// RFC 3261 Figure 5 (with RFC 6026's Accepted state), one row per transition.
@Suite("INVITE client transaction (Figure 5)")
struct InviteClientTransactionTests {
    enum Event: Sendable {
        case response(Int)
        case time(ms: Int64)
        case transportError
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var reliable: Bool
        var steps: [(Event, InviteClientTransaction.State, [String])]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "Calling --Timer A--> Calling (retransmit, doubling: 500, 1500, 3500 ms)", reliable: false, steps: [
            (.time(ms: 499), .calling, []),
            (.time(ms: 500), .calling, ["send INVITE"]),
            (.time(ms: 1499), .calling, []),
            (.time(ms: 1500), .calling, ["send INVITE"]),
            (.time(ms: 3500), .calling, ["send INVITE"]),
        ]),
        Row(name: "Calling --Timer B--> Terminated (timeout)", reliable: true, steps: [
            (.time(ms: 31_999), .calling, []),
            (.time(ms: 32_000), .terminated, ["timeout B", "terminated"]),
        ]),
        Row(name: "Calling --1xx--> Proceeding; no retransmission in Proceeding", reliable: false, steps: [
            (.response(180), .proceeding, ["deliver 180"]),
            (.time(ms: 600), .proceeding, []),
            (.response(183), .proceeding, ["deliver 183"]),
        ]),
        Row(name: "Proceeding --300-699--> Completed: ACK, Timer D; retransmitted final re-ACKed", reliable: false, steps: [
            (.response(100), .proceeding, ["deliver 100"]),
            (.response(486), .completed, ["send ACK", "deliver 486"]),
            (.response(486), .completed, ["send ACK"]),
            (.time(ms: 31_999), .completed, []),
            (.time(ms: 32_000), .terminated, ["terminated"]),
        ]),
        Row(name: "Calling --300-699--> Terminated at once on a reliable transport (Timer D = 0)", reliable: true, steps: [
            (.response(407), .terminated, ["send ACK", "deliver 407", "terminated"]),
        ]),
        Row(name: "Calling --2xx--> Accepted (RFC 6026); 2xx retransmissions to TU; Timer M", reliable: false, steps: [
            (.response(200), .accepted, ["deliver 200"]),
            (.response(200), .accepted, ["deliver 200"]),
            (.response(486), .accepted, []),
            (.time(ms: 32_000), .terminated, ["terminated"]),
        ]),
        Row(name: "Calling --transport error--> Terminated", reliable: true, steps: [
            (.transportError, .terminated, ["transport error", "terminated"]),
        ]),
    ]

    @Test(arguments: rows)
    func transition(_ row: Row) {
        var tx = InviteClientTransaction(request: TX.request(.invite), reliable: row.reliable, now: TX.t0)
        #expect(TX.describe(tx.startActions) == ["send INVITE"])
        for (event, state, actions) in row.steps {
            let got: [TransactionAction]
            switch event {
            case .response(let code): got = tx.receive(TX.response(code), now: TX.t0)
            case .time(let ms): got = tx.timeout(now: TX.at(ms: ms))
            case .transportError: got = tx.transportFailed()
            }
            #expect(TX.describe(got) == actions, "\(row.name): \(event)")
            #expect(tx.state == state, "\(row.name): \(event)")
        }
    }

    /// §17.1.1.3: the ACK for a non-2xx carries the INVITE's Request-URI, Call-ID, From, CSeq number, top Via
    /// and the response's To (with its tag).
    @Test func ackForNon2xx() throws {
        var tx = InviteClientTransaction(request: TX.request(.invite), reliable: true, now: TX.t0)
        let actions = tx.receive(TX.response(403), now: TX.t0)
        guard case .send(.request(let ack)) = actions.first else { Issue.record("no ACK"); return }
        #expect(ack.method == .ack)
        #expect(ack.uri == TX.request(.invite).uri)
        #expect(try ack.cseq() == SIPCSeq(1, .ack))
        #expect(try ack.to().tag == "t1")
        #expect(try ack.topVia().branch == "z9hG4bKtx1")
        #expect(ack.callID == "tx-test")
    }

    /// §9.1: CANCEL shares the INVITE's branch, Call-ID, From, To and CSeq number.
    @Test func cancelMatchesTheInvite() throws {
        let tx = InviteClientTransaction(request: TX.request(.invite), reliable: true, now: TX.t0)
        let cancel = tx.makeCancel()
        #expect(cancel.method == .cancel && cancel.uri == tx.request.uri)
        #expect(try cancel.cseq() == SIPCSeq(1, .cancel))
        #expect(try cancel.topVia().branch == (try tx.request.topVia().branch))
        #expect(cancel.headers[.to] == tx.request.headers[.to] && cancel.headers[.from] == tx.request.headers[.from])
        #expect(TransactionKey.server(for: cancel)?.branch == TransactionKey.server(for: tx.request)?.branch)
    }
}
