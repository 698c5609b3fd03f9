import NIOConcurrencyHelpers

/// State Meta keeps per (business number, user) pair and per business number, shared by every event loop:
/// active calls (one per pair, `concurrentPerNumber` per number), the connected BICs of the rolling 24 h,
/// and the streak of unanswered or declined calls that revokes a permission (spec §7). A pair's calls can
/// arrive on different connections, hence on different loops, so this is one structure behind a lock,
/// taken once per call event (INVITE admitted, answered, ended), never per message.
public final class MockCallState: @unchecked Sendable {
    public struct Pair: Hashable, Sendable {
        public var business: String
        public var user: String

        public init(business: String, user: String) {
            self.business = business
            self.user = user
        }
    }

    public enum Admission: Sendable, Equatable {
        case admitted
        /// The number's BIC initiations of the last 24 h are used up (`limits.bicAttemptsPer24h`).
        case attemptLimit
        /// Over the number's call rate (`limits.callRatePerNumber`).
        case callRate
        /// Refused by a rule decided without the shared state (permission, SDP offer): counted as an
        /// initiation, not admitted.
        case ineligible
        case duplicate
        case revoked
        case dailyLimit
        case concurrency
    }

    /// How a call that was admitted ended, for the streak.
    public enum Ending: Sendable {
        case connected
        case unanswered
        case declined
        case other
    }

    /// What an ending did to the pair's permission.
    public enum StreakEvent: Sendable, Equatable {
        case nudge(count: Int)
        case revoked(count: Int)
    }

    private let lock = NIOLock()
    private var active: Set<Pair> = []
    private var activePerBusiness: [String: Int] = [:]
    private var connectedAt: [Pair: [Double]] = [:]
    private var streak: [Pair: Int] = [:]
    private var revokedPairs: Set<Pair> = []
    private var owners: [String: Int] = [:]
    private var initiations: [String: InitiationWindow] = [:]
    private var callRates: [String: CallRateBucket] = [:]
    /// Admissions since the last sweep of pairs whose connected calls all left the 24 h window.
    private var sinceSweep = 0

    public init() {}

    static let day: Double = 86_400

    /// Checks, in Meta's order and under one lock, whether a business-initiated call may start, and marks it
    /// active when it may: the number's 24 h initiations (every authenticated INVITE counts, eligible or
    /// not), its call rate, then, when `eligible` (the permission and the SDP offer, which need no shared
    /// state, passed), the pair's active call, its revoked permission, its 24 h connected calls and the
    /// number's concurrency.
    public func admit(_ pair: Pair, now: Double, limits: MockConfiguration.Limits, eligible: Bool = true) -> Admission {
        lock.withLock {
            sweep(now: now)
            guard initiations[pair.business, default: InitiationWindow()].admit(now: now, limit: limits.bicAttemptsPer24h) else {
                return .attemptLimit
            }
            if !withinCallRate(of: pair.business, now: now, limits: limits) { return .callRate }
            if !eligible { return .ineligible }
            if active.contains(pair) { return .duplicate }
            if revokedPairs.contains(pair) { return .revoked }
            let recent = (connectedAt[pair] ?? []).filter { now - $0 < Self.day }
            connectedAt[pair] = recent.isEmpty ? nil : recent
            if recent.count >= limits.connectedBICPer24h { return .dailyLimit }
            if activePerBusiness[pair.business, default: 0] >= limits.concurrentPerNumber { return .concurrency }
            active.insert(pair)
            activePerBusiness[pair.business, default: 0] += 1
            return .admitted
        }
    }

    /// Takes one of `business`'s call-rate tokens at `now`; false: over `limits.callRatePerNumber` (always
    /// true without that limit). Called with the lock held.
    private func withinCallRate(of business: String, now: Double, limits: MockConfiguration.Limits) -> Bool {
        guard let rate = limits.callRatePerNumber else { return true }
        return callRates[business, default: CallRateBucket(rate: rate)].take(now: now, rate: rate)
    }

    /// Whether a user-initiated call may start, under one lock: not over the number's call rate, not while
    /// the pair is in a call, nor over the per-number concurrency limit (spec §3: the user then sees "call
    /// cannot be placed" and no INVITE is sent). The 24 h limits and the permission apply to
    /// business-initiated calls only.
    public func admitUIC(_ pair: Pair, now: Double, limits: MockConfiguration.Limits) -> Admission {
        lock.withLock {
            if !withinCallRate(of: pair.business, now: now, limits: limits) { return .callRate }
            if active.contains(pair) { return .duplicate }
            if activePerBusiness[pair.business, default: 0] >= limits.concurrentPerNumber { return .concurrency }
            active.insert(pair)
            activePerBusiness[pair.business, default: 0] += 1
            return .admitted
        }
    }

    /// A user-initiated call connected: it does not count towards the BIC limit but resets the streak.
    public func connectedUIC(_ pair: Pair) {
        lock.withLock { streak[pair] = nil }
    }

    /// Records which event loop (shard) owns a user-initiated call, so an in-dialog request arriving on
    /// another connection finds it; nil removes the entry.
    public func setOwner(of callID: String, shard: Int?) {
        lock.withLock { owners[callID] = shard }
    }

    public func owner(of callID: String) -> Int? { lock.withLock { owners[callID] } }

    /// The user answered: the call counts towards the 24 h limit and resets the streak.
    public func connected(_ pair: Pair, now: Double, limit: Int = Int.max) {
        lock.withLock {
            connectedAt[pair, default: []].append(now)
            // Only the latest `limit` times can decide the rule (`limit` of them in 24 h, or fewer than
            // `limit` in all): older ones are let go.
            if let count = connectedAt[pair]?.count, count > limit {
                connectedAt[pair]!.removeFirst(count - limit)
            }
            streak[pair] = nil
        }
    }

    /// The call is over; unanswered and declined calls extend the streak (2 → nudge, 4 → revoked).
    @discardableResult
    public func ended(_ pair: Pair, _ ending: Ending, limits: MockConfiguration.Limits) -> StreakEvent? {
        lock.withLock {
            if active.remove(pair) != nil {
                activePerBusiness[pair.business, default: 1] -= 1
            }
            switch ending {
            case .unanswered, .declined:
                let count = streak[pair, default: 0] + 1
                streak[pair] = count
                if count >= limits.streakRevoke {
                    revokedPairs.insert(pair)
                    return .revoked(count: count)
                }
                return count == limits.streakNudge ? .nudge(count: count) : nil
            case .connected, .other:
                return nil
            }
        }
    }

    /// Every 10,000 admissions, forgets the pairs with no connected call in the last 24 h, so a mock that
    /// serves millions of users over days keeps the state of the last day's only (a streak of zero is
    /// never stored). Called with the lock held.
    private func sweep(now: Double) {
        sinceSweep += 1
        guard sinceSweep >= 10_000 else { return }
        sinceSweep = 0
        // In place: a filtered copy would allocate the whole table anew at every sweep (see DigestServer.prune).
        var gone: [Pair] = []
        for (pair, times) in connectedAt where !times.contains(where: { now - $0 < Self.day }) { gone.append(pair) }
        for pair in gone { connectedAt.removeValue(forKey: pair) }
    }

    /// Connected calls of the pair within the 24 h before `now`.
    public func connectedCount(_ pair: Pair, now: Double) -> Int {
        lock.withLock { (connectedAt[pair] ?? []).filter { now - $0 < Self.day }.count }
    }

    public func isRevoked(_ pair: Pair) -> Bool { lock.withLock { revokedPairs.contains(pair) } }

    /// What the call-permissions API reports of a pair, read in one step.
    public struct PairUsage: Sendable, Equatable {
        /// Times of the connected BICs within the 24 h before `now`, oldest first.
        public var connectedWithinDay: [Double]
        public var revoked: Bool
        /// Consecutive unanswered or declined BICs.
        public var streak: Int
        public var inCall: Bool
    }

    public func usage(_ pair: Pair, now: Double) -> PairUsage {
        lock.withLock {
            PairUsage(connectedWithinDay: (connectedAt[pair] ?? []).filter { now - $0 < Self.day }.sorted(),
                      revoked: revokedPairs.contains(pair), streak: streak[pair] ?? 0, inCall: active.contains(pair))
        }
    }

    public var activeCalls: Int { lock.withLock { active.count } }
}
