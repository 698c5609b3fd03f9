import NIOCore

/// The timers of every media leg of one event loop, in 2 ms slots: one NIO task per slot in use instead of
/// a scheduled task per leg per 20 ms frame (800 calls are 80,000 frames a second; a task each was a
/// closure, a heap entry and often a timer re-arm each). A leg's frame goes out up to one slot late, well
/// inside RTP's jitter buffers and the 20 ms frame the clipping measure counts in. Loop-confined: make one
/// per loop and give it to that loop's `MediaSocket`s.
public final class MediaScheduler {
    public let eventLoop: any EventLoop
    static let slotNanoseconds: UInt64 = 2_000_000
    private var slots: [UInt64: [MediaSocket]] = [:]

    public init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// The slot a time (monotonic seconds, the legs' time base) falls in: its end, so nothing runs early.
    static func slot(forSeconds seconds: Double) -> UInt64 {
        let n = UInt64(max(0, seconds) * 1e9)
        return (n / slotNanoseconds + (n % slotNanoseconds == 0 ? 0 : 1)) * slotNanoseconds
    }

    /// Wakes `socket` at its slot for `seconds` (it ignores a slot that is no longer its own).
    func wake(_ socket: MediaSocket, atSeconds seconds: Double) -> UInt64 {
        let slot = Self.slot(forSeconds: seconds)
        let isNew = slots[slot] == nil
        slots[slot, default: []].append(socket)
        if isNew {
            eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: .uptimeNanoseconds(slot)) { [self] in
                for socket in slots.removeValue(forKey: slot) ?? [] { socket.slotDue(slot) }
            }
        }
        return slot
    }
}
