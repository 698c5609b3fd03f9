import NIOCore
import SIPCore
import SIPTransaction
import Testing

/// RFC 3261 Figure 6.
@Suite("Non-INVITE client transaction (Figure 6)")
struct NonInviteClientTransactionTests {
    enum Event: Sendable {
        case response(Int)
        case time(ms: Int64)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var reliable: Bool
        var steps: [(Event, NonInviteClientTransaction.State, [String])]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "Trying --Timer E--> Trying, interval doubling up to T2", reliable: false, steps: [
            (.time(ms: 500), .trying, ["send BYE"]),
            (.time(ms: 1500), .trying, ["send BYE"]),
            (.time(ms: 3500), .trying, ["send BYE"]),
            (.time(ms: 7500), .trying, ["send BYE"]),
            (.time(ms: 11_499), .trying, []),
            (.time(ms: 11_500), .trying, ["send BYE"]),  // capped at T2 = 4 s
        ]),
        Row(name: "Trying --1xx--> Proceeding; Timer E at T2", reliable: false, steps: [
            (.response(100), .proceeding, ["deliver 100"]),
            (.time(ms: 500), .proceeding, ["send BYE"]),
            (.time(ms: 4499), .proceeding, []),
            (.time(ms: 4500), .proceeding, ["send BYE"]),
        ]),
        Row(name: "Trying --Timer F--> Terminated", reliable: true, steps: [
            (.time(ms: 32_000), .terminated, ["timeout F", "terminated"]),
        ]),
        Row(name: "Proceeding --200--> Completed --Timer K--> Terminated; retransmissions absorbed", reliable: false, steps: [
            (.response(100), .proceeding, ["deliver 100"]),
            (.response(200), .completed, ["deliver 200"]),
            (.response(200), .completed, []),
            (.time(ms: 4999), .completed, []),
            (.time(ms: 5000), .terminated, ["terminated"]),
        ]),
        Row(name: "Trying --final--> Terminated at once on reliable transports (Timer K = 0)", reliable: true, steps: [
            (.response(481), .terminated, ["deliver 481", "terminated"]),
        ]),
    ]

    @Test(arguments: rows)
    func transition(_ row: Row) {
        var tx = NonInviteClientTransaction(request: TX.request(.bye), reliable: row.reliable, now: TX.t0)
        #expect(TX.describe(tx.startActions) == ["send BYE"])
        for (event, state, actions) in row.steps {
            let got: [TransactionAction]
            switch event {
            case .response(let code): got = tx.receive(TX.response(code, to: .bye), now: TX.t0)
            case .time(let ms): got = tx.timeout(now: TX.at(ms: ms))
            }
            #expect(TX.describe(got) == actions, "\(row.name): \(event)")
            #expect(tx.state == state, "\(row.name): \(event)")
        }
    }
}
