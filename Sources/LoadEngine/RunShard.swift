/// This process's part of a run split over N processes (`--shard I/N`, I from 0, as Kubernetes' completion
/// index): the calls whose callee belongs to shard I, each at the index, time and with the choices it has
/// in the whole run. Callee c (the c-th of the list) belongs to shard c mod N, so every identity is used by
/// one shard only, and the N shards together make exactly the calls of one run.
public struct RunShard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// `I/N`, with 0 ≤ I < N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
}

/// The calls of this process in the run's numbering: the m-th call of the process is call `index(m)` of
/// the run. Without a shard, the identity.
struct CallNumbering: Sendable {
    let shard: RunShard
    /// Callees in the list (call k calls callee k mod callees).
    let callees: Int
    /// Calls in the whole run's schedule.
    let total: Int
    /// Calls of this shard in each cycle of `callees` calls.
    let perCycle: Int

    init(shard: RunShard?, callees: Int, total: Int) {
        let shard = shard ?? RunShard(index: 0, count: 1)!
        self.shard = shard
        self.callees = max(1, callees)
        self.total = total
        perCycle = shard.index < self.callees ? (self.callees - shard.index + shard.count - 1) / shard.count : 0
    }

    /// The run's index of this process's m-th call.
    func index(_ m: Int) -> Int {
        guard perCycle > 0 else { return Int.max }
        return (m / perCycle) * callees + shard.index + (m % perCycle) * shard.count
    }

    /// How many of this process's calls have a run index below `k`.
    func count(below k: Int) -> Int {
        guard perCycle > 0, k > 0 else { return 0 }
        let rem = k % callees
        return (k / callees) * perCycle + (rem > shard.index ? (rem - shard.index + shard.count - 1) / shard.count : 0)
    }

    /// This process's calls.
    var count: Int { count(below: total) }
}
