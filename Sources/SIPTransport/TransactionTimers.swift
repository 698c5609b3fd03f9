import NIOCore
import SIPTransaction

/// The transaction wake-ups of one endpoint (Timers A–K of RFC 3261 §17), coalesced into 10 ms slots: one
/// NIO scheduled task per slot in use instead of one per timer, so a loop running thousands of transactions
/// re-arms its timer and wakes at most 100 times a second, and a stale wake (the transaction ended, or
/// moved its deadline) costs a dictionary lookup instead of an epoll round. A timer fires up to one slot
/// late, far inside SIP's 500 ms T1 granularity.
struct TransactionTimers {
    /// Slot width in nanoseconds.
    static let slotNanoseconds: Int64 = 10_000_000

    enum Owner: Hashable {
        case client(TransactionKey)
        case server(TransactionKey)
    }

    /// Owners by slot (the slot's deadline in uptime nanoseconds).
    private var slots: [UInt64: [Owner]] = [:]

    /// The slot a deadline falls in: its end, so no timer fires early.
    static func slot(for deadline: NIODeadline) -> UInt64 {
        let n = deadline.uptimeNanoseconds
        let width = UInt64(slotNanoseconds)
        return (n / width + (n % width == 0 ? 0 : 1)) * width
    }

    /// Files `owner` under its deadline's slot. Returns the slot, and whether it was empty (the caller then
    /// schedules the slot's one wake-up).
    mutating func add(_ owner: Owner, deadline: NIODeadline) -> (slot: UInt64, isNew: Bool) {
        let slot = Self.slot(for: deadline)
        var isNew = false
        slots[slot, default: { isNew = true; return [] }()].append(owner)
        return (slot, isNew)
    }

    /// Everyone filed under `slot`, which is emptied.
    mutating func take(_ slot: UInt64) -> [Owner] {
        slots.removeValue(forKey: slot) ?? []
    }

    /// Slots waiting to fire (for tests and statistics).
    var pendingSlots: Int { slots.count }
}
