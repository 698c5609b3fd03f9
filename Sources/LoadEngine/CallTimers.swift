import NIOCore

/// Deadlines of a shard's calls (hang-ups, ring timeouts), in 10 ms slots: one NIO task per slot in use
/// instead of one per call, so holding 50,000 calls does not hold 50,000 scheduled tasks (each a closure, a promise and a heap
/// entry), and the loop's timer is re-armed at most 100 times a second. A call fires up to one slot late,
/// far inside the precision a call's hold time needs.
struct CallTimers {
    static let slotNanoseconds: UInt64 = 10_000_000

    private var slots: [UInt64: [CallShard.CallRef]] = [:]

    /// The slot a deadline falls in: its end, so no call is hung up early.
    static func slot(for deadline: NIODeadline) -> UInt64 {
        let n = deadline.uptimeNanoseconds
        return (n / slotNanoseconds + (n % slotNanoseconds == 0 ? 0 : 1)) * slotNanoseconds
    }

    /// Files `ref` under its deadline's slot; returns the slot and whether it was empty (the caller then
    /// schedules the slot's one task).
    mutating func add(_ ref: CallShard.CallRef, deadline: NIODeadline) -> (slot: UInt64, isNew: Bool) {
        let slot = Self.slot(for: deadline)
        var isNew = false
        slots[slot, default: { isNew = true; return [] }()].append(ref)
        return (slot, isNew)
    }

    /// The calls filed under `slot`, which is emptied.
    mutating func take(_ slot: UInt64) -> [CallShard.CallRef] { slots.removeValue(forKey: slot) ?? [] }
}
