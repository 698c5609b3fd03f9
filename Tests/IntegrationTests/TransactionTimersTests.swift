import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
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

    /// On a real loop: an INVITE over UDP to a silent peer is retransmitted on Timer A's doubling schedule
    /// (RFC 3261 §17.1.1.2) although its wake-ups go through the slots.
    @Test func timerARetransmitsThroughTheSlots() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let silent = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let received = NIOLockedValueBox<[NIODeadline]>([])
        try await silent.pipeline.addHandler(DatagramCounter(received: received)).get()
        var timers = SIPTimers.rfc3261
        timers.t1 = .milliseconds(50)
        let stack = try await SIPTransportStack(group: group, advertisedHost: "127.0.0.1", timers: timers) { _ in nil }
        try await stack.openClientUDP(host: "127.0.0.1")
        let endpoint = stack.endpoint(on: group.next())
        var headers = SIPHeaders()
        headers.add(.from, "<sip:a@127.0.0.1>;tag=1")
        headers.add(.to, "<sip:b@127.0.0.1>")
        headers.add(.callID, "timer-a-test")
        headers.add(.cseq, "1 INVITE")
        let invite = SIPRequest(method: .invite, uri: try SIPURI("sip:b@127.0.0.1"), headers: headers, body: ByteBuffer())
        let destination = SIPDestination(transport: .udp, host: "127.0.0.1", port: silent.localAddress!.port!)
        try await endpoint.eventLoop.submit {
            endpoint.value.sendRequest(invite, to: destination) { _ in }
        }.get()
        // Wait for the first send and three retransmissions (bounded).
        for _ in 0..<200 where received.withLockedValue({ $0.count }) < 4 { try await Task.sleep(nanoseconds: 10_000_000) }
        let times = received.withLockedValue { $0 }
        // Sent at 0, then Timer A: 50, 150, 350 ms (T1, 2·T1, 4·T1 apart). A slot never fires early; a busy
        // machine may fire late, but not so late that the doubling schedule is lost.
        #expect(times.count >= 4, "\(times.count) datagrams")
        if times.count >= 4 {
            for (i, expected) in [50.0, 100, 200].enumerated() {
                let gap = Double((times[i + 1] - times[i]).nanoseconds) / 1e6
                #expect(gap >= expected - 1 && gap < expected * 1.9, "gap \(i): \(gap) ms")
            }
        }
        await stack.shutdown()
        try await silent.close()
        try await group.shutdownGracefully()
    }
}

private final class DatagramCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let received: NIOLockedValueBox<[NIODeadline]>
    init(received: NIOLockedValueBox<[NIODeadline]>) { self.received = received }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.withLockedValue { $0.append(.now()) }
    }
}
