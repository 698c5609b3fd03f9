import NIOConcurrencyHelpers

/// How failed digest authentications are throttled: after `failures` failures within `window` seconds from
/// one source address, or for one username, further attempts from that source or for that username are
/// refused for `lockout` seconds, whatever the password. `failures: 0` turns it off.
public struct DigestThrottlePolicy: Sendable, Hashable {
    public var failures: Int = 10
    public var window: Double = 60
    public var lockout: Double = 300

    public init(failures: Int = 10, window: Double = 60, lockout: Double = 300) {
        self.failures = failures
        self.window = window
        self.lockout = lockout
    }

    public var isEnabled: Bool { failures > 0 }
}

/// Failed-authentication counts per source address and per username, shared by every event loop of a mock
/// (a password guesser may spread over connections and loops). Touched once per credentialed INVITE; time
/// is passed in, on the mock's clock.
public final class DigestFailureThrottle: Sendable {
    /// What a lockout is keyed by.
    public enum Key: Hashable, Sendable, CustomStringConvertible {
        case source(String)
        case username(String)

        public var description: String {
            switch self {
            case .source(let s): return "source \(s)"
            case .username(let u): return "username \(u)"
            }
        }
    }

    private struct Entry {
        var windowStart: Double
        var failures: Int
        var lockedUntil: Double
    }

    private struct Table {
        var entries: [Key: Entry] = [:]
        var lastPrune: Double = 0
        var lockouts = 0
        var refused = 0
    }

    public let policy: DigestThrottlePolicy
    private let table = NIOLockedValueBox(Table())
    /// Entries kept at most; past it expired ones are pruned, then new keys are not tracked until some expire
    /// (the source key still limits a guesser who rotates usernames).
    static let maxEntries = 100_000

    public init(policy: DigestThrottlePolicy) { self.policy = policy }

    /// The key that is locked out for an attempt from `source` as `username`, if any (the attempt is then
    /// refused and counted).
    public func lockedOut(source: String?, username: String, now: Double) -> Key? {
        guard policy.isEnabled else { return nil }
        return table.withLockedValue { table in
            for key in Self.keys(source: source, username: username) {
                if let entry = table.entries[key], entry.lockedUntil > now {
                    table.refused += 1
                    return key
                }
            }
            return nil
        }
    }

    /// Counts a failed attempt; returns the keys this failure locked out.
    @discardableResult
    public func recordFailure(source: String?, username: String, now: Double) -> [Key] {
        guard policy.isEnabled else { return [] }
        return table.withLockedValue { table in
            prune(&table, now: now)
            var locked: [Key] = []
            for key in Self.keys(source: source, username: username) {
                var entry = table.entries[key] ?? Entry(windowStart: now, failures: 0, lockedUntil: 0)
                if table.entries[key] == nil, table.entries.count >= Self.maxEntries { continue }
                if now - entry.windowStart > policy.window {
                    entry.windowStart = now
                    entry.failures = 0
                }
                entry.failures += 1
                if entry.failures >= policy.failures {
                    entry.lockedUntil = now + policy.lockout
                    entry.failures = 0
                    entry.windowStart = now
                    table.lockouts += 1
                    locked.append(key)
                }
                table.entries[key] = entry
            }
            return locked
        }
    }

    /// A successful authentication clears the failures of its source and username (not a running lockout).
    public func recordSuccess(source: String?, username: String, now: Double) {
        guard policy.isEnabled else { return }
        table.withLockedValue { table in
            guard !table.entries.isEmpty else { return }
            for key in Self.keys(source: source, username: username) {
                if let entry = table.entries[key], entry.lockedUntil <= now { table.entries[key] = nil }
            }
        }
    }

    /// Lockouts started and attempts refused since the start.
    public var counts: (lockouts: Int, refused: Int) { table.withLockedValue { ($0.lockouts, $0.refused) } }

    /// Keys tracked now (bounded by `maxEntries`).
    public var trackedKeys: Int { table.withLockedValue { $0.entries.count } }

    private static func keys(source: String?, username: String) -> [Key] {
        source.map { [.source($0), .username(username)] } ?? [.username(username)]
    }

    /// Every 10 s (of the mock's clock), drops entries whose window and lockout are both over.
    private func prune(_ table: inout Table, now: Double) {
        guard now - table.lastPrune >= 10 || table.entries.count >= Self.maxEntries else { return }
        table.lastPrune = now
        let window = policy.window
        var expired: [Key] = []
        for (key, entry) in table.entries where entry.lockedUntil <= now && now - entry.windowStart > window { expired.append(key) }
        for key in expired { table.entries.removeValue(forKey: key) }
    }
}
