/// Why a call ended, from one documented set: calls.csv's `end` column and summary.json's `ends` use these
/// names. A connected call's teardown (BYE 200, BYE timeout) is kept apart, in `teardown`.
public enum CallEnd: String, Sendable, Hashable, CaseIterable, Codable {
    /// Answered with a 2xx.
    case connected
    /// A final response of 300 or more from the target (its status and reason are in the row); for a
    /// user-initiated call, also Meta's refusal to place it ("not placed", with the rule, in the reason).
    case rejected
    /// The scenario's `call.cancel` ended it before an answer (487 after our CANCEL).
    case cancelled
    /// No final response within `call.ring_timeout`: the business CANCELled it (counted unanswered).
    case ringTimeout = "ring_timeout"
    /// No response at all to the INVITE within 64 × T1 (Timer B).
    case timerB = "timer_b"
    /// The transport failed: connection refused or reset, TLS handshake or certificate.
    case transport
    /// Still up when an interrupted run's grace ran out.
    case interrupted
    /// Due, but not started by the generator's own protection (shed).
    case notStarted = "not_started"
}
