import NIOCore
import NIOEmbedded
import SIPCore
import SIPTransaction
@testable import SIPTransport
import Testing

/// Transaction wake-ups coalesced into 10 ms slots: never early, at most one slot late, one wake-up per slot.
struct TransactionTimersTests {
    func key(_ n: Int) -> TransactionKey { TransactionKey(branch: "z9hG4bK\(n)", sentBy: "127.0.0.1:5060", method: .invite) }

    @Test func slotsEndAtOrAfterTheDeadline() {
        for ns: UInt64 in [1, 9_999_999, 10_000_000, 10_000_001, 123_456_789_012] {
            let slot = TransactionTimers.slot(for: .uptimeNanoseconds(ns))
            #expect(slot >= ns && slot - ns < 10_000_000 && slot % 10_000_000 == 0, "\(ns) → \(slot)")
        }
    }

    @Test func oneWakeUpPerSlot() {
        var timers = TransactionTimers()
        let base = NIODeadline.uptimeNanoseconds(5_000_000_000)
        let a = timers.add(.client(key(1)), deadline: base + .milliseconds(501))
        let b = timers.add(.server(key(2)), deadline: base + .milliseconds(508))
        let c = timers.add(.client(key(3)), deadline: base + .milliseconds(512))
        #expect(a.isNew && !b.isNew && a.slot == b.slot && c.isNew && c.slot > a.slot)
        #expect(timers.pendingSlots == 2)
        #expect(timers.take(a.slot) == [.client(key(1)), .server(key(2))])
        #expect(timers.take(a.slot).isEmpty && timers.pendingSlots == 1)
    }

    /// An INVITE over UDP to a silent peer is retransmitted on Timer A's doubling schedule (RFC 3261
    /// §17.1.1.2) although its wake-ups go through the slots. Time is the embedded loop's, advanced by the
    /// test: the gaps are exact, whatever else the machine is doing.
    @Test func timerARetransmitsThroughTheSlots() throws {
        let loop = EmbeddedEventLoop()
        var timers = SIPTimers.rfc3261
        timers.t1 = .milliseconds(50)
        let endpoint = SIPEndpoint(eventLoop: loop, advertisedHost: "127.0.0.1", timers: timers, now: { loop.now })
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5060)).wait()
        endpoint.udpChannel = channel
        var headers = SIPHeaders()
        headers.add(.from, "<sip:a@127.0.0.1>;tag=1")
        headers.add(.to, "<sip:b@127.0.0.1>")
        headers.add(.callID, "timer-a-test")
        headers.add(.cseq, "1 INVITE")
        let invite = SIPRequest(method: .invite, uri: try SIPURI("sip:b@127.0.0.1"), headers: headers, body: ByteBuffer())
        let start = loop.now
        endpoint.sendRequest(invite, to: SIPDestination(transport: .udp, host: "127.0.0.1", port: 5060)) { _ in }
        var sent: [Int64] = []
        func drain() throws {
            while try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) != nil {
                sent.append((loop.now - start).nanoseconds / 1_000_000)
            }
        }
        loop.run()
        try drain()
        for _ in 0..<400 where sent.count < 4 {
            loop.advanceTime(by: .milliseconds(1))
            try drain()
        }
        // Sent at 0, then Timer A: T1, 2·T1, 4·T1 apart. A slot never fires early, and at most one slot late.
        #expect(sent.count == 4, "\(sent)")
        if sent.count == 4 {
            for (i, expected) in [50, 100, 200].enumerated() {
                let gap = sent[i + 1] - sent[i]
                #expect(gap >= Int64(expected) && gap < Int64(expected) + 2 * TransactionTimers.slotNanoseconds / 1_000_000, "gap \(i): \(gap) ms")
            }
        }
        _ = try channel.finish()
    }
}
