/// A user's call permission for a business number as Meta's call-permissions API reports it (spec §7), from
/// the same configuration and shared state the BIC rules use: the group's permission (a temporary one
/// expires), a permission revoked by the unanswered streak, and the pair's connected calls of the last 24 h.
public struct CallPermissionStatus: Sendable, Equatable {
    /// `permission.status`.
    public enum Kind: String, Sendable {
        case noPermission = "no_permission"
        case temporary
        case permanent
    }

    public var kind: Kind
    /// When a temporary permission expires (seconds since the epoch, on the mock's clock).
    public var expiresAt: Double?
    /// Connected BICs of the pair within the last 24 h, and the limit.
    public var connectedWithinDay: Int
    public var connectedLimit: Int
    /// When the oldest of those calls leaves the 24 h window, if the limit is reached.
    public var limitExpiresAt: Double?
    /// Revoked after `limits.unanswered_streak.revoke` unanswered or declined calls.
    public var revoked: Bool
    /// The pair is in a call now.
    public var inCall: Bool

    /// Whether a business-initiated call would pass the permission and limit rules now.
    public var canStartCall: Bool { kind != .noPermission && connectedWithinDay < connectedLimit && !inCall }

    public init(user: String, business: String, configuration: MockConfiguration, state: MockCallState, now: Double, startedAt: Double) {
        let usage = state.usage(MockCallState.Pair(business: business, user: user), now: now)
        revoked = usage.revoked
        inCall = usage.inCall
        connectedWithinDay = usage.connectedWithinDay.count
        connectedLimit = configuration.limits.connectedBICPer24h
        if connectedWithinDay >= connectedLimit, let oldest = usage.connectedWithinDay.first {
            limitExpiresAt = oldest + MockCallState.day
        }
        let permission = configuration.userGroup(user)?.permission ?? .none
        if !permission.grants(at: now, startedAt: startedAt) {
            kind = .noPermission
        } else if case .temporary(let after) = permission {
            kind = .temporary
            expiresAt = startedAt + after
        } else {
            kind = .permanent
        }
        if usage.revoked {
            kind = .noPermission
            expiresAt = nil
        }
    }
}
