import NIOCore
import SIPCore
import SIPTransaction
import Testing

/// RFC 3261 Figure 7 (with RFC 6026) and Figure 8.
@Suite("Server transactions (Figures 7 and 8)")
struct ServerTransactionTests {
    enum Event: Sendable {
        case respond(Int)
        case retransmission
        case ack
        case time(ms: Int64)
    }

    struct InviteRow: Sendable, CustomTestStringConvertible {
        var name: String
        var reliable: Bool
        var steps: [(Event, InviteServerTransaction.State, [String])]
        var testDescription: String { name }
    }

    static let inviteRows: [InviteRow] = [
        InviteRow(name: "Proceeding: 1xx sent, retransmitted INVITE re-sends it", reliable: false, steps: [
            (.respond(100), .proceeding, ["send 100"]),
            (.retransmission, .proceeding, ["send 100"]),
            (.respond(180), .proceeding, ["send 180"]),
            (.retransmission, .proceeding, ["send 180"]),
        ]),
        InviteRow(name: "Proceeding --3xx-6xx--> Completed: Timer G doubling to T2, ACK --> Confirmed --Timer I--> Terminated", reliable: false, steps: [
            (.respond(407), .completed, ["send 407"]),
            (.time(ms: 500), .completed, ["send 407"]),
            (.time(ms: 1500), .completed, ["send 407"]),
            (.retransmission, .completed, ["send 407"]),
            (.ack, .confirmed, []),
            (.time(ms: 3500), .confirmed, []),  // G stopped
            (.retransmission, .confirmed, []),
            (.time(ms: 1500 + 5000), .terminated, ["terminated"]),
        ]),
        InviteRow(name: "Completed --Timer H--> Terminated (no ACK)", reliable: true, steps: [
            (.respond(486), .completed, ["send 486"]),
            (.time(ms: 32_000), .terminated, ["timeout H", "terminated"]),
        ]),
        InviteRow(name: "Completed --ACK--> Terminated at once on reliable transports (Timer I = 0)", reliable: true, steps: [
            (.respond(403), .completed, ["send 403"]),
            (.ack, .terminated, ["terminated"]),
        ]),
        InviteRow(name: "Proceeding --2xx--> Accepted (RFC 6026): 2xx re-sent until ACK, ACK to TU, Timer L", reliable: false, steps: [
            (.respond(200), .accepted, ["send 200"]),
            (.time(ms: 500), .accepted, ["send 200"]),
            (.retransmission, .accepted, []),
            (.ack, .accepted, ["deliver ACK"]),
            (.time(ms: 1500), .accepted, []),
            (.time(ms: 32_000), .terminated, ["terminated"]),
        ]),
    ]

    @Test(arguments: inviteRows)
    func inviteServer(_ row: InviteRow) {
        var tx = InviteServerTransaction(request: TX.request(.invite), reliable: row.reliable, now: TX.t0)
        for (event, state, actions) in row.steps {
            let got: [TransactionAction]
            switch event {
            case .respond(let code): got = tx.respond(TX.response(code), now: TX.t0)
            case .retransmission: got = tx.receive(TX.request(.invite), now: TX.t0)
            case .ack: got = tx.receive(TX.request(.ack), now: TX.t0)
            case .time(let ms): got = tx.timeout(now: TX.at(ms: ms))
            }
            #expect(TX.describe(got) == actions, "\(row.name): \(event)")
            #expect(tx.state == state, "\(row.name): \(event)")
        }
    }

    struct NonInviteRow: Sendable, CustomTestStringConvertible {
        var name: String
        var reliable: Bool
        var steps: [(Event, NonInviteServerTransaction.State, [String])]
        var testDescription: String { name }
    }

    static let nonInviteRows: [NonInviteRow] = [
        NonInviteRow(name: "Trying absorbs retransmissions; 1xx --> Proceeding re-sends it", reliable: false, steps: [
            (.retransmission, .trying, []),
            (.respond(100), .proceeding, ["send 100"]),
            (.retransmission, .proceeding, ["send 100"]),
        ]),
        NonInviteRow(name: "final --> Completed re-sends on retransmission --Timer J--> Terminated", reliable: false, steps: [
            (.respond(200), .completed, ["send 200"]),
            (.retransmission, .completed, ["send 200"]),
            (.time(ms: 31_999), .completed, []),
            (.time(ms: 32_000), .terminated, ["terminated"]),
        ]),
        NonInviteRow(name: "final --> Terminated at once on reliable transports (Timer J = 0)", reliable: true, steps: [
            (.respond(200), .terminated, ["send 200", "terminated"]),
        ]),
    ]

    @Test(arguments: nonInviteRows)
    func nonInviteServer(_ row: NonInviteRow) {
        var tx = NonInviteServerTransaction(request: TX.request(.bye), reliable: row.reliable, now: TX.t0)
        for (event, state, actions) in row.steps {
            let got: [TransactionAction]
            switch event {
            case .respond(let code): got = tx.respond(TX.response(code, to: .bye), now: TX.t0)
            case .retransmission, .ack: got = tx.receive(TX.request(.bye), now: TX.t0)
            case .time(let ms): got = tx.timeout(now: TX.at(ms: ms))
            }
            #expect(TX.describe(got) == actions, "\(row.name): \(event)")
            #expect(tx.state == state, "\(row.name): \(event)")
        }
    }

    /// Timers scale from T1/T2/T4: a load generator can run with other values than a mock in one process.
    @Test func timerValuesFollowT1() {
        let timers = SIPTimers(t1: .milliseconds(100), t2: .seconds(1), t4: .seconds(2))
        #expect(timers.timerB == .milliseconds(6400))
        #expect(timers.timerD(reliable: false) == .seconds(32))
        #expect(timers.timerK(reliable: false) == .seconds(2) && timers.timerK(reliable: true) == .zero)
    }
}
